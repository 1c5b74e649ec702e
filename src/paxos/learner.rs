//! The learner and replica: learns which values are chosen, applies them in slot order, snapshots the state
//! machine every `snapshot_interval` slots and compacts the log below the snapshot.

use super::node::Node;
use super::{Ballot, Bug, Entry, Event, Record, Reply, Slot, Snapshot, StateMachine, Value};

impl<S: StateMachine> Node<S> {
    /// The leader of `ballot` says every slot below `chosen_upto` is chosen. A slot whose entry we accepted
    /// in that same ballot holds the leader's value, which is the chosen one; other slots wait for catch-up.
    pub(super) fn learn_commit(&mut self, ballot: Ballot, chosen_upto: Slot) {
        let end = chosen_upto.min(self.log.end());
        let mut learned = false;
        for slot in self.first_unchosen..end {
            if let Some(entry) = self.log.get_mut(slot) {
                if !entry.chosen && entry.ballot == ballot {
                    entry.chosen = true;
                    learned = true;
                    self.report_chosen(slot, ballot);
                }
            }
        }
        if learned {
            self.advance_and_apply();
        }
    }

    /// Catch-up from a leader: these slots are chosen with these values.
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
        if let Some(known) = self.log.get(slot).filter(|entry| entry.chosen) {
            let same = known.value == value;
            self.invariant(same, "chosen-never-changes", || format!("slot {slot} learned two different chosen values"));
            return;
        }
        let ballot = self.log.get(slot).map_or(ballot, |entry| entry.ballot.max(ballot));
        self.records.push(Record::Chosen { slot, ballot, value: value.clone() });
        self.log.set(slot, Entry { ballot, value, chosen: true });
        self.report_chosen(slot, ballot);
    }

    /// Moves the chosen point over every contiguous chosen slot and applies them.
    pub(super) fn advance_and_apply(&mut self) {
        while self.log.get(self.first_unchosen).is_some_and(|entry| entry.chosen) {
            self.first_unchosen += 1;
        }
        self.apply_chosen();
        self.trim_votes();
    }

    fn apply_chosen(&mut self) {
        while self.applied_upto < self.first_unchosen {
            let slot = self.applied_upto;
            let entry = self.log.get(slot).expect("every slot below first_unchosen is held and chosen");
            assert!(entry.chosen, "node {}: applying slot {slot}, which is not chosen", self.config.id);
            for request in entry.value.requests() {
                let output = self.machine.apply(request);
                // Most nodes answer no client for most slots: skip hashing when nobody waits.
                if !self.pending.is_empty() && self.pending.remove(&(request.client, request.seq)).is_some() {
                    let result = Ok((slot, output.clone()));
                    self.replies.push(Reply { client: request.client, seq: request.seq, result });
                }
                if self.config.report_applied {
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
        let snapshot = Snapshot { upto, state: self.machine.snapshot() };
        self.records.push(Record::Snapshot(snapshot.clone()));
        self.snapshot = Some(snapshot);
        self.compact_to(upto);
        self.events.push(Event::SnapshotTaken { upto });
    }

    /// A leader sent its snapshot because we lag behind its compacted log (or it came with a promise).
    pub(super) fn install_snapshot(&mut self, snapshot: Snapshot<S::Snapshot>) {
        if snapshot.upto <= self.applied_upto {
            return; // We already have all of it.
        }
        self.machine.restore(&snapshot.state);
        let upto = snapshot.upto;
        self.records.push(Record::Snapshot(snapshot.clone()));
        self.snapshot = Some(snapshot);
        self.compact_to(upto);
        self.events.push(Event::SnapshotInstalled { upto });
        self.advance_and_apply();
    }

    /// Everything below `upto` is in the snapshot now: drop it from the log.
    fn compact_to(&mut self, upto: Slot) {
        self.log.compact(upto);
        self.applied_upto = self.applied_upto.max(upto);
        self.first_unchosen = self.first_unchosen.max(upto);
        self.leader_skip_to(upto);
    }
}
