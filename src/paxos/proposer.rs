//! The proposer: phase 1 once for all slots from the first unchosen one, adopting reported values and filling
//! holes with no-ops; then phase 2 for client commands, pipelined (a window of outstanding slots) and batched
//! (one accept message per follower per step, and optionally several requests per slot).

use std::collections::{BTreeMap, VecDeque};

use super::node::{CandidateState, LeaderState, Node, Role};
use super::{
    Ballot, Bug, Entry, Event, Message, NodeId, ProposeOutcome, Record, Rejection, Request, Slot, Snapshot,
    StateMachine, Value,
};

fn bit(node: NodeId) -> u64 {
    1 << node
}

impl<S: StateMachine> Node<S> {
    // ----- Client requests -----

    pub(super) fn accept_client_request(&mut self, request: Request<S::Command>) -> ProposeOutcome {
        if let Err(reason) = S::validate(&request.command) {
            return self.reject(&request, Rejection::Invalid(reason));
        }
        let key = (request.client, request.seq);
        match self.role {
            Role::Follower => match self.leader() {
                Some(leader) => {
                    self.pending.insert(key, self.now);
                    self.send(leader, Message::Forward { request: Box::new(request) });
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
                self.config.batch_max == 1 && self.queue.is_empty() && self.window_has_room(leader.next_slot)
            }
            _ => false,
        }
    }

    /// Proposes at once when a slot is free and requests are not batched per slot; otherwise queues.
    fn enqueue(&mut self, request: Request<S::Command>) -> Result<ProposeOutcome, Rejection> {
        if self.can_propose_now() {
            let slot = self.propose_next(Value::command(request));
            return Ok(ProposeOutcome::Proposed { slot });
        }
        if self.queue.len() >= self.config.queue_max {
            return Err(Rejection::Overloaded);
        }
        self.queue.push_back(request);
        Ok(ProposeOutcome::Queued)
    }

    fn window_has_room(&self, next_slot: Slot) -> bool {
        next_slot - self.first_unchosen < self.config.pipeline_window
    }

    // ----- Phase 1 -----

    pub(super) fn start_phase_one(&mut self) {
        let round = self.max_ballot_seen.round.max(self.promised.round) + 1;
        let ballot = Ballot::new(round, self.config.id);
        self.observe_ballot(ballot);
        self.role =
            Role::Candidate(CandidateState { ballot, promised_by: 0, adopted: BTreeMap::new(), sent_tick: self.now });
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
        _chosen_upto: Slot,
    ) {
        match &mut self.role {
            Role::Candidate(candidate) if candidate.ballot == ballot && candidate.promised_by & bit(from) == 0 => {
                candidate.promised_by |= bit(from);
            }
            _ => return, // Stale, duplicated, or not campaigning any more.
        }
        if let Some(snapshot) = snapshot {
            self.install_snapshot(snapshot);
        }
        let adopt_lowest = self.bug(Bug::AdoptLowestBallot);
        let mut learned = Vec::new();
        if let Role::Candidate(candidate) = &mut self.role {
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
        }
        for (slot, entry) in learned {
            self.learn_chosen(slot, entry.ballot, entry.value);
        }
        self.advance_and_apply();
        let promises = match &self.role {
            Role::Candidate(candidate) => candidate.promised_by.count_ones() as usize,
            _ => 0,
        };
        if promises >= self.quorum {
            self.become_leader();
        }
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
        self.role = Role::Leader(LeaderState {
            ballot,
            next_slot: first_slot,
            votes_start: first_slot,
            votes: VecDeque::new(),
            unsent_from: first_slot,
            last_progress_tick: self.now,
            commit_at_last_heartbeat: first_slot,
            commit_sent: 0,
        });
        self.leader_hint = Some(self.config.id);
        let ignore_reports = self.bug(Bug::IgnoreAcceptedInPhase1);
        let (mut noops, mut reproposed) = (0, 0);
        let mut adopted = candidate.adopted;
        for slot in first_slot..end {
            let value = match self.log.get(slot) {
                Some(entry) if entry.chosen => entry.value.clone(),
                // Bug::IgnoreAcceptedInPhase1: every slot not known chosen becomes a no-op.
                _ if ignore_reports => Value::Noop,
                _ => match adopted.remove(&slot) {
                    Some(entry) => entry.value,
                    None => Value::Noop,
                },
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
        let Role::Leader(leader) = &mut self.role else { unreachable!("proposing without leading") };
        let (slot, ballot) = (leader.next_slot, leader.ballot);
        assert_eq!(slot, leader.votes_start + leader.votes.len() as Slot, "vote window out of step");
        leader.next_slot += 1;
        leader.votes.push_back(0);
        let promised = self.promised;
        self.invariant(promised == ballot, "leader-holds-its-promise", || {
            format!("leading in ballot {ballot} while promised {promised}")
        });
        let chosen = match self.log.get(slot) {
            Some(entry) if entry.chosen => true,
            _ => {
                self.records.push(Record::Accept { slot, ballot, value: value.clone() });
                false
            }
        };
        self.log.set(slot, Entry { ballot, value, chosen });
        slot
    }

    /// Moves queued requests into free slots and sends one accept per follower for every new slot, plus our
    /// own acceptance (released once our records are durable).
    pub(super) fn flush_proposals(&mut self) {
        let Role::Leader(leader) = &self.role else { return };
        let mut next_slot = leader.next_slot;
        while !self.queue.is_empty() && self.window_has_room(next_slot) {
            let take = self.queue.len().min(self.config.batch_max);
            let value = if take == 1 {
                Value::command(self.queue.pop_front().expect("non-empty"))
            } else {
                Value::Batch(std::rc::Rc::new(self.queue.drain(..take).map(std::rc::Rc::new).collect()))
            };
            next_slot = self.propose_next(value) + 1;
        }
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
        self.send_accepts(ballot, first_slot, end, None);
        self.send(self.config.id, Message::Accepted { ballot, first_slot, count: end - first_slot, chosen_upto: 0 });
    }

    /// Sends the leader's values for `first_slot..end` to every follower (or only to `to`).
    fn send_accepts(&mut self, ballot: Ballot, first_slot: Slot, end: Slot, to: Option<NodeId>) {
        let values: std::rc::Rc<[Value<S::Command>]> = (first_slot..end)
            .map(|slot| self.log.get(slot).expect("a leader holds every slot it proposed").value.clone())
            .collect();
        let chosen_upto = self.first_unchosen;
        let accept = |values| Message::Accept { ballot, first_slot, values, chosen_upto };
        match to {
            Some(node) => self.send(node, accept(values)),
            None => {
                for index in 0..self.peers.len() {
                    self.send(self.peers.id_at(index), accept(std::rc::Rc::clone(&values)));
                }
            }
        }
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
        let Role::Leader(leader) = &mut self.role else { return };
        if leader.ballot != ballot {
            return;
        }
        let start = first_slot.max(leader.votes_start);
        let end = (first_slot + count).min(leader.next_slot);
        let mut newly_chosen = Vec::new();
        for slot in start..end {
            let votes = &mut leader.votes[(slot - leader.votes_start) as usize];
            if *votes & bit(from) != 0 {
                continue;
            }
            *votes |= bit(from);
            if votes.count_ones() as usize == self.quorum {
                newly_chosen.push(slot);
            }
        }
        if !newly_chosen.is_empty() {
            leader.last_progress_tick = self.now;
        }
        for slot in newly_chosen {
            if let Some(entry) = self.log.get_mut(slot) {
                if !entry.chosen {
                    entry.chosen = true;
                    self.report_chosen(slot, ballot);
                }
            }
        }
        self.advance_and_apply();
        self.trim_votes();
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

    /// The log jumped to `slot` (a snapshot): a leader continues proposing from there.
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

    pub(super) fn on_nack(&mut self, from: NodeId, ballot: Ballot, promised: Ballot) {
        self.observe_ballot(promised);
        if self.own_ballot() == Some(ballot) && promised > ballot {
            self.step_down(format!("node {from} promised the higher ballot {promised}"));
            // Back off before campaigning again, so two proposers do not duel forever.
            self.elect_not_before = self.now + self.config.retry_ticks;
        }
    }

    pub(super) fn step_down(&mut self, reason: String) {
        let Some(ballot) = self.own_ballot() else { return };
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
                let silent: Vec<NodeId> = self.others().filter(|node| promised_by & bit(*node) == 0).collect();
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
                    self.send_accepts(ballot, first_slot, end, None);
                }
            }
            _ => {}
        }
    }

    /// Sends what followers lack: chosen slots they have not learned, or the snapshot if they are behind
    /// our compacted prefix. Called at each heartbeat.
    pub(super) fn catch_up_followers(&mut self) {
        let Role::Leader(leader) = &mut self.role else { return };
        let behind_point = leader.commit_at_last_heartbeat;
        leader.commit_at_last_heartbeat = self.first_unchosen;
        let now = self.now;
        let retry_ticks = self.config.retry_ticks;
        let lagging: Vec<(NodeId, Slot)> = self
            .peers
            .iter()
            .filter(|(id, peer)| {
                peer.chosen_upto < behind_point
                    && self.is_alive(**id)
                    && peer.catch_up_sent.is_none_or(|sent| now - sent >= retry_ticks)
            })
            .map(|(id, peer)| (*id, peer.chosen_upto))
            .collect();
        for (node, from) in lagging {
            if let Some(peer) = self.peers.get_mut(&node) {
                peer.catch_up_sent = Some(now);
            }
            if from < self.log.start() {
                if let Some(snapshot) = self.snapshot.clone() {
                    self.send(node, Message::InstallSnapshot { snapshot: Box::new(snapshot) });
                }
                continue;
            }
            let end = self.first_unchosen.min(from + self.config.catch_up_max);
            let entries: Vec<_> = (from..end)
                .filter_map(|slot| self.log.get(slot).map(|entry| (slot, entry.clone())))
                .filter(|(_, entry)| entry.chosen)
                .collect();
            if !entries.is_empty() {
                self.send(node, Message::Chosen { entries });
            }
        }
    }
}
