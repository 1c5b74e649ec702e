//! The learner and replica: learns which values are chosen, applies them in slot order, snapshots the state
//! machine every `snapshot_interval` slots, compacts the log below the snapshot, and catches up peers that lag.
//!
//! A node learns that a slot is chosen in one of four ways, all here:
//! - **A commit point** (`learn_commit`: piggybacked on an accept, in a commit, or in a leader's heartbeat). The
//!   leader of ballot b says "every slot below c is chosen". Its commit point vouches only for slots it chose in
//!   b itself (`proposer.rs` keeps it so), so an entry this node accepted *in b* below c holds the chosen value.
//!   An entry of any other ballot proves nothing and waits for catch-up.
//! - **Catch-up** (`on_chosen`): another node sends chosen slots with their values.
//! - **A snapshot** (`install_snapshot`): another node's state machine up to a slot.
//! - **Its own votes**, when it leads (`proposer.rs`, `on_accepted`).
//!
//! A chosen value never changes: learning a different value for a slot already known chosen is a broken invariant.

use super::node::{Node, Role};
use super::{Ballot, Bug, Entry, Event, Message, NodeId, Record, Reply, Slot, Snapshot, StateMachine, Value};

impl<S: StateMachine> Node<S> {
    /// A leader's commit notice when it had no accept to carry it (a commit, or a leader's heartbeat).
    pub(super) fn on_commit(&mut self, from: NodeId, ballot: Ballot, chosen_upto: Slot) {
        if ballot >= self.promised {
            self.leader_hint = Some(from);
        }
        if ballot == self.promised {
            self.learn_commit(ballot, chosen_upto);
        }
    }

    /// The leader of `ballot` says every slot below `chosen_upto` is chosen. A slot whose entry we accepted
    /// in that same ballot holds the leader's value, which is the chosen one; other slots wait for catch-up.
    pub(super) fn learn_commit(&mut self, ballot: Ballot, chosen_upto: Slot) {
        let end = chosen_upto.min(self.log.end());
        let mut learned = false;
        for slot in self.first_unchosen..end {
            if let Some(entry) = self.log.get_mut(slot) {
                if !entry.is_chosen() && entry.ballot() == ballot {
                    entry.mark_chosen();
                    learned = true;
                    self.report_chosen(slot, ballot);
                }
            }
        }
        if learned {
            self.advance_and_apply();
        }
    }

    /// Catch-up: these slots are chosen with these values.
    pub(super) fn on_chosen(&mut self, entries: Vec<(Slot, Entry<S::Command>)>) {
        for (slot, entry) in entries {
            self.learn_chosen(slot, entry.ballot, entry.value);
        }
        self.advance_and_apply();
    }

    /// Records that `value` is chosen for `slot` (learned from another node, so it must be written).
    pub(super) fn learn_chosen(&mut self, slot: Slot, ballot: Ballot, value: Value<S::Command>) {
        if slot < self.log.start() {
            return;
        }
        if let Some(known) = self.log.get(slot).filter(|entry| entry.is_chosen()) {
            let same = known.holds(&value);
            self.invariant(same, "chosen-never-changes", || format!("slot {slot} learned two different chosen values"));
            return;
        }
        self.check_foreign_chosen(slot, &value);
        let ballot = self.log.get(slot).map_or(ballot, |entry| entry.ballot().max(ballot));
        self.records.push(Record::Chosen { slot, ballot, value: value.clone() });
        self.log.set(slot, Entry { ballot, value, chosen: true });
        self.report_chosen(slot, ballot);
    }

    /// Moves the chosen point over every contiguous chosen slot and applies them.
    pub(super) fn advance_and_apply(&mut self) {
        let was_voter = self.membership.includes_from(self.first_unchosen, self.config.id);
        let learned = self.reconfigs_learned;
        while let Some(entry) = self.log.get(self.first_unchosen).filter(|entry| entry.is_chosen()) {
            if let Some(members) = entry.reconfig() {
                self.learn_configuration(self.first_unchosen, members);
            }
            self.first_unchosen += 1;
        }
        self.apply_chosen();
        self.trim_votes();
        self.check_leader_window();
        if self.reconfigs_learned > learned || was_voter {
            self.follow_configuration(was_voter);
        }
    }

    /// A reconfiguration became part of the chosen prefix: it governs from α slots on (`membership.rs`). Its
    /// members become peers, so prepares and accepts reach them.
    fn learn_configuration(&mut self, slot: Slot, members: super::Members) {
        self.membership.record(slot, members, self.config.pipeline_window);
        self.reconfigs_learned += 1;
        for id in members.ids().filter(|id| *id != self.config.id) {
            self.peers.insert(id);
        }
        self.events.push(Event::Reconfigured { slot, from_slot: slot + self.config.pipeline_window, members });
    }

    /// After the chosen prefix moved: a leader elected before a reconfiguration it now knows campaigns again, with
    /// the new configuration's quorum (or hands over, if it is not a member), and a node that no configuration
    /// from its chosen point on includes retires.
    fn follow_configuration(&mut self, was_voter: bool) {
        let id = self.config.id;
        if let Role::Leader(leader) = &self.role {
            if leader.reconfigs_learned < self.reconfigs_learned {
                // The followers learn the reconfiguration from this commit: the next ballot's commit points will
                // not vouch for slots chosen in this one.
                let commit = Message::Commit { ballot: leader.ballot, chosen_upto: self.first_unchosen };
                self.broadcast(commit, false);
                if self.membership.latest().contains(id) {
                    self.start_phase_one();
                } else {
                    self.step_down("it is not in the new configuration".into());
                }
            }
        }
        if was_voter && !self.membership.includes_from(self.first_unchosen, id) {
            self.step_down("it was removed from the configuration".into());
            self.events.push(Event::Retired { from_slot: self.first_unchosen });
        }
    }

    fn apply_chosen(&mut self) {
        let (id, report_applied) = (self.config.id, self.config.report_applied);
        while self.applied_upto < self.first_unchosen {
            let slot = self.applied_upto;
            let entry = self.log.get(slot).expect("every slot below first_unchosen is held and chosen");
            assert!(entry.is_chosen(), "node {id}: applying slot {slot}, which is not chosen");
            for request in entry.requests() {
                let output = self.machine.apply(request);
                // Most nodes answer no client for most slots: skip hashing when nobody waits.
                if !self.pending.is_empty() && self.pending.remove(&(request.client, request.seq)).is_some() {
                    let result = Ok((slot, output.clone()));
                    self.replies.push(Reply { client: request.client, seq: request.seq, result });
                }
                if report_applied {
                    self.applied.push(super::Applied { slot, request: std::rc::Rc::clone(request), output });
                }
            }
            self.applied_upto += 1;
        }
        self.maybe_snapshot();
    }

    fn maybe_snapshot(&mut self) {
        let interval = self.config.snapshot_interval;
        if interval == 0 || self.applied_upto - self.log.start() < interval {
            return;
        }
        // Bug::SnapshotOffByOne: the snapshot claims one slot it does not contain.
        let upto = if self.bug(Bug::SnapshotOffByOne) { self.applied_upto + 1 } else { self.applied_upto };
        let mut membership = self.membership.clone();
        membership.forget_before(upto);
        let snapshot = Snapshot { upto, state: self.machine.snapshot(), membership };
        self.records.push(Record::Snapshot(Box::new(snapshot.clone())));
        self.snapshot = Some(snapshot);
        self.compact_to(upto);
        self.events.push(Event::SnapshotTaken { upto });
    }

    /// Another node sent its snapshot because we lag behind its compacted log (or it came with a promise).
    pub(super) fn install_snapshot(&mut self, snapshot: Snapshot<S::Snapshot>) {
        if snapshot.upto <= self.applied_upto {
            return; // We already have all of it.
        }
        self.check_foreign_snapshot(snapshot.upto);
        self.machine.restore(&snapshot.state);
        self.adopt_membership(&snapshot.membership);
        let upto = snapshot.upto;
        self.records.push(Record::Snapshot(Box::new(snapshot.clone())));
        self.snapshot = Some(snapshot);
        self.compact_to(upto);
        self.events.push(Event::SnapshotInstalled { upto });
        self.advance_and_apply();
    }

    /// Everything below `upto` is in the snapshot now: drop it from the log.
    /// Takes the configurations a snapshot carries (it covers every reconfiguration chosen below its end). An
    /// empty one comes from before issue 20: the initial configuration still holds.
    pub(super) fn adopt_membership(&mut self, membership: &super::Membership) {
        if membership.is_empty() || *membership == self.membership {
            return;
        }
        let known = self.membership.len() as u64;
        for (_, members) in membership.iter() {
            for id in members.ids().filter(|id| *id != self.config.id) {
                self.peers.insert(id);
            }
        }
        self.membership = membership.clone();
        // Count what was new to this node, so a leader knows to campaign again.
        self.reconfigs_learned += (self.membership.len() as u64).saturating_sub(known).max(1);
    }

    fn compact_to(&mut self, upto: Slot) {
        self.record_unrecorded();
        self.membership.forget_before(upto);
        self.log.compact(upto);
        self.applied_upto = self.applied_upto.max(upto);
        self.first_unchosen = self.first_unchosen.max(upto);
        self.leader_skip_to(upto);
    }

    // ----- Teaching others -----

    /// At each heartbeat: a leader catches up every follower still behind its chosen point of the previous
    /// heartbeat, and a follower catches up the leader it follows if that leader is behind (a leader elected
    /// behind its followers' compacted logs could otherwise wait forever for votes in slots they dropped).
    pub(super) fn catch_up_lagging_peers(&mut self) {
        let behind_point = self.chosen_at_last_heartbeat;
        self.chosen_at_last_heartbeat = self.first_unchosen;
        // After a reconfiguration a candidate catches up too, and every node catches up the node the election rule
        // prefers: that may be a new member that does not yet know it is one, so it neither campaigns nor counts the
        // old members' ballots (`membership.rs`). In a cluster whose configuration never changed every node knows
        // itself a member, and the traffic is saved.
        let changed = self.reconfigs_learned > 0;
        let leading = matches!(self.role, Role::Leader(_)) || (changed && matches!(self.role, Role::Candidate(_)));
        let leader = self.leader();
        let preferred = if changed { self.preferred_leader() } else { None };
        let lagging: Vec<(NodeId, Slot)> = self
            .peers
            .iter()
            .filter(|(id, peer)| {
                let wanted = leading || leader == Some(**id) || preferred == Some(**id);
                peer.chosen_upto < behind_point && self.is_alive(**id) && wanted
            })
            .map(|(id, peer)| (*id, peer.chosen_upto))
            .collect();
        for (node, from) in lagging {
            self.catch_up(node, from);
        }
    }

    /// Sends `node` what it lacks from slot `from` on: chosen slots, or our snapshot if `from` is below our
    /// compacted prefix. At most once per `retry_ticks` per peer, so a lagging node is not flooded.
    pub(super) fn catch_up(&mut self, node: NodeId, from: Slot) {
        let (now, retry_ticks) = (self.now, self.config.retry_ticks);
        let Some(peer) = self.peers.get_mut(&node) else { return };
        if peer.catch_up_sent.is_some_and(|sent| now - sent < retry_ticks) {
            return;
        }
        peer.catch_up_sent = Some(now);
        let ballot = self.current_ballot();
        if from < self.log.start() {
            if let Some(snapshot) = self.snapshot.clone() {
                self.send(node, Message::InstallSnapshot { ballot, snapshot: Box::new(snapshot) });
            }
            return;
        }
        // Up to the log's end, not the chosen point: a slot known chosen beyond a hole is worth telling too.
        let end = self.log.end().min(from + self.config.catch_up_max);
        let entries: Vec<_> = (from..end)
            .filter_map(|slot| {
                self.log.get(slot).filter(|entry| entry.is_chosen()).map(|entry| (slot, entry.to_entry()))
            })
            .collect();
        if !entries.is_empty() {
            self.send(node, Message::Chosen { ballot, entries });
        }
    }
}
