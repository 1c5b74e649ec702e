//! What one step changed in each node, field by field, in memory and on disk: what the page shows after a
//! visitor chooses an event, so the effect of a delivery or a timer is read off the node instead of searched for.
//!
//! A machine the step did not touch is still the same `Rc` (the simulator copies a machine on write only), so
//! comparing before and after costs nothing for the untouched nodes.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::check::invariants::describe_value;
use crate::paxos::{Ballot, Entry, NodeId, RoleKind, SlotState};
use crate::storage::Storage;

use super::{KvNode, Machine, Sim};

/// Where a field lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Memory,
    Disk,
}

/// One field an event changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldChange {
    pub place: Place,
    pub field: String,
    pub before: String,
    pub after: String,
}

/// The fields of one node an event changed (never empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeChanges {
    pub node: NodeId,
    pub fields: Vec<FieldChange>,
}

impl Sim {
    /// What changed in each node since `before` (the machines of an earlier moment of this run, as
    /// [`Sim::machines`] gave them), nodes in id order, unchanged nodes left out.
    pub fn changes_since(&self, before: &[Rc<Machine>]) -> Vec<NodeChanges> {
        let after = self.machines();
        before
            .iter()
            .zip(after)
            .enumerate()
            .filter(|(_, (before, after))| !Rc::ptr_eq(before, after))
            .filter_map(|(index, (before, after))| {
                let mut fields = memory_changes(before.node.as_deref(), after.node.as_deref());
                fields.extend(disk_changes(before, after));
                (!fields.is_empty()).then(|| NodeChanges { node: index as NodeId + 1, fields })
            })
            .collect()
    }
}

fn change(place: Place, field: impl Into<String>, before: String, after: String) -> Option<FieldChange> {
    (before != after).then(|| FieldChange { place, field: field.into(), before, after })
}

fn ballot(ballot: Option<Ballot>) -> String {
    ballot.filter(|ballot| !ballot.is_zero()).map_or("—".into(), |ballot| ballot.to_string())
}

fn entry(entry: Option<&Entry<crate::kv::KvCommand>>, chosen: bool) -> String {
    match entry {
        None => "empty".into(),
        Some(entry) => {
            let state = if chosen || entry.chosen { "chosen" } else { "accepted" };
            format!("{state} {} in ballot {}", describe_value(&entry.value), entry.ballot)
        }
    }
}

/// The fields of a running node (its role alone, "down", when it is down).
fn memory_fields(node: Option<&KvNode>) -> Vec<(String, String)> {
    let Some(node) = node else { return vec![("role".into(), "down".into())] };
    let role = match node.role() {
        RoleKind::Leader => "leader",
        RoleKind::Follower => "follower",
        RoleKind::Candidate => "candidate",
    };
    let fields = [
        ("role", role.into()),
        ("ballot", ballot(node.own_ballot())),
        ("promise", ballot(Some(node.promised()))),
        ("leader", node.leader().map_or("—".into(), |leader| format!("node {leader}"))),
        ("first unchosen slot", node.first_unchosen().to_string()),
        ("applied up to", node.applied_upto().to_string()),
        ("clock", node.now().to_string()),
    ];
    let mut fields: Vec<(String, String)> = fields.into_iter().map(|(field, value)| (field.into(), value)).collect();
    // When it last heard from each peer: what a heartbeat changes, and what its election timer reads.
    fields.extend(node.config().members.iter().filter(|peer| **peer != node.id()).map(|peer| {
        let heard = node.last_heard(*peer).map_or("never".into(), |at| format!("at {at}"));
        (format!("heard from node {peer}"), heard)
    }));
    fields
}

fn memory_changes(before: Option<&KvNode>, after: Option<&KvNode>) -> Vec<FieldChange> {
    let (old, new) = (memory_fields(before), memory_fields(after));
    let mut changes: Vec<FieldChange> = if before.is_some() != after.is_some() {
        // Up or down: the role says it; every other field appeared or vanished with the node's memory.
        vec![change(Place::Memory, "role", old[0].1.clone(), new[0].1.clone()).expect("up and down differ")]
    } else {
        old.into_iter().zip(new).filter_map(|((field, a), (_, b))| change(Place::Memory, field, a, b)).collect()
    };
    if let (Some(before), Some(after)) = (before, after) {
        changes.extend(log_changes(before, after));
        changes.extend(store_changes(before, after));
    }
    changes
}

fn slot_text(node: &KvNode, slot: u64) -> String {
    match node.get(slot) {
        SlotState::Compacted => "in the snapshot".into(),
        SlotState::Empty => "empty".into(),
        SlotState::Accepted(e) => entry(Some(&e), false),
        SlotState::Chosen(e) => entry(Some(&e), true),
    }
}

fn log_changes(before: &KvNode, after: &KvNode) -> Vec<FieldChange> {
    let start = before.log().start().min(after.log().start());
    let end = before.log().end().max(after.log().end());
    // Compared as slot states first: only the slots that differ are written out.
    (start..end)
        .filter(|slot| before.get(*slot) != after.get(*slot))
        .filter_map(|slot| {
            change(Place::Memory, format!("slot {slot}"), slot_text(before, slot), slot_text(after, slot))
        })
        .collect()
}

/// Keys and values in quotes, written out rather than with `{:?}`, whose escaping costs the page kilobytes.
fn store_changes(before: &KvNode, after: &KvNode) -> Vec<FieldChange> {
    let (old, new) = (&before.machine().data, &after.machine().data);
    let value = |data: &BTreeMap<String, String>, key: &String| {
        data.get(key).map_or("(absent)".into(), |value| format!("\"{value}\""))
    };
    // The keys of either store, each once (the new ones after the old: no set to build).
    let keys = old.keys().chain(new.keys().filter(|key| !old.contains_key(*key)));
    keys.filter(|key| old.get(*key) != new.get(*key))
        .filter_map(|key| change(Place::Memory, format!("key \"{key}\""), value(old, key), value(new, key)))
        .collect()
}

fn disk_changes(before: &Machine, after: &Machine) -> Vec<FieldChange> {
    let (old, new) = (before.storage.durable(), after.storage.durable());
    let scalar = [
        ("promise", ballot(Some(old.promised)), ballot(Some(new.promised))),
        ("chosen up to", old.chosen_upto.to_string(), new.chosen_upto.to_string()),
        ("snapshot up to", snapshot(old), snapshot(new)),
        (
            "writes not yet durable",
            before.storage.pending().count().to_string(),
            after.storage.pending().count().to_string(),
        ),
    ];
    let mut changes: Vec<FieldChange> =
        scalar.into_iter().filter_map(|(field, a, b)| change(Place::Disk, field, a, b)).collect();
    let slots = old.entries.keys().chain(new.entries.keys().filter(|slot| !old.entries.contains_key(*slot)));
    changes.extend(slots.filter(|slot| old.entries.get(*slot) != new.entries.get(*slot)).filter_map(|slot| {
        let (a, b) = (entry(old.entries.get(slot), false), entry(new.entries.get(slot), false));
        change(Place::Disk, format!("slot {slot}"), a, b)
    }));
    changes
}

fn snapshot(durable: &crate::paxos::DurableState<crate::kv::KvCommand, crate::kv::KvStore>) -> String {
    durable.snapshot.as_ref().map_or("—".into(), |snapshot| snapshot.upto.to_string())
}
