//! The animation-frame loop that drives the playground and the embed view.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The frame callback, which schedules itself again.
type Callback = RefCell<Option<Closure<dyn FnMut(f64)>>>;

/// Calls `frame` with each animation frame's timestamp (ms) for as long as it returns `true`. The callback
/// holds itself (to schedule the next frame), so it lives as long as the page; a loop ends by returning `false`.
pub fn each_animation_frame(mut frame: impl FnMut(f64) -> bool + 'static) {
    let callback: Rc<Callback> = Rc::new(RefCell::new(None));
    let again = callback.clone();
    *callback.borrow_mut() = Some(Closure::new(move |ts: f64| {
        if frame(ts) {
            request(&again);
        }
    }));
    request(&callback);
}

fn request(callback: &Callback) {
    if let Some(closure) = callback.borrow().as_ref() {
        // Refused only when the page is going away; the loop then just stops.
        let _ = gloo::utils::window().request_animation_frame(closure.as_ref().unchecked_ref());
    }
}
