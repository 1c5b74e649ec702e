//! Is a history linearizable? That is: can every operation be given one instant, between its invocation and
//! its response, at which it took effect, so that running them one by one in that order through the key-value
//! store gives every answer the clients saw?
//!
//! Keys are independent except where a scan reads several at once, so operations are checked in groups with
//! the search in `search.rs`: each key on its own, except that keys a scan's range covers (among those the
//! history names) are checked together, with the scans over them (`groups`). Semantics, from `kv.rs`:
//! - A key's state is its value or absent; get, put, delete, append and cas behave as `KvStore` does,
//!   including appends past `VALUE_LEN_MAX`, which answer `TooLong` and change nothing.
//! - A `Failed` operation did not happen and is ignored. A `Stale` answer means the store recognised an old
//!   duplicate and changed nothing; it says nothing about the value, so it is ignored as well.
//! - A scan returns the present keys of its range in key order, at most its limit of them; a key no
//!   operation wrote is absent throughout.
//! - An `Indeterminate` write may take effect at any time after its invocation, or never. An unanswered
//!   get or scan changes nothing and saw nothing, so it is ignored.
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
mod tuples;
mod values;
mod visited;

use serde::{Deserialize, Serialize};

pub use explain::Explanation;

use crate::check::history::{History, Operation};
use crate::kv::{KvCommand, VALUE_LEN_MAX};
use model::KeyModel;
use search::{Search, Verdict};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOptions {
    /// The most call/return entries the search may examine for one key before giving up.
    pub steps_max: u64,
    /// Appends that would make a value longer than this answer `TooLong`: Synod's `VALUE_LEN_MAX` by default;
    /// other systems' histories have no such limit (`usize::MAX`).
    pub value_len_max: usize,
    /// Shrink a violation to a few operations that already cannot be ordered (on by default). Off, the
    /// explanation lists all the key's operations: much faster, for loops that only want the verdict.
    pub shrink_explanation: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions { steps_max: 10_000_000, value_len_max: VALUE_LEN_MAX, shrink_explanation: true }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckOutcome {
    Linearizable,
    /// A key whose operations cannot be ordered (see the module documentation for which one is reported); for
    /// keys checked together because a scan read them, `key` lists them, separated by `, `.
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
            CheckOutcome::NotLinearizable { key, explanation } if explanation.key_values.is_some() => {
                writeln!(
                    f,
                    "not linearizable: the operations on keys {key} (read together by a scan) cannot be ordered."
                )?;
                write!(f, "{explanation}")
            }
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

/// Keys are searched in rounds, each round allowing four times the steps of the one before, so a key that
/// is quick to refute is found before a hard one finishes. Between rounds a key's search is kept to resume
/// while the memos kept stay under `MEMO_KEPT_MAX` configurations in all; past that it restarts next round
/// (costing at most a third more steps), so memory does not grow with the number of hard keys.
const FIRST_ROUND_STEPS: u64 = 100_000;
const MEMO_KEPT_MAX: usize = 2_000_000;

/// A key (or group of keys) still to be decided, with its search if it was kept between rounds.
struct PendingKey<'h> {
    key: &'h str,
    indices: Vec<usize>,
    search: Option<(KeyModel, Search)>,
}

pub fn check_with(history: &History, options: &CheckOptions) -> CheckOutcome {
    let groups = groups(history);
    let mut pending: Vec<PendingKey> =
        groups.iter().map(|(key, indices)| PendingKey { key, indices: indices.clone(), search: None }).collect();
    let mut out_of_steps: Option<(&str, u64)> = None;
    let mut round_steps = FIRST_ROUND_STEPS.min(options.steps_max);
    while !pending.is_empty() {
        let mut still_pending = Vec::new();
        let mut memo_kept = 0;
        for PendingKey { key, indices, search } in pending {
            let (mut model, mut search) = search.unwrap_or_else(|| {
                let operations = indices.iter().map(|&index| (index, &history.operations()[index]));
                let model = KeyModel::compile(operations, options.value_len_max);
                let search = Search::new(&model);
                (model, search)
            });
            match search.run(&mut model, round_steps - search.steps()) {
                Some(Verdict::Linearizable) => {}
                Some(Verdict::NotLinearizable(deepest)) => {
                    let search = (&mut model, &deepest, search.steps());
                    let explanation =
                        explain::explain(history, &indices, search, options.value_len_max, options.shrink_explanation);
                    let key = core_keys(&explanation).unwrap_or_else(|| key.to_string());
                    return CheckOutcome::NotLinearizable { key, explanation: Box::new(explanation) };
                }
                None if round_steps >= options.steps_max => {
                    out_of_steps.get_or_insert((key, search.steps()));
                }
                None => {
                    memo_kept += search.memo_len();
                    let search = (memo_kept <= MEMO_KEPT_MAX).then_some((model, search));
                    still_pending.push(PendingKey { key, indices, search });
                }
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

/// The constraining operations (history indices, in order) in groups that can be checked apart, each with its
/// name: one key's operations under that key, except that keys a scan's range covers, and the keys it
/// returned, are joined with the scan into one group named by its keys (`a, b`). Groups come in the order of
/// their first key; a scan whose range holds no named key is a group of its own, named by the scan, after them.
fn groups<'h>(history: &'h History) -> Vec<(String, Vec<usize>)> {
    let constraining: Vec<(usize, &Operation)> =
        history.operations().iter().enumerate().filter(|(_, operation)| model::constrains(operation)).collect();
    let keys = model::keys_named(constraining.iter().map(|(_, operation)| *operation));
    let place_of = |key: &str| model::place_of(&keys, key);
    // The keys a scan reads: those its range covers, and those it returned.
    let scanned = |operation: &'h Operation, start: &str, end: &str| {
        (place_of(start)..place_of(end)).chain(model::returned(operation).map(place_of))
    };
    let mut joined = Joined::new(keys.len());
    for (_, operation) in &constraining {
        if let KvCommand::Scan { start, end, .. } = &operation.command {
            joined.join(scanned(operation, start, end));
        }
    }
    let names = joined.names(&keys);
    let mut by_root: Vec<Vec<usize>> = vec![Vec::new(); keys.len()];
    let mut alone: Vec<(String, Vec<usize>)> = Vec::new();
    for (index, operation) in constraining {
        let place = match &operation.command {
            KvCommand::Scan { start, end, .. } => scanned(operation, start, end).next(),
            command => Some(place_of(command.key())),
        };
        match place {
            Some(place) => by_root[joined.root(place)].push(index),
            None => alone.push((operation.command.to_string(), vec![index])),
        }
    }
    let joined_groups = by_root.into_iter().enumerate().filter(|(_, indices)| !indices.is_empty());
    joined_groups.map(|(root, indices)| (names[root].clone(), indices)).chain(alone).collect()
}

/// The keys of an explanation's core, which may be fewer than its group's: `a, b` for keys a scan joined, or
/// the one key (`None` when the core names none, which only a scan over nothing can do).
fn core_keys(explanation: &Explanation) -> Option<String> {
    match &explanation.key_values {
        Some(key_values) if !key_values.is_empty() => {
            Some(key_values.iter().map(|(key, _)| key.as_str()).collect::<Vec<_>>().join(", "))
        }
        Some(_) => None,
        None => explanation.core.first().map(|operation| operation.command.key().to_string()),
    }
}

/// Places of keys joined into groups (union-find, by the smallest place).
struct Joined {
    parent: Vec<usize>,
}

impl Joined {
    fn new(places: usize) -> Self {
        Joined { parent: (0..places).collect() }
    }

    fn root(&self, mut place: usize) -> usize {
        while self.parent[place] != place {
            place = self.parent[place];
        }
        place
    }

    fn join(&mut self, places: impl Iterator<Item = usize>) {
        let roots: Vec<usize> = places.map(|place| self.root(place)).collect();
        let Some(&smallest) = roots.iter().min() else { return };
        for root in roots {
            self.parent[root] = smallest;
        }
    }

    /// For each place, its group's name: the group's keys, in key order, separated by `, `.
    fn names(&self, keys: &[String]) -> Vec<String> {
        let mut members: Vec<Vec<&str>> = vec![Vec::new(); keys.len()];
        for (place, key) in keys.iter().enumerate() {
            members[self.root(place)].push(key);
        }
        (0..keys.len()).map(|place| members[self.root(place)].join(", ")).collect()
    }
}
