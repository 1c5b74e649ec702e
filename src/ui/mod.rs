//! The browser playground: a Yew app (wasm32 only).
//!
//! Layout: [`app`] is the root component, [`components`] holds one component per file, [`panic_hook`] turns a
//! Rust panic into a visible error banner. The page itself (`index.html`, `www/`) loads this through
//! `src/bin/synod-web.rs`, which calls [`run`].

mod app;
pub mod components;
pub mod embed;
pub mod engine;
pub mod explorer;
pub mod frames;
pub mod panic_hook;
pub mod persist;
pub mod runner;
pub mod source;
pub mod stagger;
pub mod view;

pub use app::{App, Cmd, Frame};

use web_sys::Element;
use yew::AppHandle;

/// The id of the element in `index.html` that the app replaces.
pub const ROOT_ID: &str = "app";

/// Starts the playground in the current page: installs the panic hook, then mounts [`App`] on `#app`.
pub fn run() {
    panic_hook::install();
    let root = gloo::utils::document()
        .get_element_by_id(ROOT_ID)
        .unwrap_or_else(|| panic!("index.html must contain an element with id=\"{ROOT_ID}\" to mount Synod on"));
    if source::embed_requested() {
        embed::mount(root);
        return;
    }
    // The handle is dropped on purpose: the app lives as long as the page.
    let _handle = mount(root);
}

/// Copies `text` to the clipboard, then calls `done(true)`, or `done(false)` if the browser refused (no
/// permission, no focus) or offers no clipboard here (a page not served securely).
pub(crate) fn copy_text(text: &str, done: impl FnOnce(bool) + 'static) {
    let navigator = gloo::utils::window().navigator();
    let clipboard = js_sys::Reflect::get(&navigator, &wasm_bindgen::JsValue::from_str("clipboard"));
    if !clipboard.is_ok_and(|clipboard| !clipboard.is_undefined()) {
        done(false);
        return;
    }
    let promise = navigator.clipboard().write_text(text);
    wasm_bindgen_futures::spawn_local(async move { done(wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()) });
}

/// Mounts [`App`] on `root`, replacing whatever `root` held (the "Loading…" placeholder). Tests mount on a
/// detached or fresh element the same way.
pub fn mount(root: Element) -> AppHandle<App> {
    root.set_text_content(None);
    yew::Renderer::<App>::with_root(root).render()
}
