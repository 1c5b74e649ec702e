//! The animation-frame loop that drives the playground and the embed view.

use std::cell::{Cell, RefCell};
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

/// Virtual time between ticks, for what moves smoothly (message dots, the space-time diagram's slide). The
/// page's frame loop sets it every animation frame; a drawing that moves subscribes ([`Clock::listen`]) and moves
/// its own elements, so a frame without a new tick renders nothing through Yew and the components that do not
/// move never see time change.
#[derive(Clone, Default)]
pub struct Clock(Rc<ClockState>);

/// Told each new time.
type Listener = Rc<dyn Fn(f64)>;

#[derive(Default)]
struct ClockState {
    now: Cell<f64>,
    listeners: RefCell<Vec<(u64, Listener)>>,
    next_id: Cell<u64>,
}

/// One clock is one identity: components given the same clock have equal props.
impl PartialEq for Clock {
    fn eq(&self, other: &Clock) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Clock {
    /// A clock at `now`, so the first render already draws the dots where they are.
    pub fn at(now: f64) -> Clock {
        let clock = Clock::default();
        clock.0.now.set(now);
        clock
    }

    pub fn now(&self) -> f64 {
        self.0.now.get()
    }

    /// Moves time to `now` and tells every listener, unless it is where it was.
    pub fn set(&self, now: f64) {
        if self.0.now.replace(now) == now {
            return;
        }
        // A copy, so a listener may subscribe or unsubscribe while being told.
        let listeners: Vec<Listener> = self.0.listeners.borrow().iter().map(|(_, f)| f.clone()).collect();
        for listener in listeners {
            listener(now);
        }
    }

    /// Calls `listener` with every new time until the returned handle is dropped.
    pub fn listen(&self, listener: impl Fn(f64) + 'static) -> Listening {
        let id = self.0.next_id.get();
        self.0.next_id.set(id + 1);
        self.0.listeners.borrow_mut().push((id, Rc::new(listener)));
        Listening { clock: self.clone(), id }
    }
}

/// A subscription to a [`Clock`]; dropping it unsubscribes.
pub struct Listening {
    clock: Clock,
    id: u64,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.clock.0.listeners.borrow_mut().retain(|(id, _)| *id != self.id);
    }
}
