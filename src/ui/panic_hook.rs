//! Turns a Rust panic into something a person sees: a banner at the top of the page (`role="alert"`) and a
//! `console.error` with the message and the JavaScript stack.
//!
//! Release builds use `panic = "abort"`: the hook still runs first, then the Wasm instance traps and the app
//! stops. The banner therefore says to reload. `www/boot.js` writes to the same banner when the app cannot
//! start at all, and leaves a banner written here alone, so the panic message (the cause) stays visible.

use std::sync::Once;

use wasm_bindgen::prelude::*;

/// The id of the error banner element (shared with `www/boot.js`).
pub const BANNER_ID: &str = "synod-error";

/// Installs the hook once; later calls do nothing. Call it before mounting: it goes through
/// `yew::set_custom_panic_hook` because Yew replaces a plain `std::panic::set_hook` with its own console-only
/// hook when it renders the first app.
pub fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        yew::set_custom_panic_hook(Box::new(|info| report(&info.to_string())));
    });
}

/// Reports a panic message: `console.error` with the stack, and the banner. Public so tests can check the
/// banner without panicking (a panic ends a Wasm test).
pub fn report(message: &str) {
    let stack = JsError::new().stack();
    web_sys::console::error_1(&format!("Synod panicked: {message}\n\nStack:\n{stack}").into());
    // Nothing here may panic again: a failure to show the banner leaves the console message.
    if show_banner(message).is_none() {
        web_sys::console::error_1(&"Synod could not show its error banner (no document or body).".into());
    }
}

/// Writes the banner, unless one is already shown (the first error is usually the cause of the later ones).
fn show_banner(message: &str) -> Option<()> {
    let document = web_sys::window()?.document()?;
    if document.get_element_by_id(BANNER_ID).is_some() {
        return Some(());
    }
    let body = document.body()?;
    let banner = document.create_element("div").ok()?;
    banner.set_id(BANNER_ID);
    banner.set_class_name("error-banner");
    banner.set_attribute("role", "alert").ok()?;
    let title = document.create_element("strong").ok()?;
    title.set_text_content(Some("Synod crashed. Reload the page to start again; the console has the details."));
    banner.append_child(&title).ok()?;
    banner.append_child(&document.create_text_node(message)).ok()?;
    body.prepend_with_node_1(&banner).ok()?;
    Some(())
}

#[wasm_bindgen]
extern "C" {
    /// JavaScript's `Error`, only to read a stack trace from where the panic happened.
    #[wasm_bindgen(js_name = Error)]
    type JsError;

    #[wasm_bindgen(constructor, js_class = "Error")]
    fn new() -> JsError;

    #[wasm_bindgen(structural, method, getter, js_class = "Error")]
    fn stack(this: &JsError) -> String;
}
