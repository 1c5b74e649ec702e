//! The scenario engine: a second WebAssembly module of the web app, loaded the first time a page needs to read,
//! run or write a scenario (see `synod::ui::engine`, which also holds the protocol). Trunk builds it next to
//! `synod-web` (`index.html`); natively it only explains where to go instead.

/// Talc instead of Rust's default dlmalloc: less code in the page's first load (BENCHMARKS.md). The pages are
/// single-threaded (no `atomics`), which this allocator assumes.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(target_arch = "wasm32")]
mod exports {
    use synod::ui::engine::{serve, PROTOCOL};
    use wasm_bindgen::prelude::wasm_bindgen;

    /// The protocol this engine speaks; the page refuses another.
    #[wasm_bindgen]
    pub fn protocol() -> u32 {
        PROTOCOL
    }

    #[wasm_bindgen]
    pub fn prepare(text: &str) -> String {
        serve::prepare(text)
    }

    #[wasm_bindgen]
    pub fn check(text: &str) -> String {
        serve::check(text)
    }

    #[wasm_bindgen(js_name = exportRun)]
    pub fn export_run(run: &str, title: &str, now: f64) -> String {
        serve::export(run, title, now as u64)
    }

    /// A promise of the answer.
    #[wasm_bindgen(js_name = embedCodes)]
    pub async fn embed_codes(text: String, page: String) -> String {
        serve::embed_codes(&text, &page).await
    }

    /// A promise of the answer. (Not named `fetch`: the module's own glue calls the global `fetch` to load it.)
    #[wasm_bindgen(js_name = fetchScenario)]
    pub async fn fetch_scenario(url: String) -> String {
        serve::fetch(&url).await
    }

    /// Starts a search in the explorer's worker (`synod::ui::explorer::relay`); `hear` gets each piece of news as
    /// text. Returns the worker; a request that cannot start throws its reason.
    #[wasm_bindgen(js_name = startExplorer)]
    pub fn start_explorer(request: &str, hear: js_sys::Function) -> Result<web_sys::Worker, String> {
        synod::ui::explorer::relay::start(request, hear)
    }

    /// A promise of the answer.
    #[wasm_bindgen]
    pub async fn unpack(packed: String) -> String {
        serve::unpack(&packed).await
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "synod-scenario is the browser app's scenario engine and only runs as WebAssembly, loaded by the page.\n\
         To check a scenario natively, run `cargo run --bin synod -- scenario check FILE`."
    );
    std::process::exit(2);
}
