//! Turns a failed search into an explanation a person can check by hand.
//!
//! A key may have hundreds of operations, and the search's furthest point among all of them is rarely the
//! story. So the operations are first shrunk to a core that still cannot be ordered and from which, usually,
//! no operation can be dropped (delta debugging: drop halves, then quarters, … then single operations,
//! keeping each drop that leaves the core unorderable). Dropping a write can make a core unorderable for a
//! reason the full history does not have, so the shrinking goes in steps that keep the story honest:
//! everything invoked after the search got stuck goes first, if it can; then operations that only observe,
//! with every write kept; then anything, under a guard: a read (or a cas that swapped) that saw a value the
//! writes could have produced must still have such a write (see `Fresh`), or every core would shrink to "a
//! read saw a value nobody wrote". The explanation then walks the core: the longest order found, the value
//! it leaves, the operation that had to come next, and why nothing could.

use serde::{Deserialize, Serialize};

use super::model::{describe_value, KeyModel};
use super::search::{Deepest, Search, Verdict};
use crate::check::history::{History, Operation, Outcome};
use crate::kv::{KvCommand, KvOutput};

/// Search steps the shrinking may spend in all; past that the explanation uses the smallest core so far.
const SHRINK_STEPS_MAX: u64 = 20_000_000;
/// The least budget for one check while shrinking (and for telling whether timing matters).
const CHECK_STEPS_MIN: u64 = 100_000;

/// Why the operations on one key cannot be put in any order that matches what their clients saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// Operations on the key that constrain the order (failed ones and unanswered gets are left out).
    pub considered: usize,
    /// A few of them that already cannot be ordered, in invocation order; usually none can be dropped.
    pub core: Vec<Operation>,
    /// `Some(true)`: some order of the core gives every answer, but none that respects when each operation
    /// was invoked and answered. `Some(false)`: no order at all gives these answers. `None`: not determined.
    pub timing_matters: Option<bool>,
    /// The longest order of core operations found, oldest first.
    pub longest_order: Vec<Operation>,
    /// The key's value after that order (`None`: absent).
    pub value: Option<String>,
    /// For keys checked together because a scan read them: each key's value after that order, in key order
    /// (`value` is then `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_values: Option<Vec<(String, Option<String>)>>,
    /// The answered core operation with the earliest response among those not placed: it must take effect
    /// next, or something before it must, and nothing can.
    pub stuck: Operation,
    /// Every core operation that could take effect next (invoked before `stuck` returned), and why it did not.
    pub candidates: Vec<(Operation, String)>,
    /// A stale read of the core and the write it missed (see `stale_read`), when one is certain.
    #[serde(default)]
    pub stale_read: Option<(Operation, Operation)>,
}

/// Explains why the operations at `indices` (all on one key, each constraining) cannot be ordered, given
/// the search that found so (`model` over those operations, its furthest point `deepest`, and the steps it
/// took). Without `shrink` the core is all of them.
pub(super) fn explain(
    history: &History,
    indices: &[usize],
    (model, deepest, steps_taken): (&mut KeyModel, &Deepest, u64),
    value_len_max: usize,
    shrink: bool,
) -> Explanation {
    if !shrink {
        return describe(history, indices.len(), indices, model, deepest, None);
    }
    let operations = history.operations();
    let mut shrinker = Shrinker {
        operations,
        keeps_writes: model.is_group(),
        value_len_max,
        steps_left: SHRINK_STEPS_MAX,
        steps_per_check: steps_taken.saturating_mul(4).max(CHECK_STEPS_MIN),
    };
    let deadline = model.ops[stuck(model, deepest)].response.expect("the stuck operation has a response");
    let core = shrinker.shrink(indices.to_vec(), deadline);

    let mut model = KeyModel::compile(core.iter().map(|&index| (index, &operations[index])), value_len_max);
    let steps_max = steps_taken.max(shrinker.steps_per_check);
    let Some(Verdict::NotLinearizable(deepest)) = Search::new(&model).run(&mut model, steps_max) else {
        unreachable!("every core was found unorderable within this many steps, and the search is deterministic")
    };
    let erased: Vec<Operation> = core.iter().map(|&index| without_timing(&operations[index])).collect();
    let timing_matters = match run(&erased.iter().enumerate().collect::<Vec<_>>(), value_len_max, CHECK_STEPS_MIN) {
        (Some(Verdict::Linearizable), _) => Some(true),
        (Some(Verdict::NotLinearizable(_)), _) => Some(false),
        (None, _) => None,
    };
    describe(history, indices.len(), &core, &mut model, &deepest, timing_matters)
}

/// The answered operation with the earliest response among those the furthest point did not place.
fn stuck(model: &KeyModel, deepest: &Deepest) -> usize {
    let mut placed = vec![false; model.ops.len()];
    for &op in &deepest.order {
        placed[op] = true;
    }
    (0..model.ops.len())
        .filter(|&op| !placed[op])
        .filter_map(|op| Some((model.ops[op].response?, op)))
        .min()
        .map(|(_, op)| op)
        .expect("the search stops at an unplaced operation's return")
}

struct Shrinker<'h> {
    operations: &'h [Operation],
    /// Drop only operations that observe, keeping every write: for keys a scan joined, whose values the guard
    /// (`Fresh`, one key's values) cannot follow. With every write kept, what a read saw stays buildable.
    keeps_writes: bool,
    value_len_max: usize,
    steps_left: u64,
    /// A smaller set is rarely much harder to refute than the whole key was, so a check that takes much
    /// longer is abandoned (and the drop refused) rather than allowed to eat the budget.
    steps_per_check: u64,
}

impl Shrinker<'_> {
    /// `core` is in increasing order, and stays so. `deadline`: when the whole key's search got stuck.
    fn shrink(&mut self, core: Vec<usize>, deadline: u64) -> Vec<usize> {
        let operations = self.operations;
        let all_writes = Writes::of(operations, &core);
        let guarded: Vec<(usize, Fresh)> = core
            .iter()
            .copied()
            .filter(|&index| observed_value(&operations[index]).is_some())
            .filter_map(|index| {
                [Fresh::Required, Fresh::NotRequired]
                    .into_iter()
                    .find(|&fresh| all_writes.produce(index, fresh, &all_writes))
                    .map(|fresh| (index, fresh))
            })
            .collect();
        // In a long history the trouble is usually near where the search got stuck: try everything invoked
        // after that at once.
        let (early, late): (Vec<usize>, Vec<usize>) =
            core.iter().partition(|&&index| operations[index].invoke <= deadline);
        let core = if self.keeps_writes {
            self.without_later(core, deadline)
        } else if !late.is_empty()
            && self.keeps_seen_values_buildable(&early, &late, &guarded, &all_writes)
            && self.unorderable(&early)
        {
            early
        } else {
            core
        };
        // Then the operations that only observe, with every write present: dropping an observer from an
        // orderable set leaves it orderable, so what remains unorderable was already wrong in the whole key.
        // Such checks can be slow (fewer reads prune less), so this phase gets half the budget.
        let (observers, writes): (Vec<usize>, Vec<usize>) =
            core.iter().partition(|&&index| only_observes(&operations[index]));
        let budget = self.steps_left;
        self.steps_left = budget / 2;
        let observers = self.drop_while(observers, |shrinker, kept, _| shrinker.unorderable(&merge(kept, &writes)));
        self.steps_left += budget - budget / 2;
        if self.keeps_writes {
            return self.without_unobserved_keys(merge(&observers, &writes));
        }
        // Then anything, under the guard.
        self.drop_while(merge(&observers, &writes), |shrinker, kept, dropped| {
            shrinker.keeps_seen_values_buildable(kept, dropped, &guarded, &all_writes) && shrinker.unorderable(kept)
        })
    }

    /// Drops chunks of `items` (halves, quarters, … single items) while `still_fails(self, kept, dropped)`
    /// holds; single drops repeat until none succeeds, or the step budget runs out.
    fn drop_while(
        &mut self,
        mut items: Vec<usize>,
        still_fails: impl Fn(&mut Self, &[usize], &[usize]) -> bool,
    ) -> Vec<usize> {
        let mut chunk = items.len().div_ceil(2);
        while chunk > 0 {
            let size_before = items.len();
            let mut start = 0;
            while start < items.len() && self.steps_left > 0 {
                let end = (start + chunk).min(items.len());
                let kept: Vec<usize> = items[..start].iter().chain(&items[end..]).copied().collect();
                if still_fails(self, &kept, &items[start..end]) {
                    items = kept;
                } else {
                    start = end;
                }
            }
            // Dropping a read can free the writes it guarded, so single drops repeat until nothing changes.
            if chunk == 1 && items.len() == size_before || self.steps_left == 0 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
        items
    }

    /// For keys a scan joined: drops the observers invoked after `deadline`, and the writes invoked after every
    /// remaining observer had its answer, if what is left still cannot be ordered. No observer kept can have
    /// seen a write dropped, as each such write began after the observer ended, so the story stays honest.
    fn without_later(&mut self, core: Vec<usize>, deadline: u64) -> Vec<usize> {
        let operations = self.operations;
        let kept_observer = |index: &usize| observes(&operations[*index]) && operations[*index].invoke <= deadline;
        let cut = core.iter().filter(|index| kept_observer(index)).map(|&index| operations[index].response_time());
        let cut = cut.max().flatten().unwrap_or(deadline).max(deadline);
        let kept: Vec<usize> =
            core.iter()
                .copied()
                .filter(|index| {
                    if observes(&operations[*index]) {
                        kept_observer(index)
                    } else {
                        operations[*index].invoke <= cut
                    }
                })
                .collect();
        if kept.len() < core.len() && self.unorderable(&kept) {
            kept
        } else {
            core
        }
    }

    /// For keys a scan joined: drops the writes to keys that no operation kept observes (no get, cas or
    /// scan reads them), if what is left still cannot be ordered: nothing then depends on their values.
    fn without_unobserved_keys(&mut self, core: Vec<usize>) -> Vec<usize> {
        let operations = self.operations;
        let read = |key: &str| {
            core.iter().map(|&index| &operations[index]).any(|operation| {
                observes(operation) && (operation.command.scans(key) || operation.command.key() == key)
            })
        };
        let kept: Vec<usize> = core
            .iter()
            .copied()
            .filter(|&index| observes(&operations[index]) || read(operations[index].command.key()))
            .collect();
        if kept.len() < core.len() && self.unorderable(&kept) {
            kept
        } else {
            core
        }
    }

    /// Whether the operations `kept` cannot be ordered (found within the per-check step budget).
    fn unorderable(&mut self, kept: &[usize]) -> bool {
        let operations: Vec<(usize, &Operation)> = kept.iter().map(|&index| (index, &self.operations[index])).collect();
        let (verdict, steps) = run(&operations, self.value_len_max, self.steps_left.min(self.steps_per_check));
        self.steps_left -= steps;
        matches!(verdict, Some(Verdict::NotLinearizable(_)))
    }

    /// Whether every guarded value seen by a `kept` operation that contained a `dropped` write's value can
    /// still be built from the `kept` writes, as freshly as before.
    fn keeps_seen_values_buildable(
        &self,
        kept: &[usize],
        dropped: &[usize],
        guarded: &[(usize, Fresh)],
        all: &Writes,
    ) -> bool {
        let dropped_values: Vec<&str> =
            dropped.iter().filter_map(|&index| written_value(&self.operations[index].command)).collect();
        let mut affected = guarded
            .iter()
            .filter(|(index, _)| kept.binary_search(index).is_ok())
            .filter(|&&(index, _)| {
                observed_value(&self.operations[index])
                    .is_some_and(|seen| dropped_values.iter().any(|value| seen.unwrap_or("").contains(value)))
            })
            .peekable();
        if affected.peek().is_none() {
            return true;
        }
        let writes = Writes::of(self.operations, kept);
        affected.all(|&(index, fresh)| writes.produce(index, fresh, all))
    }
}

/// Whether the operation's answer depends on the values before it: an answered get, scan or cas, or an append
/// refused as too long.
fn observes(operation: &Operation) -> bool {
    match (&operation.command, operation.output()) {
        (_, None) => false,
        (KvCommand::Get { .. } | KvCommand::Read { .. } | KvCommand::Scan { .. } | KvCommand::Cas { .. }, _) => true,
        (_, Some(output)) => *output == KvOutput::TooLong,
    }
}

/// Whether the operation cannot change the value: a get, a cas that did not swap, an append refused as too long.
fn only_observes(operation: &Operation) -> bool {
    !operation.command.is_write() || matches!(operation.output(), Some(KvOutput::Cas(false) | KvOutput::TooLong))
}

/// The sorted union of two sorted lists of distinct indices.
fn merge(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut merged = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.iter().peekable(), b.iter().peekable());
    while let (Some(&&x), Some(&&y)) = (a.peek(), b.peek()) {
        merged.push(if x <= y { a.next() } else { b.next() }.copied().expect("peeked"));
    }
    merged.extend(a.chain(b));
    merged
}

/// What the writes of a set of operations can build: a base value (a put's or cas's, or nothing), then
/// appended values. A write counts for what an operation saw only if it was invoked before that operation
/// returned.
///
/// When the value seen could come from a fresh write, one not surely overwritten before the operation began
/// (by a put, delete or swapping cas that ran entirely in between), it must keep coming from a fresh one:
/// otherwise the guard would let the real writer go and keep an unrelated older one. When it could only come
/// from an overwritten write (a lost write, say), that one stays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fresh {
    Required,
    NotRequired,
}

struct Writes<'h> {
    operations: &'h [Operation],
    writes: Vec<Write<'h>>,
}

struct Write<'h> {
    index: usize,
    invoke: u64,
    response: Option<u64>,
    /// The text it puts into the value (`None` for a delete), and whether it appends it.
    value: Option<&'h str>,
    appends: bool,
    /// Whether it surely replaced the value: an answered put, delete or swapping cas.
    overwrites: bool,
}

impl<'h> Writes<'h> {
    fn of(operations: &'h [Operation], indices: &[usize]) -> Self {
        let writes = indices
            .iter()
            .map(|&index| (index, &operations[index]))
            .filter(|(_, operation)| !matches!(operation.output(), Some(KvOutput::Cas(false) | KvOutput::TooLong)))
            .filter_map(|(index, operation)| {
                let (value, appends) = match &operation.command {
                    KvCommand::Put { value, .. } | KvCommand::Cas { new: value, .. } => (Some(value.as_str()), false),
                    KvCommand::Append { value, .. } => (Some(value.as_str()), true),
                    KvCommand::Delete { .. } => (None, false),
                    KvCommand::Get { .. } | KvCommand::Read { .. } | KvCommand::Scan { .. } => return None,
                };
                let overwrites = !appends && operation.output().is_some();
                let response = operation.response_time();
                Some(Write { index, invoke: operation.invoke, response, value, appends, overwrites })
            })
            .collect();
        Writes { operations, writes }
    }

    /// Whether the other writes can build the value operation `index` saw (from fresh writes only, if so
    /// required); one that saw no value passes. Whether a write was overwritten is judged among `all` the
    /// key's writes: dropping the overwriting write does not make a stale one fresh.
    fn produce(&self, index: usize, fresh: Fresh, all: &Writes) -> bool {
        let operation = &self.operations[index];
        let Some(seen) = observed_value(operation) else { return true };
        let (invoke, response) = (operation.invoke, operation.response_time().unwrap_or(u64::MAX));
        let Some(seen) = seen else { return fresh == Fresh::NotRequired || self.absence_is_fresh(index, all) };
        let overwritten_before_it = |write: &Write| {
            fresh == Fresh::Required
                && all.writes.iter().any(|other| {
                    other.overwrites
                        && write.response.is_some_and(|at| at < other.invoke)
                        && other.response.is_some_and(|at| at < invoke)
                })
        };
        let usable: Vec<&Write> = self
            .writes
            .iter()
            .filter(|write| write.index != index && write.invoke <= response && !overwritten_before_it(write))
            .collect();
        let suffixes: Vec<&str> = usable
            .iter()
            .filter(|write| write.appends)
            .filter_map(|write| write.value)
            .filter(|v| !v.is_empty())
            .collect();
        let builds_from = |base: &str| seen.strip_prefix(base).is_some_and(|rest| splits_into(rest, &suffixes));
        // Appending to an absent key starts from nothing: absent at the start, or after a delete.
        let starts_absent = fresh == Fresh::NotRequired
            || usable.iter().any(|write| write.value.is_none())
            || !all.writes.iter().any(|other| other.overwrites && other.response.is_some_and(|at| at < invoke));
        starts_absent && builds_from("")
            || usable.iter().filter(|write| !write.appends).filter_map(|write| write.value).any(builds_from)
    }

    /// Whether operation `index` could have seen the key absent without relying on a surely stale absence:
    /// the initial one while no write had surely finished, or a kept delete that no write surely followed.
    fn absence_is_fresh(&self, index: usize, all: &Writes) -> bool {
        let invoke = self.operations[index].invoke;
        let changes = |write: &Write| write.value.is_some() && write.response.is_some();
        let initial_is_fresh = !all.writes.iter().any(|write| changes(write) && write.response < Some(invoke));
        initial_is_fresh
            || self.writes.iter().any(|delete| {
                delete.value.is_none()
                    && delete.index != index
                    && delete.invoke <= self.operations[index].response_time().unwrap_or(u64::MAX)
                    && !all.writes.iter().any(|write| {
                        changes(write)
                            && delete.response.is_some_and(|at| at < write.invoke)
                            && write.response.is_some_and(|at| at < invoke)
                    })
            })
    }
}

/// What an operation saw of the value: what a get returned, or what a cas that swapped found.
/// `Some(None)`: it saw the key absent.
fn observed_value(operation: &Operation) -> Option<Option<&str>> {
    match (&operation.command, operation.output()) {
        (KvCommand::Get { .. } | KvCommand::Read { .. }, Some(KvOutput::Value(seen))) => Some(seen.as_deref()),
        (KvCommand::Cas { expected, .. }, Some(KvOutput::Cas(true))) => Some(expected.as_deref()),
        _ => None,
    }
}

/// The text a write puts into the value, if any. A delete counts as the empty text, which every value
/// contains: whatever was built after it may have relied on it.
fn written_value(command: &KvCommand) -> Option<&str> {
    match command {
        KvCommand::Put { value, .. } | KvCommand::Cas { new: value, .. } | KvCommand::Append { value, .. } => {
            Some(value)
        }
        KvCommand::Delete { .. } => Some(""),
        KvCommand::Get { .. } | KvCommand::Read { .. } | KvCommand::Scan { .. } => None,
    }
}

/// Whether `text` is a concatenation of `parts` (each usable any number of times).
fn splits_into(text: &str, parts: &[&str]) -> bool {
    let mut reachable = vec![false; text.len() + 1];
    reachable[0] = true;
    for start in 0..text.len() {
        if reachable[start] {
            for part in parts.iter().filter(|part| text[start..].starts_with(*part)) {
                reachable[start + part.len()] = true;
            }
        }
    }
    reachable[text.len()]
}

/// Searches `operations` (history index, operation) with at most `steps_max` steps.
fn run(operations: &[(usize, &Operation)], value_len_max: usize, steps_max: u64) -> (Option<Verdict>, u64) {
    let mut model = KeyModel::compile(operations.iter().copied(), value_len_max);
    let mut search = Search::new(&model);
    let verdict = search.run(&mut model, steps_max);
    (verdict, search.steps())
}

/// The operation with its timing erased: invoked at 0, answered (if at all) at 1, so all overlap.
fn without_timing(operation: &Operation) -> Operation {
    let outcome = match &operation.outcome {
        Outcome::Completed { output, .. } => Outcome::Completed { at: 1, output: output.clone() },
        Outcome::Failed { .. } => Outcome::Failed { at: 1 },
        Outcome::Indeterminate => Outcome::Indeterminate,
    };
    Operation { invoke: 0, outcome, ..operation.clone() }
}

fn describe(
    history: &History,
    considered: usize,
    core: &[usize],
    model: &mut KeyModel,
    deepest: &Deepest,
    timing_matters: Option<bool>,
) -> Explanation {
    let history_index: Vec<usize> = model.ops.iter().map(|op| op.history_index).collect();
    let operation = |op: usize| history.operations()[history_index[op]].clone();
    let mut placed = vec![false; model.ops.len()];
    for &op in &deepest.order {
        placed[op] = true;
    }
    let stuck = stuck(model, deepest);
    let deadline = model.ops[stuck].response.expect("stuck has a response");
    let next_up: Vec<usize> =
        (0..model.ops.len()).filter(|&op| !placed[op] && model.ops[op].call <= deadline).collect();
    let candidates = next_up
        .into_iter()
        .map(|op| {
            let reason = match model.apply(deepest.state, op) {
                None => model.refusal(deepest.state, op),
                Some(_) => "it fits here, but then no order of the remaining operations fits".into(),
            };
            (operation(op), reason)
        })
        .collect();
    let core: Vec<Operation> = core.iter().map(|&index| history.operations()[index].clone()).collect();
    let stuck = operation(stuck);
    Explanation {
        considered,
        stale_read: stale_read(&stuck, &core),
        core,
        timing_matters,
        longest_order: deepest.order.iter().map(|&op| operation(op)).collect(),
        value: (!model.is_group()).then(|| model.value(deepest.state).map(String::from)).flatten(),
        key_values: model.is_group().then(|| model.key_values(deepest.state)),
        stuck,
        candidates,
    }
}

/// A read of the core that certainly missed a write: the write was answered before the read was invoked, the
/// read does not show its effect on the write's key, and every write to that key that could have produced what
/// the read saw was answered before the missed write was invoked (so none of them can come between). A read is
/// a get, or a scan for the keys it covers. The stuck operation is tried first. Returns (the read, the write it
/// missed).
fn stale_read(stuck: &Operation, core: &[Operation]) -> Option<(Operation, Operation)> {
    std::iter::once(stuck)
        .chain(core.iter().filter(|read| read.id != stuck.id))
        .find_map(|read| missed_by(read, core).map(|write| (read.clone(), write.clone())))
}

fn missed_by<'c>(read: &Operation, core: &'c [Operation]) -> Option<&'c Operation> {
    // Whether `write` leaves a value that the read shows, or could produce it (writes it did not see count as
    // shown: they say nothing).
    let shows = |write: &Operation| -> bool {
        let Some(seen) = seen_at(read, write.command.key()) else { return true };
        match &write.command {
            KvCommand::Put { value, .. } | KvCommand::Cas { new: value, .. } => seen == Some(value.as_str()),
            KvCommand::Append { value, .. } => seen.is_some_and(|seen| seen.contains(value.as_str())),
            KvCommand::Delete { .. } => seen.is_none(),
            KvCommand::Get { .. } | KvCommand::Read { .. } | KvCommand::Scan { .. } => true,
        }
    };
    let effective = |write: &&Operation| {
        write.command.is_write() && !matches!(write.output(), Some(KvOutput::Cas(false) | KvOutput::TooLong))
    };
    let mut missed: Vec<&Operation> = core
        .iter()
        .filter(effective)
        .filter(|write| write.response_time().is_some_and(|at| at < read.invoke) && !shows(write))
        .collect();
    // The latest first: on a tie, or when a write's key had another producer of what was seen, try the next.
    while let Some(latest) = (0..missed.len()).max_by_key(|&at| missed[at].response_time()) {
        let candidate = missed.swap_remove(latest);
        let producers_precede = core
            .iter()
            .filter(effective)
            .filter(|write| write.id != candidate.id && write.command.key() == candidate.command.key() && shows(write))
            .all(|write| write.response_time().is_some_and(|at| at < candidate.invoke));
        if producers_precede {
            return Some(candidate);
        }
    }
    None
}

/// What an answered read saw of `key` (`Some(None)`: absent), or `None` if it did not read that key: a get of
/// another key, or a scan whose range misses it or whose limit stopped before it.
fn seen_at<'o>(read: &'o Operation, key: &str) -> Option<Option<&'o str>> {
    match (&read.command, read.output()) {
        (KvCommand::Get { key: read_key } | KvCommand::Read { key: read_key, .. }, Some(KvOutput::Value(seen))) => {
            (read_key == key).then_some(seen.as_deref())
        }
        (command @ KvCommand::Scan { limit, .. }, Some(KvOutput::Records(records))) if command.scans(key) => {
            if let Some((_, value)) = records.iter().find(|(found, _)| found == key) {
                return Some(Some(value));
            }
            let stopped_before = limit.is_some_and(|limit| records.len() >= limit as usize)
                && records.last().is_some_and(|(last, _)| last.as_str() < key);
            (!stopped_before).then_some(None)
        }
        _ => None,
    }
}

impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} of the key's {} operations already cannot be ordered:", self.core.len(), self.considered)?;
        for operation in &self.core {
            writeln!(f, "  {operation}")?;
        }
        match self.timing_matters {
            Some(true) => writeln!(
                f,
                "Some order of them gives every answer, but none in which each takes effect between its \
                 invocation and its answer."
            )?,
            Some(false) => writeln!(f, "No order of them at all gives these answers.")?,
            None => {}
        }
        if self.longest_order.is_empty() {
            writeln!(f, "No operation can take effect first.")?;
        } else {
            let ids: Vec<String> = self.longest_order.iter().map(|operation| operation.id.to_string()).collect();
            let left = match &self.key_values {
                Some(key_values) => describe_key_values(key_values),
                None => format!("the value {}", describe_value(self.value.as_deref())),
            };
            writeln!(f, "The longest order found is {}, leaving {left}.", ids.join(", "))?;
        }
        let deadline = self.stuck.response_time().expect("stuck has a response");
        writeln!(f, "Then {} must take effect by t={deadline}, but nothing that could go next fits:", self.stuck.id)?;
        for (operation, reason) in &self.candidates {
            writeln!(f, "  {}: {reason}", operation.id)?;
        }
        if let Some((read, write)) = &self.stale_read {
            let answered = write.response_time().expect("a missed write was answered");
            writeln!(
                f,
                "{} is a stale read: it missed {} ({}), answered at t={answered}, before the read was invoked at \
                 t={}.",
                read.id, write.id, write.command, read.invoke
            )?;
        }
        Ok(())
    }
}

/// `a = "1", b absent`, or `every key absent` for a group with no keys.
fn describe_key_values(key_values: &[(String, Option<String>)]) -> String {
    if key_values.is_empty() {
        return "every key absent".into();
    }
    let shown: Vec<String> = key_values
        .iter()
        .map(|(key, value)| match value {
            Some(value) => format!("{key} = {value:?}"),
            None => format!("{key} absent"),
        })
        .collect();
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::merge;

    #[test]
    fn merge_keeps_the_union_sorted() {
        assert_eq!(merge(&[1, 4, 9], &[0, 2, 3, 10]), [0, 1, 2, 3, 4, 9, 10]);
        assert_eq!(merge(&[], &[5]), [5]);
        assert_eq!(merge(&[5], &[]), [5]);
    }
}
