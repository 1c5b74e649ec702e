//! The simulated network: every message in flight is an addressable item, delivered at its tick in
//! (deliver_at, id) order; links can be cut.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

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

/// Bits of a delivery key that hold the slot: enough for `IN_FLIGHT_MAX` slots.
const SLOT_BITS: u32 = 18;
const _: () = assert!(IN_FLIGHT_MAX <= 1 << SLOT_BITS);

/// Messages live in the slots of a slab (a freed slot is reused, so a message costs no allocation of its own).
/// Delivery order comes from one queue of keys per delivery tick, each key the message's id and slot packed in
/// one word (id above, slot below), kept in ascending order: messages are sent in id order, so a key almost
/// always goes at the back, and the tick's queue hands them out front first, in (deliver_at, id) order. Removing
/// a message (drop, deliver now) leaves its key queued: a key is live only while its slot holds that id with
/// that delivery tick, and stale keys are discarded when they surface.
///
/// Two B-trees of messages did this job first and took a fifth of the simulator's time in Wasm (B-tree nodes
/// shift entries on every insert and removal); then a hash map of boxed messages, whose allocation per message
/// cost twice as much in Wasm (dlmalloc) as natively, with a binary heap of keys (its sifting took twice as
/// long in Wasm as natively). A tick's queue is found in a map of the few ticks with messages due.
#[derive(Debug, Default)]
pub struct Network {
    slots: Vec<Option<InFlight>>,
    free: Vec<u32>,
    len: usize,
    due: BTreeMap<u64, VecDeque<u64>>,
    /// Keys queued in `due`, live or stale.
    keys: usize,
    /// Emptied queues, kept for reuse.
    spare: Vec<VecDeque<u64>>,
    next_id: u64,
    /// Links cut by partitions and by the visitor.
    cut: BTreeSet<(NodeId, NodeId)>,
    /// Links down because of a random link fault (one-way or flapping), kept apart from `cut` so that a fault
    /// ending heals only its own link, never a partition's or the visitor's.
    link_faults: BTreeSet<(NodeId, NodeId)>,
}

/// Room a copy leaves in its slots for messages sent after it was made: the model checker copies a network for
/// every state it computes, and a step that sends without a free slot to reuse grew the copy's vector again.
const SLOTS_SPARE: usize = 2;

/// A copy without the free slots past the last one in use, without the spare queues and without stale keys: the
/// model checker copies a network for every state it visits, and those are only ever there to be reused or
/// skipped (a stepped run's stale keys never surface, as nothing is popped while stepping). With no key queued (a
/// stepped network: no message is ever due), nothing refers to a slot by its number, so the copy packs the
/// messages together and has no free slot at all.
impl Clone for Network {
    fn clone(&self) -> Self {
        let used = self.slots.iter().rposition(Option::is_some).map_or(0, |last| last + 1);
        let live_keys = |(at, queue): (&u64, &VecDeque<u64>)| {
            let live: VecDeque<u64> =
                queue.iter().copied().filter(|key| Self::is_live(&self.slots, (*at, *key)).is_some()).collect();
            (!live.is_empty()).then_some((*at, live))
        };
        let due: BTreeMap<u64, VecDeque<u64>> = self.due.iter().filter_map(live_keys).collect();
        let packed = due.is_empty();
        let mut slots = Vec::with_capacity(if packed { self.len } else { used } + SLOTS_SPARE);
        if packed {
            slots.extend(self.slots[..used].iter().filter(|slot| slot.is_some()).cloned());
        } else {
            slots.extend_from_slice(&self.slots[..used]);
        }
        Network {
            slots,
            free: if packed {
                Vec::new()
            } else {
                self.free.iter().copied().filter(|slot| (*slot as usize) < used).collect()
            },
            len: self.len,
            keys: due.values().map(VecDeque::len).sum(),
            due,
            spare: Vec::new(),
            next_id: self.next_id,
            cut: self.cut.clone(),
            link_faults: self.link_faults.clone(),
        }
    }
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
        if deliver_at == u64::MAX {
            // Never due (a stepped run's message, `super::simulator::NEVER`): no tick reaches it, so it gets no
            // key, and a stepped network (the model checker copies one per state) holds no delivery queue at all.
            // Leaving stepping pushes each such message again with a time.
            return;
        }
        let key = (id << SLOT_BITS) | u64::from(slot);
        let spare = &mut self.spare;
        let queue = self.due.entry(deliver_at).or_insert_with(|| spare.pop().unwrap_or_default());
        if queue.back().is_none_or(|last| *last <= key) {
            queue.push_back(key);
        } else {
            // An old message pushed again (a paused node's) among newer ones.
            let at = queue.partition_point(|queued| *queued <= key);
            queue.insert(at, key);
        }
        self.keys += 1;
        // Stale keys are bounded by the messages removed out of order; compact if they ever dominate.
        if self.keys > 2 * self.len + 1024 {
            let slots = &self.slots;
            for (deliver_at, queue) in &mut self.due {
                queue.retain(|key| Self::is_live(slots, (*deliver_at, *key)).is_some());
            }
            self.due.retain(|_, queue| !queue.is_empty());
            self.keys = self.due.values().map(VecDeque::len).sum();
        }
    }

    /// Whether a delivery key still names a message in flight (and which slot holds it).
    fn is_live(slots: &[Option<InFlight>], (deliver_at, id_slot): (u64, u64)) -> Option<usize> {
        let (id, slot) = (id_slot >> SLOT_BITS, (id_slot & ((1 << SLOT_BITS) - 1)) as usize);
        // A key may outlive its slot: the last slot is dropped when its message leaves (`take`).
        let message = slots.get(slot)?.as_ref()?;
        (message.id == id && message.deliver_at == deliver_at).then_some(slot)
    }

    fn take(&mut self, slot: usize) -> Option<InFlight> {
        let message = self.slots[slot].take()?;
        // The last slot goes rather than being listed free (every free slot stays below the vector's length, as the
        // last slot held this message): a copy packs its messages without free slots, and a step that delivers one
        // would otherwise allocate the list.
        if slot + 1 == self.slots.len() {
            self.slots.pop();
        } else {
            self.free.push(slot as u32);
        }
        self.len -= 1;
        Some(message)
    }

    /// The slot holding message `id` (a scan: only user actions and the UI's selection look messages up by id).
    fn slot_of(&self, id: u64) -> Option<usize> {
        self.slots.iter().position(|message| message.as_ref().is_some_and(|message| message.id == id))
    }

    /// The next message due at or before `now`.
    pub fn pop_due(&mut self, now: u64) -> Option<InFlight> {
        while let Some(mut first) = self.due.first_entry() {
            let deliver_at = *first.key();
            if deliver_at > now {
                return None;
            }
            let queue = first.get_mut();
            let key = queue.pop_front();
            if queue.is_empty() {
                self.spare.push(first.remove());
            }
            let Some(key) = key else { continue };
            self.keys -= 1;
            if let Some(slot) = Self::is_live(&self.slots, (deliver_at, key)) {
                return self.take(slot);
            }
            // Otherwise removed, or pushed again with another delivery tick.
        }
        None
    }

    /// Removes every message in flight (cut links stay cut), oldest first.
    pub fn take_all(&mut self) -> Vec<InFlight> {
        self.due.clear();
        self.keys = 0;
        self.free.clear();
        self.len = 0;
        // In the order `in_flight` gives, through its sort: one sort of messages, not two (each sort
        // instantiation costs the browser bundle kilobytes).
        let order: Vec<usize> = self.in_flight_slots().collect();
        let mut slots = std::mem::take(&mut self.slots);
        order.into_iter().map(|slot| slots[slot].take().expect("a slot in flight holds a message")).collect()
    }

    pub fn remove(&mut self, id: u64) -> Option<InFlight> {
        self.slot_of(id).and_then(|slot| self.take(slot))
    }

    pub fn get(&self, id: u64) -> Option<&InFlight> {
        self.slot_of(id).and_then(|slot| self.slots[slot].as_ref())
    }

    /// Messages in flight in no particular order, for what does not depend on it (a digest of the multiset, say):
    /// unlike `in_flight`, it sorts nothing and allocates nothing.
    pub fn unordered(&self) -> impl Iterator<Item = &InFlight> {
        self.slots.iter().flatten()
    }

    /// Messages in flight, in delivery order.
    pub fn in_flight(&self) -> impl Iterator<Item = &InFlight> {
        self.in_flight_slots().map(|slot| self.slots[slot].as_ref().expect("a slot in flight holds a message"))
    }

    /// Messages in flight in delivery order, as `in_flight` gives them, each found by a scan of the slots rather
    /// than all sorted in a vector: for a network of a few messages (the model checker lists the events of every
    /// state it expands), where the allocation cost more than the scans.
    pub fn in_flight_by_scan(&self) -> impl Iterator<Item = &InFlight> {
        let messages = self.slots.iter().flatten();
        let mut last: Option<(u64, u64)> = None;
        std::iter::from_fn(move || {
            let after_last = |message: &&InFlight| last.is_none_or(|last| (message.deliver_at, message.id) > last);
            let next = messages.clone().filter(after_last).min_by_key(|message| (message.deliver_at, message.id))?;
            last = Some((next.deliver_at, next.id));
            Some(next)
        })
    }

    /// The slots holding messages, in delivery order.
    fn in_flight_slots(&self) -> impl Iterator<Item = usize> {
        let mut order: Vec<(u64, u64, usize)> = (self.slots.iter().enumerate())
            .filter_map(|(slot, message)| message.as_ref().map(|message| (message.deliver_at, message.id, slot)))
            .collect();
        order.sort_unstable();
        order.into_iter().map(|(_, _, slot)| slot)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_cut(&self, from: NodeId, to: NodeId) -> bool {
        self.cut.contains(&(from, to)) || self.link_faults.contains(&(from, to))
    }

    /// Replaces the links the random link faults hold down.
    pub fn set_link_faults(&mut self, links: BTreeSet<(NodeId, NodeId)>) {
        self.link_faults = links;
    }

    pub fn cut(&mut self, from: NodeId, to: NodeId) {
        self.cut.insert((from, to));
    }

    pub fn heal_link(&mut self, from: NodeId, to: NodeId) {
        self.cut.remove(&(from, to));
    }

    /// Heals the partitions' and the visitor's cuts (random link faults end on their own).
    pub fn heal(&mut self) {
        self.cut.clear();
    }

    /// Every link that is down, whatever cut it, each once.
    pub fn cut_links(&self) -> impl Iterator<Item = &(NodeId, NodeId)> {
        self.cut.iter().chain(self.link_faults.iter().filter(|link| !self.cut.contains(link)))
    }

    pub fn has_cuts(&self) -> bool {
        !self.cut.is_empty() || !self.link_faults.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paxos::{Ballot, Envelope, Message};

    fn message(id: u64, deliver_at: u64) -> InFlight {
        let message = Message::Commit { ballot: Ballot::new(1, 1), chosen_upto: id };
        let envelope = Envelope { from: 1, to: 2, message };
        InFlight { id, from: 1, to: 2, sent_at: 0, deliver_at, kind: MessageKind::Commit, envelope }
    }

    fn drain(network: &mut Network, now: u64) -> Vec<u64> {
        std::iter::from_fn(|| network.pop_due(now)).map(|message| message.id).collect()
    }

    #[test]
    fn messages_come_out_by_delivery_tick_then_id_whatever_the_push_order() {
        let mut network = Network::default();
        for (id, deliver_at) in [(5, 3), (6, 2), (7, 3), (8, 2), (2, 3), (9, 4)] {
            network.push(message(id, deliver_at));
        }
        assert_eq!(drain(&mut network, 1), Vec::<u64>::new());
        assert_eq!(drain(&mut network, 3), vec![6, 8, 2, 5, 7]);
        assert_eq!(network.len(), 1);
        assert_eq!(drain(&mut network, 10), vec![9]);
        assert!(network.is_empty());
    }

    #[test]
    fn removed_messages_leave_no_trace_and_a_message_pushed_again_comes_out_once() {
        let mut network = Network::default();
        for id in 1..=4 {
            network.push(message(id, 5));
        }
        assert_eq!(network.remove(2).map(|message| message.id), Some(2));
        // Delivered now, then held back (a paused node's): pushed again, same id, another tick, reusing a slot.
        let held = network.remove(3).expect("in flight");
        network.push(InFlight { deliver_at: 6, ..held });
        network.push(message(10, 5));
        assert_eq!(network.get(3).map(|message| message.deliver_at), Some(6));
        assert_eq!(drain(&mut network, 5), vec![1, 4, 10]);
        assert_eq!(drain(&mut network, 6), vec![3]);
        assert!(network.is_empty());
    }

    #[test]
    fn a_scan_lists_messages_in_the_order_a_sort_does_and_a_copy_packs_them() {
        let mut network = Network::default();
        for (id, deliver_at) in [(5, 3), (6, u64::MAX), (7, 3), (8, 2), (2, u64::MAX), (9, 4)] {
            network.push(message(id, deliver_at));
        }
        network.remove(8);
        network.remove(9);
        let ids = |network: &Network| network.in_flight().map(|message| message.id).collect::<Vec<_>>();
        let scanned = network.in_flight_by_scan().map(|message| message.id).collect::<Vec<_>>();
        assert_eq!(scanned, ids(&network));
        assert_eq!(scanned, vec![5, 7, 2, 6]);
        let copy = network.clone();
        assert_eq!(ids(&copy), scanned, "the same messages in the same order");
        assert_eq!((copy.slots.len(), copy.free.len()), (5, 1), "keys are queued: the slots stay where they are");
        // A stepped network (nothing ever due, no key queued) packs its copy.
        let mut stepped = Network::default();
        for id in 1..=4 {
            stepped.push(message(id, u64::MAX));
        }
        stepped.remove(2);
        let copy = stepped.clone();
        assert_eq!((copy.slots.len(), copy.free.len()), (3, 0));
        assert_eq!(ids(&copy), vec![1, 3, 4]);
    }

    #[test]
    fn a_message_never_due_waits_until_taken_or_pushed_again_with_a_time() {
        let mut network = Network::default();
        network.push(message(1, u64::MAX));
        network.push(message(2, 5));
        assert_eq!(drain(&mut network, u64::MAX - 1), vec![2]);
        assert_eq!(network.in_flight().map(|message| message.id).collect::<Vec<_>>(), vec![1]);
        let waiting = network.remove(1).expect("still in flight");
        network.push(InFlight { deliver_at: 7, ..waiting });
        assert_eq!(drain(&mut network, 7), vec![1]);
        assert!(network.is_empty());
    }

    #[test]
    fn a_copy_delivers_what_the_original_does_without_its_stale_keys() {
        let mut network = Network::default();
        for id in 1..=6 {
            network.push(message(id, id % 3));
        }
        network.remove(2);
        network.remove(4);
        let mut copy = network.clone();
        assert_eq!(copy.keys, 4, "the keys of removed messages are not copied");
        assert_eq!(drain(&mut copy, 10), drain(&mut network, 10));
    }

    #[test]
    fn stale_keys_are_compacted() {
        let mut network = Network::default();
        for id in 1..=5_000 {
            network.push(message(id, 1_000 + id));
            network.remove(id);
        }
        assert!(network.keys <= 2 * network.len() + 1024 + 1, "{} keys for {} messages", network.keys, network.len());
        network.push(message(9_999, 7));
        assert_eq!(drain(&mut network, u64::MAX), vec![9_999]);
    }
}
