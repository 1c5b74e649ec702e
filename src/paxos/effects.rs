//! What a node hands its driver after a step: the `Ready` batch of effects, and the types inside it.

use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::{Ballot, ClientId, Envelope, NodeId, Request, Slot, WriteBatch};

/// Why a node refused a client request.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Rejection {
    /// This node does not lead and knows no leader to forward to; `hint` names a likely leader if any.
    NotLeader { hint: Option<NodeId> },
    /// The leader's queue is full.
    Overloaded,
    /// The command itself is invalid (the reason says why).
    Invalid(String),
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::NotLeader { hint: Some(node) } => write!(f, "not the leader; try node {node}"),
            Rejection::NotLeader { hint: None } => write!(f, "no leader is known yet"),
            Rejection::Overloaded => write!(f, "the leader is overloaded"),
            Rejection::Invalid(reason) => write!(f, "invalid command: {reason}"),
        }
    }
}

/// What `Node::propose` did with a request (the `add(command) -> slot or rejection` of the design).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProposeOutcome {
    /// This node leads and put the request in `slot`.
    Proposed { slot: Slot },
    /// This node leads (or is about to) and queued the request until a slot is free.
    Queued,
    /// This node passed the request on to the leader.
    Forwarded { to: NodeId },
    /// A read answered at once from this node's applied store, as of `slot` (exclusive), without a slot of its
    /// own (`lease.rs`); the `Reply` is in the next `Ready`.
    ReadLocally { slot: Slot },
    /// Refused; a `Reply` with the same rejection is in the next `Ready` too.
    Rejected(Rejection),
}

/// The answer to a client, from the node the client asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply<O> {
    pub client: ClientId,
    pub seq: u64,
    pub result: Result<(Slot, O), Rejection>,
}

/// A chosen request applied to the state machine: the design's "on applied" event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied<C, O> {
    pub slot: Slot,
    pub request: Rc<Request<C>>,
    pub output: O,
}

/// A node's role as seen from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleKind {
    Follower,
    /// Running phase 1.
    Candidate,
    Leader,
}

/// Protocol events, for narration (the UI's live region), traces and tests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    PhaseOneStarted {
        ballot: Ballot,
    },
    Promised {
        ballot: Ballot,
        to: NodeId,
    },
    BecameLeader {
        ballot: Ballot,
        first_slot: Slot,
        noops: u64,
        reproposed: u64,
    },
    SteppedDown {
        ballot: Ballot,
        reason: String,
    },
    /// Slots `first_slot..first_slot + count` became known chosen at this node, in `ballot`. Consecutive slots
    /// learned in one step share one event: a leader under load learns hundreds at once.
    Chosen {
        first_slot: Slot,
        count: u64,
        ballot: Ballot,
    },
    SnapshotTaken {
        upto: Slot,
    },
    SnapshotInstalled {
        upto: Slot,
    },
    /// The reconfiguration chosen in `slot` became known here: `members` vote from `from_slot` on.
    Reconfigured {
        slot: Slot,
        from_slot: Slot,
        members: super::Members,
    },
    /// This node learned that no configuration from `from_slot` on includes it: it no longer votes or campaigns.
    Retired {
        from_slot: Slot,
    },
    /// A local invariant broke. Only reported (not panicked) when a planted bug is on.
    InvariantBroken {
        invariant: String,
        detail: String,
    },
}

/// Everything a step produced. The driver must: write `write` (if any) durably and then call
/// `Node::persisted(id)`; send `messages`; deliver `replies`. Messages that reveal acceptor state are held
/// inside the node until their write is acknowledged, so a driver cannot send them too early.
#[derive(Clone, Debug, PartialEq)]
pub struct Ready<C, O, Snap> {
    pub write: Option<WriteBatch<C, Snap>>,
    pub messages: Vec<Envelope<C, Snap>>,
    pub replies: Vec<Reply<O>>,
    pub applied: Vec<Applied<C, O>>,
    pub events: Vec<Event>,
}

impl<C, O, Snap> Default for Ready<C, O, Snap> {
    fn default() -> Self {
        Ready { write: None, messages: Vec::new(), replies: Vec::new(), applied: Vec::new(), events: Vec::new() }
    }
}

impl<C, O, Snap> Ready<C, O, Snap> {
    /// The write batch, if this step produced one (a drained, reused batch does not count).
    pub fn pending_write(&self) -> Option<&WriteBatch<C, Snap>> {
        self.write.as_ref().filter(|batch| !batch.records.is_empty())
    }

    pub fn is_empty(&self) -> bool {
        self.pending_write().is_none()
            && self.messages.is_empty()
            && self.replies.is_empty()
            && self.applied.is_empty()
            && self.events.is_empty()
    }
}
