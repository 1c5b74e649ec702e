//! Where the scenario a page plays comes from, as its address says, and loading it: read (or fetch), parse and
//! run with the same code as `synod scenario check` (`crate::scenario`).
//!
//! - `?scenario=NAME`: a shipped scenario, fetched from `scenarios/NAME.scenario` next to the page (an unknown
//!   name is refused before any request, with the names that exist).
//! - `?scenario-url=PATH`: a `.scenario` file fetched at load, a path relative to the page or an `http(s)` URL
//!   the page may fetch (another site's file needs CORS: `Access-Control-Allow-Origin`).
//! - `#scenario=PACKED`: the text itself, packed (`scenario::link`), so an example needs no file at all.
//!
//! With `&embed=1` (or `?embed=1#scenario=…`) the page shows the compact embed view (`embed.rs`), else the full
//! playground loaded with the run. Whatever goes wrong (an unknown name, a file that is missing or unreachable,
//! a malformed line, an action that cannot happen) becomes one sentence for the page to show: the HTTP status,
//! or the line and the field. Nothing here writes to the console.

use std::rc::Rc;

use super::engine::{self, Prepared};
use crate::scenario::{self, ScenarioError};

/// The query parameter naming a shipped scenario.
pub const SCENARIO_PARAM: &str = "scenario";
/// The query parameter naming a scenario file to fetch.
pub const SCENARIO_URL_PARAM: &str = "scenario-url";
/// The fragment parameter carrying a packed scenario (`#scenario=…`).
pub const SCENARIO_FRAGMENT: &str = "scenario";
/// With `embed=1` the scenario opens in the compact embed view instead of the full playground.
pub const EMBED_PARAM: &str = "embed";

/// A scenario the address names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `?scenario=NAME`, still URI-encoded.
    Shipped(String),
    /// `?scenario-url=PATH`, decoded.
    Url(String),
    /// `#scenario=PACKED`.
    Inline(String),
}

/// A scenario read, parsed and run to its end (by the engine, `engine.rs`), ready to replay.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The IndexedDB cluster an embed of it keeps its disks in: `embed-NAME` for a shipped one,
    /// `embed-custom-<its title>` for any other (so visits do not leave a database per text or per URL).
    pub cluster: String,
    pub text: Rc<str>,
    /// Title, end, captions, failed claims, and the run its actions resolved to.
    pub scenario: Rc<Prepared>,
}

/// The same load, not a deep comparison: a `Loaded` is made once and shared.
impl PartialEq for Loaded {
    fn eq(&self, other: &Loaded) -> bool {
        Rc::ptr_eq(&self.scenario, &other.scenario)
    }
}

/// The value of query parameter `name`, still URI-encoded.
pub fn query_param(name: &str) -> Option<String> {
    let search = gloo::utils::window().location().search().unwrap_or_default();
    param(search.trim_start_matches('?'), name)
}

fn fragment_param(name: &str) -> Option<String> {
    let hash = gloo::utils::window().location().hash().unwrap_or_default();
    param(hash.trim_start_matches('#'), name)
}

fn param(pairs: &str, name: &str) -> Option<String> {
    pairs.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| value.to_string())
    })
}

fn decoded(raw: &str) -> String {
    js_sys::decode_uri_component(raw).map(String::from).unwrap_or_else(|_| raw.to_string())
}

/// The scenario the address names, if any (a file first, then a packed text, then a shipped name).
pub fn source_from_address() -> Option<Source> {
    if let Some(url) = query_param(SCENARIO_URL_PARAM) {
        return Some(Source::Url(decoded(&url)));
    }
    if let Some(packed) = fragment_param(SCENARIO_FRAGMENT) {
        return Some(Source::Inline(decoded(&packed)));
    }
    query_param(SCENARIO_PARAM).map(Source::Shipped)
}

/// Whether the address asks for the embed view of a scenario.
pub fn embed_requested() -> bool {
    query_param(EMBED_PARAM).is_some_and(|v| v == "1" || v == "true") && source_from_address().is_some()
}

/// Loads `source`: fetches the file (a shipped scenario's too), or unpacks the text, then reads and runs it.
pub async fn load(source: Source) -> Result<Loaded, String> {
    let (text, shipped, whence) = match source {
        Source::Shipped(raw) => {
            let name = shipped_name(&raw)?;
            let text = fetch(&format!("scenarios/{name}.scenario")).await?;
            let whence = format!("{name:?}");
            (text, Some(name), whence)
        }
        Source::Inline(packed) => {
            let why = match engine::unpack(&packed).await {
                Ok(Ok(text)) => Ok(text),
                Ok(Err(error)) => Err(error.message),
                Err(why) => Err(why),
            };
            let text =
                why.map_err(|why| format!("The scenario in the address (#scenario=…) cannot be read: {why}."))?;
            (text, None, "in the address".to_string())
        }
        Source::Url(url) => (fetch(&url).await?, None, format!("from {url}")),
    };
    from_text(&text, shipped.as_deref(), &whence).await
}

/// Fetches a scenario file (in the engine, which holds the fetch code): its text, or a sentence with the HTTP
/// status or why the request failed.
async fn fetch(url: &str) -> Result<String, String> {
    match engine::fetch(url).await {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(error)) => Err(error.message),
        Err(why) => Err(format!("The scenario file {url} cannot be loaded here: {why}.")),
    }
}

/// Reads and runs `text` (in the engine); `shipped` names a shipped scenario (for its storage cluster),
/// `whence` says where the text came from in an error ("from my.scenario").
pub async fn from_text(text: &str, shipped: Option<&str>, whence: &str) -> Result<Loaded, String> {
    let scenario = match engine::prepare(text).await {
        Ok(Ok(scenario)) => scenario,
        Ok(Err(error)) => return Err(describe(whence, &error)),
        Err(why) => return Err(format!("The scenario {whence} cannot be played here: {why}.")),
    };
    let cluster = match shipped {
        Some(name) => format!("embed-{name}"),
        None => format!("embed-custom-{}", scenario::slug(&scenario.title)),
    };
    Ok(Loaded { cluster, text: Rc::from(text), scenario: Rc::new(scenario) })
}

/// An error, where it is: "The scenario from my.scenario has an error on line 7 (at 2: kill): …".
pub fn describe(whence: &str, error: &ScenarioError) -> String {
    match error.line {
        Some(line) => {
            format!("The scenario {whence} has an error on line {line} ({}): {}.", error.field, error.message)
        }
        None => format!("The scenario {whence} has an error ({}): {}.", error.field, error.message),
    }
}

/// The shipped scenario `?scenario=` names, or why there is none (never fetched: an unknown name gets the list).
fn shipped_name(raw: &str) -> Result<String, String> {
    let known = || scenario::NAMES.join(", ");
    let name = decoded(raw);
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(format!(
            "The scenario name in the address, {raw:?}, is malformed: a name has only letters, digits and dashes. \
             Known scenarios: {}.",
            known()
        ));
    }
    if !scenario::NAMES.contains(&name.as_str()) {
        return Err(format!("There is no scenario called {name:?}. Known scenarios: {}.", known()));
    }
    Ok(name)
}
