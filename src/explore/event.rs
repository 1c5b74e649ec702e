//! The explorer's events: every choice the world could make next, each one `UserAction` of a stepped run.

use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::paxos::NodeId;
use crate::sim::UserAction;

use super::ExploreConfig;

/// One event. Messages are named by their id in the run, so a path replays exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "event")]
pub enum Event {
    Deliver {
        id: u64,
    },
    Drop {
        id: u64,
    },
    Duplicate {
        id: u64,
    },
    /// One tick of the node's clock: its heartbeat, election and retransmission timers.
    Tick {
        node: NodeId,
    },
    /// The node's oldest volatile write becomes durable, and the node hears so.
    Ack {
        node: NodeId,
    },
    Crash {
        node: NodeId,
    },
    Restart {
        node: NodeId,
    },
    /// Step client `client` sends its request to node `target`.
    Request {
        client: u8,
        target: NodeId,
    },
    /// Step client `client` sends its unanswered request again, to node `target`.
    Retry {
        client: u8,
        target: NodeId,
    },
    /// A new node starts, and the operator asks the leader to add it (issue 20).
    AddNode,
    /// The operator asks the leader to remove `node`.
    RemoveNode {
        node: NodeId,
    },
    /// A new node starts, and the operator asks for it in `node`'s place, in one change.
    ReplaceNode {
        node: NodeId,
    },
}

impl Event {
    /// The action that makes this event happen in a stepped run.
    pub fn action(self) -> UserAction {
        match self {
            Event::Deliver { id } => UserAction::DeliverNow { id },
            Event::Drop { id } => UserAction::DropMessage { id },
            Event::Duplicate { id } => UserAction::DuplicateMessage { id },
            Event::Tick { node } => UserAction::TickNode { node },
            Event::Ack { node } => UserAction::AckWrite { node },
            Event::Crash { node } => UserAction::Crash { node },
            Event::Restart { node } => UserAction::Restart { node },
            Event::Request { client, target } => {
                UserAction::Request { client, target, command: ExploreConfig::command(client) }
            }
            Event::Retry { client, target } => UserAction::Retry { client, target },
            Event::AddNode => UserAction::AddNode,
            Event::RemoveNode { node } => UserAction::RemoveNode { node },
            Event::ReplaceNode { node } => UserAction::ReplaceNode { node },
        }
    }

    /// The event a stepped run's action is, if it is one.
    pub fn from_action(action: &UserAction) -> Option<Event> {
        Some(match *action {
            UserAction::DeliverNow { id } => Event::Deliver { id },
            UserAction::DropMessage { id } => Event::Drop { id },
            UserAction::DuplicateMessage { id } => Event::Duplicate { id },
            UserAction::TickNode { node } => Event::Tick { node },
            UserAction::AckWrite { node } => Event::Ack { node },
            UserAction::Crash { node } => Event::Crash { node },
            UserAction::Restart { node } => Event::Restart { node },
            UserAction::Request { client, target, .. } => Event::Request { client, target },
            UserAction::Retry { client, target } => Event::Retry { client, target },
            UserAction::AddNode => Event::AddNode,
            UserAction::RemoveNode { node } => Event::RemoveNode { node },
            UserAction::ReplaceNode { node } => Event::ReplaceNode { node },
            _ => return None,
        })
    }
}

/// Bits of a packed event below its kind.
const PACKED_FIELDS: u32 = 56;

impl Event {
    /// The event in one word: its kind in the top byte, its fields below (a message id, a node, a client and a
    /// node). The breadth-first search keeps one for every state it meets.
    pub(super) fn pack(self) -> u64 {
        let node_pair = |high: u8, low: NodeId| u64::from(high) << 8 | u64::from(low);
        let (kind, fields): (u64, u64) = match self {
            Event::Deliver { id } => (0, id),
            Event::Drop { id } => (1, id),
            Event::Duplicate { id } => (2, id),
            Event::Tick { node } => (3, node.into()),
            Event::Ack { node } => (4, node.into()),
            Event::Crash { node } => (5, node.into()),
            Event::Restart { node } => (6, node.into()),
            Event::Request { client, target } => (7, node_pair(client, target)),
            Event::Retry { client, target } => (8, node_pair(client, target)),
            Event::AddNode => (9, 0),
            Event::RemoveNode { node } => (10, node.into()),
            Event::ReplaceNode { node } => (11, node.into()),
        };
        assert!(fields < 1 << PACKED_FIELDS, "message ids stay below 2^56");
        kind << PACKED_FIELDS | fields
    }

    /// The event `pack` gave `word` for.
    pub(super) fn unpack(word: u64) -> Event {
        let fields = word & ((1 << PACKED_FIELDS) - 1);
        let (low, high) = (fields as u8, (fields >> 8) as u8);
        match word >> PACKED_FIELDS {
            0 => Event::Deliver { id: fields },
            1 => Event::Drop { id: fields },
            2 => Event::Duplicate { id: fields },
            3 => Event::Tick { node: low },
            4 => Event::Ack { node: low },
            5 => Event::Crash { node: low },
            6 => Event::Restart { node: low },
            7 => Event::Request { client: high, target: low },
            8 => Event::Retry { client: high, target: low },
            9 => Event::AddNode,
            10 => Event::RemoveNode { node: low },
            11 => Event::ReplaceNode { node: low },
            kind => unreachable!("no event packs to kind {kind}"),
        }
    }
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::Deliver { id } => write!(f, "deliver #{id}"),
            Event::Drop { id } => write!(f, "drop #{id}"),
            Event::Duplicate { id } => write!(f, "duplicate #{id}"),
            Event::Tick { node } => write!(f, "tick node {node}"),
            Event::Ack { node } => write!(f, "acknowledge the write of node {node}"),
            Event::Crash { node } => write!(f, "crash node {node}"),
            Event::Restart { node } => write!(f, "restart node {node}"),
            Event::Request { client, target } => {
                write!(f, "client {client} sends {} to node {target}", ExploreConfig::command(*client))
            }
            Event::Retry { client, target } => write!(f, "client {client} sends its request again, to node {target}"),
            Event::AddNode => write!(f, "add a node"),
            Event::RemoveNode { node } => write!(f, "remove node {node}"),
            Event::ReplaceNode { node } => write!(f, "replace node {node} with a new node"),
        }
    }
}

/// A hasher-independent digest of a message's content (not its id): identical copies in flight are one choice.
pub(super) fn content_digest<T: Hash>(content: &T) -> u64 {
    let mut hasher = super::hasher::Fingerprinter::default();
    content.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::Event;

    #[test]
    fn an_event_packs_into_a_word_and_back() {
        let events = [
            Event::Deliver { id: (1 << 56) - 1 },
            Event::Drop { id: 7 },
            Event::Duplicate { id: 0 },
            Event::Tick { node: 3 },
            Event::Ack { node: 255 },
            Event::Crash { node: 1 },
            Event::Restart { node: 2 },
            Event::Request { client: 2, target: 3 },
            Event::Retry { client: 255, target: 1 },
            Event::AddNode,
            Event::RemoveNode { node: 4 },
            Event::ReplaceNode { node: 1 },
        ];
        for event in events {
            assert_eq!(Event::unpack(event.pack()), event);
        }
        let kinds: std::collections::BTreeSet<u64> = events.iter().map(|event| event.pack() >> 56).collect();
        assert_eq!(kinds.len(), events.len(), "each kind its own top byte");
    }
}
