//! The explorer's worker: a WebAssembly module of the web app run in a Web Worker (`www/explorer-worker.js`),
//! loaded the first time the visitor presses "Explore from here" (see `synod::ui::explorer`, which also holds the
//! protocol). Trunk builds it next to `synod-web` (`index.html`), for speed rather than size; natively it only
//! explains where to go instead.

/// Talc, as the page's modules use: the worker is single-threaded too.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(target_arch = "wasm32")]
mod exports {
    use synod::ui::explorer::{serve, PROTOCOL};
    use wasm_bindgen::prelude::wasm_bindgen;
    use wasm_bindgen::JsValue;

    /// The protocol this worker speaks.
    #[wasm_bindgen]
    pub fn protocol() -> u32 {
        PROTOCOL
    }

    /// Runs one search: `tell` hears its progress; the outcome is returned.
    #[wasm_bindgen]
    pub fn explore(request: JsValue, tell: &js_sys::Function) -> JsValue {
        serve::explore(request, &|news| {
            let _ = tell.call1(&JsValue::NULL, &news);
        })
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "synod-explorer is the browser app's model-checking worker and only runs as WebAssembly, in the page.\n\
         To explore natively, run `cargo run --release --bin synod -- explore`."
    );
    std::process::exit(2);
}
