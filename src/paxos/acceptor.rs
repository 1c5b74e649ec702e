//! The acceptor: promises (phase 1b) and acceptances (phase 2b). Its state is durable; every reply that
//! reveals it waits in `Node::send` until the write is acknowledged.
//!
//! Rules a reader can check here:
//! - A promise never decreases, and nothing below it is accepted (`admit_ballot`).
//! - One ballot proposes one value per slot, so an acceptance in the ballot it already holds for a slot carries
//!   the same value (`accept-same-ballot-same-value`).
//! - A slot this node knows is chosen is never overwritten. An accept that proposes another value there comes from
//!   a leader a higher ballot has deposed, whose message was late: it is neither accepted nor acknowledged (an
//!   acknowledgement would be a vote for a value that cannot be chosen), and its sender is caught up instead.

use std::rc::Rc;

use super::node::Node;
use super::{Ballot, Bug, Entry, Event, Message, NodeId, Record, Slot, StateMachine, Value};

impl<S: StateMachine> Node<S> {
    /// Raises the promise (and records it). The door (`Node::observe`) already stepped a leader or candidate
    /// down if `ballot` is above its own.
    pub(super) fn raise_promise(&mut self, ballot: Ballot) {
        let promised = self.promised;
        self.invariant(ballot >= promised, "promised-never-decreases", || {
            format!("promise lowered from {promised} to {ballot}")
        });
        self.promised = ballot;
        self.records.push(Record::Promise(ballot));
        let own = self.own_ballot();
        self.invariant(own.is_none_or(|own| own >= ballot), "own-ballot-at-or-above-promise", || {
            format!("still in ballot {own:?} after promising {ballot}")
        });
    }

    /// The common first step of phases 1b and 2b: a ballot below the promise gets a nack (unless `let_below`
    /// lets it through), a higher one raises the promise, and its sender is the likely leader. Returns whether
    /// the message goes on to be handled.
    fn admit_ballot(&mut self, from: NodeId, ballot: Ballot, let_below: bool) -> bool {
        if ballot < self.promised && !let_below {
            let promised = self.promised;
            self.send(from, Message::Nack { ballot, promised });
            return false;
        }
        if ballot < self.promised {
            // Only a planted bug lets an accept below the promise through: at a leader (any other accept deposed it
            // at the door, or is nacked) it may overwrite proposals not yet recorded.
            self.record_unrecorded();
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
        // A promise reports the log: every acceptance in it must be in the write the promise waits for.
        self.record_unrecorded();
        if self.promise_blocked(ballot) && ballot > self.promised {
            return; // A read lease granted to another ballot still runs (`lease.rs`): no promise, no nack.
        }
        if !self.admit_ballot(from, ballot, false) {
            return;
        }
        // Slots the prepare asks about that this node already compacted are covered by its snapshot.
        let snapshot = if first_unchosen < self.log.start() { self.snapshot.clone().map(Box::new) } else { None };
        let entries = self.log.iter_from(first_unchosen).map(|(slot, entry)| (slot, entry.to_entry())).collect();
        let chosen_upto = self.first_unchosen;
        self.events.push(Event::Promised { ballot, to: from });
        self.send(from, Message::Promise { ballot, entries, snapshot, chosen_upto });
    }

    pub(super) fn on_accept(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        first_slot: Slot,
        values: Rc<[Value<S::Command>]>,
        chosen_upto: Slot,
    ) {
        // Bug::AcceptBelowPromise lets a ballot below the promise through.
        if !self.admit_ballot(from, ballot, self.bug(Bug::AcceptBelowPromise)) {
            return;
        }
        // Compacted slots are chosen and applied: nothing to accept there, and nothing to acknowledge.
        let first_held = first_slot.max(self.log.start());
        let mut leader_is_behind = first_slot < first_held;
        let mut acknowledged: Option<(Slot, Slot)> = None;
        let one_record = self.accepts_all_fresh(first_slot, &values);
        if one_record {
            let values = Rc::clone(&values);
            self.records.push(Record::AcceptRange { first_slot, ballot, values });
        }
        for (slot, value) in (first_slot..).zip(values.iter()).filter(|(slot, _)| *slot >= first_held) {
            if !self.accept_one(slot, ballot, value.clone(), !one_record) {
                leader_is_behind = true;
                self.acknowledge(from, ballot, acknowledged.take());
                continue;
            }
            acknowledged = match acknowledged {
                Some((start, end)) if end == slot => Some((start, slot + 1)),
                _ => Some((slot, slot + 1)),
            };
        }
        self.learn_commit(ballot, chosen_upto);
        self.acknowledge(from, ballot, acknowledged);
        if leader_is_behind {
            // The leader asks for votes in slots this node knows are chosen (compacted, or chosen with another
            // value): votes that will never come. Teach it what is chosen instead.
            self.catch_up(from, chosen_upto);
        }
    }

    /// Whether every slot of an accept for `first_slot..` with `values` is held and not known chosen, so that
    /// every slot is accepted as proposed and one `AcceptRange` record, sharing the message's values, stands for
    /// all of them. A single value keeps its `Accept` record: a range would keep the message's slice alive
    /// beside it for nothing.
    fn accepts_all_fresh(&self, first_slot: Slot, values: &[Value<S::Command>]) -> bool {
        values.len() > 1
            && first_slot >= self.log.start()
            && (first_slot..first_slot + values.len() as Slot)
                .all(|slot| self.log.get(slot).is_none_or(|entry| !entry.is_chosen()))
    }

    /// Sends the acceptance of slots `start..end`, if any.
    fn acknowledge(&mut self, to: NodeId, ballot: Ballot, range: Option<(Slot, Slot)>) {
        if let Some((first_slot, end)) = range {
            let chosen_upto = self.first_unchosen;
            self.send(to, Message::Accepted { ballot, first_slot, count: end - first_slot, chosen_upto });
        }
    }

    /// Accepts `value` for `slot` in `ballot`, unless the slot is known chosen with another value, and records
    /// it unless the caller already recorded the whole message (`record` is false). Returns whether the
    /// acceptance may be acknowledged.
    fn accept_one(&mut self, slot: Slot, ballot: Ballot, value: Value<S::Command>, record: bool) -> bool {
        match self.log.get(slot) {
            Some(entry) if entry.is_chosen() => {
                // `accepts_all_fresh` ruled chosen slots out of a range record: this one needs its own.
                assert!(record, "node {}: slot {slot} is chosen but was covered by a range record", self.config.id);
                if !entry.holds(&value) {
                    return false; // A deposed leader's late accept: see the module docs.
                }
                // The chosen value again, in a newer ballot: written like any other acceptance, since the accepted
                // message about to go out reveals it.
                if ballot > entry.ballot() {
                    self.records.push(Record::Accept { slot, ballot, value });
                    self.log.get_mut(slot).expect("matched above").set_ballot(ballot);
                }
                true
            }
            existing => {
                let lower = existing.is_some_and(|entry| entry.ballot() > ballot);
                let conflicting = existing.is_some_and(|entry| entry.ballot() == ballot && !entry.holds(&value));
                let promised = self.promised;
                self.invariant(!lower && ballot >= promised, "accept-at-or-above-promise", || {
                    format!("slot {slot} accepted ballot {ballot} below promise {promised}")
                });
                self.invariant(!conflicting, "accept-same-ballot-same-value", || {
                    format!("ballot {ballot} proposed two different values for slot {slot}")
                });
                if record {
                    self.records.push(Record::Accept { slot, ballot, value: value.clone() });
                }
                self.log.set(slot, Entry { ballot, value, chosen: false });
                true
            }
        }
    }
}
