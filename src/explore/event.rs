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
