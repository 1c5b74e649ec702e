//! Shrinking: a failing seed comes down to a few of its random faults, and keeping exactly those replays the
//! same broken invariant; keeping every fault is the original run, bit for bit.

use synod::paxos::{Bug, BugSet};
use synod::sim::fuzz::run_seed;
use synod::sim::shrink::{run_gated, shrink, ShrinkOptions};
use synod::sim::{Sim, SimConfig};

fn config(bug: Bug) -> SimConfig {
    SimConfig { bugs: BugSet::NONE.with(bug), ..SimConfig::fuzz(5) }
}

#[test]
fn a_minority_quorum_failure_shrinks_to_a_few_faults_that_replay_it() {
    let config = config(Bug::MinorityQuorum);
    let shrunk = shrink(&config, 0, &ShrinkOptions::default()).expect("seed 0 fails with minority quorums");
    assert!(shrunk.minimal, "{} runs were not enough", shrunk.runs);
    assert!(shrunk.keep.len() <= 5, "{} of {} faults kept", shrunk.keep.len(), shrunk.faults_before);
    assert_eq!(shrunk.violation.invariant, shrunk.original.invariant);
    let (violations, faults) = run_gated(&config, 0, Some(shrunk.keep.iter().copied().collect()));
    assert!(violations.iter().any(|violation| violation.invariant == shrunk.original.invariant));
    let kept: Vec<u64> = faults.iter().filter(|fault| fault.kept).map(|fault| fault.ordinal).collect();
    assert_eq!(kept, shrunk.keep, "every kept fault happens in the shrunk run");
}

#[test]
fn a_gate_that_keeps_every_fault_changes_nothing() {
    let config = SimConfig::fuzz(5);
    let mut gated = Sim::new(config.clone(), 7, Vec::new(), false).unwrap().with_fault_gate(None);
    gated.run_to_end();
    assert_eq!(gated.trace().hash(), run_seed(&config, 7).trace_hash);
    assert!(gated.random_faults().len() > 100, "a fuzz run draws many faults");
}

#[test]
fn a_seed_without_violations_has_nothing_to_shrink() {
    let error = shrink(&SimConfig::fuzz(5), 1, &ShrinkOptions::default()).unwrap_err();
    assert!(error.contains("nothing to shrink"), "{error}");
}
