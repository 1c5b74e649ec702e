//! The shipped scenarios compiled ahead of time: setup, captions and the concrete actions their native run
//! applied (`generated.rs`, written by `SYNOD_BLESS=1 cargo test --test scenarios`, which also fails when it is
//! stale). The browser replays these and never parses or runs a scenario itself: the reader and the runner would
//! cost the Wasm bundle about 27 kB brotli (BENCHMARKS.md), and every shipped file is checked natively anyway.

use crate::paxos::Bug;
use crate::sim::UserAction;

/// A shipped scenario, ready to replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compiled {
    pub name: &'static str,
    pub title: &'static str,
    pub nodes: usize,
    pub seed: u64,
    pub bug: Option<Bug>,
    pub clients: u64,
    pub snapshot_interval: u64,
    pub end: u64,
    /// (tick, text), in tick order.
    pub captions: &'static [(u64, &'static str)],
    /// (tick, action): what the native run applied, in order.
    pub actions: Vec<(u64, UserAction)>,
}

/// The names of the shipped scenarios, in the order the introduction walks through them.
pub fn names() -> &'static [&'static str] {
    super::generated::NAMES
}

/// The shipped scenario called `name`, compiled.
pub fn compiled(name: &str) -> Option<Compiled> {
    super::generated::build(name)
}
