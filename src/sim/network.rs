//! The simulated network: every message in flight is an addressable item, delivered at its tick in
//! (deliver_at, id) order; links can be cut.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::kv::KvStore;
use crate::paxos::{EnvelopeOf, MessageKind, NodeId};

#[derive(Clone, Debug, Serialize)]
pub struct InFlight {
    pub id: u64,
    pub from: NodeId,
    pub to: NodeId,
    pub sent_at: u64,
    pub deliver_at: u64,
    pub kind: MessageKind,
    pub envelope: EnvelopeOf<KvStore>,
}

/// Bound on messages in flight: a run that floods the network is a bug in the simulator or the core.
pub const IN_FLIGHT_MAX: usize = 200_000;

#[derive(Clone, Debug, Default)]
pub struct Network {
    /// Boxed: B-tree nodes shift their entries on every insert and removal, and an envelope is large, so
    /// moving pointers instead of messages saves the fuzzer about a tenth of its time.
    queue: BTreeMap<(u64, u64), Box<InFlight>>,
    by_id: BTreeMap<u64, u64>,
    next_id: u64,
    cut: BTreeSet<(NodeId, NodeId)>,
}

impl Network {
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn push(&mut self, message: InFlight) {
        assert!(self.queue.len() < IN_FLIGHT_MAX, "more than {IN_FLIGHT_MAX} messages in flight");
        self.by_id.insert(message.id, message.deliver_at);
        self.queue.insert((message.deliver_at, message.id), Box::new(message));
    }

    /// The next message due at or before `now`.
    pub fn pop_due(&mut self, now: u64) -> Option<InFlight> {
        let (&(deliver_at, id), _) = self.queue.first_key_value()?;
        if deliver_at > now {
            return None;
        }
        self.by_id.remove(&id);
        self.queue.remove(&(deliver_at, id)).map(|message| *message)
    }

    pub fn remove(&mut self, id: u64) -> Option<InFlight> {
        let deliver_at = self.by_id.remove(&id)?;
        self.queue.remove(&(deliver_at, id)).map(|message| *message)
    }

    pub fn get(&self, id: u64) -> Option<&InFlight> {
        let deliver_at = self.by_id.get(&id)?;
        self.queue.get(&(*deliver_at, id)).map(|message| message.as_ref())
    }

    /// Messages in flight, in delivery order.
    pub fn in_flight(&self) -> impl Iterator<Item = &InFlight> {
        self.queue.values().map(|message| message.as_ref())
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn is_cut(&self, from: NodeId, to: NodeId) -> bool {
        self.cut.contains(&(from, to))
    }

    pub fn cut(&mut self, from: NodeId, to: NodeId) {
        self.cut.insert((from, to));
    }

    pub fn heal_link(&mut self, from: NodeId, to: NodeId) {
        self.cut.remove(&(from, to));
    }

    pub fn heal(&mut self) {
        self.cut.clear();
    }

    pub fn cut_links(&self) -> impl Iterator<Item = &(NodeId, NodeId)> {
        self.cut.iter()
    }

    pub fn has_cuts(&self) -> bool {
        !self.cut.is_empty()
    }
}
