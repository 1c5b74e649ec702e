//! What a scenario says must be true at a tick (`expect TICK: …`), and how it is checked against the simulator.
//! The claim grammar (how `expect` lines read) belongs to the reader, `parse.rs`: this module only judges.

use std::collections::BTreeSet;

use crate::check::invariants::names;
use crate::paxos::{NodeId, RoleKind, SlotState, Value};
use crate::sim::Sim;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// `leader N`: node N is up and believes it leads.
    Leader(NodeId),
    /// `down N`: node N is down (killed, not restarted).
    Down(NodeId),
    /// `KEY = VALUE [on N …]` or `KEY absent [on N …]`: the applied store on the given nodes (default: every
    /// node that is up).
    Value { key: String, value: Option<String>, on: Option<Vec<NodeId>> },
    /// `slot S = noop` or `slot S = put x=1`: slot S is chosen with this value, as far as the nodes that are up
    /// know (at least one knows it, none knows another).
    Slot { slot: u64, value: String },
    /// `snapshot-installed N`: node N has installed a snapshot from the leader by now.
    SnapshotInstalled(NodeId),
    /// `violation INVARIANT`: the checker has reported this invariant broken by now.
    Violation(String),
    /// `green`: no violation so far.
    Green,
}

/// What the run has seen so far beyond the simulator's current state.
#[derive(Default)]
pub struct Seen {
    pub snapshots_installed: BTreeSet<NodeId>,
}

impl Claim {
    /// `Ok` when the claim holds now, else what was seen instead.
    pub fn check(&self, sim: &Sim, seen: &Seen) -> Result<(), String> {
        let role = |id: NodeId| match sim.node(id) {
            None => "down".to_string(),
            Some(node) if sim.machines()[id as usize - 1].paused => format!("paused ({:?})", node.role()),
            Some(node) => format!("{:?}", node.role()).to_lowercase(),
        };
        let up: Vec<NodeId> = (1..=sim.config().nodes as NodeId).filter(|id| sim.node(*id).is_some()).collect();
        match self {
            Claim::Leader(id) => match sim.node(*id) {
                Some(node) if node.role() == RoleKind::Leader => Ok(()),
                _ => {
                    let leaders: Vec<String> = up
                        .iter()
                        .filter(|id| sim.node(**id).is_some_and(|n| n.role() == RoleKind::Leader))
                        .map(|id| id.to_string())
                        .collect();
                    Err(format!("node {id} is {}; leaders now: [{}]", role(*id), leaders.join(", ")))
                }
            },
            Claim::Down(id) if sim.node(*id).is_none() => Ok(()),
            Claim::Down(id) => Err(format!("node {id} is {}", role(*id))),
            Claim::Value { key, value, on } => check_value(sim, key, value.as_ref(), on.as_ref().unwrap_or(&up)),
            Claim::Slot { slot, value } => check_slot(sim, &up, *slot, value),
            Claim::SnapshotInstalled(id) if seen.snapshots_installed.contains(id) => Ok(()),
            Claim::SnapshotInstalled(id) => Err(format!("node {id} has installed no snapshot")),
            Claim::Violation(name) => {
                if sim.violations().iter().any(|v| v.invariant == *name) {
                    Ok(())
                } else {
                    Err(format!("the checker has not reported {name}; {}", describe_violations(sim)))
                }
            }
            Claim::Green if sim.violations().is_empty() => Ok(()),
            Claim::Green => Err(describe_violations(sim)),
        }
    }
}

/// `KEY = VALUE on …` (`value` None: absent) on the nodes `on`.
fn check_value(sim: &Sim, key: &str, value: Option<&String>, on: &[NodeId]) -> Result<(), String> {
    let wrong: Vec<String> = on
        .iter()
        .filter_map(|id| {
            let node = sim.node(*id)?;
            let actual = node.machine().get(key);
            (actual != value)
                .then(|| format!("node {id} has {}", actual.map_or("it absent".into(), |v| format!("{key} = {v}"))))
        })
        .chain(on.iter().filter(|id| sim.node(**id).is_none()).map(|id| format!("node {id} is down")))
        .collect();
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("; "))
    }
}

/// `slot S = VALUE`, as far as the nodes that are up (`up`) know.
fn check_slot(sim: &Sim, up: &[NodeId], slot: u64, value: &str) -> Result<(), String> {
    let mut known = Vec::new();
    for id in up {
        if let Some(SlotState::Chosen(entry)) = sim.node(*id).map(|node| node.get(slot)) {
            let text = match &entry.value {
                Value::Noop => "noop".to_string(),
                Value::Reconfig(members) => format!("configuration {members}"),
                Value::Command(request) => request.command.to_string(),
                Value::Batch(requests) => requests.iter().map(|r| r.command.to_string()).collect::<Vec<_>>().join(", "),
            };
            known.push((*id, text));
        }
    }
    let others: Vec<String> =
        known.iter().filter(|(_, text)| text != value).map(|(id, text)| format!("node {id}: {text}")).collect();
    if known.is_empty() {
        Err(format!("no node that is up knows slot {slot} chosen"))
    } else if !others.is_empty() {
        Err(format!("slot {slot} is chosen as {}", others.join("; ")))
    } else {
        Ok(())
    }
}

/// "no violation" or the invariants reported so far.
pub fn describe_violations(sim: &Sim) -> String {
    let mut reported: Vec<&str> = sim.violations().iter().map(|v| v.invariant.as_str()).collect();
    reported.dedup();
    if reported.is_empty() {
        "no violation so far".into()
    } else {
        format!("reported so far: {}", reported.join(", "))
    }
}

/// The name `violation` claims use for a non-linearizable history.
pub const LINEARIZABLE: &str = names::LINEARIZABLE;
