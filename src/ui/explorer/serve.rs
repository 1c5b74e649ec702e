//! The worker's side of the protocol (`mod.rs`): what the `synod-explorer` module exports. Everything here runs in
//! the worker's module, never in the page's.

use wasm_bindgen::JsValue;

use super::{to_js, News, Request, PROTOCOL};
use crate::explore::{explore_from, ExploreConfig, Origin, Progress, Report};
use crate::paxos::BugSet;
use crate::sim::link::decode_record;

/// Unique states a search in the page meets at most: about 400 bytes each, so the worker stays under 1 GB.
pub const STATES_MAX: u64 = 2_000_000;

fn news(progress: &Progress) -> News {
    let elapsed_ms = (progress.elapsed_s * 1000.0) as u64;
    News { states: progress.unique_states, depth: progress.depth, elapsed_ms, ..News::default() }
}

/// Runs the search `request` (a [`Request`] as JavaScript) asks for; `tell` hears its progress. Returns the last
/// [`News`].
pub fn explore(request: JsValue, tell: &dyn Fn(JsValue)) -> JsValue {
    to_js(&search(request, tell).unwrap_or_else(News::failed))
}

fn search(request: JsValue, tell: &dyn Fn(JsValue)) -> Result<News, String> {
    let request: Request = serde_wasm_bindgen::from_value(request).map_err(|error| error.to_string())?;
    if request.protocol != PROTOCOL {
        return Err("the explorer belongs to another version of this page: reload the page".into());
    }
    let unescape = |text: &str| js_sys::decode_uri_component(text).ok().map(String::from);
    let record = decode_record(&request.run, &unescape)?;
    let config = ExploreConfig { states_max: STATES_MAX, ..ExploreConfig::new(request.bounds, BugSet::NONE) };
    let origin = Origin::Run { record: &record, tick: request.tick };
    let clock = || js_sys::Date::now() / 1000.0;
    let mut report_progress = |progress: &Progress| {
        tell(to_js(&news(progress)));
        true
    };
    let report = explore_from(&config, &origin, &mut report_progress, &clock)?;
    Ok(outcome(&report))
}

fn outcome(report: &Report) -> News {
    let found = report.counterexample.as_ref();
    News {
        states: report.unique_states,
        depth: report.max_depth,
        elapsed_ms: (report.elapsed_s * 1000.0) as u64,
        done: true,
        exhausted: report.complete,
        failed: None,
        violation: found.map(|counterexample| counterexample.violation.clone()),
        events: found.map(|counterexample| counterexample.events.clone()).unwrap_or_default(),
        run: found.and_then(|counterexample| counterexample.link.strip_prefix("index.html?run=")).map(String::from),
    }
}
