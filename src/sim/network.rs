//! The simulated network: every message in flight is an addressable item, delivered at its tick in
//! (deliver_at, id) order; links can be cut.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use rustc_hash::FxHashMap;

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

/// Messages live in a hash map by id; delivery order comes from a min-heap of (deliver_at, id) keys. Removing a
/// message (drop, deliver now) leaves its key in the heap: a key is live only while the map holds that id with
/// that delivery tick, and stale keys are discarded when they surface. Two B-trees did the same job before and
/// took a fifth of the simulator's time in Wasm (B-tree nodes shift entries on every insert and removal).
#[derive(Clone, Debug, Default)]
pub struct Network {
    /// Boxed: an envelope is large and the map moves its entries when it grows.
    messages: FxHashMap<u64, Box<InFlight>>,
    due: BinaryHeap<Reverse<(u64, u64)>>,
    next_id: u64,
    cut: BTreeSet<(NodeId, NodeId)>,
}

impl Network {
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn push(&mut self, message: InFlight) {
        assert!(self.messages.len() < IN_FLIGHT_MAX, "more than {IN_FLIGHT_MAX} messages in flight");
        let key = (message.deliver_at, message.id);
        let replaced = self.messages.insert(message.id, Box::new(message));
        assert!(replaced.is_none(), "message {} is in flight twice", key.1);
        self.due.push(Reverse(key));
        // Stale keys are bounded by the messages removed out of order; compact if they ever dominate.
        if self.due.len() > 2 * self.messages.len() + 1024 {
            self.due
                .retain(|Reverse((deliver_at, id))| self.messages.get(id).is_some_and(|m| m.deliver_at == *deliver_at));
        }
    }

    /// The next message due at or before `now`.
    pub fn pop_due(&mut self, now: u64) -> Option<InFlight> {
        while let Some(&Reverse((deliver_at, id))) = self.due.peek() {
            if deliver_at > now {
                return None;
            }
            self.due.pop();
            match self.messages.get(&id) {
                Some(message) if message.deliver_at == deliver_at => {
                    return self.messages.remove(&id).map(|message| *message);
                }
                _ => continue, // removed, or pushed again with another delivery tick
            }
        }
        None
    }

    /// Removes every message in flight (cut links stay cut), oldest first.
    pub fn take_all(&mut self) -> Vec<InFlight> {
        self.due.clear();
        let mut messages: Vec<InFlight> = self.messages.drain().map(|(_, message)| *message).collect();
        messages.sort_by_key(|message| (message.deliver_at, message.id));
        messages
    }

    pub fn remove(&mut self, id: u64) -> Option<InFlight> {
        self.messages.remove(&id).map(|message| *message)
    }

    pub fn get(&self, id: u64) -> Option<&InFlight> {
        self.messages.get(&id).map(|message| message.as_ref())
    }

    /// Messages in flight, in delivery order.
    pub fn in_flight(&self) -> impl Iterator<Item = &InFlight> {
        let mut messages: Vec<&InFlight> = self.messages.values().map(|message| message.as_ref()).collect();
        messages.sort_unstable_by_key(|message| (message.deliver_at, message.id));
        messages.into_iter()
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
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
