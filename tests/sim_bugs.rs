//! The fuzzer's power: every planted bug is caught within a small number of seeds, and the correct protocol
//! is not flagged on the same seeds (so the catches are the bugs', not the checker's).

use synod::paxos::{Bug, BugSet};
use synod::sim::fuzz::run_seed;
use synod::sim::SimConfig;

/// The first seed below `limit` that shows a violation with `bugs` on, in the fuzz mix the bugs ask for.
fn first_failing_seed(bugs: BugSet, limit: u64) -> Option<u64> {
    let config = SimConfig::fuzz_with_bugs(5, bugs);
    (0..limit).find(|seed| !run_seed(&config, *seed).violations.is_empty())
}

#[test]
fn every_planted_bug_is_caught_within_a_hundred_seeds() {
    for bug in Bug::ALL {
        let caught = first_failing_seed(bug.into(), 100);
        assert!(caught.is_some(), "planted bug {bug} went unnoticed for 100 seeds");
    }
}

#[test]
fn the_correct_protocol_passes_the_same_seeds() {
    assert_eq!(first_failing_seed(BugSet::NONE, 64), None);
    // The faults `commit-foreign-chosen` asks for, without the bug.
    let config = SimConfig { bugs: BugSet::NONE, ..SimConfig::fuzz_with_bugs(5, Bug::CommitForeignChosen.into()) };
    let failing = (0..64).find(|seed| !run_seed(&config, *seed).violations.is_empty());
    assert_eq!(failing, None);
}
