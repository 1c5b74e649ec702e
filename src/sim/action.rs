//! What a visitor (or a scenario, or a shrunk replay) can do to a running cluster. Every action is recorded
//! in the trace at the tick it happened, so (config, seed, actions) replays a session exactly.

use serde::{Deserialize, Serialize};

use crate::kv::KvCommand;
use crate::paxos::NodeId;

use super::FaultConfig;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "action")]
pub enum UserAction {
    Crash {
        node: NodeId,
    },
    Restart {
        node: NodeId,
    },
    Pause {
        node: NodeId,
    },
    Resume {
        node: NodeId,
    },
    /// Cut every link between nodes of different groups.
    Partition {
        groups: Vec<Vec<NodeId>>,
    },
    CutLink {
        from: NodeId,
        to: NodeId,
    },
    HealLink {
        from: NodeId,
        to: NodeId,
    },
    /// Heal every cut link.
    Heal,
    DropMessage {
        id: u64,
    },
    DuplicateMessage {
        id: u64,
    },
    DeliverNow {
        id: u64,
    },
    /// A visitor's client operation, sent to `target` (the simulator's visitor client).
    ClientOp {
        target: NodeId,
        command: KvCommand,
    },
    SetFaults {
        faults: FaultConfig,
    },
    /// Turns the visitor's automatic retries on or off (`visitor.rs`); they are off until this says otherwise,
    /// so runs recorded before retries existed keep their meaning. An operation already under way keeps the
    /// choice it was sent with.
    SetRetries {
        on: bool,
    },
    /// The page that runs the cluster was reloaded: every running node crashes and restarts from its disk,
    /// every message in flight is lost (as in a real network), and the visitor's request in flight gets no
    /// answer. Recorded so that a shared URL of a run that was reloaded replays it exactly.
    Reload,
    /// Starts (`on`) or stops stepping: while stepping nothing happens by itself, every event is an action
    /// (`stepping.rs`).
    Stepping {
        on: bool,
    },
    /// One tick of one node's clock (its timers), while stepping.
    TickNode {
        node: NodeId,
    },
    /// The node's oldest volatile write becomes durable and the node hears so, while stepping.
    AckWrite {
        node: NodeId,
    },
    /// Step client `client` (from 1) sends `command` to node `target`, while stepping.
    Request {
        client: u8,
        target: NodeId,
        command: KvCommand,
    },
    /// Step client `client` sends its unanswered request again, the same (client, seq), to node `target`.
    Retry {
        client: u8,
        target: NodeId,
    },
    /// A new node with the next unused id starts, and the operator asks the leader to add it (issue 20).
    AddNode,
    /// The operator asks the leader for a configuration without `node`.
    RemoveNode {
        node: NodeId,
    },
    /// A new node starts, and one configuration change swaps it for `node`.
    ReplaceNode {
        node: NodeId,
    },
}

/// An action scheduled at a tick (a scenario, a shared URL, a shrunk failing run).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledAction {
    pub tick: u64,
    pub action: UserAction,
}
