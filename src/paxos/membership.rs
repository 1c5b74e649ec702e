//! Membership change through the log (issue 20): which nodes vote for which slot.
//!
//! **The design: Lamport's α-window, with α the pipeline window.** A reconfiguration is a value like any other,
//! `Value::Reconfig(members)`, chosen in some slot `j` by the configuration that governs `j`. It governs every
//! slot from `j + α` on, where α is `Config::pipeline_window`. Why this design and not the others:
//! - **A slot's configuration is fixed before anyone proposes in it.** A leader proposes in slot `s` only while
//!   `s < first_unchosen + α` (its pipeline window, `proposer.rs`), so every slot that could hold a
//!   reconfiguration for `s` (those up to `s - α`) is already chosen and known to it. No slot can be decided by
//!   two configurations: each has exactly one, and every node that knows the chosen prefix agrees on it.
//! - **A stop sign (the new configuration from `j + 1`) is not enough on its own** when leaders pipeline: a
//!   deposed leader's slot `j + 1` may be chosen by the old configuration before a later leader chooses a
//!   reconfiguration in `j`. Making it safe means never pipelining past an unchosen slot, or Stoppable Paxos's
//!   extra phase-1 rules; the window is the rule the pipeline already keeps.
//! - **Raft's joint consensus** needs two quorums on every slot during the change; here a slot needs one, and only
//!   a phase 1 whose window spans both configurations needs a quorum of each.
//! - **Any change is allowed in one step**, replacing a node included (old and new quorums may be disjoint), as
//!   the old configuration's quorum chooses it.
//!
//! The rules the other modules keep:
//! - **Phase 1** needs a quorum of every configuration governing the candidate's window
//!   `first_unchosen..first_unchosen + α`, and re-proposes reported values only inside that window; a leader that
//!   learns a reconfiguration chosen campaigns again, so it holds a quorum of the new configuration before it
//!   proposes in a slot the new one governs (`proposer.rs`).
//! - **Phase 2** counts, for slot `s`, only the votes of `s`'s configuration against its quorum.
//! - **A new node catches up first**: the leader proposes a configuration that adds nodes only once each new node
//!   has learned to within one catch-up message of the leader's chosen point.
//! - **After a change is chosen the leader fills the rest of the window with no-ops**, so the new configuration
//!   takes effect at once instead of whenever clients fill α slots; a removed node votes until then, learns that
//!   every slot its configurations govern is chosen, and retires (`Event::Retired`).
//! - **Elections happen in the newest configuration**: only its members campaign or count as "heard from" for the
//!   election rule, and a node ignores the ballots of a node that no configuration from its chosen point on
//!   includes (a removed node that missed its removal must not depose anyone; it is sent what it missed instead).
//! - **It is durable without a record of its own**: the configurations come from the chosen log and the snapshot
//!   (`Snapshot::membership`), both on disk, and a restarted node rebuilds them as it re-learns its log.

use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::{NodeId, Slot, NODES_MAX};

/// A set of node ids, as a bit mask (ids are below 64).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Members(pub u64);

impl Members {
    pub const EMPTY: Members = Members(0);

    pub fn of(ids: impl IntoIterator<Item = NodeId>) -> Members {
        Members(ids.into_iter().fold(0, |mask, id| mask | Members::bit(id)))
    }

    pub fn bit(id: NodeId) -> u64 {
        assert!((id as usize) <= NODES_MAX, "node id {id} above {NODES_MAX}");
        1 << id
    }

    pub fn contains(self, id: NodeId) -> bool {
        self.0 & Members::bit(id) != 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn with(self, id: NodeId) -> Members {
        Members(self.0 | Members::bit(id))
    }

    pub fn without(self, id: NodeId) -> Members {
        Members(self.0 & !Members::bit(id))
    }

    /// The ids, in increasing order.
    pub fn ids(self) -> impl Iterator<Item = NodeId> {
        (1..=NODES_MAX as NodeId).filter(move |id| self.contains(*id))
    }

    /// How many of `voters` (a bit mask) are members.
    pub fn count(self, voters: u64) -> usize {
        (self.0 & voters).count_ones() as usize
    }

    /// A majority of the members; under the planted bug `minority-quorum`, half (two quorums need not meet).
    pub fn quorum(self, minority: bool) -> usize {
        if minority {
            (self.len() / 2).max(1)
        } else {
            self.len() / 2 + 1
        }
    }

    /// Whether `voters` (a bit mask) hold a quorum of the members.
    pub fn has_quorum(self, voters: u64, minority: bool) -> bool {
        self.count(voters) >= self.quorum(minority)
    }

    /// Checks a proposed configuration.
    pub fn validate(self) -> Result<(), String> {
        if self.0 & 1 != 0 {
            return Err("node ids start at 1".into());
        }
        if self.is_empty() || self.len() > NODES_MAX {
            return Err(format!("a configuration has 1 to {NODES_MAX} members, not {}", self.len()));
        }
        Ok(())
    }
}

impl std::fmt::Display for Members {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("{")?;
        for (index, id) in self.ids().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{id}")?;
        }
        f.write_str("}")
    }
}

/// Every configuration from some slot on: `(first slot it governs, members)`, sorted by slot. The first entry
/// governs every slot before the second. Empty (as in a snapshot written before issue 20): the node's initial
/// configuration governs every slot.
///
/// Shared copy-on-write (`Rc::make_mut` on a change), as `KvStore`'s maps are: a node, each of its snapshots and
/// each write batch that carries one hold a membership, and it changes only when a reconfiguration is learned or
/// compacted away, so a copy of any of them (the model checker copies a node for every state it computes) costs a
/// count, not an allocation. Serialised as the vector it holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Membership(Rc<Vec<(Slot, Members)>>);

impl Membership {
    pub fn initial(members: Members) -> Membership {
        Membership(Rc::new(vec![(0, members)]))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The configuration that governs `slot`.
    pub fn at(&self, slot: Slot) -> Members {
        self.span(slot).0
    }

    /// The configuration that governs `slot`, and the first slot after it that another one governs (`Slot::MAX`
    /// if none is known): a leader counting the votes of a run of slots looks the configuration up once.
    pub fn span(&self, slot: Slot) -> (Members, Slot) {
        let index = self.0.partition_point(|(from, _)| *from <= slot);
        assert!(index > 0, "no configuration governs slot {slot}: {self:?}");
        (self.0[index - 1].1, self.0.get(index).map_or(Slot::MAX, |(from, _)| *from))
    }

    /// The newest configuration known: elections happen in it.
    pub fn latest(&self) -> Members {
        self.0.last().expect("a membership always holds a configuration").1
    }

    /// The first slot the newest configuration governs.
    pub fn latest_from(&self) -> Slot {
        self.0.last().expect("a membership always holds a configuration").0
    }

    /// Every configuration that governs a slot in `from..to`, oldest first.
    pub fn governing(&self, from: Slot, to: Slot) -> impl Iterator<Item = Members> + '_ {
        let first = self.0.partition_point(|(start, _)| *start <= from).saturating_sub(1);
        self.0[first..].iter().take_while(move |(start, _)| *start < to.max(from + 1)).map(|(_, members)| *members)
    }

    /// The first slot after `slot` where the configuration changes, if a change is known.
    pub fn next_change_after(&self, slot: Slot) -> Option<Slot> {
        self.0.iter().map(|(start, _)| *start).find(|start| *start > slot)
    }

    /// Whether `id` votes in any slot from `slot` on.
    #[inline]
    pub fn includes_from(&self, slot: Slot, id: NodeId) -> bool {
        // The newest configuration governs every slot from its start on, so it is among those governing from any
        // `slot`: checking it first answers the common case (every member, on every message and every advance of
        // the chosen point) without a search.
        self.latest().contains(id) || self.governing(slot, Slot::MAX).any(|members| members.contains(id))
    }

    /// A reconfiguration chosen in slot `slot` takes effect `alpha` slots later.
    pub fn record(&mut self, slot: Slot, members: Members, alpha: u64) {
        let from = slot + alpha;
        let last = self.0.last().map_or(0, |(start, _)| *start);
        assert!(from > last, "configuration for slot {from} learned after one for slot {last}");
        Rc::make_mut(&mut self.0).push((from, members));
    }

    /// Appends a configuration read from storage, refusing one out of order.
    pub fn push_checked(&mut self, from: Slot, members: Members) -> Result<(), String> {
        if self.0.last().is_some_and(|(last, _)| *last >= from) {
            return Err(format!("configurations out of order at slot {from}"));
        }
        Rc::make_mut(&mut self.0).push((from, members));
        Ok(())
    }

    /// Drops configurations that govern no slot from `slot` on (after compaction).
    pub fn forget_before(&mut self, slot: Slot) {
        let keep_from = self.0.partition_point(|(start, _)| *start <= slot).saturating_sub(1);
        if keep_from > 0 {
            // Written only when something goes: a compaction usually drops none, and a write copies a shared vector.
            Rc::make_mut(&mut self.0).drain(..keep_from);
        }
    }

    /// How many configurations are known (the current one included).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (Slot, Members)> + '_ {
        self.0.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reconfiguration_governs_from_alpha_slots_after_its_own() {
        let mut membership = Membership::initial(Members::of([1, 2, 3]));
        membership.record(10, Members::of([1, 2, 3, 4]), 4);
        assert_eq!(membership.at(13), Members::of([1, 2, 3]));
        assert_eq!(membership.at(14), Members::of([1, 2, 3, 4]));
        assert_eq!(membership.span(13), (Members::of([1, 2, 3]), 14));
        assert_eq!(membership.span(14), (Members::of([1, 2, 3, 4]), Slot::MAX));
        assert_eq!(membership.latest(), Members::of([1, 2, 3, 4]));
        assert_eq!(membership.governing(11, 15).count(), 2);
        assert_eq!(membership.governing(14, 15).count(), 1);
        assert_eq!(membership.governing(0, 14).count(), 1);
        assert_eq!(membership.next_change_after(12), Some(14));
        assert!(membership.includes_from(20, 4) && !membership.includes_from(0, 5));
        membership.forget_before(20);
        assert_eq!(membership.len(), 1);
        assert_eq!(membership.at(20), Members::of([1, 2, 3, 4]));
    }

    #[test]
    fn members_count_quorums_and_print_in_order() {
        let members = Members::of([3, 1, 2]);
        assert_eq!(members.to_string(), "{1, 2, 3}");
        assert_eq!(members.quorum(false), 2);
        assert_eq!(members.quorum(true), 1);
        assert!(members.has_quorum(Members::of([1, 5, 3]).0, false));
        assert!(!members.has_quorum(Members::of([1, 5]).0, false));
        assert_eq!(members.without(2).with(4), Members::of([1, 3, 4]));
        assert!(Members::of([0]).validate().is_err() && Members::EMPTY.validate().is_err());
    }
}
