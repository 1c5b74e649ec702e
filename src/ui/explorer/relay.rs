//! The explorer's worker, started and heard from the scenario engine's module (`ui::engine`), which the page loads
//! on first use: what talks to the worker (serde-wasm-bindgen's encoder and decoder, and the float formatting its
//! errors link) is then not in the page's first load (BENCHMARKS.md, "First load, fourth pass"). The page hands
//! the engine a request as text and hears each piece of news as text (`text.rs`); everything here runs in the
//! engine's module, never in the page's.

use wasm_bindgen::prelude::{Closure, JsValue};
use wasm_bindgen::JsCast;

use super::text::{read_request, write_news};
use super::News;

/// Starts the search `request` ([`super::text::write_request`]'s text) asks for in a new worker; `hear` is called
/// with each piece of news as text ([`write_news`]). Returns the worker: terminating it stops the search.
pub fn start(request: &str, hear: js_sys::Function) -> Result<web_sys::Worker, String> {
    let request = read_request(request)?;
    let message = serde_wasm_bindgen::to_value(&request).map_err(|error| error.to_string())?;
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Module);
    let url = format!("explorer-worker.js?v={}", crate::ui::engine::version());
    let worker = web_sys::Worker::new_with_options(&url, &options)
        .map_err(|_| "this browser cannot start the explorer's worker".to_string())?;
    let tell = move |news: &News| {
        // The page's listener is gone only once the page has stopped the search: nothing is left to tell.
        let _ = hear.call1(&JsValue::NULL, &JsValue::from_str(&write_news(news)));
    };
    let told = tell.clone();
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
        told(&serde_wasm_bindgen::from_value(event.data()).unwrap_or_else(|error| News::failed(error.to_string())));
    });
    let on_error = Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |event: web_sys::ErrorEvent| {
        event.prevent_default();
        tell(&News::failed(format!("the explorer's worker failed ({})", event.message())));
    });
    // Owned by the worker's handlers from here on: freed with the worker once it is terminated and collected.
    worker.set_onmessage(Some(on_message.into_js_value().unchecked_ref()));
    worker.set_onerror(Some(on_error.into_js_value().unchecked_ref()));
    if worker.post_message(&message).is_err() {
        worker.terminate();
        return Err("the explorer's worker refused the request".into());
    }
    Ok(worker)
}
