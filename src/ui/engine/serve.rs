//! The engine's side of the protocol (`mod.rs`): what the `synod-scenario` module exports, each taking text and
//! giving JSON text. Everything here runs in the engine's module, never in the page's: the reader, the runner and
//! the writer of scenarios, fetching a scenario file, and packing a `#scenario=` link (`link.rs`).

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::super::runner::{decode_record, encode_record, RunRecord};
use crate::scenario::{self, Recorded, ScenarioError};
use crate::storage::json::Writer;

fn escape(text: &str) -> String {
    String::from(js_sys::encode_uri_component(text))
}

fn error(error: &ScenarioError) -> String {
    let mut out = Writer::default();
    out.open('{');
    out.key("error");
    out.open('{');
    out.key("line");
    match error.line {
        Some(line) => out.u64(line as u64),
        None => out.null(),
    }
    out.key("field");
    out.str(&error.field);
    out.key("message");
    out.str(&error.message);
    out.close('}');
    out.close('}');
    out.finish()
}

/// Reads and runs `text`: `{"title","end","run","captions":[[tick,text]…],"failures":[…]}`, or
/// `{"error":{"line","field","message"}}`.
pub fn prepare(text: &str) -> String {
    let (scenario, outcome) = match scenario::prepare(text) {
        Ok(prepared) => prepared,
        Err(problem) => return error(&problem),
    };
    let record = RunRecord::of_scenario(&scenario, outcome.actions);
    let mut out = Writer::default();
    out.open('{');
    out.key("title");
    out.str(&scenario.title);
    out.key("end");
    out.u64(scenario.end);
    out.key("run");
    out.str(&encode_record(&record, &escape));
    out.key("captions");
    out.open('[');
    for caption in &scenario.captions {
        out.open('[');
        out.u64(caption.tick);
        out.str(&caption.item);
        out.close(']');
    }
    out.close(']');
    out.key("failures");
    out.open('[');
    for failure in &outcome.failures {
        out.str(&failure.to_string());
    }
    out.close(']');
    out.close('}');
    out.finish()
}

/// Reads `text` only: `{"title":…,"summary":…}` (one line on what it reads as), or an error.
pub fn check(text: &str) -> String {
    match scenario::parse(text) {
        Ok(s) => {
            let summary = format!(
                "✓ Reads: \"{}\", {} nodes, {} actions, {} claims, ends at tick {}.",
                s.title,
                s.nodes,
                s.timeline.len(),
                s.expectations.len(),
                s.end
            );
            let mut out = Writer::default();
            out.open('{');
            out.key("title");
            out.str(&s.title);
            out.key("summary");
            out.str(&summary);
            out.close('}');
            out.finish()
        }
        Err(problem) => error(&problem),
    }
}

fn text(text: &str) -> String {
    let mut out = Writer::default();
    out.open('{');
    out.key("text");
    out.str(text);
    out.close('}');
    out.finish()
}

/// Packs `text` for a `#scenario=` link (`ui/link.rs`): `{"text":…}`, or an error.
pub async fn pack(text: &str) -> String {
    match super::link::pack(text).await {
        Ok(packed) => self::text(&packed),
        Err(message) => error(&ScenarioError { line: None, field: "#scenario".into(), message }),
    }
}

/// `text` safe inside an HTML attribute.
fn attribute(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Where the hosted form of the embed code says the file is: the author puts their own file's address there
/// (a URL needs no escaping in the query unless it holds `&` or `#`).
pub const HOSTED_EXAMPLE: &str = "https://example.org/my-example.scenario";

/// The one-line `<iframe>`s that embed the scenario `text` in any page, the frame showing the playground at
/// `page`: `{"inline":…,"hosted":…}`, the first with the text packed into the frame's address, the second naming
/// a file the author hosts ([`HOSTED_EXAMPLE`], to replace); or an error (the text does not read).
pub async fn embed_codes(text: &str, page: &str) -> String {
    let title = match scenario::parse(text) {
        Ok(scenario) => attribute(&format!("Live example: {}", scenario.title)),
        Err(problem) => return error(&problem),
    };
    let packed = match super::link::pack(text).await {
        Ok(packed) => packed,
        Err(message) => return error(&ScenarioError { line: None, field: "#scenario".into(), message }),
    };
    let size = "width=\"640\" height=\"400\"></iframe>";
    let mut out = Writer::default();
    out.open('{');
    out.key("inline");
    out.str(&format!("<iframe src=\"{page}?embed=1#scenario={packed}\" title=\"{title}\" {size}"));
    out.key("hosted");
    out.str(&format!("<iframe src=\"{page}?scenario-url={HOSTED_EXAMPLE}&amp;embed=1\" title=\"{title}\" {size}"));
    out.close('}');
    out.finish()
}

/// Unpacks a `#scenario=` link: `{"text":…}`, or an error saying what is wrong with the link.
pub async fn unpack(packed: &str) -> String {
    match super::link::unpack(packed).await {
        Ok(unpacked) => text(&unpacked),
        Err(message) => error(&ScenarioError { line: None, field: "#scenario".into(), message }),
    }
}

/// Fetches a scenario file: `{"text":…}`, or an error whose message is a whole sentence (the HTTP status, or
/// why the request failed).
pub async fn fetch(url: &str) -> String {
    match fetch_text(url).await {
        Ok(fetched) => text(&fetched),
        Err(message) => error(&ScenarioError { line: None, field: "scenario-url".into(), message }),
    }
}

/// Fetches a scenario file: its text, or a sentence with the HTTP status or why the request failed.
async fn fetch_text(url: &str) -> Result<String, String> {
    let scheme = url.split_once(':').map(|(scheme, _)| scheme).filter(|scheme| {
        scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if scheme.is_some_and(|scheme| !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https")) {
        return Err(format!(
            "The scenario address {url:?} is not one this page fetches: give a path relative to the page or an \
             http(s) URL."
        ));
    }
    let cannot = |why: String| format!("The scenario file {url} could not be fetched: {why}.");
    let response = JsFuture::from(gloo::utils::window().fetch_with_str(url)).await.map_err(|error| {
        cannot(format!(
            "{} (a file on another site must be sent with CORS, `Access-Control-Allow-Origin`)",
            js_message(&error)
        ))
    })?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| cannot("no response".into()))?;
    if !response.ok() {
        let status = format!("HTTP {} {}", response.status(), response.status_text());
        return Err(format!("The scenario file {url} could not be loaded: {}.", status.trim_end()));
    }
    let text = response.text().map_err(|error| cannot(js_message(&error)))?;
    let text = JsFuture::from(text).await.map_err(|error| cannot(js_message(&error)))?;
    let text = text.as_string().ok_or_else(|| cannot("the body is not text".into()))?;
    if text.len() > crate::scenario::link::TEXT_MAX {
        return Err(cannot(format!(
            "it is larger than {} kB, more than any scenario needs",
            crate::scenario::link::TEXT_MAX / 1024
        )));
    }
    Ok(text)
}

fn js_message(error: &wasm_bindgen::JsValue) -> String {
    match error.dyn_ref::<js_sys::Error>() {
        Some(error) => String::from(error.message()),
        None => error.as_string().unwrap_or_else(|| "the request failed".into()),
    }
}

/// Writes the run `run` (as a shared link carries it) up to tick `now` as scenario text: `{"text":…}`, or
/// an error.
pub fn export(run: &str, title: &str, now: u64) -> String {
    let unescape = |text: &str| js_sys::decode_uri_component(text).ok().map(String::from);
    let problem = |message: String| error(&ScenarioError { line: None, field: "run".into(), message });
    let record = match decode_record(run, &unescape) {
        Ok(record) => record,
        Err(message) => return problem(message),
    };
    let setup = &record.setup;
    let recorded = Recorded {
        title,
        nodes: setup.nodes,
        seed: setup.seed,
        bug: setup.bug,
        clients: setup.clients,
        snapshot_interval: setup.snapshot_interval,
        timing: setup.timing,
        actions: &record.actions,
        now,
    };
    match scenario::export(&recorded) {
        Ok(exported) => text(&exported),
        Err(message) => problem(message),
    }
}
