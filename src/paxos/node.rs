//! The sans-IO node: one Multi-Paxos replica playing acceptor, learner, proposer and replica at once.
//!
//! Inputs go in through `propose`, `receive`, `tick` and `persisted`; effects come out of `ready`. There is
//! no clock (time is `tick`), no randomness and no I/O, so the same inputs always give the same outputs,
//! natively and in Wasm. The protocol lives in the sibling modules (`acceptor`, `proposer`, `learner`,
//! `election`), each with the rules it keeps in its module docs; this file holds the state, the plumbing that
//! enforces persist-before-send, and the one rule every message meets first (`Node::observe`): a leader or
//! candidate that sees a ballot higher than its own steps down.

use std::collections::VecDeque;

use super::proposer::{CandidateState, LeaderState};
use super::{
    Applied, Ballot, BatchId, Bug, ClientId, Config, DurableState, Entry, Envelope, Event, Log, Message, NodeId,
    ProposeOutcome, Ready, Record, Reply, Request, RoleKind, Slot, Snapshot, StateMachine, WriteBatch,
};

pub type MessageOf<S> = Message<<S as StateMachine>::Command, <S as StateMachine>::Snapshot>;
pub type EnvelopeOf<S> = Envelope<<S as StateMachine>::Command, <S as StateMachine>::Snapshot>;
pub type RecordOf<S> = Record<<S as StateMachine>::Command, <S as StateMachine>::Snapshot>;
pub type DurableStateOf<S> = DurableState<<S as StateMachine>::Command, <S as StateMachine>::Snapshot>;
pub type ReadyOf<S> = Ready<<S as StateMachine>::Command, <S as StateMachine>::Output, <S as StateMachine>::Snapshot>;

/// What a node knows about one peer.
#[derive(Clone, Debug, Default)]
pub(super) struct Peer {
    /// The tick this node last received anything from the peer.
    pub last_heard: Option<u64>,
    /// Whether the peer said (in its last heartbeat) that it hears a majority.
    pub quorum_connected: bool,
    /// How far the peer said it has learned.
    pub chosen_upto: Slot,
    /// When a leader last sent this peer catch-up, to avoid flooding it.
    pub catch_up_sent: Option<u64>,
    /// The newest lease stamp this peer echoed, with the ballot it granted (`lease.rs`).
    pub lease_stamp: Option<(Ballot, u64)>,
}

/// The other members, sorted by id. A short vector, not a map: looked up on every message received, and a
/// cluster has at most a handful of peers.
#[derive(Clone, Debug, Default)]
pub(super) struct Peers(Vec<(NodeId, Peer)>);

impl Peers {
    pub fn new(ids: impl Iterator<Item = NodeId>) -> Peers {
        // A handful of ids: each goes in at its place, so they end up sorted without a sort.
        let mut peers: Vec<(NodeId, Peer)> = Vec::new();
        for id in ids {
            let at = peers.partition_point(|(peer, _)| *peer < id);
            peers.insert(at, (id, Peer::default()));
        }
        Peers(peers)
    }

    /// Adds a node heard from for the first time (a node that joined, or one this node has not yet learned of).
    pub fn insert(&mut self, id: NodeId) {
        self.entry(id);
    }

    /// The peer `id`, added first if this node did not know it. Looked up on every message received: a scan of a
    /// handful of ids finds a known peer without the search that places a new one.
    #[inline]
    pub fn entry(&mut self, id: NodeId) -> &mut Peer {
        let at = match self.0.iter().position(|(peer, _)| *peer == id) {
            Some(at) => at,
            None => {
                let at = self.0.partition_point(|(peer, _)| *peer < id);
                self.0.insert(at, (id, Peer::default()));
                at
            }
        };
        &mut self.0[at].1
    }

    pub fn get_mut(&mut self, id: &NodeId) -> Option<&mut Peer> {
        self.0.iter_mut().find(|(peer, _)| peer == id).map(|(_, peer)| peer)
    }

    pub fn get(&self, id: &NodeId) -> Option<&Peer> {
        self.0.iter().find(|(peer, _)| peer == id).map(|(_, peer)| peer)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The `index`th peer's id (peers are sorted by id): lets a node send to each peer while it mutates itself.
    pub fn id_at(&self, index: usize) -> NodeId {
        self.0[index].0
    }

    pub fn keys(&self) -> impl Iterator<Item = &NodeId> {
        self.0.iter().map(|(id, _)| id)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&NodeId, &Peer)> {
        self.0.iter().map(|(id, peer)| (id, peer))
    }
}

/// Which role the proposer plays: its state lives with its handlers, in `proposer.rs`.
#[derive(Clone, Debug)]
pub(super) enum Role<C> {
    Follower,
    Candidate(CandidateState<C>),
    Leader(LeaderState<C>),
}

/// Cloning a node is cheap enough to keep periodic copies for time travel in the playground.
#[derive(Clone)]
pub struct Node<S: StateMachine> {
    pub(super) config: Config,
    /// Which nodes vote for which slot (`membership.rs`).
    pub(super) membership: super::Membership,
    /// How many reconfigurations this node has learned chosen: a leader elected before the latest campaigns again.
    pub(super) reconfigs_learned: u64,
    // Acceptor: mirrors what is durable, plus what is being written.
    pub(super) promised: Ballot,
    pub(super) log: Log<S::Command>,
    // Learner and replica.
    pub(super) first_unchosen: Slot,
    pub(super) applied_upto: Slot,
    pub(super) machine: S,
    pub(super) snapshot: Option<Snapshot<S::Snapshot>>,
    pub(super) chosen_upto_recorded: Slot,
    /// `first_unchosen` at the previous heartbeat: a peer still behind it needs catch-up.
    pub(super) chosen_at_last_heartbeat: Slot,
    // Proposer.
    pub(super) role: Role<S::Command>,
    pub(super) max_ballot_seen: Ballot,
    pub(super) elect_not_before: u64,
    pub(super) queue: VecDeque<Request<S::Command>>,
    // Failure detection.
    pub(super) now: u64,
    pub(super) peers: Peers,
    pub(super) leader_hint: Option<NodeId>,
    pub(super) lease: super::lease::LeaseState,
    // Client requests this node answers once applied: (client, seq) → tick received. Touched twice per
    // command, so a fast hash map; it is never iterated in an order that reaches an output.
    pub(super) pending: rustc_hash::FxHashMap<(ClientId, u64), u64>,
    // Persistence: records of the batch being built, ids of batches issued and acknowledged, and messages
    // waiting for a batch to become durable.
    pub(super) records: Vec<RecordOf<S>>,
    pub(super) next_batch: BatchId,
    pub(super) persisted_upto: BatchId,
    pub(super) held: VecDeque<(BatchId, EnvelopeOf<S>)>,
    pub(super) self_inbox: VecDeque<MessageOf<S>>,
    // Effects for the next `ready`.
    pub(super) outbox: Vec<EnvelopeOf<S>>,
    pub(super) replies: Vec<Reply<S::Output>>,
    pub(super) applied: Vec<Applied<S::Command, S::Output>>,
    pub(super) events: Vec<Event>,
}

/// What `Node::get` knows about a slot. The entry is a copy (its value shared, not copied): the log keeps slots in a
/// compact form (`LogSlot`) that the hot paths read through `Node::log`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlotState<C> {
    /// Below the snapshot: chosen, applied and compacted away.
    Compacted,
    /// Nothing accepted here.
    Empty,
    Accepted(Entry<C>),
    Chosen(Entry<C>),
}

/// Moves everything in `from` to the end of `to`. When `to` is empty (a driver that drained its `Ready`) the
/// two vectors swap: nothing is copied, and the node keeps the driver's spare capacity for the next step.
fn hand_over<T>(from: &mut Vec<T>, to: &mut Vec<T>) {
    if to.is_empty() {
        std::mem::swap(from, to);
    } else {
        to.append(from);
    }
}

/// `Node::report_chosen` on the events alone, for a handler that holds other parts of the node borrowed.
pub(super) fn extend_chosen_events(events: &mut Vec<Event>, slot: Slot, ballot: Ballot) {
    if let Some(Event::Chosen { first_slot, count, ballot: last }) = events.last_mut() {
        if *last == ballot && *first_slot + *count == slot {
            *count += 1;
            return;
        }
    }
    events.push(Event::Chosen { first_slot: slot, count: 1, ballot });
}

impl<S: StateMachine> Node<S> {
    /// A fresh node with empty storage.
    pub fn new(config: Config) -> Result<Self, String> {
        Node::recover(config, &DurableState::default())
    }

    /// Rebuilds a node from what its storage acknowledged (after a crash or a page reload).
    pub fn recover(config: Config, durable: &DurableStateOf<S>) -> Result<Self, String> {
        Node::recover_with(config, durable, S::default())
    }

    /// `recover`, starting from `machine` instead of `S::default()`: for state-machine settings that are not
    /// replicated state (a planted bug's switch) and must already hold while recovery re-applies the log.
    pub fn recover_with(config: Config, durable: &DurableStateOf<S>, machine: S) -> Result<Self, String> {
        config.validate()?;
        let membership = super::Membership::initial(super::Members::of(config.members.iter().copied()));
        let peers = Peers::new(config.members.iter().copied().filter(|id| *id != config.id));
        let promised = if config.bugs.contains(Bug::ForgetPromiseOnRestart) {
            Ballot::ZERO // Bug::ForgetPromiseOnRestart: the promise on disk is ignored.
        } else {
            durable.promised
        };
        let election_timeout_ticks = config.election_timeout_ticks;
        let lease_ticks = config.lease_ticks;
        let mut node = Node {
            config,
            membership,
            reconfigs_learned: 0,
            promised,
            log: Log::default(),
            first_unchosen: 0,
            applied_upto: 0,
            machine,
            snapshot: None,
            chosen_upto_recorded: durable.chosen_upto,
            chosen_at_last_heartbeat: 0,
            role: Role::Follower,
            max_ballot_seen: durable.promised,
            elect_not_before: election_timeout_ticks,
            queue: VecDeque::new(),
            now: 0,
            peers,
            leader_hint: None,
            lease: super::lease::LeaseState::new(lease_ticks),
            pending: rustc_hash::FxHashMap::default(),
            records: Vec::new(),
            next_batch: 1,
            persisted_upto: 0,
            held: VecDeque::new(),
            self_inbox: VecDeque::new(),
            outbox: Vec::new(),
            replies: Vec::new(),
            applied: Vec::new(),
            events: Vec::new(),
        };
        if let Some(snapshot) = &durable.snapshot {
            node.machine.restore(&snapshot.state);
            node.adopt_membership(&snapshot.membership);
            node.log.compact(snapshot.upto);
            node.applied_upto = snapshot.upto;
            node.first_unchosen = snapshot.upto;
            node.snapshot = Some(snapshot.clone());
        }
        for (slot, entry) in durable.entries.range(node.log.start()..) {
            node.max_ballot_seen = node.max_ballot_seen.max(entry.ballot);
            node.log.set(*slot, entry.clone());
        }
        for slot in node.first_unchosen..durable.chosen_upto {
            let known = node.log.get_mut(slot).map(|entry| entry.mark_chosen()).is_some();
            node.invariant(known, "chosen-prefix-is-durable", || {
                format!("slot {slot} is below the durable chosen point but not on disk")
            });
        }
        node.advance_and_apply();
        Ok(node)
    }

    // ----- Inputs -----

    /// A client's request arrives at this node: `add(command) -> slot or rejection`.
    pub fn propose(&mut self, request: Request<S::Command>) -> ProposeOutcome {
        let outcome = self.accept_client_request(request);
        self.drain_self_inbox();
        outcome
    }

    /// A message from the network.
    pub fn receive(&mut self, envelope: EnvelopeOf<S>) {
        assert_eq!(
            envelope.to, self.config.id,
            "message for node {} delivered to node {}",
            envelope.to, self.config.id
        );
        assert_ne!(envelope.from, self.config.id, "node {} sent itself a message through the network", self.config.id);
        self.peers.entry(envelope.from).last_heard = Some(self.now);
        self.handle(envelope.from, envelope.message);
        self.drain_self_inbox();
    }

    /// One unit of time passes.
    pub fn tick(&mut self) {
        self.now += 1;
        self.on_tick();
        self.drain_self_inbox();
    }

    /// Storage acknowledges that every batch up to `batch` is durable.
    pub fn persisted(&mut self, batch: BatchId) {
        assert!(batch < self.next_batch, "node {}: batch {batch} acknowledged before it was issued", self.config.id);
        if batch <= self.persisted_upto {
            return; // A repeated acknowledgement.
        }
        self.persisted_upto = batch;
        while self.held.front().is_some_and(|(needed, _)| *needed <= self.persisted_upto) {
            let (_, envelope) = self.held.pop_front().expect("front exists");
            self.route(envelope);
        }
        self.drain_self_inbox();
    }

    /// Everything produced since the last call. Call after any input.
    pub fn ready(&mut self) -> ReadyOf<S> {
        let mut ready = Ready::default();
        self.ready_into(&mut ready);
        ready
    }

    /// Like `ready`, but moves the effects into buffers the driver keeps: the driver handles them, drains
    /// them (`drain(..)`, `clear()`, or `records.drain(..)` of the write) and passes the same `Ready` again,
    /// so a busy driver allocates nothing per step.
    pub fn ready_into(&mut self, ready: &mut ReadyOf<S>) {
        assert!(ready.is_empty(), "node {}: the previous Ready was not drained", self.config.id);
        self.flush_proposals();
        self.drain_self_inbox();
        // A leader's own acceptance of what it proposed goes into this write at the latest (`propose_unrecorded`):
        // between steps no acceptance is left unrecorded for a later promise to reveal.
        assert!(!self.holds_unrecorded(), "node {}: a proposal left unrecorded after its step", self.config.id);
        if !self.records.is_empty() {
            let id = self.next_batch;
            self.next_batch += 1;
            match &mut ready.write {
                Some(batch) => {
                    batch.id = id;
                    hand_over(&mut self.records, &mut batch.records);
                }
                None => ready.write = Some(WriteBatch { id, records: std::mem::take(&mut self.records) }),
            }
        }
        hand_over(&mut self.outbox, &mut ready.messages);
        hand_over(&mut self.replies, &mut ready.replies);
        hand_over(&mut self.applied, &mut ready.applied);
        hand_over(&mut self.events, &mut ready.events);
    }

    // ----- Observers (for the UI, the simulator and tests) -----

    pub fn id(&self) -> NodeId {
        self.config.id
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The quorum of the newest configuration this node knows.
    pub fn quorum(&self) -> usize {
        self.membership.latest().quorum(self.bug(Bug::MinorityQuorum))
    }

    /// Which nodes vote for which slot, as far as this node knows.
    pub fn membership(&self) -> &super::Membership {
        &self.membership
    }

    pub fn role(&self) -> RoleKind {
        match self.role {
            Role::Follower => RoleKind::Follower,
            Role::Candidate(_) => RoleKind::Candidate,
            Role::Leader(_) => RoleKind::Leader,
        }
    }

    /// The ballot this node leads or campaigns with, if any.
    pub fn own_ballot(&self) -> Option<Ballot> {
        match &self.role {
            Role::Follower => None,
            Role::Candidate(candidate) => Some(candidate.ballot),
            Role::Leader(leader) => Some(leader.ballot),
        }
    }

    pub fn promised(&self) -> Ballot {
        self.promised
    }

    /// Every slot below this is chosen and known to this node.
    pub fn first_unchosen(&self) -> Slot {
        self.first_unchosen
    }

    /// Every slot below this is applied to the state machine.
    pub fn applied_upto(&self) -> Slot {
        self.applied_upto
    }

    pub fn log(&self) -> &Log<S::Command> {
        &self.log
    }

    pub fn machine(&self) -> &S {
        &self.machine
    }

    /// Mutable access to the state machine, for settings that are not replicated state (planted bugs).
    pub fn machine_mut(&mut self) -> &mut S {
        &mut self.machine
    }

    pub fn snapshot(&self) -> Option<&Snapshot<S::Snapshot>> {
        self.snapshot.as_ref()
    }

    pub fn now(&self) -> u64 {
        self.now
    }

    /// When, on this node's clock, it last heard from `peer` (`None`: never, or `peer` is not a peer).
    pub fn last_heard(&self, peer: NodeId) -> Option<u64> {
        self.peers.get(&peer).and_then(|peer| peer.last_heard)
    }

    /// The next slot this node would propose into, when it leads.
    pub fn next_slot(&self) -> Option<Slot> {
        match &self.role {
            Role::Leader(leader) => Some(leader.next_slot),
            _ => None,
        }
    }

    /// Client requests waiting for a free slot at this leader.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Messages waiting for their write to become durable.
    pub fn held_messages(&self) -> usize {
        self.held.len()
    }

    /// Write batches issued but not yet acknowledged.
    pub fn unpersisted_batches(&self) -> u64 {
        self.next_batch - 1 - self.persisted_upto
    }

    /// The `get(slot)` of the design: what this node knows about a slot.
    pub fn get(&self, slot: Slot) -> SlotState<S::Command> {
        if slot < self.log.start() {
            return SlotState::Compacted;
        }
        match self.log.get(slot) {
            None => SlotState::Empty,
            Some(entry) if entry.is_chosen() => SlotState::Chosen(entry.to_entry()),
            Some(entry) => SlotState::Accepted(entry.to_entry()),
        }
    }

    /// The node this one believes leads: itself, the sender of the latest accepted ballot if still heard
    /// from, or the node the election rule prefers.
    pub fn leader(&self) -> Option<NodeId> {
        if matches!(self.role, Role::Leader(_)) {
            return Some(self.config.id);
        }
        // A hint at a node the newest configuration removed is stale: it no longer leads or campaigns.
        let member = |node: NodeId| self.membership.latest().contains(node);
        match self.leader_hint {
            Some(hint) if hint != self.config.id && self.is_alive(hint) && member(hint) => Some(hint),
            _ => self.preferred_leader().filter(|id| *id != self.config.id),
        }
    }

    // ----- Plumbing shared by the protocol modules -----

    pub(super) fn bug(&self, bug: Bug) -> bool {
        self.config.bugs.contains(bug)
    }

    pub(super) fn others(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.peers.keys().copied()
    }

    /// Sends `message`. One that reveals acceptor state, or starts a ballot, waits inside the node until every
    /// write issued so far (including the batch being built) is durable.
    pub(super) fn send(&mut self, to: NodeId, message: MessageOf<S>) {
        // Bug::SendBeforePersist lets promises and acceptances out at once; a new ballot still waits.
        let reveals = message.reveals_acceptor_state() && !self.bug(Bug::SendBeforePersist);
        let needs_batch = if reveals || message.starts_ballot() {
            let newest = if self.records.is_empty() { self.next_batch - 1 } else { self.next_batch };
            (newest > self.persisted_upto).then_some(newest)
        } else {
            None
        };
        let envelope = Envelope { from: self.config.id, to, message };
        match needs_batch {
            Some(batch) => self.held.push_back((batch, envelope)),
            None => self.route(envelope),
        }
    }

    /// Delivers a releasable message: to this node itself at once, to others through the outbox.
    fn route(&mut self, envelope: EnvelopeOf<S>) {
        if envelope.to == self.config.id {
            self.self_inbox.push_back(envelope.message);
        } else {
            self.outbox.push(envelope);
        }
    }

    pub(super) fn broadcast(&mut self, message: MessageOf<S>, include_self: bool) {
        for index in 0..self.peers.len() {
            self.send(self.peers.id_at(index), message.clone());
        }
        if include_self {
            self.send(self.config.id, message);
        }
    }

    fn drain_self_inbox(&mut self) {
        // Bounded: each self-message is a reply to something this node did, and replies make no new
        // self-messages beyond one more round (prepare → promise, accept → accepted).
        for _ in 0..1_000_000 {
            let Some(message) = self.self_inbox.pop_front() else { return };
            self.handle(self.config.id, message);
        }
        panic!("node {}: self-messages never stop", self.config.id);
    }

    fn handle(&mut self, from: NodeId, message: MessageOf<S>) {
        if self.is_outsider(from) {
            return self.handle_from_outsider(from, message);
        }
        self.observe(from, &message);
        match message {
            Message::Prepare { ballot, first_unchosen } => self.on_prepare(from, ballot, first_unchosen),
            Message::Promise { ballot, entries, snapshot, chosen_upto: _ } => {
                self.on_promise(from, ballot, entries, snapshot.map(|snapshot| *snapshot))
            }
            Message::Accept { ballot, first_slot, values, chosen_upto } => {
                self.on_accept(from, ballot, first_slot, values, chosen_upto)
            }
            Message::Accepted { ballot, first_slot, count, chosen_upto } => {
                self.on_accepted(from, ballot, first_slot, count, chosen_upto)
            }
            Message::Nack { .. } => {} // Wholly handled at the door.
            Message::Commit { ballot, chosen_upto } => self.on_commit(from, ballot, chosen_upto),
            Message::Heartbeat { ballot, leading, quorum_connected, chosen_upto, lease_stamp } => {
                self.on_heartbeat_lease(from, ballot, leading, lease_stamp);
                self.on_heartbeat(from, ballot, leading, quorum_connected, chosen_upto)
            }
            Message::Chosen { ballot: _, entries } => self.on_chosen(entries),
            Message::InstallSnapshot { ballot: _, snapshot } => self.install_snapshot(*snapshot),
            Message::Forward { ballot: _, request } => self.on_forward(*request),
        }
    }

    /// Whether no configuration from this node's chosen point on includes `node` (Bug::ReconfigWithoutOverlap: nor
    /// the configuration this node proposed as a leader, whose members it hears at once).
    fn is_outsider(&self, node: NodeId) -> bool {
        if node == self.config.id || self.membership.includes_from(self.first_unchosen, node) {
            return false;
        }
        !(self.bug(Bug::ReconfigWithoutOverlap) && self.proposed_reconfig().is_some_and(|(_, new)| new.contains(node)))
    }

    /// A message from a node that no configuration from this node's chosen point on includes: one that joins and is
    /// still catching up, one that was removed, or one in a configuration this node has not learned yet. Its ballot
    /// deposes no one and it gets no promise or acceptance (ignoring a message is always safe: it could have been
    /// lost); what it says about itself is kept so a leader can catch it up, and a prepare from it (a removed node
    /// that missed its removal campaigns) is answered with the chosen slots it lacks.
    fn handle_from_outsider(&mut self, from: NodeId, message: MessageOf<S>) {
        match message {
            Message::Heartbeat { quorum_connected, chosen_upto, .. } => {
                if let Some(peer) = self.peers.get_mut(&from) {
                    peer.quorum_connected = quorum_connected;
                    peer.chosen_upto = chosen_upto;
                }
            }
            Message::Prepare { first_unchosen, .. } if first_unchosen < self.first_unchosen => {
                self.catch_up(from, first_unchosen)
            }
            Message::Chosen { ballot: _, entries } => self.on_chosen(entries),
            Message::InstallSnapshot { ballot: _, snapshot } => self.install_snapshot(*snapshot),
            Message::Forward { ballot: _, request } => self.on_forward(*request),
            _ => {}
        }
    }

    /// The one rule at the door, for every message before its handler runs: the highest ballot seen anywhere
    /// decides the ballot this node campaigns with next, and a leader or candidate that meets a ballot higher than
    /// its own steps down (a higher ballot may already have chosen values its own cannot know). A nack of our own
    /// ballot also backs off before we campaign again, so two proposers do not duel forever.
    ///
    /// Promises are not raised here: only a prepare or an accept asks an acceptor for one (`acceptor.rs`).
    fn observe(&mut self, from: NodeId, message: &MessageOf<S>) {
        let ballot = message.ballot();
        self.max_ballot_seen = self.max_ballot_seen.max(ballot);
        let Some(own) = self.own_ballot().filter(|own| ballot > *own) else { return };
        // Bug::CommitForeignChosen: only a prepare, an accept or a nack deposes a leader; catch-up, commits and
        // heartbeats from a higher ballot go unheeded.
        if self.bug(Bug::CommitForeignChosen)
            && !matches!(message, Message::Prepare { .. } | Message::Accept { .. } | Message::Nack { .. })
        {
            return;
        }
        if matches!(message, Message::Nack { ballot: nacked, .. } if *nacked == own) {
            self.elect_not_before = self.now + self.config.retry_ticks;
        }
        self.step_down(format!("node {from} is in the higher ballot {ballot}"));
    }

    /// The ballot this node is in: the one it leads or campaigns with, else its promise.
    pub(super) fn current_ballot(&self) -> Ballot {
        self.own_ballot().unwrap_or(self.promised)
    }

    /// Checks a local invariant. A broken one panics (the simulator prints the seed) unless a planted bug is
    /// on: then the break is the point of the exercise, so it is reported as an event and the global checker
    /// explains the damage.
    pub(super) fn invariant(&mut self, holds: bool, invariant: &'static str, detail: impl FnOnce() -> String) {
        if holds {
            return;
        }
        let detail = detail();
        assert!(!self.config.bugs.is_empty(), "node {}: invariant {invariant} broken: {detail}", self.config.id);
        self.events.push(Event::InvariantBroken { invariant: invariant.into(), detail });
    }

    /// Reports `slot` chosen: extends the previous event if it ends just before `slot` in the same ballot.
    pub(super) fn report_chosen(&mut self, slot: Slot, ballot: Ballot) {
        extend_chosen_events(&mut self.events, slot, ballot);
    }

    pub(super) fn reject(&mut self, request: &Request<S::Command>, rejection: super::Rejection) -> ProposeOutcome {
        self.replies.push(Reply { client: request.client, seq: request.seq, result: Err(rejection.clone()) });
        ProposeOutcome::Rejected(rejection)
    }
}
