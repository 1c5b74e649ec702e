//! The scenario engine: reading, running and writing scenarios (`crate::scenario`, the code `synod scenario
//! check` runs) in a WebAssembly module of its own, `synod-scenario` (`src/bin/synod-scenario.rs`), which the
//! page loads the first time it needs it: a scenario in the address, an embed, or the visitor exporting,
//! editing or playing one. It also starts the explorer's worker and relays its news ([`start_explorer`],
//! `ui::explorer::relay`), which keeps serde out of the page's first load.
//!
//! # Why a second module
//!
//! Linked into the page, the reader, the runner, the claims and the writer cost its first load 26.5 kB brotli
//! and took it past its 250 kB budget (BENCHMARKS.md, issue 19); most visits never touch a scenario. As a
//! module of their own they cost nothing until then, and about 100 kB once (its own copy of the simulator and
//! checker, which the runner drives). A frame or a playground that needs it waits for it once; after that every
//! call is synchronous.
//!
//! # The protocol
//!
//! JSON text both ways (`storage::json`), a string in and a string out per call, so the two modules share no
//! memory and no types. [`serve`] is the engine's side (what the second module exports), the functions below
//! it the page's; both are in this file so they change together, and [`PROTOCOL`] makes a page refuse an
//! engine of another build. The browser tests call [`serve`] directly and read its answers with the page's
//! readers, so the protocol is tested without loading the module; the end-to-end tests load it.
//!
//! The module's files are not content-hashed (Trunk names a second module after its binary), so the page asks
//! for them with its own hashed file name as a query (`?v=…`): a new build never runs an engine a browser cached
//! from the last one.

mod link;
pub mod serve;

use std::cell::RefCell;

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::runner::{decode_record, RunRecord};
use crate::scenario::ScenarioError;
use crate::storage::json::Json;

/// Bumped whenever the JSON changes shape, or a call is added (2: `startExplorer`).
pub const PROTOCOL: u32 = 2;

/// A scenario the engine read and ran to its end.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    pub title: String,
    pub end: u64,
    /// Its setup and the concrete actions its run applied: what the playground replays.
    pub record: RunRecord,
    /// (tick, caption), in tick order.
    pub captions: Vec<(u64, String)>,
    /// The claims (and the verdict) that did not hold, each naming its line.
    pub failures: Vec<String>,
}

fn broken(why: String) -> ScenarioError {
    ScenarioError { line: None, field: "engine".into(), message: format!("the engine's answer is unreadable: {why}") }
}

/// The answer as JSON, or the error it carries.
fn answer(text: &str) -> Result<Json, ScenarioError> {
    let json = Json::parse(text).map_err(broken)?;
    if let Some(error) = json.get("error") {
        let line = match error.field("line").map_err(broken)? {
            Json::Null => None,
            line => Some(line.u64().map_err(broken)? as usize),
        };
        let field = error.read_field("field", Json::string).map_err(broken)?;
        let message = error.read_field("message", Json::string).map_err(broken)?;
        return Err(ScenarioError { line, field, message });
    }
    Ok(json)
}

/// Reads [`serve::prepare`]'s answer.
pub fn read_prepared(text: &str) -> Result<Prepared, ScenarioError> {
    let json = answer(text)?;
    let unescape = |text: &str| js_sys::decode_uri_component(text).ok().map(String::from);
    let run = json.read_field("run", Json::string).map_err(broken)?;
    let mut captions = Vec::new();
    for caption in json.field("captions").and_then(Json::array).map_err(broken)? {
        match caption.array().map_err(broken)? {
            [tick, text] => captions.push((tick.u64().map_err(broken)?, text.string().map_err(broken)?)),
            _ => return Err(broken("a caption is not [tick, text]".into())),
        }
    }
    let failures = json.field("failures").and_then(Json::array).map_err(broken)?;
    Ok(Prepared {
        title: json.read_field("title", Json::string).map_err(broken)?,
        end: json.read_field("end", Json::u64).map_err(broken)?,
        record: decode_record(&run, &unescape).map_err(broken)?,
        captions,
        failures: failures.iter().map(Json::string).collect::<Result<_, _>>().map_err(broken)?,
    })
}

/// What a scenario text reads as: its title, and a line that sums it up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub title: String,
    pub summary: String,
}

/// Reads [`serve::check`]'s answer.
pub fn read_checked(text: &str) -> Result<Checked, ScenarioError> {
    let json = answer(text)?;
    let title = json.read_field("title", Json::string).map_err(broken)?;
    Ok(Checked { title, summary: json.read_field("summary", Json::string).map_err(broken)? })
}

/// Reads [`serve::embed_codes`]'s answer: (inline, hosted).
pub fn read_embed_codes(text: &str) -> Result<(String, String), ScenarioError> {
    let json = answer(text)?;
    let code = |name| json.read_field(name, Json::string).map_err(broken);
    Ok((code("inline")?, code("hosted")?))
}

/// Reads the answer of [`serve::export`], [`serve::pack`] or [`serve::unpack`]: the text.
pub fn read_text(text: &str) -> Result<String, ScenarioError> {
    answer(text)?.read_field("text", Json::string).map_err(broken)
}

#[wasm_bindgen(inline_js = r#"
export function loadEngine(version) {
  // This snippet lives in snippets/<crate>/ of the page's files: the engine sits two levels up, next to the page's
  // own module, wherever the site is published.
  const base = new URL('../../', import.meta.url);
  const wasm = new URL('synod-scenario_bg.wasm?v=' + version, base);
  return import(new URL('synod-scenario.js?v=' + version, base).href).then(async (engine) => {
    await engine.default({ module_or_path: wasm });
    return engine;
  });
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = loadEngine)]
    fn load_engine(version: &str) -> js_sys::Promise;

    /// The engine module's namespace.
    type Engine;
    #[wasm_bindgen(method)]
    fn protocol(this: &Engine) -> u32;
    #[wasm_bindgen(method, catch)]
    fn prepare(this: &Engine, text: &str) -> Result<String, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn check(this: &Engine, text: &str) -> Result<String, JsValue>;
    #[wasm_bindgen(method, catch, js_name = exportRun)]
    fn export_run(this: &Engine, run: &str, title: &str, now: f64) -> Result<String, JsValue>;
    #[wasm_bindgen(method, catch, js_name = embedCodes)]
    fn embed_codes(this: &Engine, text: &str, page: &str) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn unpack(this: &Engine, packed: &str) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = fetchScenario)]
    fn fetch_scenario(this: &Engine, url: &str) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(method, catch, js_name = startExplorer)]
    fn start_explorer(this: &Engine, request: &str, hear: &js_sys::Function) -> Result<web_sys::Worker, JsValue>;
}

thread_local! {
    /// The engine's loading, started once and awaited by every caller.
    static LOADING: RefCell<Option<js_sys::Promise>> = const { RefCell::new(None) };
}

/// This build's name for itself: the hash in the file name of the page's module (`synod-web-<hash>.js`), from
/// the boot block (`Trunk.toml`'s `pattern_script`), or "dev" where there is none.
pub(crate) fn version() -> String {
    let boot = gloo::utils::document().get_element_by_id("synod-boot").and_then(|boot| boot.text_content());
    // Splits at characters, not at "synod-web-": a substring search links 1.6 kB of searcher code into the page.
    let file = boot.as_deref().and_then(|boot| boot.split(['"', '/']).find_map(|part| part.strip_prefix("synod-web-")));
    let hash = file.and_then(|file| file.split('.').next()).map(str::to_owned);
    hash.filter(|hash| hash.chars().all(|c| c.is_ascii_alphanumeric())).unwrap_or_else(|| "dev".into())
}

fn js_message(error: &JsValue) -> String {
    match error.dyn_ref::<js_sys::Error>() {
        Some(error) => String::from(error.message()),
        None => error.as_string().unwrap_or_else(|| "unknown error".into()),
    }
}

/// The engine, loaded on first use. A failed load is forgotten, so the next call tries again.
async fn engine() -> Result<Engine, String> {
    let loading = LOADING.with(|cell| cell.borrow_mut().get_or_insert_with(|| load_engine(&version())).clone());
    let engine: Engine = match JsFuture::from(loading).await {
        Ok(engine) => engine.unchecked_into(),
        Err(error) => {
            LOADING.with(|cell| cell.borrow_mut().take());
            return Err(format!("the scenario engine could not be loaded ({})", js_message(&error)));
        }
    };
    if engine.protocol() != PROTOCOL {
        return Err("the scenario engine belongs to another version of this page: reload the page".into());
    }
    Ok(engine)
}

/// What asking the engine gave: the scenario's own error (naming its line), or the engine's (it did not load).
pub type Asked<T> = Result<Result<T, ScenarioError>, String>;

async fn ask(call: impl FnOnce(&Engine) -> Result<String, JsValue>) -> Result<String, String> {
    let engine = engine().await?;
    call(&engine).map_err(|error| format!("the scenario engine failed ({})", js_message(&error)))
}

/// Reads and runs `text` in the engine.
pub async fn prepare(text: &str) -> Asked<Prepared> {
    Ok(read_prepared(&ask(|engine| engine.prepare(text)).await?))
}

/// Reads `text` in the engine: its title and a one-line summary, or the error.
pub async fn check(text: &str) -> Asked<Checked> {
    Ok(read_checked(&ask(|engine| engine.check(text)).await?))
}

/// Writes the run `record` up to tick `now` as scenario text, in the engine.
pub async fn export(record: &RunRecord, title: &str, now: u64) -> Asked<String> {
    let escape = |text: &str| String::from(js_sys::encode_uri_component(text));
    let run = super::runner::encode_record(record, &escape);
    Ok(read_text(&ask(|engine| engine.export_run(&run, title, now as f64)).await?))
}

async fn ask_later(call: impl FnOnce(&Engine) -> Result<js_sys::Promise, JsValue>) -> Result<String, String> {
    let engine = engine().await?;
    let failed = |error: JsValue| format!("the scenario engine failed ({})", js_message(&error));
    let answer = JsFuture::from(call(&engine).map_err(failed)?).await.map_err(failed)?;
    answer.as_string().ok_or_else(|| "the scenario engine answered no text".into())
}

/// The two embed codes of the scenario `text` for the playground at `page`: (inline, hosted), made in the
/// engine (which holds the reader and the browser's DEFLATE bindings, `link.rs`).
pub async fn embed_codes(text: &str, page: &str) -> Asked<(String, String)> {
    Ok(read_embed_codes(&ask_later(|engine| engine.embed_codes(text, page)).await?))
}

/// Fetches a scenario file, in the engine.
pub async fn fetch(url: &str) -> Asked<String> {
    Ok(read_text(&ask_later(|engine| engine.fetch_scenario(url)).await?))
}

/// Unpacks a `#scenario=` link, in the engine.
pub async fn unpack(packed: &str) -> Asked<String> {
    Ok(read_text(&ask_later(|engine| engine.unpack(packed)).await?))
}

/// Starts a search in the explorer's worker, from the engine (`ui::explorer::relay`, which holds what talks to the
/// worker, so the page's first load does not): `request` is `ui::explorer::text::write_request`'s text, `hear`
/// is called with each piece of news as text. The worker, to terminate.
pub async fn start_explorer(request: &str, hear: &js_sys::Function) -> Result<web_sys::Worker, String> {
    let engine = engine().await?;
    engine.start_explorer(request, hear).map_err(|error| js_message(&error))
}
