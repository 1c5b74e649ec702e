//! Shrinking a failing seed to the few random faults that matter.
//!
//! Every random fault of a run (a partition, a crash, a dropped or duplicated message) gets an ordinal, in
//! the order the simulator draws it. A *fault gate* lets through only the ordinals it keeps; the random draws
//! themselves are unchanged, so with every fault kept the run is exactly the original one. Delta debugging
//! (Zeller's ddmin) then looks for a small set of kept faults with which the same invariant still breaks:
//! first whole kinds of fault are removed (usually most of them are dropped messages), then halves, quarters
//! and so on, down to single faults. The answer replays exactly: `synod replay --seed S --keep-faults …`.
//!
//! Removing a fault changes what happens after it, so later ordinals may name different faults in the
//! shrunk run than in the original; the report lists the faults as they happened in the shrunk run.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::check::invariants::Violation;
use crate::paxos::{MessageKind, NodeId};

use super::link::RunRecord;
use super::{LinkFault, LinkShape, Sim, SimConfig};

/// What one random fault did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "fault")]
pub enum FaultKind {
    Crash {
        node: NodeId,
        until: u64,
    },
    /// A crash right after write batch `batch` landed on disk, before the node heard so.
    CrashAfterWrite {
        node: NodeId,
        batch: u64,
        until: u64,
    },
    /// `one_way`: only the links from the first group to the second are cut.
    Partition {
        groups: Vec<Vec<NodeId>>,
        one_way: bool,
        until: u64,
    },
    /// A partition that cuts these directed links only.
    AsymmetricPartition {
        links: Vec<(NodeId, NodeId)>,
        until: u64,
    },
    Link {
        link: LinkFault,
    },
    Drop {
        id: u64,
        from: NodeId,
        to: NodeId,
        kind: MessageKind,
    },
    Duplicate {
        id: u64,
        from: NodeId,
        to: NodeId,
        kind: MessageKind,
    },
    Late {
        id: u64,
        from: NodeId,
        to: NodeId,
        kind: MessageKind,
        ticks: u64,
    },
}

impl FaultKind {
    /// The kind's name: crash, crash-after-write, partition, link, drop, duplicate, late.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Crash { .. } => "crash",
            FaultKind::CrashAfterWrite { .. } => "crash-after-write",
            FaultKind::Partition { .. } | FaultKind::AsymmetricPartition { .. } => "partition",
            FaultKind::Link { .. } => "link",
            FaultKind::Drop { .. } => "drop",
            FaultKind::Duplicate { .. } => "duplicate",
            FaultKind::Late { .. } => "late",
        }
    }

    /// The group the shrinker removes at once: the kind, and for message faults the message's kind too
    /// (dropping every heartbeat drop is one try).
    fn group(&self) -> (&'static str, Option<MessageKind>) {
        match self {
            FaultKind::Drop { kind, .. } | FaultKind::Duplicate { kind, .. } | FaultKind::Late { kind, .. } => {
                (self.name(), Some(*kind))
            }
            FaultKind::Crash { .. }
            | FaultKind::CrashAfterWrite { .. }
            | FaultKind::Partition { .. }
            | FaultKind::AsymmetricPartition { .. }
            | FaultKind::Link { .. } => (self.name(), None),
        }
    }
}

/// A random fault the simulator drew: its ordinal, when, whether the gate let it through, and what it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RandomFault {
    pub ordinal: u64,
    pub tick: u64,
    pub kept: bool,
    pub kind: FaultKind,
}

impl std::fmt::Display for RandomFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "fault {:>5}, tick {:>5}: ", self.ordinal, self.tick)?;
        match &self.kind {
            FaultKind::Crash { node, until } => write!(f, "crash node {node} (it restarts at tick {until})"),
            FaultKind::CrashAfterWrite { node, batch, until } => write!(
                f,
                "crash node {node} right after its write {batch} landed, before it heard so (it restarts at tick {until})"
            ),
            FaultKind::Partition { groups, one_way: false, until } => {
                write!(f, "partition {groups:?} until tick {until}")
            }
            FaultKind::Partition { groups, one_way: true, until } => {
                write!(f, "one-way partition: {:?} cannot reach {:?} until tick {until}", groups[0], groups[1])
            }
            FaultKind::AsymmetricPartition { links, until } => {
                let links: Vec<String> = links.iter().map(|(from, to)| format!("n{from}→n{to}")).collect();
                write!(f, "asymmetric partition cutting {} until tick {until}", links.join(" "))
            }
            FaultKind::Link { link } => match link.shape {
                LinkShape::OneWay { from, to } => write!(f, "link n{from}→n{to} down until tick {}", link.until),
                LinkShape::Flapping { a, b, period } => {
                    write!(f, "link n{a}↔n{b} flapping every {period} ticks until tick {}", link.until)
                }
            },
            FaultKind::Late { id, from, to, kind, ticks } => {
                write!(f, "deliver message #{id}, {} n{from}→n{to}, {ticks} ticks late", kind.name())
            }
            FaultKind::Drop { id, from, to, kind } => write!(f, "drop message #{id}, {} n{from}→n{to}", kind.name()),
            FaultKind::Duplicate { id, from, to, kind } => {
                write!(f, "duplicate message #{id}, {} n{from}→n{to}", kind.name())
            }
        }
    }
}

/// A run holds at most this many random faults in its log (far more than any configured run draws).
const FAULTS_MAX: usize = 10_000_000;

/// Numbers the random faults of one run and admits those it keeps (all of them when `keep` is `None`).
#[derive(Clone, Debug)]
pub(super) struct FaultGate {
    keep: Option<BTreeSet<u64>>,
    log: Vec<RandomFault>,
}

impl FaultGate {
    pub fn new(keep: Option<BTreeSet<u64>>) -> Self {
        FaultGate { keep, log: Vec::new() }
    }

    /// Records the fault the RNG just drew and says whether it takes effect.
    pub fn admit(&mut self, tick: u64, kind: FaultKind) -> bool {
        assert!(self.log.len() < FAULTS_MAX, "a run drew {FAULTS_MAX} random faults");
        let ordinal = self.log.len() as u64;
        let kept = self.keep.as_ref().is_none_or(|keep| keep.contains(&ordinal));
        self.log.push(RandomFault { ordinal, tick, kept, kind });
        kept
    }

    pub fn log(&self) -> &[RandomFault] {
        &self.log
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShrinkOptions {
    /// Give up minimising after this many runs (the answer still fails, but may not be minimal).
    pub runs_max: u64,
    /// Accept any violation as "still failing", not only the original invariant.
    pub any_violation: bool,
}

impl Default for ShrinkOptions {
    fn default() -> Self {
        ShrinkOptions { runs_max: 2_000, any_violation: false }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shrunk {
    pub seed: u64,
    /// Random faults in the original failing run.
    pub faults_before: usize,
    /// The ordinals to keep (`synod replay --keep-faults`).
    pub keep: Vec<u64>,
    /// The kept faults as they happened in the shrunk run.
    pub faults: Vec<RandomFault>,
    /// The shrunk run's first violation.
    pub violation: Violation,
    /// The original run's first violation.
    pub original: Violation,
    /// Runs spent.
    pub runs: u64,
    /// False when `runs_max` ran out before the set was 1-minimal (no single fault can be removed).
    pub minimal: bool,
}

/// Runs `seed` with only the faults in `keep` (all: `None`). Natively a panic in the core becomes a violation.
pub fn run_gated(config: &SimConfig, seed: u64, keep: Option<BTreeSet<u64>>) -> (Vec<Violation>, Vec<RandomFault>) {
    let run = move || {
        let mut sim =
            Sim::new(config.clone(), seed, Vec::new(), false).expect("a valid configuration").with_fault_gate(keep);
        sim.run_to_end();
        (sim.violations().to_vec(), sim.random_faults().to_vec())
    };
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
            .unwrap_or_else(|panic| (vec![Violation::from_panic(seed, panic)], Vec::new()))
    }
    #[cfg(target_arch = "wasm32")]
    run()
}

/// Finds a small set of `seed`'s random faults with which its first violation still happens.
pub fn shrink(config: &SimConfig, seed: u64, options: &ShrinkOptions) -> Result<Shrunk, String> {
    config.validate()?;
    let (violations, log) = run_gated(config, seed, None);
    let Some(original) = violations.first().cloned() else {
        return Err(format!("seed {seed} shows no violation with this configuration: nothing to shrink"));
    };
    let same_failure = |violation: &Violation| options.any_violation || violation.invariant == original.invariant;
    let mut runs = 1u64;
    let mut cache: BTreeMap<Vec<u64>, bool> = BTreeMap::new();
    // Whether the run with only `keep` still fails the same way; `None` once the run budget is spent.
    let mut fails = |keep: &[u64]| -> Option<bool> {
        if let Some(known) = cache.get(keep) {
            return Some(*known);
        }
        if runs >= options.runs_max {
            return None;
        }
        runs += 1;
        let (violations, _) = run_gated(config, seed, Some(keep.iter().copied().collect()));
        let fails = violations.iter().any(same_failure);
        cache.insert(keep.to_vec(), fails);
        Some(fails)
    };
    let (keep, minimal) = minimise(&log, original.tick, &mut fails);
    let (violations, shrunk_log) = run_gated(config, seed, Some(keep.iter().copied().collect()));
    let violation = violations.into_iter().find(same_failure).unwrap_or_else(|| {
        panic!("seed {seed}: the shrunk fault set {keep:?} no longer fails, though it did during the search")
    });
    Ok(Shrunk {
        seed,
        faults_before: log.len(),
        keep,
        faults: shrunk_log.into_iter().filter(|fault| fault.kept).collect(),
        violation,
        original,
        runs: runs + 1,
        minimal,
    })
}

/// A failing subset of the faults in `log`, and whether it is 1-minimal. Removing a fault changes everything
/// after it, so halving alone rarely keeps a failure; cheaper cuts come first: no faults at all, no faults
/// after the original violation, whole groups (every heartbeat drop, every crash…, largest group first),
/// and only then ddmin.
fn minimise(
    log: &[RandomFault],
    violation_tick: u64,
    fails: &mut dyn FnMut(&[u64]) -> Option<bool>,
) -> (Vec<u64>, bool) {
    let all: Vec<u64> = log.iter().map(|fault| fault.ordinal).collect();
    match fails(&[]) {
        Some(true) => return (Vec::new(), true),
        Some(false) => {}
        None => return (all, false),
    }
    let mut current = all;
    let before: Vec<u64> =
        current.iter().copied().filter(|ordinal| log[*ordinal as usize].tick <= violation_tick).collect();
    if before.len() < current.len() && fails(&before) == Some(true) {
        current = before;
    }
    let mut groups: BTreeMap<(&'static str, Option<MessageKind>), usize> = BTreeMap::new();
    for ordinal in &current {
        *groups.entry(log[*ordinal as usize].kind.group()).or_default() += 1;
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by_key(|(group, count)| (std::cmp::Reverse(*count), *group));
    for (group, _) in groups {
        let without: Vec<u64> =
            current.iter().copied().filter(|ordinal| log[*ordinal as usize].kind.group() != group).collect();
        match fails(&without) {
            None => return (current, false),
            Some(true) => current = without,
            Some(false) => {}
        }
    }
    ddmin(current, fails)
}

/// Up to this many chunks, ddmin also tries each chunk alone.
const COARSE_CHUNKS: usize = 4;

/// Delta debugging (Zeller's ddmin): split the failing set into `granularity` chunks and try removing each,
/// the latest first; when none can go, split finer, down to single faults. A chunk is tried *alone* only
/// while there are few chunks: in a run where every removal changes all that follows, keeping a small part
/// almost never fails, while removing late faults leaves the run identical up to the first fault removed. `fails` answers `None` once
/// the budget is spent, and then the current (failing, perhaps not minimal) set is returned.
fn ddmin(mut current: Vec<u64>, fails: &mut dyn FnMut(&[u64]) -> Option<bool>) -> (Vec<u64>, bool) {
    let mut granularity = 2usize;
    // Bounded: every pass either shrinks `current` or raises the granularity, which stops at its length.
    while !current.is_empty() {
        let chunks = split(&current, granularity);
        let mut reduced = None;
        // While chunks are big, a chunk alone may fail and cut most faults in one run.
        if granularity <= COARSE_CHUNKS {
            for chunk in chunks.iter().filter(|chunk| chunk.len() < current.len()) {
                match fails(chunk) {
                    None => return (current, false),
                    Some(true) => {
                        reduced = Some(chunk.clone());
                        break;
                    }
                    Some(false) => {}
                }
            }
        }
        for index in (0..chunks.len()).rev().filter(|_| reduced.is_none()) {
            let complement: Vec<u64> = chunks
                .iter()
                .enumerate()
                .filter(|(other, _)| *other != index)
                .flat_map(|(_, chunk)| chunk.iter().copied())
                .collect();
            match fails(&complement) {
                None => return (current, false),
                Some(true) => {
                    reduced = Some(complement);
                    break;
                }
                Some(false) => {}
            }
        }
        match reduced {
            Some(smaller) => {
                current = smaller;
                granularity = (granularity - 1).clamp(2, current.len().max(2));
            }
            None if granularity >= current.len() => return (current, true),
            None => granularity = (granularity * 2).min(current.len()),
        }
    }
    (current, true)
}

/// `items` in `parts` nearly equal, contiguous chunks.
fn split(items: &[u64], parts: usize) -> Vec<Vec<u64>> {
    let parts = parts.clamp(1, items.len().max(1));
    let (size, extra) = (items.len() / parts, items.len() % parts);
    let mut chunks = Vec::with_capacity(parts);
    let mut start = 0;
    for index in 0..parts {
        let end = start + size + usize::from(index < extra);
        chunks.push(items[start..end].to_vec());
        start = end;
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_makes_contiguous_nearly_equal_chunks() {
        assert_eq!(split(&[1, 2, 3, 4, 5], 2), vec![vec![1, 2, 3], vec![4, 5]]);
        assert_eq!(split(&[1, 2], 5), vec![vec![1], vec![2]]);
    }

    #[test]
    fn ddmin_finds_the_faults_that_matter_and_stops_when_the_budget_runs_out() {
        // A stand-in for a run that fails exactly when faults 13, 14 and 71 are all kept.
        let needed = [13, 14, 71];
        let mut runs = 0;
        let mut fails = |keep: &[u64]| {
            runs += 1;
            Some(needed.iter().all(|fault| keep.contains(fault)))
        };
        assert_eq!(ddmin((0..200).collect(), &mut fails), (vec![13, 14, 71], true));
        assert!(runs < 200, "{runs} tests for 3 faults among 200");

        let mut budget = 5;
        let mut limited = |keep: &[u64]| {
            budget -= 1;
            (budget > 0).then(|| needed.iter().all(|fault| keep.contains(fault)))
        };
        let (partial, minimal) = ddmin((0..200).collect(), &mut limited);
        assert!(!minimal && needed.iter().all(|fault| partial.contains(fault)), "{partial:?}");
    }

    #[test]
    fn whole_kinds_go_first() {
        let fault = |ordinal, kind| RandomFault { ordinal, tick: ordinal, kept: true, kind };
        let drop = |ordinal| fault(ordinal, FaultKind::Drop { id: ordinal, from: 1, to: 2, kind: MessageKind::Accept });
        let log = vec![drop(0), fault(1, FaultKind::Crash { node: 3, until: 9 }), drop(2), drop(3)];
        let mut asked = Vec::new();
        let mut fails = |keep: &[u64]| {
            asked.push(keep.to_vec());
            Some(keep.contains(&1))
        };
        assert_eq!(minimise(&log, 9, &mut fails), (vec![1], true));
        assert_eq!(asked[..2], [vec![], vec![1]], "no faults, then every accept drop removed at once");
    }
}

/// A failing run (a playground link's or the model checker's: setup and actions at their ticks) with as few
/// actions as still break the same invariant: each action is removed in turn, last first, and stays removed
/// when the replay still fails. Removing an action changes what follows it (a later delivery may then name a
/// message never sent, which is skipped), so the answer is checked by replaying it, as every candidate is.
pub fn shrink_run(record: &RunRecord, runs_max: u64) -> Result<ShrunkRun, String> {
    let original = run_violation(record)?
        .ok_or("the run shows no violation when replayed to its last action: nothing to shrink")?;
    let mut actions = record.actions.clone();
    let mut runs = 1;
    let mut minimal = true;
    let mut index = actions.len();
    while index > 0 {
        index -= 1;
        if runs >= runs_max {
            minimal = false;
            break;
        }
        let mut without = actions.clone();
        without.remove(index);
        runs += 1;
        let candidate = RunRecord { setup: record.setup.clone(), actions: without };
        if run_violation(&candidate)?.is_some_and(|violation| violation.invariant == original.invariant) {
            actions = candidate.actions;
        }
    }
    let shrunk = RunRecord { setup: record.setup.clone(), actions };
    let violation = run_violation(&shrunk)?.expect("the shrunk run was checked to fail");
    Ok(ShrunkRun { actions_before: record.actions.len(), record: shrunk, violation, original, runs, minimal })
}

/// What `shrink_run` found.
#[derive(Clone, Debug)]
pub struct ShrunkRun {
    pub actions_before: usize,
    pub record: RunRecord,
    pub violation: Violation,
    pub original: Violation,
    pub runs: u64,
    /// False when `runs_max` ran out before every action was tried.
    pub minimal: bool,
}

/// The first violation of `record`'s run replayed to its last action: an online invariant's, or else the
/// history's linearizability.
pub fn run_violation(record: &RunRecord) -> Result<Option<Violation>, String> {
    let actions =
        record.actions.iter().map(|(tick, action)| super::ScheduledAction { tick: *tick, action: action.clone() });
    let mut sim = Sim::new(record.setup.config(), record.setup.seed, actions.collect(), false)?;
    sim.run_until(record.actions.last().map_or(0, |(tick, _)| *tick));
    Ok(sim
        .violations()
        .first()
        .cloned()
        .or_else(|| crate::check::linearizability_violation(sim.history(), sim.trace().len(), sim.now())))
}
