//! Scenarios: small, versioned, human-editable files that script a run of the simulated cluster (its setup, a
//! timeline of actions, narration captions) and state what must be true at given ticks. The same file drives
//! the browser's embedded examples and `synod scenario check`, which runs it natively and verifies every claim,
//! so a caption such as "node 5 becomes leader" is backed by a check.
//!
//! The format is line-based (see `www/docs/authors.html` and [`parse`]): every line names its field first, so
//! an error names the field and the line. [`run`] executes a scenario on the simulator, resolving the message a
//! `drop`/`duplicate`/`deliver` means, and records the resulting concrete actions for the playground to replay.
//! No UI dependency: this runs natively and in Wasm.

mod claim;
mod compiled;
#[rustfmt::skip]
mod generated;
mod export;
mod parse;
mod run;
mod shipped;

pub use claim::Claim;
pub use compiled::{compiled, names, Compiled};
pub use export::{export, percent, quote, Recorded};
pub use parse::{parse, Action, Faults, LinkEnd, MessageSelector, Scenario, ScenarioError, Timed, Verdict};
pub use run::{run, run_observed, Failure, Outcome};
pub use shipped::{shipped, ShippedScenario, SHIPPED};

/// The format version this build reads (the first line of a scenario: `synod-scenario 1`).
pub const VERSION: u32 = 1;
