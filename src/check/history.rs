//! A history: what clients asked the key-value store, when, and what they heard back.
//!
//! The simulator records its clients directly with the builder (`invoke`, then one of `complete`, `fail` or
//! `timeout`); the formats module builds the same thing from Jepsen and Porcupine files. Times are whatever
//! the recorder uses (virtual ticks, line numbers): only their order matters.

use serde::{Deserialize, Serialize};

use crate::kv::{KvCommand, KvOutput};

/// An operation's position in its history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OpId(pub usize);

impl std::fmt::Display for OpId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// How an operation ended, as far as its client knows.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// The client got an answer at time `at`.
    Completed { at: u64, output: KvOutput },
    /// The operation definitely did not take effect (say, it was rejected before entering the log).
    Failed { at: u64 },
    /// No answer (timeout, crash): it may have taken effect at any time after its invocation, or never.
    Indeterminate,
}

/// One client request and its outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    pub id: OpId,
    /// The process that issued it. A client has at most one operation in flight in the histories we read, but
    /// the checker does not rely on that.
    pub client: u64,
    pub command: KvCommand,
    /// When the client sent it.
    pub invoke: u64,
    pub outcome: Outcome,
}

impl Operation {
    /// When the client heard back, if it did.
    pub fn response_time(&self) -> Option<u64> {
        match self.outcome {
            Outcome::Completed { at, .. } | Outcome::Failed { at } => Some(at),
            Outcome::Indeterminate => None,
        }
    }

    pub fn output(&self) -> Option<&KvOutput> {
        match &self.outcome {
            Outcome::Completed { output, .. } => Some(output),
            _ => None,
        }
    }
}

/// Client ids from here on belong to the model checker's step clients (`sim::STEP_CLIENTS`): step client N has
/// id `STEP_CLIENTS + N`, far above any background client's.
pub const STEP_CLIENTS: u64 = 1 << 32;

/// A client as explanations name it: `client 3`, or `step client 1` for the model checker's.
pub fn client_name(client: u64) -> String {
    match client.checked_sub(STEP_CLIENTS) {
        Some(number) => format!("step client {number}"),
        None => format!("client {client}"),
    }
}

impl std::fmt::Display for Operation {
    /// `#3 client 1: get x → "1" (t=4..7)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.id, client_name(self.client), self.command)?;
        match &self.outcome {
            Outcome::Completed { at, output } => write!(f, " → {output} (t={}..{at})", self.invoke),
            Outcome::Failed { at } => write!(f, " → failed (t={}..{at})", self.invoke),
            Outcome::Indeterminate => write!(f, " → no answer (t={}..)", self.invoke),
        }
    }
}

/// Operations in invocation order; `operations()[i].id == OpId(i)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    operations: Vec<Operation>,
}

impl History {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `client` sent `command` at `time`. Until `complete` or `fail` is called the operation is
    /// indeterminate, which is also what an operation that never hears back should stay.
    pub fn invoke(&mut self, client: u64, command: KvCommand, time: u64) -> OpId {
        let id = OpId(self.operations.len());
        self.operations.push(Operation { id, client, command, invoke: time, outcome: Outcome::Indeterminate });
        id
    }

    /// Records the answer `output`, received at `time`. A reply that arrives after `timeout` is still a reply.
    pub fn complete(&mut self, op: OpId, output: KvOutput, time: u64) {
        self.resolve(op, Outcome::Completed { at: time, output }, time);
    }

    /// Records that the operation definitely did not take effect, learned at `time`.
    pub fn fail(&mut self, op: OpId, time: u64) {
        self.resolve(op, Outcome::Failed { at: time }, time);
    }

    /// Records that the client gave up waiting: the operation may or may not take effect.
    pub fn timeout(&mut self, op: OpId) {
        let operation = &self.operations[op.0];
        assert_eq!(operation.outcome, Outcome::Indeterminate, "{op} timed out after it had already ended");
    }

    fn resolve(&mut self, op: OpId, outcome: Outcome, time: u64) {
        let operation = &mut self.operations[op.0];
        assert_eq!(operation.outcome, Outcome::Indeterminate, "{op} ended twice");
        assert!(time >= operation.invoke, "{op} ended at {time}, before it was invoked at {}", operation.invoke);
        operation.outcome = outcome;
    }

    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    pub fn len(&self) -> usize {
        self.operations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// Checks what `invoke`/`complete` guarantee, for a history that came from elsewhere (say, JSON).
    pub fn validate(&self) -> Result<(), String> {
        for (index, operation) in self.operations.iter().enumerate() {
            if operation.id != OpId(index) {
                return Err(format!("operation {index} has id {}; ids must count up from 0", operation.id));
            }
            if let Some(at) = operation.response_time() {
                if at < operation.invoke {
                    return Err(format!(
                        "{} ended at {at}, before it was invoked at {}",
                        operation.id, operation.invoke
                    ));
                }
            }
        }
        Ok(())
    }
}

impl std::ops::Index<OpId> for History {
    type Output = Operation;

    fn index(&self, id: OpId) -> &Operation {
        &self.operations[id.0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(key: &str) -> KvCommand {
        KvCommand::Get { key: key.into() }
    }

    #[test]
    fn the_builder_records_each_kind_of_outcome() {
        let mut history = History::new();
        let read = history.invoke(1, get("x"), 10);
        let lost = history.invoke(2, KvCommand::Put { key: "x".into(), value: "1".into() }, 11);
        let rejected = history.invoke(3, KvCommand::Delete { key: "x".into() }, 12);
        history.complete(read, KvOutput::Value(None), 15);
        history.timeout(lost);
        history.fail(rejected, 13);

        assert_eq!(history[read].outcome, Outcome::Completed { at: 15, output: KvOutput::Value(None) });
        assert_eq!(history[lost].outcome, Outcome::Indeterminate);
        assert_eq!(history[lost].response_time(), None);
        assert_eq!(history[rejected].outcome, Outcome::Failed { at: 13 });
        assert_eq!(history.len(), 3);
        assert!(history.validate().is_ok());
    }

    #[test]
    #[should_panic(expected = "ended twice")]
    fn an_operation_cannot_end_twice() {
        let mut history = History::new();
        let op = history.invoke(1, get("x"), 0);
        history.complete(op, KvOutput::Value(None), 1);
        history.fail(op, 2);
    }

    #[test]
    #[should_panic(expected = "before it was invoked")]
    fn an_operation_cannot_end_before_it_starts() {
        let mut history = History::new();
        let op = history.invoke(1, get("x"), 5);
        history.complete(op, KvOutput::Value(None), 4);
    }

    #[test]
    fn a_history_round_trips_through_json_and_validation_catches_bad_ids() {
        let mut history = History::new();
        let op = history.invoke(7, KvCommand::Append { key: "k".into(), value: "v".into() }, 1);
        history.complete(op, KvOutput::Ok, 2);
        let json = serde_json::to_string(&history).unwrap();
        let back: History = serde_json::from_str(&json).unwrap();
        assert_eq!(back, history);

        let renumbered = json.replace("\"id\":0", "\"id\":4");
        let bad: History = serde_json::from_str(&renumbered).unwrap();
        assert!(bad.validate().unwrap_err().contains("ids must count up"));
    }

    #[test]
    fn operations_describe_themselves() {
        let mut history = History::new();
        let op = history.invoke(3, get("x"), 4);
        history.complete(op, KvOutput::Value(Some("1".into())), 7);
        assert_eq!(history[op].to_string(), "#0 client 3: get x → \"1\" (t=4..7)");
    }
}
