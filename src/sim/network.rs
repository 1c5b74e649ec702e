//! The simulated network: every message in flight is an addressable item, delivered at its tick in
//! (deliver_at, id) order; links can be cut.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

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

/// Bits of a heap key that hold the slot: enough for `IN_FLIGHT_MAX` slots.
const SLOT_BITS: u32 = 18;
const _: () = assert!(IN_FLIGHT_MAX <= 1 << SLOT_BITS);

/// Messages live in the slots of a slab (a freed slot is reused, so a message costs no allocation of its own);
/// delivery order comes from a min-heap of (deliver_at, id, slot) keys, the id and the slot packed in one word
/// (id above, slot below: the order is still by id). Removing a message (drop, deliver now)
/// leaves its key in the heap: a key is live only while its slot holds that id with that delivery tick, and
/// stale keys are discarded when they surface. Two B-trees did the same job before and took a fifth of the
/// simulator's time in Wasm (B-tree nodes shift entries on every insert and removal); then a hash map of boxed
/// messages, whose allocation per message cost twice as much in Wasm (dlmalloc) as natively.
#[derive(Clone, Debug, Default)]
pub struct Network {
    slots: Vec<Option<InFlight>>,
    free: Vec<u32>,
    len: usize,
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
        assert!(self.len < IN_FLIGHT_MAX, "more than {IN_FLIGHT_MAX} messages in flight");
        debug_assert!(self.get(message.id).is_none(), "message {} is in flight twice", message.id);
        let (deliver_at, id) = (message.deliver_at, message.id);
        assert!(id < 1 << (64 - SLOT_BITS), "message id {id} is too large to index");
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(message);
                slot
            }
            None => {
                self.slots.push(Some(message));
                (self.slots.len() - 1) as u32
            }
        };
        self.len += 1;
        self.due.push(Reverse((deliver_at, (id << SLOT_BITS) | u64::from(slot))));
        // Stale keys are bounded by the messages removed out of order; compact if they ever dominate.
        if self.due.len() > 2 * self.len + 1024 {
            let slots = &self.slots;
            self.due.retain(|Reverse(key)| Self::is_live(slots, *key).is_some());
        }
    }

    /// Whether a heap key still names a message in flight (and which slot holds it).
    fn is_live(slots: &[Option<InFlight>], (deliver_at, id_slot): (u64, u64)) -> Option<usize> {
        let (id, slot) = (id_slot >> SLOT_BITS, (id_slot & ((1 << SLOT_BITS) - 1)) as usize);
        let message = slots[slot].as_ref()?;
        (message.id == id && message.deliver_at == deliver_at).then_some(slot)
    }

    fn take(&mut self, slot: usize) -> Option<InFlight> {
        let message = self.slots[slot].take()?;
        self.free.push(slot as u32);
        self.len -= 1;
        Some(message)
    }

    /// The slot holding message `id` (a scan: only user actions and the UI's selection look messages up by id).
    fn slot_of(&self, id: u64) -> Option<usize> {
        self.slots.iter().position(|message| message.as_ref().is_some_and(|message| message.id == id))
    }

    /// The next message due at or before `now`.
    pub fn pop_due(&mut self, now: u64) -> Option<InFlight> {
        while let Some(&Reverse(key)) = self.due.peek() {
            if key.0 > now {
                return None;
            }
            self.due.pop();
            if let Some(slot) = Self::is_live(&self.slots, key) {
                return self.take(slot);
            }
            // Otherwise removed, or pushed again with another delivery tick.
        }
        None
    }

    /// Removes every message in flight (cut links stay cut), oldest first.
    pub fn take_all(&mut self) -> Vec<InFlight> {
        self.due.clear();
        self.free.clear();
        self.len = 0;
        let mut messages: Vec<InFlight> = self.slots.drain(..).flatten().collect();
        messages.sort_by_key(|message| (message.deliver_at, message.id));
        messages
    }

    pub fn remove(&mut self, id: u64) -> Option<InFlight> {
        self.slot_of(id).and_then(|slot| self.take(slot))
    }

    pub fn get(&self, id: u64) -> Option<&InFlight> {
        self.slot_of(id).and_then(|slot| self.slots[slot].as_ref())
    }

    /// Messages in flight, in delivery order.
    pub fn in_flight(&self) -> impl Iterator<Item = &InFlight> {
        let mut messages: Vec<&InFlight> = self.slots.iter().flatten().collect();
        messages.sort_unstable_by_key(|message| (message.deliver_at, message.id));
        messages.into_iter()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
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
