//! What nodes say to each other, and the log values they agree on.

use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::{Ballot, Members, Membership, NodeId, Request, Slot};

/// The value of one slot: a no-op (a new leader fills holes with them), one client request, or a batch.
/// Requests are shared (`Rc`): one value travels to every follower, into storage and out as "applied"
/// without copying the command each time. Not `Arc`: a node, its driver and every message it exchanges in
/// process live on one thread (the fuzzer runs one whole simulation per thread; a network driver serialises
/// messages), and the atomic count updates of `Arc`, about ten per command across five replicas, were a fifth
/// of the core benchmark's time. So a node is not `Send`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Value<C> {
    Noop,
    Command(Rc<Request<C>>),
    /// A thin pointer, so a `Value` is two words: entries and records are stored per slot per replica.
    Batch(Rc<Vec<Rc<Request<C>>>>),
    /// A new configuration, for every slot from α after this one on (`membership.rs`).
    Reconfig(Members),
}

impl<C> Value<C> {
    pub fn command(request: Request<C>) -> Value<C> {
        Value::Command(Rc::new(request))
    }

    /// The client requests this value carries, in order.
    pub fn requests(&self) -> &[Rc<Request<C>>] {
        match self {
            Value::Noop | Value::Reconfig(_) => &[],
            Value::Command(request) => std::slice::from_ref(request),
            Value::Batch(requests) => requests,
        }
    }

    pub fn is_noop(&self) -> bool {
        matches!(self, Value::Noop)
    }

    /// The configuration this value sets, if it is a reconfiguration.
    pub fn reconfig(&self) -> Option<Members> {
        match self {
            Value::Reconfig(members) => Some(*members),
            _ => None,
        }
    }
}

/// One slot of an acceptor's log: the value it accepted, in which ballot, and whether it knows the value
/// was chosen. This is the form slots travel in (promises, catch-up) and are stored durably in; the in-memory log
/// keeps each one more compactly, as a `LogSlot`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry<C> {
    pub ballot: Ballot,
    pub value: Value<C>,
    pub chosen: bool,
}

/// The replicated state as of slot `upto` (exclusive): every slot below it is applied and compacted away.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Snapshot<Snap> {
    pub upto: Slot,
    pub state: Snap,
    /// The configurations that govern slots from `upto` on, as the snapshot's node knew them (empty in snapshots
    /// written before issue 20: the initial configuration, which never changed then).
    #[serde(default)]
    pub membership: Membership,
}

/// Rare, large payloads (snapshots, a forwarded request) are boxed: every message is moved several times on
/// its way (outbox, driver, network), so the common ones should not pay for the largest.
///
/// Every message carries a ballot (`Message::ballot`): the receiver observes it at the door, before any handler
/// runs (see `Node::observe`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Message<C, Snap> {
    /// Phase 1a for every slot from `first_unchosen` on.
    Prepare { ballot: Ballot, first_unchosen: Slot },
    /// Phase 1b: the acceptor promised `ballot` and reports what it accepted at or after the prepare's
    /// `first_unchosen`; if it already compacted some of those slots, its snapshot covers them.
    Promise { ballot: Ballot, entries: Vec<(Slot, Entry<C>)>, snapshot: Option<Box<Snapshot<Snap>>>, chosen_upto: Slot },
    /// Phase 2a for slots `first_slot..first_slot + values.len()`. `chosen_upto` piggybacks the leader's
    /// commit point: every slot below it is chosen. The values are shared by the accepts to every follower.
    Accept { ballot: Ballot, first_slot: Slot, values: Rc<[Value<C>]>, chosen_upto: Slot },
    /// Phase 2b for slots `first_slot..first_slot + count`; `chosen_upto` tells the leader how far this
    /// node has learned, so it can send what is missing.
    Accepted { ballot: Ballot, first_slot: Slot, count: u64, chosen_upto: Slot },
    /// The acceptor refused `ballot` because it promised the higher `promised`.
    Nack { ballot: Ballot, promised: Ballot },
    /// The leader's commit point when it has no accept to piggyback it on (it went idle).
    Commit { ballot: Ballot, chosen_upto: Slot },
    /// Liveness and leadership: sent by every node every `heartbeat_ticks`, with the ballot it leads, campaigns
    /// with or promised. A leader's heartbeat is also its commit notice. With read leases on (`lease.rs`),
    /// `lease_stamp` is a leader's clock when it sent the heartbeat, or, from a follower, the stamp of the latest
    /// heartbeat of `ballot`'s leader it granted a lease on; `None` with leases off.
    Heartbeat { ballot: Ballot, leading: bool, quorum_connected: bool, chosen_upto: Slot, lease_stamp: Option<u64> },
    /// Catch-up: chosen slots the receiver has not learned. `ballot` is the sender's, not the entries'.
    Chosen { ballot: Ballot, entries: Vec<(Slot, Entry<C>)> },
    /// Catch-up for a node that lags behind the sender's compacted log; `ballot` is the sender's.
    InstallSnapshot { ballot: Ballot, snapshot: Box<Snapshot<Snap>> },
    /// A client request a follower passes on to the leader; `ballot` is the follower's promise.
    Forward { ballot: Ballot, request: Box<Request<C>> },
}

/// A message's type, for colours, legends and counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessageKind {
    Prepare,
    Promise,
    Accept,
    Accepted,
    Nack,
    Commit,
    Heartbeat,
    Chosen,
    Snapshot,
    Forward,
}

impl MessageKind {
    pub const ALL: [MessageKind; 10] = [
        MessageKind::Prepare,
        MessageKind::Promise,
        MessageKind::Accept,
        MessageKind::Accepted,
        MessageKind::Nack,
        MessageKind::Commit,
        MessageKind::Heartbeat,
        MessageKind::Chosen,
        MessageKind::Snapshot,
        MessageKind::Forward,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Prepare => "prepare",
            MessageKind::Promise => "promise",
            MessageKind::Accept => "accept",
            MessageKind::Accepted => "accepted",
            MessageKind::Nack => "nack",
            MessageKind::Commit => "commit",
            MessageKind::Heartbeat => "heartbeat",
            MessageKind::Chosen => "chosen",
            MessageKind::Snapshot => "snapshot",
            MessageKind::Forward => "forward",
        }
    }
}

impl<C, Snap> Message<C, Snap> {
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Prepare { .. } => MessageKind::Prepare,
            Message::Promise { .. } => MessageKind::Promise,
            Message::Accept { .. } => MessageKind::Accept,
            Message::Accepted { .. } => MessageKind::Accepted,
            Message::Nack { .. } => MessageKind::Nack,
            Message::Commit { .. } => MessageKind::Commit,
            Message::Heartbeat { .. } => MessageKind::Heartbeat,
            Message::Chosen { .. } => MessageKind::Chosen,
            Message::InstallSnapshot { .. } => MessageKind::Snapshot,
            Message::Forward { .. } => MessageKind::Forward,
        }
    }

    /// The ballot the sender was in: the one it campaigns with or leads, promised, or (for a nack) the higher
    /// ballot the receiver's proposal lost to.
    pub fn ballot(&self) -> Ballot {
        match self {
            Message::Prepare { ballot, .. }
            | Message::Promise { ballot, .. }
            | Message::Accept { ballot, .. }
            | Message::Accepted { ballot, .. }
            | Message::Commit { ballot, .. }
            | Message::Heartbeat { ballot, .. }
            | Message::Chosen { ballot, .. }
            | Message::InstallSnapshot { ballot, .. }
            | Message::Forward { ballot, .. } => *ballot,
            Message::Nack { promised, .. } => *promised,
        }
    }

    /// Whether this message reveals acceptor state, and so may leave only once that state is durable.
    pub fn reveals_acceptor_state(&self) -> bool {
        matches!(self, Message::Promise { .. } | Message::Accepted { .. })
    }

    /// Whether this message starts a ballot: it may leave only once the sender's own promise of that ballot is
    /// durable, so that a crash cannot make the sender forget the ballot and use it a second time.
    pub fn starts_ballot(&self) -> bool {
        matches!(self, Message::Prepare { .. })
    }

    /// Whether this message teaches the receiver chosen slots it has not learned.
    pub fn is_catch_up(&self) -> bool {
        matches!(self, Message::Chosen { .. } | Message::InstallSnapshot { .. })
    }
}

/// A message with its addresses.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Envelope<C, Snap> {
    pub from: NodeId,
    pub to: NodeId,
    pub message: Message<C, Snap>,
}
