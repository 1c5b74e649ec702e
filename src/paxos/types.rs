//! Identifiers, ballots and the client request envelope shared by every role.

use serde::{Deserialize, Serialize};

/// A node's id. Ids start at 1; the highest live, well-connected id leads.
pub type NodeId = u8;
/// A client's id, unique across the cluster's clients.
pub type ClientId = u64;
/// A log position: one single-decree Paxos (Synod) instance per slot. Slots start at 0.
pub type Slot = u64;

/// Largest cluster the core supports (vote sets are bit masks over node ids).
pub const NODES_MAX: usize = 63;

/// A ballot, ordered by round first and node id second, so two proposers never share one.
/// `Ballot::ZERO` is below every ballot a proposer can use.
///
/// Packed (5 bytes, alignment 1): a ballot is stored in every log entry of every replica, and without the 3 bytes
/// of padding an entry's `chosen` flag fits beside it, so an `Entry` is 24 bytes instead of 32. The fields are
/// read by value (a packed field has no reference).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(C, packed)]
pub struct Ballot {
    pub round: u32,
    pub node: NodeId,
}

impl Ord for Ballot {
    /// Round first, node second, as one integer comparison: ballots are compared per slot on the hot path.
    fn cmp(&self, other: &Ballot) -> std::cmp::Ordering {
        self.order_key().cmp(&other.order_key())
    }
}

impl PartialOrd for Ballot {
    fn partial_cmp(&self, other: &Ballot) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ballot {
    pub const ZERO: Ballot = Ballot { round: 0, node: 0 };

    pub fn new(round: u32, node: NodeId) -> Ballot {
        Ballot { round, node }
    }

    fn order_key(self) -> u64 {
        (u64::from(self.round) << 8) | u64::from(self.node)
    }

    pub fn is_zero(&self) -> bool {
        *self == Ballot::ZERO
    }
}

impl std::fmt::Display for Ballot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (round, node) = (self.round, self.node);
        write!(f, "{round}.{node}")
    }
}

/// A client's request: the command plus (client id, sequence number), which the state machine's session
/// table uses to apply a retried request at most once.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Request<C> {
    pub client: ClientId,
    pub seq: u64,
    pub command: C,
}

/// How a read is answered (issue 18). `Log`: like any command, through a slot of the log (linearizable). `Lease`:
/// by the leader from its own applied store while it holds a read lease (linearizable; see `lease.rs`), else
/// through the log. `Local`: by whichever node the client asked, from its own applied store (fast, possibly
/// stale: it is the lesson).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReadLevel {
    #[default]
    Log,
    Lease,
    Local,
}

impl ReadLevel {
    pub const ALL: [ReadLevel; 3] = [ReadLevel::Log, ReadLevel::Lease, ReadLevel::Local];

    pub fn name(self) -> &'static str {
        match self {
            ReadLevel::Log => "log",
            ReadLevel::Lease => "lease",
            ReadLevel::Local => "local",
        }
    }

    pub fn from_name(name: &str) -> Option<ReadLevel> {
        ReadLevel::ALL.into_iter().find(|level| level.name() == name)
    }
}

/// The replicated state machine a node drives. Implemented by the key-value store (`crate::kv`) and by the
/// benchmark's trivial machine.
pub trait StateMachine: Default + Clone {
    type Command: Clone + std::fmt::Debug + PartialEq;
    type Output: Clone + std::fmt::Debug + PartialEq;
    type Snapshot: Clone + std::fmt::Debug + PartialEq;

    /// Applies a chosen request. Called in slot order, once per slot, on every node.
    fn apply(&mut self, request: &Request<Self::Command>) -> Self::Output;
    /// Rejects a command before it enters the log (invalid key, value too long, …).
    fn validate(command: &Self::Command) -> Result<(), String>;
    /// The whole replicated state (data and session table) as of the last applied slot.
    fn snapshot(&self) -> Self::Snapshot;
    /// Replaces the whole replicated state with a snapshot.
    fn restore(&mut self, snapshot: &Self::Snapshot);
    /// How `command` asks to be answered: `Log` unless it is a read that may skip the log.
    fn read_level(_command: &Self::Command) -> ReadLevel {
        ReadLevel::Log
    }
    /// Answers a read from the state as it is, without applying anything (`None`: not a read).
    fn query(&self, _command: &Self::Command) -> Option<Self::Output> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballots_order_by_round_then_node() {
        assert!(Ballot::new(1, 5) < Ballot::new(2, 1));
        assert!(Ballot::new(2, 1) < Ballot::new(2, 3));
        assert!(Ballot::ZERO < Ballot::new(0, 1));
        assert_eq!(Ballot::new(4, 3).to_string(), "4.3");
        assert!(Ballot::new(u32::MAX, 1) > Ballot::new(u32::MAX - 1, u8::MAX));
        assert_eq!(Ballot::new(7, 2).cmp(&Ballot::new(7, 2)), std::cmp::Ordering::Equal);
    }
}
