//! Checking what the cluster did: client histories, the linearizability checker, and readers for the
//! history formats of Jepsen, Knossos and Porcupine.

pub mod formats;
pub mod history;
pub mod invariants;
pub mod linearizability;

pub use formats::{check_history_file, parse_history, FormatError, HistoryFormat};
pub use history::{History, OpId, Operation, Outcome};
pub use linearizability::{check, check_with, CheckOptions, CheckOutcome, Explanation};

/// The history's linearizability as an invariant violation (at `step` and `tick`), explained, or `None` when it
/// is linearizable. A quick search without a shrunk explanation decides first; only a failure pays for the
/// explanation.
pub fn linearizability_violation(history: &History, step: u64, tick: u64) -> Option<invariants::Violation> {
    let quick = CheckOptions { shrink_explanation: false, ..CheckOptions::default() };
    if !matches!(check_with(history, &quick), CheckOutcome::NotLinearizable { .. }) {
        return None;
    }
    Some(invariants::Violation {
        class: invariants::ViolationClass::Linearizability,
        invariant: invariants::names::LINEARIZABLE.into(),
        slot: None,
        nodes: vec![],
        values: vec![],
        detail: check(history).to_string(),
        step,
        tick,
    })
}
