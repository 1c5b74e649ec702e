//! The proposer: phase 1 once for all slots from the first unchosen one, adopting reported values and filling
//! holes with no-ops; then phase 2 for client commands, pipelined (a window of outstanding slots) and batched
//! (one accept message per follower per step, and optionally several requests per slot).
//!
//! The candidate's and the leader's state live here with their handlers. Rules a reader can check here:
//! - **A node never sends in a ballot it may have used before a crash.** A candidate promises its own ballot
//!   before anything else, and its prepare waits in `Node::send` until that promise is durable; after a crash the
//!   node recovers at least that promise and campaigns above it (`start_phase_one`).
//! - **A commit point vouches only for slots the sender chose in that same ballot.** Followers take a leader's
//!   commit point in ballot b to mean "every entry you accepted in b below it holds the chosen value"
//!   (`learner.rs`). So a leader's chosen point must never pass a slot whose value it did not propose in its own
//!   ballot: a leader that learns from another node that a slot is chosen with a value it did not propose there,
//!   or a snapshot it cannot compare with its proposals, steps down first (`check_foreign_chosen`,
//!   `check_foreign_snapshot`). A different chosen value can only come from a higher ballot, so the leader is
//!   deposed anyway; it runs phase 1 again from the new chosen point.
//! - A leader's chosen point never passes its next slot, and its vote counts cover exactly the slots it proposed
//!   and does not yet know chosen (`check_leader_window`).

use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;
use std::rc::Rc;

use super::node::{extend_chosen_events, Node, Role};
use super::{
    Ballot, Bug, Entry, Event, Members, Message, NodeId, ProposeOutcome, Record, Rejection, Request, Slot, Snapshot,
    StateMachine, Value,
};

/// A node running phase 1.
#[derive(Clone, Debug)]
pub(super) struct CandidateState<C> {
    pub ballot: Ballot,
    pub promised_by: u64,
    /// Per slot, the accepted entry with the highest ballot reported so far.
    pub adopted: BTreeMap<Slot, Entry<C>>,
    pub sent_tick: u64,
}

/// A node that won phase 1 and proposes in its ballot.
#[derive(Clone, Debug)]
pub(super) struct LeaderState<C> {
    pub ballot: Ballot,
    /// The next slot to propose into.
    pub next_slot: Slot,
    /// Vote bit masks (by node id) for slots `votes_start..next_slot`.
    pub votes_start: Slot,
    pub votes: VecDeque<u64>,
    /// Slots `unsent_from..next_slot` were proposed but not yet sent to the followers.
    pub unsent_from: Slot,
    /// Unsent slots whose own acceptance is not recorded yet (`propose_unrecorded`): always empty between steps.
    pub unrecorded: Range<Slot>,
    pub last_progress_tick: u64,
    /// The highest commit point sent to the followers (on an accept or a commit).
    pub commit_sent: Slot,
    /// The end of the slots phase 1 re-proposed: lease reads wait until every slot below it is applied.
    pub reads_from: Slot,
    /// Values phase 1 adopted for slots beyond the window, re-proposed (holes as no-ops) as the window reaches
    /// them, below `reads_from`: a slot's configuration is known only inside the window (`membership.rs`).
    pub deferred: BTreeMap<Slot, Value<C>>,
    /// How many reconfigurations this node had learned when it won phase 1: one more, and it campaigns again.
    pub reconfigs_learned: u64,
    /// A configuration a client asked for, waiting for its new members to catch up.
    pub pending_reconfig: Option<Members>,
}

impl<C> LeaderState<C> {
    /// Empties `unrecorded` (at its end, where the next request's slot joins it) and returns what it held.
    fn take_unrecorded(&mut self) -> Range<Slot> {
        let end = self.unrecorded.end;
        std::mem::replace(&mut self.unrecorded, end..end)
    }
}

impl<S: StateMachine> Node<S> {
    // ----- Client requests -----

    pub(super) fn accept_client_request(&mut self, request: Request<S::Command>) -> ProposeOutcome {
        if let Err(reason) = S::validate(&request.command) {
            return self.reject(&request, Rejection::Invalid(reason));
        }
        if let Some(slot) = self.answer_read_locally(&request) {
            return ProposeOutcome::ReadLocally { slot };
        }
        let key = (request.client, request.seq);
        match self.role {
            Role::Follower => match self.leader() {
                Some(leader) => {
                    self.pending.insert(key, self.now);
                    let ballot = self.current_ballot();
                    self.send(leader, Message::Forward { ballot, request: Box::new(request) });
                    ProposeOutcome::Forwarded { to: leader }
                }
                None => self.reject(&request, Rejection::NotLeader { hint: None }),
            },
            Role::Candidate(_) | Role::Leader(_) => {
                if self.queue.len() >= self.config.queue_max && !self.can_propose_now() {
                    return self.reject(&request, Rejection::Overloaded);
                }
                self.pending.insert(key, self.now);
                self.enqueue(request).expect("room was checked")
            }
        }
    }

    /// A follower passed a client request on. The follower answers the client, so nothing is owed back.
    pub(super) fn on_forward(&mut self, request: Request<S::Command>) {
        if matches!(self.role, Role::Follower) || S::validate(&request.command).is_err() {
            return; // Not (or no longer) leading: the client times out and retries elsewhere.
        }
        let _ = self.enqueue(request);
    }

    /// Whether a request would get a slot at once rather than wait in the queue.
    fn can_propose_now(&self) -> bool {
        match &self.role {
            Role::Leader(leader) => {
                self.config.batch_max == 1
                    && self.queue.is_empty()
                    && leader.next_slot >= leader.reads_from
                    && self.window_has_room(leader.next_slot)
            }
            _ => false,
        }
    }

    /// Proposes at once when a slot is free and requests are not batched per slot; otherwise queues.
    fn enqueue(&mut self, request: Request<S::Command>) -> Result<ProposeOutcome, Rejection> {
        if self.can_propose_now() {
            let slot = self.propose_unrecorded(Value::command(request));
            return Ok(ProposeOutcome::Proposed { slot });
        }
        if self.queue.len() >= self.config.queue_max {
            return Err(Rejection::Overloaded);
        }
        self.queue.push_back(request);
        Ok(ProposeOutcome::Queued)
    }

    /// A leader's chosen point never passes its next slot (`check_leader_window`), so this cannot underflow.
    fn window_has_room(&self, next_slot: Slot) -> bool {
        next_slot - self.first_unchosen < self.config.pipeline_window
    }

    // ----- Phase 1 -----

    /// Campaigns with a ballot above every ballot this node has seen or promised. The node promises its own ballot
    /// first: the prepares wait in `Node::send` until that promise is durable, so a crash can never make this node
    /// forget the ballot and campaign with it again.
    pub(super) fn start_phase_one(&mut self) {
        self.record_unrecorded();
        let round = self.max_ballot_seen.round.max(self.promised.round) + 1;
        let ballot = Ballot::new(round, self.config.id);
        self.max_ballot_seen = ballot;
        self.role =
            Role::Candidate(CandidateState { ballot, promised_by: 0, adopted: BTreeMap::new(), sent_tick: self.now });
        self.raise_promise(ballot);
        self.events.push(Event::PhaseOneStarted { ballot });
        let first_unchosen = self.first_unchosen;
        self.broadcast(Message::Prepare { ballot, first_unchosen }, true);
    }

    pub(super) fn on_promise(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        entries: Vec<(Slot, Entry<S::Command>)>,
        snapshot: Option<Snapshot<S::Snapshot>>,
    ) {
        match &mut self.role {
            Role::Candidate(candidate)
                if candidate.ballot == ballot && candidate.promised_by & Members::bit(from) == 0 =>
            {
                candidate.promised_by |= Members::bit(from);
            }
            _ => return, // Stale, duplicated, or not campaigning any more.
        }
        if let Some(snapshot) = snapshot {
            self.install_snapshot(snapshot);
        }
        let learned = self.adopt_reported(entries);
        for (slot, entry) in learned {
            self.learn_chosen(slot, entry.ballot, entry.value);
        }
        self.advance_and_apply();
        let promised_by = match &self.role {
            Role::Candidate(candidate) => candidate.promised_by,
            _ => return,
        };
        if self.phase_one_won(promised_by) {
            self.become_leader();
        }
    }

    /// Phase 1 needs a quorum of every configuration that governs a slot of the window, where the leader will
    /// propose (`membership.rs`).
    fn phase_one_won(&self, promised_by: u64) -> bool {
        let minority = self.bug(Bug::MinorityQuorum);
        let window_end = self.first_unchosen + self.config.pipeline_window;
        self.membership
            .governing(self.first_unchosen, window_end)
            .all(|members| members.has_quorum(promised_by, minority))
    }

    /// Keeps, per slot, the reported entry with the highest ballot; returns the entries reported as chosen.
    fn adopt_reported(&mut self, entries: Vec<(Slot, Entry<S::Command>)>) -> Vec<(Slot, Entry<S::Command>)> {
        let adopt_lowest = self.bug(Bug::AdoptLowestBallot);
        let Role::Candidate(candidate) = &mut self.role else { return Vec::new() };
        let mut learned = Vec::new();
        for (slot, entry) in entries {
            if entry.chosen {
                learned.push((slot, entry));
                continue;
            }
            match candidate.adopted.get(&slot) {
                // Bug::AdoptLowestBallot flips the comparison that makes Paxos safe.
                Some(previous) if adopt_lowest && entry.ballot >= previous.ballot => {}
                Some(previous) if !adopt_lowest && entry.ballot <= previous.ballot => {}
                _ => {
                    candidate.adopted.insert(slot, entry);
                }
            }
        }
        learned
    }

    /// Phase 1 succeeded: re-propose, in our ballot, every slot from the first unchosen one up to the highest
    /// slot anyone reported: the highest-ballot value reported, or a no-op for a hole.
    fn become_leader(&mut self) {
        let Role::Candidate(candidate) = std::mem::replace(&mut self.role, Role::Follower) else {
            unreachable!("become_leader without a candidacy")
        };
        let ballot = candidate.ballot;
        let first_slot = self.first_unchosen;
        let reported_end = candidate.adopted.keys().next_back().map_or(0, |slot| slot + 1);
        let end = reported_end.max(self.log.end()).max(first_slot);
        let window_end = end.min(first_slot + self.config.pipeline_window);
        let ignore_reports = self.bug(Bug::IgnoreAcceptedInPhase1);
        let mut adopted = candidate.adopted;
        let deferred = adopted.split_off(&window_end);
        self.role = Role::Leader(LeaderState {
            ballot,
            next_slot: first_slot,
            votes_start: first_slot,
            votes: VecDeque::new(),
            unsent_from: first_slot,
            unrecorded: first_slot..first_slot,
            last_progress_tick: self.now,
            commit_sent: 0,
            reads_from: end,
            deferred: if ignore_reports {
                BTreeMap::new()
            } else {
                deferred.into_iter().map(|(slot, entry)| (slot, entry.value)).collect()
            },
            reconfigs_learned: self.reconfigs_learned,
            pending_reconfig: None,
        });
        self.leader_hint = Some(self.config.id);
        let (mut noops, mut reproposed) = (0, 0);
        for slot in first_slot..window_end {
            let value = match self.log.get(slot) {
                Some(entry) if entry.is_chosen() => entry.value(),
                // Bug::IgnoreAcceptedInPhase1: every slot not known chosen becomes a no-op.
                _ if ignore_reports => Value::Noop,
                _ => adopted.remove(&slot).map_or(Value::Noop, |entry| entry.value),
            };
            if value.is_noop() {
                noops += 1;
            } else {
                reproposed += 1;
            }
            self.propose_next(value);
        }
        self.events.push(Event::BecameLeader { ballot, first_slot, noops, reproposed });
    }

    // ----- Phase 2 -----

    /// Puts `value` in the next slot: accept it ourselves (a durable record) and queue it for the followers.
    fn propose_next(&mut self, value: Value<S::Command>) -> Slot {
        // Records go out in slot order: slots proposed before this one first.
        self.record_unrecorded();
        self.place_proposal(value, true)
    }

    /// `propose_next` for a client request that gets a slot at once (`enqueue`), without its record: the
    /// leader's own acceptance is recorded when the slot is sent (`flush_proposals`), as one `AcceptRange` with
    /// the other slots sent then, sharing their values with the followers' accept. That saves a record per slot
    /// that was only replaced by the range. Until then nothing may reveal or overwrite the slot, so whatever
    /// could records it first (`record_unrecorded`): a promise (`on_prepare`), an accept or a chosen value written
    /// into the log (`admit_ballot`, `check_foreign_chosen`), compaction (`compact_to`), and the end of this
    /// leadership, which alone knows the slot is unrecorded (`step_down`, `start_phase_one`); a tick too, so a
    /// proposal is recorded within the step that made it even before its accept is sent. A vote (`on_accepted`)
    /// touches none of these slots: it counts only slots already sent.
    fn propose_unrecorded(&mut self, value: Value<S::Command>) -> Slot {
        let Role::Leader(leader) = &self.role else { unreachable!("proposing without leading") };
        let slot = leader.next_slot;
        if leader.unrecorded.end != slot {
            // Not next to the unrecorded slots (a chosen slot in between): they are recorded on their own.
            self.record_unrecorded();
            let Role::Leader(leader) = &mut self.role else { unreachable!("still leading") };
            leader.unrecorded = slot..slot;
        }
        self.place_proposal(value, false)
    }

    /// Takes the next slot for `value`. A slot already known chosen needs no acceptance; otherwise the
    /// acceptance is recorded now (`record`) or left to `flush_proposals` (added to `unrecorded`).
    fn place_proposal(&mut self, value: Value<S::Command>, record: bool) -> Slot {
        let Role::Leader(leader) = &mut self.role else { unreachable!("proposing without leading") };
        let (slot, ballot) = (leader.next_slot, leader.ballot);
        assert_eq!(slot, leader.votes_start + leader.votes.len() as Slot, "vote window out of step");
        leader.next_slot += 1;
        leader.votes.push_back(0);
        let chosen = self.log.get(slot).is_some_and(|entry| entry.is_chosen());
        if !chosen && !record {
            leader.unrecorded.end = slot + 1;
        }
        let promised = self.promised;
        self.invariant(promised == ballot, "leader-holds-its-promise", || {
            format!("leading in ballot {ballot} while promised {promised}")
        });
        if !chosen && record {
            self.records.push(Record::Accept { slot, ballot, value: value.clone() });
        }
        self.log.set(slot, Entry { ballot, value, chosen });
        slot
    }

    /// Records, slot by slot, the acceptances `propose_unrecorded` left for `flush_proposals`. Called before
    /// anything that could reveal those slots (a promise), overwrite or compact them, or end the leadership that
    /// knows they are unrecorded. Inlined, with the work out of line: every tick and every slot learned from
    /// another node passes here, and there is nothing to do but on a leader between proposing and sending.
    #[inline]
    pub(super) fn record_unrecorded(&mut self) {
        if self.holds_unrecorded() {
            self.record_unrecorded_slots();
        }
    }

    /// Whether this node leads and proposed slots whose own acceptance is not recorded yet.
    pub(super) fn holds_unrecorded(&self) -> bool {
        matches!(&self.role, Role::Leader(leader) if !leader.unrecorded.is_empty())
    }

    #[cold]
    fn record_unrecorded_slots(&mut self) {
        let Role::Leader(leader) = &mut self.role else { return };
        let ballot = leader.ballot;
        for slot in leader.take_unrecorded() {
            let entry = self.log.get(slot).filter(|entry| entry.ballot() == ballot);
            let value = entry.expect("an unrecorded proposal stays in the log until recorded").value();
            self.records.push(Record::Accept { slot, ballot, value });
        }
    }

    /// Moves queued requests into free slots and sends one accept per follower for every new slot, plus our
    /// own acceptance (released once our records are durable).
    pub(super) fn flush_proposals(&mut self) {
        let Role::Leader(leader) = &self.role else { return };
        let next_slot = leader.next_slot;
        let next_slot = self.repropose_deferred(next_slot);
        let next_slot = self.propose_reconfig_when_ready(next_slot);
        let mut next_slot = next_slot;
        while !self.queue.is_empty() && self.window_has_room(next_slot) {
            let take = self.queue.len().min(self.config.batch_max);
            let value = if take == 1 {
                Value::command(self.queue.pop_front().expect("non-empty"))
            } else {
                Value::Batch(std::rc::Rc::new(self.queue.drain(..take).map(std::rc::Rc::new).collect()))
            };
            next_slot = self.propose_next(value) + 1;
        }
        self.pad_to_newest_configuration(next_slot);
        let first_unchosen = self.first_unchosen;
        let Role::Leader(leader) = &mut self.role else { return };
        let (ballot, first_slot, end) = (leader.ballot, leader.unsent_from, leader.next_slot);
        if first_slot == end {
            // Nothing to piggyback the commit point on. If nothing is outstanding either, no accept will
            // come to carry it soon: tell the followers now rather than at the next heartbeat.
            if first_unchosen == end && first_unchosen > leader.commit_sent {
                leader.commit_sent = first_unchosen;
                self.broadcast(Message::Commit { ballot, chosen_upto: first_unchosen }, false);
            }
            return;
        }
        leader.unsent_from = end;
        leader.commit_sent = leader.commit_sent.max(first_unchosen);
        let unrecorded_are_sent = leader.unrecorded == (first_slot..end);
        let values = self.send_accepts(ballot, first_slot, end);
        if unrecorded_are_sent {
            self.record_sent_acceptances(ballot, first_slot, values);
        } else {
            self.record_unrecorded();
            self.record_own_acceptances_as_one(ballot, first_slot, values);
        }
        self.send(self.config.id, Message::Accepted { ballot, first_slot, count: end - first_slot, chosen_upto: 0 });
    }

    /// Records the acceptance of every slot just sent, none of which is recorded yet: one `AcceptRange` sharing the
    /// values sent to the followers, or a plain `Accept` for a single slot, as `propose_next` would have written.
    fn record_sent_acceptances(&mut self, ballot: Ballot, first_slot: Slot, values: Rc<[Value<S::Command>]>) {
        let Role::Leader(leader) = &mut self.role else { unreachable!("sending accepts without leading") };
        leader.take_unrecorded();
        let record = match &values[..] {
            [value] => Record::Accept { slot: first_slot, ballot, value: value.clone() },
            _ => Record::AcceptRange { first_slot, ballot, values },
        };
        self.records.push(record);
    }

    /// `propose_next` recorded the leader's own acceptance slot by slot. When those records are still the last
    /// ones of the batch being built, in slot order, they become one `AcceptRange` sharing the values just sent to
    /// the followers: the same acceptances in the same batch, without a 40-byte record per slot in storage.
    fn record_own_acceptances_as_one(&mut self, ballot: Ballot, first_slot: Slot, values: Rc<[Value<S::Command>]>) {
        let count = values.len();
        let Some(tail_start) = self.records.len().checked_sub(count).filter(|_| count > 1) else { return };
        let recorded_each =
            (first_slot..).zip(values.iter()).zip(&self.records[tail_start..]).all(|((slot, value), record)| {
                matches!(record, Record::Accept { slot: at, ballot: by, value: recorded }
                    if *at == slot && *by == ballot && recorded == value)
            });
        if recorded_each {
            self.records.truncate(tail_start);
            self.records.push(Record::AcceptRange { first_slot, ballot, values });
        }
    }

    /// Re-proposes what phase 1 found beyond the window, as the window reaches it: the adopted value, or a no-op
    /// for a hole. Returns the next slot.
    fn repropose_deferred(&mut self, mut next_slot: Slot) -> Slot {
        loop {
            let room = self.window_has_room(next_slot);
            let Role::Leader(leader) = &mut self.role else { return next_slot };
            if next_slot >= leader.reads_from || !room {
                return next_slot;
            }
            let value = match self.log.get(next_slot) {
                Some(entry) if entry.is_chosen() => entry.value(),
                _ => leader.deferred.remove(&next_slot).unwrap_or(Value::Noop),
            };
            next_slot = self.propose_next(value) + 1;
        }
    }

    /// Once a configuration change has been chosen, fills the slots the older configurations still govern with
    /// no-ops when no request is waiting, so the newest one takes effect now, not after α more requests
    /// (`membership.rs`). It pads up to the *newest* change, not the next one: two changes can be chosen α slots
    /// apart or closer (a deposed leader's proposal re-proposed by its successor, after the successor's own), and
    /// a leader that stopped at the first would leave the second pending with nothing to fill its slots.
    fn pad_to_newest_configuration(&mut self, mut next_slot: Slot) {
        let newest = self.membership.latest_from();
        while self.queue.is_empty() && next_slot < newest && self.window_has_room(next_slot) {
            next_slot = self.propose_next(Value::Noop) + 1;
        }
    }

    // ----- Reconfiguration -----

    /// A client (an operator) asks for a new configuration. Only the leader takes it, one change at a time; it is
    /// proposed once every new member has caught up (`membership.rs`).
    pub fn reconfigure(&mut self, members: Members) -> Result<(), Rejection> {
        members.validate().map_err(Rejection::Invalid)?;
        if !matches!(self.role, Role::Leader(_)) {
            return Err(Rejection::NotLeader { hint: self.leader() });
        }
        if self.reconfig_under_way() {
            return Err(Rejection::Invalid("another configuration change is under way".into()));
        }
        if members == self.membership.latest() {
            return Err(Rejection::Invalid(format!("the configuration is already {members}")));
        }
        for joiner in members.ids() {
            self.peers.insert(joiner);
        }
        let Role::Leader(leader) = &mut self.role else { unreachable!("checked above") };
        leader.pending_reconfig = Some(members);
        Ok(())
    }

    /// Whether a change was asked for, proposed, or chosen but not yet in effect.
    pub fn reconfig_under_way(&self) -> bool {
        let Role::Leader(leader) = &self.role else { return false };
        let proposed = (self.first_unchosen..leader.next_slot)
            .any(|slot| self.log.get(slot).is_some_and(|entry| entry.reconfig().is_some()));
        leader.pending_reconfig.is_some()
            || proposed
            || self.membership.next_change_after(self.first_unchosen).is_some()
    }

    /// Proposes the pending configuration once each new member has learned to within one catch-up message of this
    /// leader's chosen point: a member that counts in a quorum must be able to vote at once.
    fn propose_reconfig_when_ready(&mut self, next_slot: Slot) -> Slot {
        let Role::Leader(leader) = &self.role else { return next_slot };
        let Some(members) = leader.pending_reconfig else { return next_slot };
        let current = self.membership.latest();
        let near = self.first_unchosen.saturating_sub(self.config.catch_up_max);
        let caught_up = members
            .ids()
            .filter(|id| !current.contains(*id) && *id != self.config.id)
            .all(|id| self.peers.get(&id).is_some_and(|peer| peer.chosen_upto >= near && peer.last_heard.is_some()));
        if !caught_up || next_slot < leader.reads_from || !self.window_has_room(next_slot) {
            return next_slot;
        }
        let Role::Leader(leader) = &mut self.role else { unreachable!("checked above") };
        leader.pending_reconfig = None;
        self.propose_next(Value::Reconfig(members)) + 1
    }

    /// Sends the leader's values for `first_slot..end` to every follower; returns them.
    fn send_accepts(&mut self, ballot: Ballot, first_slot: Slot, end: Slot) -> Rc<[Value<S::Command>]> {
        let values: Rc<[Value<S::Command>]> = (first_slot..end)
            .map(|slot| self.log.get(slot).expect("a leader holds every slot it proposed").value())
            .collect();
        let chosen_upto = self.first_unchosen;
        for index in 0..self.peers.len() {
            let accept = Message::Accept { ballot, first_slot, values: Rc::clone(&values), chosen_upto };
            self.send(self.peers.id_at(index), accept);
        }
        values
    }

    pub(super) fn on_accepted(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        first_slot: Slot,
        count: u64,
        chosen_upto: Slot,
    ) {
        if let Some(peer) = self.peers.get_mut(&from) {
            peer.chosen_upto = chosen_upto;
        }
        let proposed_change = if self.bug(Bug::ReconfigWithoutOverlap) { self.proposed_reconfig() } else { None };
        let Role::Leader(leader) = &mut self.role else { return };
        if leader.ballot != ballot {
            return;
        }
        let start = first_slot.max(leader.votes_start);
        let end = (first_slot + count).min(leader.next_slot);
        let minority = self.config.bugs.contains(Bug::MinorityQuorum);
        let from_bit = Members::bit(from);
        // The configuration of the slots being counted, with its quorum and the first slot it no longer governs.
        let (mut members, mut quorum, mut governs_until) = (Members::EMPTY, 0, start);
        // Marks slots chosen as their votes reach a quorum, in the same pass (no list of them per message).
        let (mut quorum_reached, mut learned) = (false, false);
        for slot in start..end {
            // Each slot counts the votes of its own configuration (`membership.rs`); Bug::ReconfigWithoutOverlap
            // counts with the configuration it proposed from that slot on.
            match proposed_change {
                Some((change_slot, proposed)) if slot >= change_slot => {
                    (members, quorum, governs_until) = (proposed, proposed.quorum(minority), Slot::MAX)
                }
                _ if slot >= governs_until => {
                    (members, governs_until) = self.membership.span(slot);
                    quorum = members.quorum(minority);
                }
                _ => {}
            }
            let votes = &mut leader.votes[(slot - leader.votes_start) as usize];
            if *votes & from_bit != 0 || members.0 & from_bit == 0 {
                continue;
            }
            *votes |= from_bit;
            if members.count(*votes) != quorum {
                continue;
            }
            quorum_reached = true;
            if let Some(entry) = self.log.get_mut(slot).filter(|entry| !entry.is_chosen()) {
                entry.mark_chosen();
                learned = true;
                extend_chosen_events(&mut self.events, slot, ballot);
            }
        }
        if quorum_reached {
            leader.last_progress_tick = self.now;
        }
        // Most acceptances arrive after their slots reached a quorum: nothing new to apply then.
        if learned {
            self.advance_and_apply();
        }
    }

    /// The reconfiguration this leader proposed and does not yet know chosen, with its slot.
    pub(super) fn proposed_reconfig(&self) -> Option<(Slot, Members)> {
        let Role::Leader(leader) = &self.role else { return None };
        (self.first_unchosen..leader.next_slot)
            .find_map(|slot| self.log.get(slot).and_then(|entry| entry.reconfig()).map(|members| (slot, members)))
    }

    /// Forgets vote counts of slots now chosen.
    pub(super) fn trim_votes(&mut self) {
        let first_unchosen = self.first_unchosen;
        if let Role::Leader(leader) = &mut self.role {
            while leader.votes_start < first_unchosen && !leader.votes.is_empty() {
                leader.votes.pop_front();
                leader.votes_start += 1;
            }
        }
    }

    /// The log jumped to `slot` (our own snapshot, which under `Bug::SnapshotOffByOne` claims one slot too many):
    /// a leader continues proposing from there.
    pub(super) fn leader_skip_to(&mut self, slot: Slot) {
        if let Role::Leader(leader) = &mut self.role {
            if leader.next_slot < slot {
                leader.next_slot = slot;
                leader.unsent_from = slot;
                leader.votes.clear();
                leader.votes_start = slot;
            }
            leader.unsent_from = leader.unsent_from.max(slot);
        }
        self.trim_votes();
    }

    /// Asserts the leader's window after its chosen point moved: see the module docs.
    pub(super) fn check_leader_window(&mut self) {
        let Role::Leader(leader) = &self.role else { return };
        let (next_slot, votes_start, votes) = (leader.next_slot, leader.votes_start, leader.votes.len() as Slot);
        let first_unchosen = self.first_unchosen;
        self.invariant(first_unchosen <= next_slot, "leader-chosen-point-within-proposals", || {
            format!("chosen point {first_unchosen} passed the next slot {next_slot}")
        });
        let bounded = votes_start + votes == next_slot && votes_start == first_unchosen.min(next_slot);
        self.invariant(bounded, "vote-window-bounds", || {
            format!(
                "votes for {votes_start}..{} with next slot {next_slot}, chosen point {first_unchosen}",
                votes_start + votes
            )
        });
        if first_unchosen > next_slot {
            self.leader_skip_to(first_unchosen); // Reachable only with a planted bug (the break is reported).
        }
    }

    // ----- Chosen slots learned from other nodes -----

    /// Another node says `slot` is chosen with `value`. A leader that did not propose exactly that value there in
    /// its own ballot steps down before it learns it: see the module docs.
    pub(super) fn check_foreign_chosen(&mut self, slot: Slot, value: &Value<S::Command>) {
        // The caller writes the slot next: what the leader proposed there is recorded as it proposed it.
        self.record_unrecorded();
        let Role::Leader(leader) = &self.role else { return };
        let proposed = self.log.get(slot).filter(|entry| slot < leader.next_slot && entry.ballot() == leader.ballot);
        // Bug::CommitForeignChosen: the leader learns it and goes on leading.
        if proposed.is_some_and(|entry| entry.holds(value)) || self.bug(Bug::CommitForeignChosen) {
            return;
        }
        let ballot = leader.ballot;
        self.step_down(format!("slot {slot} was chosen with a value ballot {ballot} did not propose"));
    }

    /// A snapshot up to `upto` arrived. A leader cannot compare the slots it covers with its own proposals, so
    /// unless it already knows them all chosen it steps down before installing it: see the module docs.
    pub(super) fn check_foreign_snapshot(&mut self, upto: Slot) {
        let Role::Leader(leader) = &self.role else { return };
        if upto <= self.first_unchosen || self.bug(Bug::CommitForeignChosen) {
            return;
        }
        let ballot = leader.ballot;
        self.step_down(format!("a snapshot up to slot {upto} covers slots ballot {ballot} has not chosen"));
    }

    pub(super) fn step_down(&mut self, reason: String) {
        let Some(ballot) = self.own_ballot() else { return };
        self.record_unrecorded();
        self.role = Role::Follower;
        self.events.push(Event::SteppedDown { ballot, reason });
        if self.leader_hint == Some(self.config.id) {
            self.leader_hint = None;
        }
        // Requests that never got a slot will not be chosen by us: tell the clients we answer for.
        let hint = self.leader();
        for request in std::mem::take(&mut self.queue) {
            if self.pending.remove(&(request.client, request.seq)).is_some() {
                self.reject(&request, Rejection::NotLeader { hint });
            }
        }
    }

    // ----- Timers -----

    /// Resends what went unanswered for `retry_ticks`: prepares to silent acceptors, accepts for slots not
    /// yet chosen (messages get lost).
    pub(super) fn retransmit(&mut self) {
        let retry_ticks = self.config.retry_ticks;
        let now = self.now;
        match &mut self.role {
            Role::Candidate(candidate) if now - candidate.sent_tick >= retry_ticks => {
                candidate.sent_tick = now;
                let (ballot, promised_by) = (candidate.ballot, candidate.promised_by);
                let first_unchosen = self.first_unchosen;
                let silent: Vec<NodeId> = self.others().filter(|node| promised_by & Members::bit(*node) == 0).collect();
                for node in silent {
                    self.send(node, Message::Prepare { ballot, first_unchosen });
                }
            }
            Role::Leader(leader) if now - leader.last_progress_tick >= retry_ticks => {
                leader.last_progress_tick = now;
                let first_slot = self.first_unchosen.max(leader.votes_start);
                let end = leader.unsent_from.min(first_slot + self.config.catch_up_max);
                if first_slot < end {
                    let ballot = leader.ballot;
                    self.send_accepts(ballot, first_slot, end);
                }
            }
            _ => {}
        }
    }
}
