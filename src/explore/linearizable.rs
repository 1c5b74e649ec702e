//! Histories already found linearizable, so that a state whose history has the same shape as one checked before
//! skips the check. The explorer checks a history whenever an operation completes, and many paths complete the same
//! operations in the same order at other ticks: at `--ticks 2` the checks were 3% of the instructions and 5% of the
//! allocations, for a handful of distinct shapes.
//!
//! The shape ([`shape`]) is everything the linearizability check reads: each operation in history order with its
//! client, command and outcome (its output, not its time), and the order of every invocation and answer, ties
//! included. The check compares times and reads nothing else of them, so two histories of one shape get the same
//! answer. Only passes are kept: a failure is explained afresh, and ends the search anyway.

use std::cell::RefCell;
use std::hash::{Hash, Hasher};

use rustc_hash::FxHashSet;

use crate::check::{History, Outcome};

use super::hasher::Fingerprinter;

/// Shapes kept at most, per thread: a search meets a few hundred; the set starts over past this, as it outlives one
/// search (the browser's worker runs many).
const KEPT_MAX: usize = 1 << 16;

thread_local! {
    /// Per thread, as each search runs on one (`--threads` runs one search per thread), and what a shape's check
    /// answers does not depend on the search (nor on a planted bug: those live in the nodes, not in the check).
    static LINEARIZABLE: RefCell<FxHashSet<u64>> = RefCell::new(FxHashSet::default());
}

/// Whether a history of this shape was found linearizable before.
pub(super) fn known(shape: u64) -> bool {
    LINEARIZABLE.with(|known| known.borrow().contains(&shape))
}

/// Records that a history of this shape is linearizable.
pub(super) fn remember(shape: u64) {
    LINEARIZABLE.with(|known| {
        let mut known = known.borrow_mut();
        if known.len() >= KEPT_MAX {
            known.clear();
        }
        known.insert(shape);
    });
}

/// A digest of what the linearizability check reads of `history` (see the module's comment).
pub(super) fn shape(history: &History) -> u64 {
    let mut state = Fingerprinter::default();
    let operations = history.operations();
    operations.len().hash(&mut state);
    for op in operations {
        (op.client, &op.command).hash(&mut state);
        match &op.outcome {
            Outcome::Completed { output, .. } => (0u8, output).hash(&mut state),
            Outcome::Failed { .. } => 1u8.hash(&mut state),
            Outcome::Indeterminate => 2u8.hash(&mut state),
        }
    }
    // Every moment (time, answered, operation) in order, each with whether it falls at the same time as the one
    // before: taken smallest first by a scan, not sorted into a vector (a history here holds a few operations).
    let moments = operations.iter().enumerate().flat_map(|(index, op)| {
        std::iter::once((op.invoke, false, index)).chain(op.response_time().map(|at| (at, true, index)))
    });
    let mut last: Option<(u64, bool, usize)> = None;
    while let Some(moment) = moments.clone().filter(|moment| last.is_none_or(|last| *moment > last)).min() {
        let tied = last.is_some_and(|(at, _, _)| at == moment.0);
        (moment.1, moment.2, tied).hash(&mut state);
        last = Some(moment);
    }
    state.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::{KvCommand, KvOutput};

    /// A put by client 1 and a get by client 2 that reads `read`, at the times given.
    fn history(put: (u64, u64), get: (u64, u64), read: Option<&str>) -> History {
        let mut history = History::new();
        let put_op = history.invoke(1, KvCommand::Put { key: "x".into(), value: "a".into() }, put.0);
        let get_op = history.invoke(2, KvCommand::Get { key: "x".into() }, get.0);
        history.complete(put_op, KvOutput::Ok, put.1);
        history.complete(get_op, KvOutput::Value(read.map(String::from)), get.1);
        history
    }

    #[test]
    fn a_shape_is_the_order_of_moments_and_the_answers_not_the_times() {
        let base = shape(&history((1, 3), (2, 4), Some("a")));
        assert_eq!(base, shape(&history((10, 30), (20, 40), Some("a"))), "the same order at other times");
        assert_ne!(base, shape(&history((1, 3), (2, 4), None)), "another answer");
        assert_ne!(base, shape(&history((1, 2), (3, 4), Some("a"))), "one after the other, not overlapping");
        // A get invoked at the tick the put returned overlaps it (the check counts a tie as concurrent): not the
        // shape of a get invoked after.
        assert_ne!(shape(&history((1, 3), (3, 4), None)), shape(&history((1, 3), (4, 5), None)), "a tie");
    }

    #[test]
    fn only_a_shape_remembered_is_known() {
        let shape = shape(&history((1, 3), (2, 4), Some("a"))) ^ 0x5eed;
        assert!(!known(shape));
        remember(shape);
        assert!(known(shape));
    }
}
