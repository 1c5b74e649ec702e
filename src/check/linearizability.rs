//! Is a history linearizable? That is: can every operation be given one instant, between its invocation and
//! its response, at which it took effect, so that running them one by one in that order through the key-value
//! store gives every answer the clients saw?
//!
//! Every command touches one key and keys are independent, so each key's operations are checked on their own
//! with the search in `search.rs`. Semantics, from `kv.rs`:
//! - A key's state is its value or absent; get, put, delete, append and cas behave as `KvStore` does,
//!   including appends past `VALUE_LEN_MAX`, which answer `TooLong` and change nothing.
//! - A `Failed` operation did not happen and is ignored. A `Stale` answer means the store recognised an old
//!   duplicate and changed nothing; it says nothing about the value, so it is ignored as well.
//! - An `Indeterminate` write may take effect at any time after its invocation, or never. An unanswered
//!   get changes nothing and saw nothing, so it is ignored.
//! - An operation invoked at the same time another returned counts as concurrent with it.
//!
//! The search is exponential in the worst case, so it is bounded: `CheckOptions::steps_max` caps the entries
//! it examines per key (a step is one call or return looked at). On keys of a few hundred heavily concurrent
//! operations ten million steps take about a second and up to a few hundred megabytes of memo; most keys
//! need thousands. A key that runs out gives `CheckOutcome::Unknown`. Keys are searched in rounds of growing
//! budgets (see `FIRST_ROUND_STEPS`), so the key reported is the first, in key order, of those decided in
//! the earliest round; it does not depend on anything but the history and the options.

mod explain;
mod hashing;
mod model;
mod search;
mod values;
mod visited;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use explain::Explanation;

use crate::check::history::History;
use crate::kv::VALUE_LEN_MAX;
use model::KeyModel;
use search::{Search, Verdict};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOptions {
    /// The most call/return entries the search may examine for one key before giving up.
    pub steps_max: u64,
    /// Appends that would make a value longer than this answer `TooLong`: Synod's `VALUE_LEN_MAX` by default;
    /// other systems' histories have no such limit (`usize::MAX`).
    pub value_len_max: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions { steps_max: 10_000_000, value_len_max: VALUE_LEN_MAX }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckOutcome {
    Linearizable,
    /// A key whose operations cannot be ordered (see the module documentation for which one is reported).
    NotLinearizable {
        key: String,
        explanation: Box<Explanation>,
    },
    /// The search ran out of steps on `key` (the first such in key order), and no key was found
    /// non-linearizable.
    Unknown {
        key: String,
        steps: u64,
    },
}

impl CheckOutcome {
    pub fn is_linearizable(&self) -> bool {
        matches!(self, CheckOutcome::Linearizable)
    }
}

impl std::fmt::Display for CheckOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CheckOutcome::Linearizable => writeln!(f, "linearizable"),
            CheckOutcome::NotLinearizable { key, explanation } => {
                writeln!(f, "not linearizable: the operations on key {key:?} cannot be ordered.")?;
                write!(f, "{explanation}")
            }
            CheckOutcome::Unknown { key, steps } => {
                writeln!(f, "unknown: gave up on key {key:?} after {steps} search steps")
            }
        }
    }
}

/// Checks `history` with the default step budget.
pub fn check(history: &History) -> CheckOutcome {
    check_with(history, &CheckOptions::default())
}

/// Keys are searched in rounds, each key from scratch with four times the steps of the round before, so a
/// key that is quick to refute is found before a hard one finishes, and only one search's memo is alive at a
/// time. Restarting costs at most a third more steps than running each key once with its final budget.
const FIRST_ROUND_STEPS: u64 = 100_000;

pub fn check_with(history: &History, options: &CheckOptions) -> CheckOutcome {
    let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, operation) in history.operations().iter().enumerate() {
        if model::constrains(operation) {
            by_key.entry(operation.command.key()).or_default().push(index);
        }
    }
    let mut pending: Vec<(&str, Vec<usize>)> = by_key.into_iter().collect();
    let mut out_of_steps: Option<(&str, u64)> = None;
    let mut round_steps = FIRST_ROUND_STEPS.min(options.steps_max);
    while !pending.is_empty() {
        let mut still_pending = Vec::new();
        for (key, indices) in pending {
            let operations = indices.iter().map(|&index| (index, &history.operations()[index]));
            let mut model = KeyModel::compile(operations, options.value_len_max);
            let mut search = Search::new(&model);
            match search.run(&mut model, round_steps) {
                Some(Verdict::Linearizable) => {}
                Some(Verdict::NotLinearizable(_)) => {
                    let explanation =
                        Box::new(explain::explain(history, &indices, options.value_len_max, search.steps()));
                    return CheckOutcome::NotLinearizable { key: key.into(), explanation };
                }
                None if round_steps >= options.steps_max => {
                    out_of_steps.get_or_insert((key, search.steps()));
                }
                None => still_pending.push((key, indices)),
            }
        }
        pending = still_pending;
        round_steps = round_steps.saturating_mul(4).min(options.steps_max);
    }
    match out_of_steps {
        Some((key, steps)) => CheckOutcome::Unknown { key: key.into(), steps },
        None => CheckOutcome::Linearizable,
    }
}
