//! One state of the search: a stepped cluster, what each bound has spent, and its fingerprint.

use std::hash::{Hash, Hasher};

use smallvec::SmallVec;

use crate::check::invariants::Violation;
use crate::check::Outcome;
use crate::paxos::NodeId;
use crate::sim::{Sim, UserAction};
use crate::storage::Storage;

use super::event::content_digest;
use super::hasher::Fingerprinter;
use super::linearizable;
use super::{Bounds, Event};

/// What a path has spent of each bound.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Spent {
    /// Bit `c` set: step client `c` sent its request.
    issued: u16,
    ops: u8,
    crashes: u8,
    drops: u8,
    dups: u8,
    ticks: u8,
    retries: u8,
    reconfigs: u8,
}

#[derive(Clone)]
pub struct World {
    sim: Sim,
    spent: Spent,
    /// Crashes the bounds allow: once they are spent, writes are acknowledged as soon as they are issued.
    crashes_max: u8,
    /// Operations of the history that have an outcome: when it grows, the history is checked again.
    decided: usize,
    /// Writes acknowledged at once so far (not part of the state: it tells `reduction` that an event wrote).
    acknowledged_at_once: u32,
}

impl World {
    /// A start state: `sim` (stepping) with nothing of `bounds` spent.
    pub fn new(sim: Sim, bounds: &Bounds) -> World {
        assert!(sim.stepping(), "the explorer's start state steps: nothing happens unless an event says so");
        World { sim, spent: Spent::default(), crashes_max: bounds.crashes, decided: 0, acknowledged_at_once: 0 }
    }

    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    /// Every event enabled here within `bounds`, in a fixed order: messages in flight (one per distinct
    /// content), then each node's events, then the clients'.
    pub fn events(&self, bounds: &Bounds) -> Vec<Event> {
        let mut events = Vec::with_capacity(16);
        self.events_into(bounds, &mut events);
        events
    }

    /// `events`, into `events` (cleared first): the search keeps one vector for every state it expands.
    pub fn events_into(&self, bounds: &Bounds, events: &mut Vec<Event>) {
        events.clear();
        // The messages' contents told apart by a scan of those listed, held in place, not a hash set or a vector: a
        // handful of messages are in flight, and this runs for every state expanded.
        let mut contents: SmallVec<[u64; 8]> = SmallVec::new();
        for message in self.sim.network().in_flight_by_scan() {
            let content = content_digest(&message.envelope);
            if contents.contains(&content) {
                continue;
            }
            contents.push(content);
            let id = message.id;
            events.push(Event::Deliver { id });
            if self.spent.drops < bounds.drops {
                events.push(Event::Drop { id });
            }
            if self.spent.dups < bounds.dups {
                events.push(Event::Duplicate { id });
            }
        }
        for node in self.sim.active_nodes() {
            if self.sim.node(node).is_none() {
                events.push(Event::Restart { node });
                continue;
            }
            if self.spent.ticks < bounds.ticks {
                events.push(Event::Tick { node });
            }
            if self.sim.volatile_writes(node) > 0 && !self.acknowledges_at_once() {
                events.push(Event::Ack { node });
            }
            if self.spent.crashes < bounds.crashes {
                events.push(Event::Crash { node });
            }
        }
        self.client_events(bounds, events);
        self.reconfig_events(bounds, events);
    }

    /// The nodes that run: those a request can go to.
    fn up_nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.sim.active_nodes().filter(|node| self.sim.node(*node).is_some())
    }

    /// Membership changes, one at a time: a node added (one beyond the bounds' nodes at most), an added node
    /// removed, an original node replaced by a new one.
    fn reconfig_events(&self, bounds: &Bounds, events: &mut Vec<Event>) {
        if self.spent.reconfigs >= bounds.reconfigs || self.sim.reconfiguration().is_some() {
            return;
        }
        let members = self.sim.members();
        if members.len() <= bounds.nodes {
            events.push(Event::AddNode);
        }
        for node in members.ids() {
            if node as usize > bounds.nodes {
                events.push(Event::RemoveNode { node });
            } else if members.len() == bounds.nodes {
                events.push(Event::ReplaceNode { node });
            }
        }
    }

    fn client_events(&self, bounds: &Bounds, events: &mut Vec<Event>) {
        for client in 1..=bounds.ops {
            if self.spent.issued & (1 << client) == 0 {
                if self.spent.ops < bounds.ops {
                    events.extend(self.up_nodes().map(|target| Event::Request { client, target }));
                }
            } else if self.spent.retries < bounds.retries && self.sim.step_request_waiting(client).is_some() {
                events.extend(self.up_nodes().map(|target| Event::Retry { client, target }));
            }
        }
    }

    /// Applies `event`; returns the first violation it caused, if any.
    pub fn apply(&mut self, event: Event) -> Option<Violation> {
        self.apply_recording(event, &mut |_| {})
    }

    /// Applies `event`, then, once no crash is left in the bounds, acknowledges every volatile write; hands
    /// `record` each action taken, in order (a counterexample's run needs the acknowledgements too).
    ///
    /// Why acknowledging at once is sound when no node can crash any more: a volatile write only holds back its
    /// node's messages (persist before send) and nothing else a node or the checker decides depends on when a
    /// write lands, except a crash, which loses it. Acknowledging later lets the held messages enter the network
    /// later, and any delivery order is explored anyway. Messages in flight then count sooner against
    /// `--messages`, which is a bound, not a claim.
    pub fn apply_recording(&mut self, event: Event, record: &mut dyn FnMut(&UserAction)) -> Option<Violation> {
        self.spend(event);
        let violation = self.step(event.action(), record);
        if violation.is_some() || !self.acknowledges_at_once() {
            return violation;
        }
        for node in 1..=self.sim.machines().len() as NodeId {
            while self.sim.volatile_writes(node) > 0 {
                self.acknowledged_at_once += 1;
                if let Some(violation) = self.step(UserAction::AckWrite { node }, record) {
                    return Some(violation);
                }
            }
        }
        None
    }

    /// Counts `event` against its bound.
    fn spend(&mut self, event: Event) {
        match event {
            Event::Drop { .. } => self.spent.drops += 1,
            Event::Duplicate { .. } => self.spent.dups += 1,
            Event::Tick { .. } => self.spent.ticks += 1,
            Event::Crash { .. } => self.spent.crashes += 1,
            Event::Request { client, .. } => {
                self.spent.ops += 1;
                self.spent.issued |= 1 << client;
            }
            Event::Retry { .. } => self.spent.retries += 1,
            Event::AddNode | Event::RemoveNode { .. } | Event::ReplaceNode { .. } => self.spent.reconfigs += 1,
            Event::Deliver { .. } | Event::Ack { .. } | Event::Restart { .. } => {}
        }
    }

    fn step(&mut self, action: UserAction, record: &mut dyn FnMut(&UserAction)) -> Option<Violation> {
        let before = self.sim.violations().len();
        record(&action);
        self.sim.step(action);
        if let Some(violation) = self.sim.violations().get(before) {
            return Some(violation.clone());
        }
        self.check_history()
    }

    /// When an operation got an outcome, the history must still be linearizable (unless a history of the same shape
    /// was found so before: `linearizable`).
    fn check_history(&mut self) -> Option<Violation> {
        let decided = self.sim.history().operations().iter().filter(|op| op.outcome != Outcome::Indeterminate).count();
        if decided == self.decided {
            return None;
        }
        self.decided = decided;
        let shape = linearizable::shape(self.sim.history());
        if linearizable::known(shape) {
            return None;
        }
        let violation =
            crate::check::linearizability_violation(self.sim.history(), self.sim.trace().len(), self.sim.now());
        if violation.is_none() {
            linearizable::remember(shape);
        }
        violation
    }

    /// Everything that decides what can happen from here: the nodes, their disks (durable and volatile), the
    /// messages in flight (as a multiset: ids and times do not matter), the clients, the order of invocations and
    /// outcomes in the history, what the checker recorded as chosen and learned, and the bounds spent.
    pub fn fingerprint(&self) -> u64 {
        let mut state = Fingerprinter::default();
        for machine in self.sim.machines() {
            match &machine.node {
                Some(node) => node.fingerprint(&mut state),
                None => state.write_u8(if machine.retired { 0xde } else { 0xdd }),
            }
            machine.storage.durable().hash(&mut state);
            machine.storage.pending().for_each(|batch| batch.hash(&mut state));
        }
        let mut messages: u64 = 0;
        for message in self.sim.network().unordered() {
            messages = messages.wrapping_add(mix(content_digest(&message.envelope)));
        }
        (messages, self.sim.network().len()).hash(&mut state);
        for client in self.issued_clients() {
            (client, self.sim.step_request_waiting(client)).hash(&mut state);
        }
        self.hash_history(&mut state);
        self.sim.checker().fingerprint(&mut state);
        self.spent.hash(&mut state);
        // The operator: the configuration it saw in effect, the change it asks for, and how new a configuration must
        // be to count as that change in effect (which decides when the operator shuts removed nodes down), but not
        // when it was asked for, which stepping never reads (nothing before issue 20's events, so the states of runs
        // without them hash as before).
        if self.spent.reconfigs > 0 {
            let change = self.sim.reconfiguration().map(|change| (change.target, change.newer_than));
            (self.sim.members(), change).hash(&mut state);
        }
        state.finish()
    }

    /// The node an event names: a message's destination, the node of a tick, acknowledgement, crash or restart,
    /// a request's target.
    pub(super) fn named_node(&self, event: Event) -> Option<NodeId> {
        match event {
            Event::Deliver { id } | Event::Drop { id } | Event::Duplicate { id } => {
                self.sim.network().get(id).map(|message| message.to)
            }
            Event::Tick { node } | Event::Ack { node } | Event::Crash { node } | Event::Restart { node } => Some(node),
            Event::Request { target, .. } | Event::Retry { target, .. } => Some(target),
            Event::AddNode | Event::RemoveNode { .. } | Event::ReplaceNode { .. } => None,
        }
    }

    /// Whether `event` asks for a membership change, or one is under way here.
    pub(super) fn changes_membership(&self, event: Event) -> bool {
        matches!(event, Event::AddNode | Event::RemoveNode { .. } | Event::ReplaceNode { .. })
            || self.sim.reconfiguration().is_some()
    }

    /// The step clients that have sent their request.
    fn issued_clients(&self) -> impl Iterator<Item = u8> + '_ {
        (1..16u8).filter(|client| self.spent.issued & (1 << client) != 0)
    }

    /// Whether every write is acknowledged as soon as it is issued: no crash is left.
    pub(super) fn acknowledges_at_once(&self) -> bool {
        self.spent.crashes >= self.crashes_max
    }

    /// Whether `event`, taking this state to `child`, issued or acknowledged a write, or could have acknowledged
    /// one had the crashes been spent: its node held a volatile write.
    pub(super) fn wrote(&self, event: Event, child: &World) -> bool {
        let holds_writes = self.named_node(event).is_some_and(|node| self.sim.volatile_writes(node) > 0);
        holds_writes
            || child.acknowledged_at_once != self.acknowledged_at_once
            || (1..=self.sim.machines().len() as NodeId)
                .any(|node| self.sim.volatile_writes(node) != child.sim.volatile_writes(node))
    }

    /// The content digest of message `id` in flight (0 if it is not).
    pub(super) fn message_digest(&self, id: u64) -> u64 {
        self.sim.network().get(id).map_or(0, |message| content_digest(&message.envelope))
    }

    /// A digest of what the clients' side holds: each operation's outcome and whether it was answered, and which
    /// step clients wait for an answer. Two states with different marks differ in their history or clients.
    pub(super) fn clients_mark(&self) -> u64 {
        let mut state = Fingerprinter::default();
        for op in self.sim.history().operations() {
            (op.client, std::mem::discriminant(&op.outcome), op.response_time().is_some()).hash(&mut state);
        }
        for client in self.issued_clients() {
            self.sim.step_request_waiting(client).is_some().hash(&mut state);
        }
        state.finish()
    }

    /// The bounds `child` spent beyond this state, a bit each in `Spent::counts` order.
    pub(super) fn spent_fields(&self, child: &World) -> u8 {
        let (before, after) = (self.spent.counts(), child.spent.counts());
        (0..before.len()).filter(|field| before[*field] != after[*field]).fold(0, |bits, field| bits | 1 << field)
    }

    /// The bounds with room for two more events here, a bit each in `Spent::counts` order.
    pub(super) fn roomy_bounds(&self, bounds: &Bounds) -> u8 {
        let limits =
            [bounds.ops, bounds.crashes, bounds.drops, bounds.dups, bounds.ticks, bounds.retries, bounds.reconfigs];
        let spent = self.spent.counts();
        (0..limits.len())
            .filter(|field| limits[*field] >= spent[*field].saturating_add(2))
            .fold(0, |bits, f| bits | 1 << f)
    }

    /// The history's invocations and outcomes in the order they happened, without their times.
    fn hash_history(&self, state: &mut Fingerprinter) {
        let operations = self.sim.history().operations();
        // Each moment (time, answered, operation) is distinct; they are taken smallest first by a scan for the
        // least one after the last, not collected and sorted: a history here holds a few operations (at most
        // `Bounds::ops`), and this runs for every state computed, where an allocation costs more than the scans.
        let moments = operations.iter().enumerate().flat_map(|(index, op)| {
            std::iter::once((op.invoke, false, index)).chain(op.response_time().map(|at| (at, true, index)))
        });
        let mut last = None;
        while let Some(moment) = moments.clone().filter(|moment| last.is_none_or(|last| *moment > last)).min() {
            last = Some(moment);
            let (_, responded, index) = moment;
            let op = &operations[index];
            (responded, op.client).hash(state);
            // The outcome without its time: only the order of moments matters to linearizability.
            match &op.outcome {
                Outcome::Completed { output, .. } => (0u8, output).hash(state),
                Outcome::Failed { .. } => 1u8.hash(state),
                Outcome::Indeterminate => 2u8.hash(state),
            }
        }
    }
}

impl Spent {
    /// What each bound has spent: ops, crashes, drops, duplicates, ticks, retries, membership changes.
    fn counts(&self) -> [u8; 7] {
        [self.ops, self.crashes, self.drops, self.dups, self.ticks, self.retries, self.reconfigs]
    }
}

/// Spreads a digest's bits before it is added into a multiset's sum (so that two different multisets rarely sum
/// alike): the finaliser of SplitMix64.
fn mix(mut value: u64) -> u64 {
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}
