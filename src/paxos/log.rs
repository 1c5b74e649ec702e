//! A node's in-memory log: a window of slots `start..end`, below which everything is compacted into the
//! snapshot. Indexing is O(1): the fuzzer and the benchmarks touch it millions of times.
//!
//! Slots live in fixed-size chunks rather than one growing ring buffer: a long log then never moves entries it
//! already holds (doubling a 200,000-slot buffer copies megabytes and faults in fresh pages each time), and
//! compaction frees whole chunks. A chunk reserves its full size up front but only holds the slots written so
//! far, so a clone of a short log (the playground keeps copies for time travel) stays small.

use std::collections::VecDeque;
use std::rc::Rc;

use super::{Ballot, Entry, Members, Request, Slot, Value};

/// One held slot, as the log keeps it: an `Entry` in 16 bytes instead of 24. Every replica keeps one per slot, most of
/// it in memory the run has not touched before, where each byte costs page faults (BENCHMARKS.md, issue 21). An
/// `Entry` puts its ballot and chosen flag after its 16-byte `Value`; here they fill the 7 bytes beside the variant
/// tag, so each variant is the value's own payload plus a `SlotMark`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LogSlot<C> {
    Noop(SlotMark),
    Command(SlotMark, Rc<Request<C>>),
    Batch(SlotMark, Rc<Vec<Rc<Request<C>>>>),
    Reconfig(SlotMark, Members),
}

/// A held slot's ballot, and whether the slot is known chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SlotMark {
    ballot: Ballot,
    chosen: bool,
}

impl<C> From<Entry<C>> for LogSlot<C> {
    #[inline]
    fn from(entry: Entry<C>) -> Self {
        let mark = SlotMark { ballot: entry.ballot, chosen: entry.chosen };
        match entry.value {
            Value::Noop => LogSlot::Noop(mark),
            Value::Command(request) => LogSlot::Command(mark, request),
            Value::Batch(requests) => LogSlot::Batch(mark, requests),
            Value::Reconfig(members) => LogSlot::Reconfig(mark, members),
        }
    }
}

impl<C> LogSlot<C> {
    fn mark(&self) -> SlotMark {
        match self {
            LogSlot::Noop(mark) | LogSlot::Command(mark, _) | LogSlot::Batch(mark, _) | LogSlot::Reconfig(mark, _) => {
                *mark
            }
        }
    }

    fn mark_mut(&mut self) -> &mut SlotMark {
        match self {
            LogSlot::Noop(mark) | LogSlot::Command(mark, _) | LogSlot::Batch(mark, _) | LogSlot::Reconfig(mark, _) => {
                mark
            }
        }
    }

    /// The ballot in which this node accepted the slot's value (or learned it chosen).
    pub fn ballot(&self) -> Ballot {
        self.mark().ballot
    }

    pub fn is_chosen(&self) -> bool {
        self.mark().chosen
    }

    pub fn mark_chosen(&mut self) {
        self.mark_mut().chosen = true;
    }

    pub fn set_ballot(&mut self, ballot: Ballot) {
        self.mark_mut().ballot = ballot;
    }

    /// The client requests the value carries, in order (`Value::requests`).
    pub fn requests(&self) -> &[Rc<Request<C>>] {
        match self {
            LogSlot::Noop(_) | LogSlot::Reconfig(..) => &[],
            LogSlot::Command(_, request) => std::slice::from_ref(request),
            LogSlot::Batch(_, requests) => requests,
        }
    }

    /// The configuration the value sets, if it is a reconfiguration (`Value::reconfig`).
    pub fn reconfig(&self) -> Option<Members> {
        match self {
            LogSlot::Reconfig(_, members) => Some(*members),
            _ => None,
        }
    }

    /// The slot's value (shared, not copied: a request is behind an `Rc`).
    pub fn value(&self) -> Value<C> {
        match self {
            LogSlot::Noop(_) => Value::Noop,
            LogSlot::Command(_, request) => Value::Command(Rc::clone(request)),
            LogSlot::Batch(_, requests) => Value::Batch(Rc::clone(requests)),
            LogSlot::Reconfig(_, members) => Value::Reconfig(*members),
        }
    }

    pub fn to_entry(&self) -> Entry<C> {
        Entry { ballot: self.ballot(), value: self.value(), chosen: self.is_chosen() }
    }
}

impl<C: PartialEq> LogSlot<C> {
    /// Whether the slot holds `value`.
    pub fn holds(&self, value: &Value<C>) -> bool {
        match (self, value) {
            (LogSlot::Noop(_), Value::Noop) => true,
            (LogSlot::Command(_, held), Value::Command(other)) => held == other,
            (LogSlot::Batch(_, held), Value::Batch(other)) => held == other,
            (LogSlot::Reconfig(_, held), Value::Reconfig(other)) => held == other,
            _ => false,
        }
    }
}

const CHUNK_BITS: u32 = 10;
/// Slots per chunk (16 KiB of `LogSlot`s: below glibc's mmap threshold, so chunks are recycled by malloc).
const CHUNK: usize = 1 << CHUNK_BITS;

#[derive(Clone, Debug)]
pub struct Log<C> {
    start: Slot,
    end: Slot,
    /// The slot of `chunks[0][0]`: `start` rounded down to a chunk boundary.
    base: Slot,
    chunks: VecDeque<Vec<Option<LogSlot<C>>>>,
}

impl<C> Default for Log<C> {
    fn default() -> Self {
        Log { start: 0, end: 0, base: 0, chunks: VecDeque::new() }
    }
}

impl<C> Log<C> {
    /// The first slot held; every slot below is compacted.
    pub fn start(&self) -> Slot {
        self.start
    }

    /// One past the highest slot held (or `start` when empty).
    pub fn end(&self) -> Slot {
        self.end
    }

    pub fn get(&self, slot: Slot) -> Option<&LogSlot<C>> {
        if slot < self.start || slot >= self.end {
            return None;
        }
        let index = (slot - self.base) as usize;
        self.chunks.get(index >> CHUNK_BITS)?.get(index & (CHUNK - 1))?.as_ref()
    }

    pub fn get_mut(&mut self, slot: Slot) -> Option<&mut LogSlot<C>> {
        if slot < self.start || slot >= self.end {
            return None;
        }
        let index = (slot - self.base) as usize;
        self.chunks.get_mut(index >> CHUNK_BITS)?.get_mut(index & (CHUNK - 1))?.as_mut()
    }

    /// Stores `entry` at `slot`, growing the window as needed. Slots below `start` are compacted: the
    /// caller must not write there.
    ///
    /// Every replica appends every slot: that common case (the next slot, inside the last chunk) is a push, inlined
    /// into the caller; anything else takes `set_anywhere`.
    #[inline(always)]
    pub fn set(&mut self, slot: Slot, entry: Entry<C>) {
        if slot == self.end && slot > self.start {
            // Slot `end - 1` is held, so the last chunk is the one that holds it, as its last element.
            let offset = (slot - self.base) as usize & (CHUNK - 1);
            if let Some(last) = self.chunks.back_mut().filter(|_| offset != 0) {
                debug_assert_eq!(last.len(), offset, "the last chunk ends at slot {}", self.end);
                last.push(Some(entry.into()));
                self.end = slot + 1;
                return;
            }
        }
        self.set_anywhere(slot, entry.into());
    }

    #[inline(never)]
    fn set_anywhere(&mut self, slot: Slot, entry: LogSlot<C>) {
        assert!(slot >= self.start, "writing slot {slot} below the compacted prefix {}", self.start);
        if self.chunks.is_empty() {
            self.base = self.start & !(CHUNK as Slot - 1);
        }
        let index = (slot - self.base) as usize;
        let (chunk, offset) = (index >> CHUNK_BITS, index & (CHUNK - 1));
        while self.chunks.len() <= chunk {
            self.chunks.push_back(Vec::with_capacity(CHUNK));
        }
        let slots = &mut self.chunks[chunk];
        if offset == slots.len() {
            slots.push(Some(entry)); // The first slot of a new chunk, or one after a hole.
        } else {
            if offset > slots.len() {
                slots.resize_with(offset + 1, || None);
            }
            slots[offset] = Some(entry);
        }
        self.end = self.end.max(slot + 1);
    }

    /// Drops every slot below `upto`.
    pub fn compact(&mut self, upto: Slot) {
        if upto <= self.start {
            return;
        }
        self.start = upto;
        if upto >= self.end {
            self.end = upto;
            self.chunks.clear();
            return;
        }
        while self.base + CHUNK as Slot <= upto {
            self.chunks.pop_front();
            self.base += CHUNK as Slot;
        }
        if let Some(first) = self.chunks.front_mut() {
            let dropped = ((upto - self.base) as usize).min(first.len());
            first[..dropped].iter_mut().for_each(|slot| *slot = None);
        }
    }

    /// Held entries from `from` on, in slot order.
    pub fn iter_from(&self, from: Slot) -> impl Iterator<Item = (Slot, &LogSlot<C>)> {
        (from.max(self.start)..self.end).filter_map(move |slot| self.get(slot).map(|entry| (slot, entry)))
    }

    /// Slots in the window `start..end`, held or not.
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
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
    fn a_log_slot_gives_back_the_entry_it_was_made_from() {
        let request = |seq| Rc::new(Request { client: 7, seq, command: seq as u32 });
        let values = [
            Value::Noop,
            Value::Command(request(1)),
            Value::Batch(Rc::new(vec![request(2), request(3)])),
            Value::Reconfig(Members::of([1, 2, 4])),
        ];
        for (index, value) in values.iter().enumerate() {
            let entry =
                Entry { ballot: Ballot::new(3 + index as u32, 2), value: value.clone(), chosen: index % 2 == 0 };
            let mut slot = LogSlot::from(entry.clone());
            assert_eq!(slot.to_entry(), entry);
            assert_eq!(slot.requests(), value.requests());
            assert_eq!(slot.reconfig(), value.reconfig());
            assert!(slot.holds(value));
            assert!(values.iter().filter(|other| *other != value).all(|other| !slot.holds(other)), "{value:?}");
            slot.set_ballot(Ballot::new(9, 1));
            slot.mark_chosen();
            assert_eq!(slot.to_entry(), Entry { ballot: Ballot::new(9, 1), value: value.clone(), chosen: true });
        }
        // A request is shared, not copied: the slot and the entry it gives back hold the same allocation.
        let shared = request(5);
        let slot = LogSlot::from(Entry {
            ballot: Ballot::new(1, 1),
            value: Value::Command(Rc::clone(&shared)),
            chosen: false,
        });
        assert!(Rc::ptr_eq(&slot.requests()[0], &shared));
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
    fn chunks_behave_like_one_window_across_boundaries_holes_and_compaction() {
        // A plain map as the model; slots and compaction points straddle chunk boundaries.
        let mut log = Log::default();
        let mut model = std::collections::BTreeMap::new();
        let (mut start, mut end) = (0, 0);
        let mut state = 7u64;
        for step in 0..20_000u32 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let pick = state >> 33;
            if pick.is_multiple_of(50) {
                start = (start + pick % (3 * CHUNK as u64)).min(log.end() + CHUNK as u64 / 2);
                log.compact(start);
                end = end.max(start);
                model.retain(|slot, _| *slot >= start);
            } else {
                let slot = log.end().max(start) + pick % 5 - 2 * u64::from(pick.is_multiple_of(3));
                if slot >= start {
                    log.set(slot, entry(step));
                    model.insert(slot, step);
                    end = end.max(slot + 1);
                }
            }
            assert_eq!((log.start(), log.end()), (start, end));
        }
        for slot in start.saturating_sub(5)..log.end() + 5 {
            assert_eq!(log.get(slot).map(|entry| entry.ballot().round), model.get(&slot).copied(), "slot {slot}");
        }
        let held: Vec<(u64, u32)> = log.iter_from(0).map(|(slot, entry)| (slot, entry.ballot().round)).collect();
        assert_eq!(held, model.into_iter().collect::<Vec<_>>());
    }

    #[test]
    #[should_panic(expected = "below the compacted prefix")]
    fn writing_below_the_compacted_prefix_panics() {
        let mut log = Log::default();
        log.compact(5);
        log.set(4, entry(1));
    }
}
