//! "Explore from here": the model checker (`crate::explore`) run from the state on screen, in a Web Worker, so the
//! page stays live while it searches and Cancel can stop it at once.
//!
//! # Why a worker of its own, and how it is built
//!
//! A search runs for seconds to minutes without yielding: on the page's thread it would freeze the page, and only
//! a worker can be stopped in the middle of a loop (`Worker::terminate`, which Cancel calls). The worker runs a
//! WebAssembly module of its own, `synod-explorer` (`src/bin/synod-explorer.rs`), not the scenario engine:
//! - the page's first load stays as it is: LTO drops `crate::explore` from `synod-web`, which never calls it;
//! - the explorer is built for speed (`opt-level = 3`, Cargo.toml's `explorer-release` profile), the page and
//!   the engine for size (`opt-level = "z"`): on the same bounds the size-built explorer would be far slower;
//! - the engine is loaded into the page's thread (a dynamic import) for its synchronous calls.
//!
//! The worker is a module worker script, `www/explorer-worker.js`, copied to the site by Trunk: the page's
//! Content-Security-Policy allows same-origin scripts and workers only (`script-src 'self'`, `worker-src 'self'`),
//! which a file next to the page is, where a worker made from a blob or an inline script would not be. It
//! imports the module's wasm-bindgen glue (`--target web`, as the engine's). Trunk does not content-hash a second
//! module's files, so, as for the engine, the page names this build in a `?v=` query: a new build never runs a
//! worker a browser cached from the last one.
//!
//! # The protocol
//!
//! One [`Request`] from the page, then [`News`] from the worker: progress every few thousand states, then the
//! outcome. Both cross `postMessage` as plain JavaScript objects made and read by serde-wasm-bindgen (no JSON
//! text, no shared memory), on the page's side in the scenario engine's module (`relay.rs`), which the page loads
//! on first use: the page's own module hands it the request and hears the news as JSON text (`text.rs`), so
//! serde and its decoder stay out of the page's first load. The run crosses as its link text (`encode_record`), which the page already writes
//! for Share, and a counterexample comes back the same way, so the page reads no type of the explorer's own.
//! [`PROTOCOL`] makes the worker refuse a page of another build.

pub mod relay;
pub mod serve;
pub mod text;

use std::cell::RefCell;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::{Closure, JsValue};
use wasm_bindgen::JsCast;

use crate::explore::Bounds;
use crate::sim::link::{decode_record, encode_record, RunRecord};
use crate::sim::UserAction;

/// Bumped whenever a message changes shape.
pub const PROTOCOL: u32 = 1;

/// What the page asks: explore `run` from tick `tick` within `bounds`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub protocol: u32,
    /// The run as a link carries it (`encode_record`, escaped as `encodeURIComponent` does).
    pub run: String,
    pub tick: u64,
    pub bounds: Bounds,
}

/// What the worker says: how far the search has got, every few thousand states, and, in the last message, how it
/// ended. One flat message rather than an enum of several: each type the page deserializes costs its first load
/// a visitor of its own (BENCHMARKS.md, "Explore from here").
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct News {
    /// Unique states met.
    pub states: u64,
    /// The deepest event met.
    pub depth: u32,
    pub elapsed_ms: u64,
    /// The search is over: the fields below say how.
    pub done: bool,
    /// Every state within the bounds was explored.
    pub exhausted: bool,
    /// The search could not run (bad bounds, a run that does not replay, a worker that failed to load).
    pub failed: Option<String>,
    /// The violation found, in the checker's words.
    pub violation: Option<String>,
    /// Its path's events from the start, in words.
    pub events: Vec<String>,
    /// Its whole run: the actions up to the start, then one action a tick (`encode_record`).
    pub run: Option<String>,
}

impl News {
    pub fn states_per_s(&self) -> u64 {
        self.states * 1000 / self.elapsed_ms.max(1)
    }

    /// The last news of a search that could not run.
    pub fn failed(why: String) -> News {
        News { done: true, failed: Some(why), ..News::default() }
    }
}

fn escape(text: &str) -> String {
    String::from(js_sys::encode_uri_component(text))
}

fn unescape(text: &str) -> Option<String> {
    js_sys::decode_uri_component(text).ok().map(String::from)
}

/// A counterexample's run, read back: the page's `Cmd::LoadPath` plays it.
pub fn read_run(run: &str) -> Result<RunRecord, String> {
    decode_record(run, &unescape)
}

/// The tick a path starts from in a counterexample's run: that of its last `Stepping { on: true }` (the search
/// starts stepping there, and a path's own actions never do).
pub fn path_start(record: &RunRecord) -> Option<u64> {
    record.actions.iter().rev().find(|(_, action)| *action == UserAction::Stepping { on: true }).map(|(tick, _)| *tick)
}

/// A search running in its worker, started by the scenario engine's module (`relay.rs`) once it has loaded;
/// dropping it stops the search (the worker is terminated, or never started if the engine is still loading).
pub struct Explorer {
    running: Rc<RefCell<Running>>,
}

#[derive(Default)]
struct Running {
    stopped: bool,
    worker: Option<web_sys::Worker>,
    /// What the engine calls with each piece of news, as text.
    on_news: Option<Closure<dyn FnMut(String)>>,
}

impl Drop for Explorer {
    fn drop(&mut self) {
        let mut running = self.running.borrow_mut();
        running.stopped = true;
        if let Some(worker) = running.worker.take() {
            worker.terminate();
        }
        running.on_news = None;
    }
}

/// Starts exploring `record` from `tick` within `bounds` in a new worker, through the scenario engine (loaded on
/// first use); `hear` is called with each piece of news, on the page's thread, a search that could not start
/// included.
pub fn start(record: &RunRecord, tick: u64, bounds: Bounds, hear: impl Fn(News) + 'static) -> Explorer {
    let request = Request { protocol: PROTOCOL, run: encode_record(record, &escape), tick, bounds };
    let request = text::write_request(&request);
    let hear = Rc::new(hear);
    let heard = hear.clone();
    let on_news = Closure::<dyn FnMut(String)>::new(move |news: String| {
        heard(text::read_news(&news).unwrap_or_else(|why| News::failed(format!("its news does not read: {why}"))));
    });
    let listener: js_sys::Function = on_news.as_ref().unchecked_ref::<js_sys::Function>().clone();
    let running = Rc::new(RefCell::new(Running { on_news: Some(on_news), ..Running::default() }));
    let starting = running.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let started = super::engine::start_explorer(&request, &listener).await;
        let mut running = starting.borrow_mut();
        match started {
            Ok(worker) if running.stopped => worker.terminate(),
            Ok(worker) => running.worker = Some(worker),
            Err(why) if !running.stopped => {
                drop(running);
                hear(News::failed(why));
            }
            Err(_) => {}
        }
    });
    Explorer { running }
}

/// `value` as JavaScript, for the worker's answers.
pub(crate) fn to_js<T: Serialize>(value: &T) -> JsValue {
    serde_wasm_bindgen::to_value(value).unwrap_or_else(|error| JsValue::from_str(&error.to_string()))
}
