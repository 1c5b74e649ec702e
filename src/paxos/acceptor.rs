//! The acceptor: promises (phase 1b) and acceptances (phase 2b). Its state is durable; every reply that
//! reveals it waits in `Node::send` until the write is acknowledged.

use super::node::Node;
use super::{Ballot, Bug, Entry, Event, Message, NodeId, Record, Slot, StateMachine, Value};

impl<S: StateMachine> Node<S> {
    /// Raises the promise (and records it). A higher ballot than our own ends our leadership.
    pub(super) fn raise_promise(&mut self, ballot: Ballot) {
        let promised = self.promised;
        self.invariant(ballot >= promised, "promised-never-decreases", || {
            format!("promise lowered from {promised} to {ballot}")
        });
        self.promised = ballot;
        self.records.push(Record::Promise(ballot));
        if self.own_ballot().is_some_and(|own| ballot > own) {
            self.step_down(format!("promised the higher ballot {ballot}"));
        }
    }

    /// The common first step of phases 1b and 2b: a ballot below the promise gets a nack (unless `let_below`
    /// lets it through), a higher one raises the promise, and its sender is the likely leader. Returns whether
    /// the message goes on to be handled.
    fn admit_ballot(&mut self, from: NodeId, ballot: Ballot, let_below: bool) -> bool {
        self.observe_ballot(ballot);
        if ballot < self.promised && !let_below {
            let promised = self.promised;
            self.send(from, Message::Nack { ballot, promised });
            return false;
        }
        if ballot > self.promised {
            self.raise_promise(ballot);
        }
        if from != self.config.id {
            self.leader_hint = Some(from);
        }
        true
    }

    pub(super) fn on_prepare(&mut self, from: NodeId, ballot: Ballot, first_unchosen: Slot) {
        if !self.admit_ballot(from, ballot, false) {
            return;
        }
        // Slots the prepare asks about that this node already compacted are covered by its snapshot.
        let snapshot = if first_unchosen < self.log.start() { self.snapshot.clone().map(Box::new) } else { None };
        let entries = self.log.iter_from(first_unchosen).map(|(slot, entry)| (slot, entry.clone())).collect();
        let chosen_upto = self.first_unchosen;
        self.events.push(Event::Promised { ballot, to: from });
        self.send(from, Message::Promise { ballot, entries, snapshot, chosen_upto });
    }

    pub(super) fn on_accept(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        first_slot: Slot,
        values: std::rc::Rc<[Value<S::Command>]>,
        chosen_upto: Slot,
    ) {
        // Bug::AcceptBelowPromise lets a ballot below the promise through.
        if !self.admit_ballot(from, ballot, self.bug(Bug::AcceptBelowPromise)) {
            return;
        }
        let count = values.len() as Slot;
        // Compacted slots are chosen and applied: nothing to accept there, and nothing to acknowledge.
        let first_acked = first_slot.max(self.log.start());
        for (slot, value) in (first_slot..).zip(values.iter()).filter(|(slot, _)| *slot >= first_acked) {
            self.accept_one(slot, ballot, value.clone());
        }
        self.learn_commit(ballot, chosen_upto);
        let end = first_slot + count;
        if end > first_acked {
            let chosen_upto = self.first_unchosen;
            self.send(
                from,
                Message::Accepted { ballot, first_slot: first_acked, count: end - first_acked, chosen_upto },
            );
        }
    }

    fn accept_one(&mut self, slot: Slot, ballot: Ballot, value: Value<S::Command>) {
        match self.log.get(slot) {
            Some(entry) if entry.chosen => {
                // A correct leader can only re-propose the chosen value here. The acceptance in the new ballot is
                // written like any other: the accepted message about to go out reveals it.
                let (same, newer) = (entry.value == value, ballot > entry.ballot);
                self.invariant(same, "chosen-never-changes", || {
                    format!("slot {slot} is chosen but ballot {ballot} proposes a different value")
                });
                if same && newer {
                    self.records.push(Record::Accept { slot, ballot, value });
                    self.log.get_mut(slot).expect("matched above").ballot = ballot;
                }
            }
            existing => {
                let lower = existing.is_some_and(|entry| entry.ballot > ballot);
                let promised = self.promised;
                self.invariant(!lower && ballot >= promised, "accept-at-or-above-promise", || {
                    format!("slot {slot} accepted ballot {ballot} below promise {promised}")
                });
                self.records.push(Record::Accept { slot, ballot, value: value.clone() });
                self.log.set(slot, Entry { ballot, value, chosen: false });
            }
        }
    }
}
