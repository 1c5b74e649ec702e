//! The sequential specification of one key, or of a group of keys that scans join, compiled for the search:
//! values are interned to small ids so a state is a `u32`, and each operation becomes a `Step` that says which
//! states allow it and what follows. One key's state is its value's id. A group's state is the id of the tuple
//! of its keys' values (`tuples.rs`): a get or a write works on its key's place in the tuple, and a scan reads
//! the places its range covers.

use std::collections::BTreeMap;
use std::ops::Range;

use super::hashing::WordMap;
use super::tuples::Tuples;
pub(super) use super::values::{StateId, ABSENT};
use super::values::{Suffix, Values};
use crate::check::history::{Operation, Outcome};
use crate::kv::{KvCommand, KvOutput};

/// What one operation requires of the state before it, and what it leaves behind.
#[derive(Debug)]
pub(super) enum Step {
    /// A get that returned this state.
    Read { seen: StateId },
    /// A put or delete: always allowed.
    Write { new: StateId },
    /// `reported`: what the client heard (`None`: no answer, so whichever branch the state selects).
    Cas { expected: StateId, new: StateId, reported: Option<bool> },
    /// `reported`: `Some(true)` ok, `Some(false)` too long, `None` no answer.
    Append { suffix: Box<str>, hashed: Suffix, reported: Option<bool> },
    /// A scan that returned `records` (each a key's place in the group and its value, in key order): the
    /// present keys among the places `covers`, the first `limit` of them.
    Scan { covers: Range<usize>, limit: usize, records: Box<[(usize, StateId)]> },
    /// An output this command can never produce (say, a put that answered `swapped`): never allowed.
    Impossible,
}

/// One operation of the key, ready for the search.
#[derive(Debug)]
pub(super) struct KeyOp {
    /// Index into the history's operations.
    pub history_index: usize,
    pub call: u64,
    /// `None`: indeterminate, so it may take effect at any time after `call`, or never.
    pub response: Option<u64>,
    pub step: Step,
    /// The place of its key among the model's keys (0 for a scan).
    pub place: usize,
}

/// The operations on one key, or on a group of keys, plus the values they mention.
pub(super) struct KeyModel {
    pub ops: Vec<KeyOp>,
    values: Values,
    /// Appends build new values; remember each (value, op) result so each is built once.
    append_results: WordMap<u64, StateId>,
    value_len_max: usize,
    /// The keys the operations name, in key order: one, unless scans are among them.
    keys: Vec<String>,
    /// `Some` when a state is a tuple of the keys' values (when a scan is among the operations, or they name
    /// other than one key).
    tuples: Option<Tuples>,
    /// Per key place, its deferred operations (see `is_deferred`), in the order given.
    deferred: Vec<Vec<usize>>,
}

impl KeyModel {
    /// Compiles the operations of one key. Drops those that cannot constrain the search: failed operations
    /// (they did not happen), gets without an answer (they change nothing and saw nothing), and `Stale`
    /// answers (the store ignored a duplicate request, so it changed nothing and its answer says nothing
    /// about the value; such an operation is allowed at any point and needs no place in the order).
    ///
    /// An append that would make the value longer than `value_len_max` bytes is refused (`TooLong`).
    pub fn compile<'a>(operations: impl IntoIterator<Item = (usize, &'a Operation)>, value_len_max: usize) -> KeyModel {
        let operations: Vec<(usize, &Operation)> =
            operations.into_iter().filter(|(_, operation)| constrains(operation)).collect();
        let keys = keys_named(operations.iter().map(|(_, operation)| *operation));
        let scans = operations.iter().any(|(_, operation)| matches!(operation.command, KvCommand::Scan { .. }));
        let tuples = (scans || keys.len() != 1).then(|| Tuples::new(keys.len()));
        let mut model = KeyModel {
            ops: Vec::new(),
            values: Values::new(),
            append_results: WordMap::default(),
            value_len_max,
            deferred: vec![Vec::new(); keys.len()],
            keys,
            tuples,
        };
        for (history_index, operation) in operations {
            let (response, output) = match &operation.outcome {
                Outcome::Completed { at, output } => (Some(*at), Some(output)),
                Outcome::Failed { .. } | Outcome::Indeterminate => (None, None),
            };
            let step = model.step_for(&operation.command, output);
            let place = match &operation.command {
                KvCommand::Scan { .. } => 0,
                command => model.keys.binary_search_by(|key| key.as_str().cmp(command.key())).expect("a named key"),
            };
            model.ops.push(KeyOp { history_index, call: operation.invoke, response, step, place });
        }
        for op in 0..model.ops.len() {
            if model.is_deferred(op) {
                model.deferred[model.ops[op].place].push(op);
            }
        }
        model
    }

    /// Whether the search places `op` only just before an operation that reads its key: a put or delete that was
    /// never answered. Such a write may take effect at any time after its call, or never, and nothing but a
    /// later read of its key can tell when it did; so in any order that works it can be moved later, to just
    /// before the next operation on its key (or a scan over it), and dropped if that one overwrites it without
    /// reading. Placing these writes only there keeps the search from trying every subset of them at every step.
    pub fn is_deferred(&self, op: usize) -> bool {
        self.ops[op].response.is_none() && matches!(self.ops[op].step, Step::Write { .. })
    }

    /// Whether `choices` can offer anything for `op`: it reads a key that has deferred writes.
    pub fn may_choose(&self, op: usize) -> bool {
        let has_deferred = |place: usize| !self.deferred[place].is_empty();
        match &self.ops[op].step {
            Step::Read { .. } | Step::Cas { .. } | Step::Append { .. } => has_deferred(self.ops[op].place),
            Step::Scan { covers, .. } => covers.clone().any(has_deferred),
            Step::Write { .. } | Step::Impossible => false,
        }
    }

    /// The ways to place deferred writes just before `op` in `state` that can matter, each a list of writes (at
    /// most one per key) to take effect in that order before it; `usable` says which deferred writes may take
    /// effect now. Taking `op` with none of them is not among the ways (the search tries it first).
    pub fn choices(&self, state: StateId, op: usize, usable: &dyn Fn(usize) -> bool) -> Vec<Vec<usize>> {
        let place = self.ops[op].place;
        let current = self.value_at(state, place);
        let writing =
            |value: StateId| self.writes_of(place, usable).find(|&(_, new)| new == value).map(|(d, _)| vec![d]);
        match &self.ops[op].step {
            Step::Read { seen } if *seen != current => writing(*seen).into_iter().collect(),
            Step::Cas { expected, reported: Some(true), .. } => {
                if *expected != current {
                    writing(*expected).into_iter().collect()
                } else {
                    Vec::new()
                }
            }
            Step::Cas { expected, reported, .. } => {
                // Matters only if it flips whether the cas swaps (a cas reported not swapping needs a flip).
                let flips = |new: StateId| (new == *expected) != (current == *expected);
                let wanted = |new: StateId| flips(new) && (reported.is_none() || current == *expected);
                self.distinct_writes(place, usable).filter(|&(_, new)| wanted(new)).map(|(d, _)| vec![d]).collect()
            }
            Step::Append { .. } => {
                self.distinct_writes(place, usable).filter(|&(_, new)| new != current).map(|(d, _)| vec![d]).collect()
            }
            Step::Scan { covers, limit, records } => self.scan_choice(state, covers, *limit, records, usable),
            Step::Read { .. } | Step::Write { .. } | Step::Impossible => Vec::new(),
        }
    }

    /// For a scan: the one deferred write per key that makes each key it saw hold what it saw, if there is one.
    fn scan_choice(
        &self,
        state: StateId,
        covers: &Range<usize>,
        limit: usize,
        records: &[(usize, StateId)],
        usable: &dyn Fn(usize) -> bool,
    ) -> Vec<Vec<usize>> {
        // Keys after the last record it returned were not seen if it stopped at its limit.
        let seen_upto =
            if records.len() < limit { covers.end } else { records.last().map_or(covers.start, |r| r.0 + 1) };
        let mut writes = Vec::new();
        for place in covers.start..seen_upto.min(covers.end) {
            let seen = records.iter().find(|record| record.0 == place).map_or(ABSENT, |record| record.1);
            if self.value_at(state, place) != seen {
                match self.writes_of(place, usable).find(|&(_, new)| new == seen) {
                    Some((write, _)) => writes.push(write),
                    None => return Vec::new(),
                }
            }
        }
        if writes.is_empty() {
            Vec::new()
        } else {
            vec![writes]
        }
    }

    /// The usable deferred writes to the key at `place`, with the value each writes.
    fn writes_of<'m>(
        &'m self,
        place: usize,
        usable: &'m dyn Fn(usize) -> bool,
    ) -> impl Iterator<Item = (usize, StateId)> + 'm {
        self.deferred[place].iter().copied().filter(move |&op| usable(op)).map(|op| match self.ops[op].step {
            Step::Write { new } => (op, new),
            _ => unreachable!("deferred operations are writes"),
        })
    }

    /// The first usable deferred write of each value to the key at `place`: two that write the same value, both
    /// usable now and never answered, are interchangeable.
    fn distinct_writes<'m>(
        &'m self,
        place: usize,
        usable: &'m dyn Fn(usize) -> bool,
    ) -> impl Iterator<Item = (usize, StateId)> + 'm {
        let mut values = Vec::new();
        self.writes_of(place, usable).filter(move |&(_, new)| {
            let first = !values.contains(&new);
            values.push(new);
            first
        })
    }

    fn step_for(&mut self, command: &KvCommand, output: Option<&KvOutput>) -> Step {
        match (command, output) {
            (KvCommand::Scan { start, end, limit, .. }, Some(KvOutput::Records(records))) => {
                self.scan_step(start, end, *limit, records)
            }
            (KvCommand::Get { .. } | KvCommand::Read { .. }, Some(KvOutput::Value(seen))) => {
                Step::Read { seen: self.intern_option(seen) }
            }
            (KvCommand::Put { value, .. }, None | Some(KvOutput::Ok)) => Step::Write { new: self.intern(value) },
            (KvCommand::Delete { .. }, None | Some(KvOutput::Ok)) => Step::Write { new: ABSENT },
            (KvCommand::Cas { expected, new, .. }, None | Some(KvOutput::Cas(_))) => Step::Cas {
                expected: self.intern_option(expected),
                new: self.intern(new),
                reported: output.map(|output| *output == KvOutput::Cas(true)),
            },
            (KvCommand::Append { value, .. }, None | Some(KvOutput::Ok | KvOutput::TooLong)) => {
                let reported = output.map(|output| *output == KvOutput::Ok);
                Step::Append { suffix: value.as_str().into(), hashed: Suffix::of(value), reported }
            }
            _ => Step::Impossible,
        }
    }

    /// A scan's step, or `Impossible` if its records could not come from its range (out of range, out of key
    /// order, or more than its limit).
    fn scan_step(&mut self, start: &str, end: &str, limit: Option<u32>, records: &[(String, String)]) -> Step {
        let place_of = |key: &str| place_of(&self.keys, key);
        let covers = place_of(start)..place_of(end).max(place_of(start));
        let limit = limit.map_or(usize::MAX, |limit| limit as usize);
        let places: Vec<usize> = records.iter().map(|(key, _)| place_of(key)).collect();
        let in_order = places.windows(2).all(|pair| pair[0] < pair[1]);
        let in_range = records.iter().all(|(key, _)| start <= key.as_str() && key.as_str() < end);
        if !in_order || !in_range || records.len() > limit {
            return Step::Impossible;
        }
        let records = places.into_iter().zip(records).map(|(place, (_, value))| (place, self.intern(value))).collect();
        Step::Scan { covers, limit, records }
    }

    fn intern_option(&mut self, value: &Option<String>) -> StateId {
        value.as_deref().map_or(ABSENT, |value| self.intern(value))
    }

    fn intern(&mut self, value: &str) -> StateId {
        self.values.intern(value)
    }

    /// Whether the operation leaves the state as it was whenever it is allowed at all.
    pub fn keeps_state(&self, op: usize) -> bool {
        match &self.ops[op].step {
            Step::Read { .. } | Step::Scan { .. } | Step::Impossible => true,
            Step::Cas { reported: Some(false), .. } | Step::Append { reported: Some(false), .. } => true,
            Step::Cas { expected, new, reported: Some(true) } => expected == new,
            Step::Write { .. } | Step::Cas { reported: None, .. } | Step::Append { .. } => false,
        }
    }

    /// Whether the state is a tuple of several keys' values (see `tuples`).
    pub fn is_group(&self) -> bool {
        self.tuples.is_some()
    }

    /// The value a state of one key stands for (`None`: absent).
    pub fn value(&self, state: StateId) -> Option<&str> {
        debug_assert!(!self.is_group(), "a group's state is a tuple");
        self.values.text(state)
    }

    /// Each key of the model with its value in `state` (`None`: absent).
    pub fn key_values(&self, state: StateId) -> Vec<(String, Option<String>)> {
        let values: Vec<StateId> = match &self.tuples {
            Some(tuples) => tuples.get(state).to_vec(),
            None => vec![state],
        };
        let text = |value: StateId| self.values.text(value).map(String::from);
        self.keys.iter().zip(values).map(|(key, value)| (key.clone(), text(value))).collect()
    }

    /// The value of the key at `place` in `state`.
    fn value_at(&self, state: StateId, place: usize) -> StateId {
        self.tuples.as_ref().map_or(state, |tuples| tuples.get(state)[place])
    }

    /// The state after operation `op` runs in `state`, or `None` if its recorded output rules that out.
    pub fn apply(&mut self, state: StateId, op: usize) -> Option<StateId> {
        let Some(tuples) = &self.tuples else { return self.apply_to_value(state, op) };
        if let Step::Scan { covers, limit, records } = &self.ops[op].step {
            return scan_fits(tuples.get(state), covers, *limit, records).then_some(state);
        }
        let place = self.ops[op].place;
        let value = tuples.get(state)[place];
        let new = self.apply_to_value(value, op)?;
        Some(if new == value { state } else { self.tuples.as_mut().expect("a group").with(state, place, new) })
    }

    /// The value of the operation's key after it runs on `state`, that key's value, or `None` if its recorded
    /// output rules that out.
    fn apply_to_value(&mut self, state: StateId, op: usize) -> Option<StateId> {
        match &self.ops[op].step {
            Step::Read { seen } => (*seen == state).then_some(state),
            Step::Write { new } => Some(*new),
            Step::Cas { expected, new, reported } => {
                let swaps = *expected == state;
                match reported {
                    Some(reported) if *reported != swaps => None,
                    _ => Some(if swaps { *new } else { state }),
                }
            }
            Step::Append { suffix, reported, .. } => {
                let fits = self.values.text(state).map_or(0, str::len) + suffix.len() <= self.value_len_max;
                match reported {
                    Some(reported) if *reported != fits => None,
                    _ if !fits => Some(state),
                    _ => Some(self.appended(state, op)),
                }
            }
            Step::Scan { .. } => unreachable!("a scan makes the model a group, which `apply` handles"),
            Step::Impossible => None,
        }
    }

    fn appended(&mut self, state: StateId, op: usize) -> StateId {
        let memo_key = (u64::from(state) << 32) | op as u64;
        if let Some(&result) = self.append_results.get(&memo_key) {
            return result;
        }
        let Step::Append { suffix, hashed, .. } = &self.ops[op].step else { unreachable!("only appends get here") };
        let result = self.values.intern_appended(state, suffix, *hashed);
        self.append_results.insert(memo_key, result);
        result
    }

    /// Why operation `op` cannot run in `state` (for explanations; call only when `apply` returned `None`).
    pub fn refusal(&self, state: StateId, op: usize) -> String {
        let current = describe_value(self.values.text(self.value_at(state, self.ops[op].place)));
        match &self.ops[op].step {
            Step::Scan { covers, limit, records } => {
                let held = present(self.tuples.as_ref().expect("a group").get(state), covers).take(*limit);
                let held: Vec<(usize, StateId)> = held.collect();
                format!(
                    "it returned {} but the store held {}",
                    self.describe_records(records),
                    self.describe_records(&held)
                )
            }
            Step::Read { seen } => {
                format!("it returned {} but the value was {current}", describe_value(self.values.text(*seen)))
            }
            Step::Cas { expected, reported: Some(true), .. } => {
                let expected = describe_value(self.values.text(*expected));
                format!("it swapped, so the value was {expected}, but it was {current}")
            }
            Step::Cas { .. } => format!("it did not swap, but the value was {current}, which it expected"),
            Step::Append { reported: Some(true), .. } => {
                format!("it succeeded, but appending to {current} would exceed {} bytes", self.value_len_max)
            }
            Step::Append { .. } => format!("it was refused as too long, but appending to {current} fits"),
            Step::Write { .. } => unreachable!("a write is always allowed"),
            Step::Impossible => "this command never returns that output".into(),
        }
    }

    /// `[a="1", b="2"]`, or `no records`.
    fn describe_records(&self, records: &[(usize, StateId)]) -> String {
        if records.is_empty() {
            return "no records".into();
        }
        let shown: Vec<String> = records
            .iter()
            .map(|&(place, value)| format!("{}={:?}", self.keys[place], self.values.text(value).unwrap_or_default()))
            .collect();
        format!("[{}]", shown.join(", "))
    }
}

/// The present keys among the places `covers` of a tuple, with their values, in key order.
fn present<'t>(tuple: &'t [StateId], covers: &Range<usize>) -> impl Iterator<Item = (usize, StateId)> + 't {
    let start = covers.start;
    tuple[covers.clone()]
        .iter()
        .enumerate()
        .filter(|(_, &value)| value != ABSENT)
        .map(move |(at, &value)| (start + at, value))
}

/// Whether a scan over `covers` with `limit` returns `records` from `tuple`.
fn scan_fits(tuple: &[StateId], covers: &Range<usize>, limit: usize, records: &[(usize, StateId)]) -> bool {
    present(tuple, covers).take(limit).eq(records.iter().copied())
}

/// The keys the operations name, sorted and without repeats: each command's key, and the keys a scan returned
/// (a scan's range adds no others: a key nothing wrote is absent throughout, and a scan sees it so).
pub(super) fn keys_named<'a>(operations: impl IntoIterator<Item = &'a Operation>) -> Vec<String> {
    // A map of the store's own type, so the page's wasm carries no second sorted collection (BENCHMARKS.md,
    // "First load under 250 kB").
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    for operation in operations {
        match (&operation.command, operation.output()) {
            (KvCommand::Scan { .. }, _) => {
                for key in returned(operation) {
                    keys.insert(key.to_string(), String::new());
                }
            }
            (command, _) => {
                keys.insert(command.key().to_string(), String::new());
            }
        }
    }
    keys.into_keys().collect()
}

/// Where `key` is, or would go, among the sorted `keys`.
pub(super) fn place_of(keys: &[String], key: &str) -> usize {
    keys.partition_point(|named| named.as_str() < key)
}

/// The keys a scan returned (none for any other operation).
pub(super) fn returned(operation: &Operation) -> impl Iterator<Item = &str> {
    let records = match operation.output() {
        Some(KvOutput::Records(records)) => records.as_slice(),
        _ => &[],
    };
    records.iter().map(|(key, _)| key.as_str())
}

/// Whether an operation can constrain the order at all (see `KeyModel::compile` for those that cannot).
pub(super) fn constrains(operation: &Operation) -> bool {
    match &operation.outcome {
        Outcome::Failed { .. } | Outcome::Completed { output: KvOutput::Stale, .. } => false,
        Outcome::Completed { .. } => true,
        Outcome::Indeterminate => operation.command.is_write(),
    }
}

/// `absent` or the value quoted.
pub(super) fn describe_value(value: Option<&str>) -> String {
    value.map_or_else(|| "absent".into(), |value| format!("{value:?}"))
}
