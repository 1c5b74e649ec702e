//! A node's in-memory log: a window of slots starting at `start`, below which everything is compacted into
//! the snapshot. Indexing is O(1): the fuzzer and the benchmarks touch it millions of times.

use std::collections::VecDeque;

use super::{Entry, Slot};

#[derive(Clone, Debug)]
pub struct Log<C> {
    start: Slot,
    slots: VecDeque<Option<Entry<C>>>,
}

impl<C> Default for Log<C> {
    fn default() -> Self {
        Log { start: 0, slots: VecDeque::new() }
    }
}

impl<C> Log<C> {
    /// The first slot held; every slot below is compacted.
    pub fn start(&self) -> Slot {
        self.start
    }

    /// One past the highest slot held (or `start` when empty).
    pub fn end(&self) -> Slot {
        self.start + self.slots.len() as Slot
    }

    pub fn get(&self, slot: Slot) -> Option<&Entry<C>> {
        let index = slot.checked_sub(self.start)?;
        self.slots.get(index as usize)?.as_ref()
    }

    pub fn get_mut(&mut self, slot: Slot) -> Option<&mut Entry<C>> {
        let index = slot.checked_sub(self.start)?;
        self.slots.get_mut(index as usize)?.as_mut()
    }

    /// Stores `entry` at `slot`, growing the window as needed. Slots below `start` are compacted: the
    /// caller must not write there.
    pub fn set(&mut self, slot: Slot, entry: Entry<C>) {
        assert!(slot >= self.start, "writing slot {slot} below the compacted prefix {}", self.start);
        let index = (slot - self.start) as usize;
        if index == self.slots.len() {
            self.slots.push_back(Some(entry)); // The common case: appending the next slot.
            return;
        }
        if index > self.slots.len() {
            self.slots.resize_with(index + 1, || None);
        }
        self.slots[index] = Some(entry);
    }

    /// Drops every slot below `upto`.
    pub fn compact(&mut self, upto: Slot) {
        if upto <= self.start {
            return;
        }
        let drop = ((upto - self.start) as usize).min(self.slots.len());
        self.slots.drain(..drop);
        self.start = upto;
    }

    /// Held entries from `from` on, in slot order.
    pub fn iter_from(&self, from: Slot) -> impl Iterator<Item = (Slot, &Entry<C>)> {
        let skip = from.saturating_sub(self.start) as usize;
        let start = self.start;
        self.slots
            .iter()
            .enumerate()
            .skip(skip)
            .filter_map(move |(index, entry)| entry.as_ref().map(|entry| (start + index as Slot, entry)))
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paxos::{Ballot, Value};

    fn entry(round: u32) -> Entry<u32> {
        Entry { ballot: Ballot::new(round, 1), value: Value::Noop, chosen: false }
    }

    #[test]
    fn holes_read_as_empty_and_compaction_moves_the_start() {
        let mut log = Log::default();
        log.set(3, entry(1));
        assert_eq!(log.end(), 4);
        assert!(log.get(0).is_none() && log.get(3).is_some() && log.get(9).is_none());
        log.compact(2);
        assert_eq!(log.start(), 2);
        assert!(log.get(1).is_none(), "compacted slots are gone");
        assert_eq!(log.iter_from(0).map(|(slot, _)| slot).collect::<Vec<_>>(), vec![3]);
        log.compact(10);
        assert_eq!((log.start(), log.end()), (10, 10));
        assert!(log.is_empty());
    }

    #[test]
    #[should_panic(expected = "below the compacted prefix")]
    fn writing_below_the_compacted_prefix_panics() {
        let mut log = Log::default();
        log.compact(5);
        log.set(4, entry(1));
    }
}
