//! The sequential specification of one key, compiled for the search: values are interned to small ids so a
//! state is a `u32`, and each operation becomes a `Step` that says which states allow it and what follows.

use super::hashing::WordMap;
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
}

/// The operations on one key plus the values they mention.
pub(super) struct KeyModel {
    pub ops: Vec<KeyOp>,
    values: Values,
    /// Appends build new values; remember each (state, op) result so each is built once.
    append_results: WordMap<u64, StateId>,
    value_len_max: usize,
}

impl KeyModel {
    /// Compiles the operations of one key. Drops those that cannot constrain the search: failed operations
    /// (they did not happen), gets without an answer (they change nothing and saw nothing), and `Stale`
    /// answers (the store ignored a duplicate request, so it changed nothing and its answer says nothing
    /// about the value; such an operation is allowed at any point and needs no place in the order).
    ///
    /// An append that would make the value longer than `value_len_max` bytes is refused (`TooLong`).
    pub fn compile<'a>(operations: impl IntoIterator<Item = (usize, &'a Operation)>, value_len_max: usize) -> KeyModel {
        let mut model =
            KeyModel { ops: Vec::new(), values: Values::new(), append_results: WordMap::default(), value_len_max };
        for (history_index, operation) in operations.into_iter().filter(|(_, operation)| constrains(operation)) {
            let (response, output) = match &operation.outcome {
                Outcome::Completed { at, output } => (Some(*at), Some(output)),
                Outcome::Failed { .. } | Outcome::Indeterminate => (None, None),
            };
            let step = model.step_for(&operation.command, output);
            model.ops.push(KeyOp { history_index, call: operation.invoke, response, step });
        }
        model
    }

    fn step_for(&mut self, command: &KvCommand, output: Option<&KvOutput>) -> Step {
        match (command, output) {
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

    fn intern_option(&mut self, value: &Option<String>) -> StateId {
        value.as_deref().map_or(ABSENT, |value| self.intern(value))
    }

    fn intern(&mut self, value: &str) -> StateId {
        self.values.intern(value)
    }

    /// Whether the operation leaves the state as it was whenever it is allowed at all.
    pub fn keeps_state(&self, op: usize) -> bool {
        match &self.ops[op].step {
            Step::Read { .. } | Step::Impossible => true,
            Step::Cas { reported: Some(false), .. } | Step::Append { reported: Some(false), .. } => true,
            Step::Cas { expected, new, reported: Some(true) } => expected == new,
            Step::Write { .. } | Step::Cas { reported: None, .. } | Step::Append { .. } => false,
        }
    }

    /// The value a state stands for (`None`: absent).
    pub fn value(&self, state: StateId) -> Option<&str> {
        self.values.text(state)
    }

    /// The state after operation `op` runs in `state`, or `None` if its recorded output rules that out.
    pub fn apply(&mut self, state: StateId, op: usize) -> Option<StateId> {
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
                let fits = self.value(state).map_or(0, str::len) + suffix.len() <= self.value_len_max;
                match reported {
                    Some(reported) if *reported != fits => None,
                    _ if !fits => Some(state),
                    _ => Some(self.appended(state, op)),
                }
            }
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
        let current = describe_value(self.value(state));
        match &self.ops[op].step {
            Step::Read { seen } => {
                format!("it returned {} but the value was {current}", describe_value(self.value(*seen)))
            }
            Step::Cas { expected, reported: Some(true), .. } => {
                format!("it swapped, so the value was {}, but it was {current}", describe_value(self.value(*expected)))
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
