//! The model checker runs in the browser as it does natively: in headless Chromium it finds a planted bug with
//! the same shortest path, and exhausts a small space of the correct core with the same state count as the
//! native test (tests/explore.rs) reaches from the same bounds.
#![cfg(target_arch = "wasm32")]

use synod::explore::{explore, Bounds, ExploreConfig, Report};
use synod::paxos::{Bug, BugSet};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn small() -> Bounds {
    Bounds {
        nodes: 3,
        ops: 1,
        crashes: 0,
        drops: 0,
        dups: 0,
        ticks: 0,
        retries: 0,
        messages: 3,
        depth: 40,
        reconfigs: 0,
    }
}

fn run(config: &ExploreConfig) -> Report {
    let clock = || js_sys::Date::now() / 1000.0;
    explore(config, &mut |_| true, &clock).expect("a valid configuration")
}

#[wasm_bindgen_test]
fn the_explorer_finds_a_planted_bug_in_the_browser() {
    let report = run(&ExploreConfig::new(small(), Bug::MinorityQuorum.into()));
    let counterexample = report.counterexample.expect("minority-quorum is found in the browser");
    assert_eq!(report.violations, 1);
    assert!(counterexample.violation.contains("commit-point-is-sound"), "{}", counterexample.violation);
    assert!(counterexample.link.starts_with("index.html?run=1.3.1.minority-quorum."), "{}", counterexample.link);
}

#[wasm_bindgen_test]
fn the_correct_core_exhausts_the_same_space_as_natively() {
    let report = run(&ExploreConfig::new(small(), BugSet::NONE));
    assert!(report.complete);
    assert_eq!(report.violations, 0);
    // The native build reaches the same count from the same bounds (tests/explore.rs checks it there).
    assert_eq!(report.unique_states, synod_native_count());
}

/// The native state count for `small()`, written by `cargo test --test explore` into tests/data.
fn synod_native_count() -> u64 {
    include_str!("data/explore_small_states.txt").trim().parse().expect("a count")
}
