//! Scenarios: small, versioned, human-editable files that script a run of the simulated cluster (its setup, a
//! timeline of actions, narration captions) and state what must be true at given ticks. The same file drives
//! the browser's embedded examples and `synod scenario check`, which runs it natively and verifies every claim,
//! so a caption such as "node 5 becomes leader" is backed by a check.
//!
//! The format is line-based (see `www/docs/authors.html` and [`parse`]): every line names its field first, so
//! an error names the field and the line. [`run`] executes a scenario on the simulator, resolving the message a
//! `drop`/`duplicate`/`deliver` means, and records the resulting concrete actions for the playground to replay.
//! [`export`] writes a run back as scenario text, and [`link`] packs a text into a URL. No UI dependency: this
//! runs natively and in Wasm.
//!
//! # One reader, at run time, everywhere
//!
//! The browser parses and runs a scenario when it loads it, with the same code as `synod scenario check`: a
//! shipped one (fetched from `scenarios/NAME.scenario`, see `shipped.rs`), a file fetched from
//! `?scenario-url=`, or the text carried by `#scenario=`. Until issue 19 the browser replayed actions compiled
//! natively into generated Rust (`generated.rs`, gone), because the reader and the runner did not fit the
//! bundle then. An author's own scenario needs them in the browser anyway, so they are there now, and the
//! generated code is not: one reader, no second path to keep in step. What that costs the first load is
//! measured in BENCHMARKS.md (issue 19).

mod claim;
mod export;
pub mod link;
mod parse;
mod run;
mod shipped;

pub use claim::Claim;
pub use export::{export, percent, quote, Recorded};
pub use parse::{
    fault_field, parse, Action, FaultUnit, Faults, LinkEnd, MessageSelector, Scenario, ScenarioError, Timed, Verdict,
    FAULT_WORDS,
};
pub use run::{run, run_observed, Failure, Outcome};
#[cfg(not(target_arch = "wasm32"))]
pub use shipped::{shipped, SHIPPED};
pub use shipped::{ShippedScenario, NAMES};

/// The format version this build reads (the first line of a scenario: `synod-scenario 1`).
pub const VERSION: u32 = 1;

/// Reads `text` and runs it to its end: the scenario and what the run gave (its concrete actions, and any claim
/// that did not hold). An error names the line: a malformed line, or an action that cannot happen.
pub fn prepare(text: &str) -> Result<(Scenario, Outcome), ScenarioError> {
    let scenario = parse(text)?;
    let outcome = run(&scenario)?;
    Ok((scenario, outcome))
}
