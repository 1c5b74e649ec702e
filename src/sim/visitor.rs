//! The visitor's own operations (`UserAction::ClientOp`): unlike the background clients, the visitor never
//! retries on its own. An operation waits up to the workload's timeout; a rejection or a timeout ends it and
//! the visitor decides what to do next. Each operation keeps the path it took (target, forwards) and how it
//! ended, so the playground can show "→ node 2 → leader 5, slot 7: ok".

use crate::check::OpId;
use crate::kv::{KvCommand, KvOutput};
use crate::paxos::{NodeId, Rejection};

/// How a visitor's operation ended (or that it has not yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VisitorOutcome {
    Waiting,
    /// Chosen in `slot` and applied; the reply came at tick `at`.
    Answered {
        at: u64,
        slot: u64,
        output: KvOutput,
    },
    /// Refused before it entered the log: it did not take effect.
    Rejected {
        at: u64,
        rejection: Rejection,
    },
    /// No reply within the timeout: it may take effect or not (indeterminate in the history).
    TimedOut {
        at: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisitorOp {
    pub op: OpId,
    pub seq: u64,
    pub command: KvCommand,
    pub invoked_at: u64,
    /// The node the visitor sent it to.
    pub target: NodeId,
    /// Each node it was forwarded to, in order (a follower passes it to the leader it knows).
    pub forwards: Vec<NodeId>,
    pub outcome: VisitorOutcome,
}

impl VisitorOp {
    pub fn new(op: OpId, seq: u64, command: KvCommand, target: NodeId, now: u64) -> VisitorOp {
        VisitorOp { op, seq, command, invoked_at: now, target, forwards: Vec::new(), outcome: VisitorOutcome::Waiting }
    }

    pub fn waiting(&self) -> bool {
        self.outcome == VisitorOutcome::Waiting
    }
}
