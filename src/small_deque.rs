//! `SmallDeque<T, N>`: a first-in first-out queue that holds its first `N` items in place and only the rest on the
//! heap. A simulated machine's write times and its disk's volatile batches are such queues: they hold one or two
//! items at a time, and the model checker (`crate::explore`) copies them with the machine or disk for every state
//! it computes that writes there, where a `VecDeque` allocated for every copy, and again when it grew from there.

use std::collections::VecDeque;

#[derive(Clone, Debug)]
pub struct SmallDeque<T, const N: usize> {
    /// The oldest items, in a ring from `head`: `len_inline` of them.
    inline: [Option<T>; N],
    head: usize,
    len_inline: usize,
    /// The newer items, once the ring is full. Never holds an item while the ring has room (`pop_front` moves the
    /// oldest spilled item into the ring), so the queue's order is the ring's then the spill's.
    spill: VecDeque<T>,
}

impl<T, const N: usize> Default for SmallDeque<T, N> {
    fn default() -> Self {
        SmallDeque { inline: std::array::from_fn(|_| None), head: 0, len_inline: 0, spill: VecDeque::new() }
    }
}

impl<T, const N: usize> SmallDeque<T, N> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len_inline + self.spill.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn push_back(&mut self, item: T) {
        if self.len_inline < N {
            debug_assert!(self.spill.is_empty(), "the ring fills before anything spills");
            self.inline[(self.head + self.len_inline) % N] = Some(item);
            self.len_inline += 1;
        } else {
            self.spill.push_back(item);
        }
    }

    pub fn pop_front(&mut self) -> Option<T> {
        if self.len_inline == 0 {
            return None;
        }
        let item = self.inline[self.head].take();
        self.head = (self.head + 1) % N;
        self.len_inline -= 1;
        if let Some(next) = self.spill.pop_front() {
            self.inline[(self.head + self.len_inline) % N] = Some(next);
            self.len_inline += 1;
        }
        item
    }

    pub fn front(&self) -> Option<&T> {
        self.iter().next()
    }

    pub fn front_mut(&mut self) -> Option<&mut T> {
        self.iter_mut().next()
    }

    pub fn back(&self) -> Option<&T> {
        self.spill.back().or_else(|| self.iter().last())
    }

    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        let (newer, older) = self.inline.split_at(self.head);
        let ring = older.iter().chain(newer).take(self.len_inline).map(|item| item.as_ref().expect("an item"));
        ring.chain(&self.spill)
    }

    /// Oldest first.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        let (newer, older) = self.inline.split_at_mut(self.head);
        let ring = older.iter_mut().chain(newer).take(self.len_inline).map(|item| item.as_mut().expect("an item"));
        ring.chain(&mut self.spill)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against `VecDeque`, through the ring's wrap and the spill, for every interleaving of pushes and pops that a
    /// few bits spell.
    #[test]
    fn behaves_as_a_vec_deque() {
        for script in 0u32..1 << 12 {
            let mut small: SmallDeque<u32, 2> = SmallDeque::new();
            let mut reference = VecDeque::new();
            for step in 0..12 {
                if script & (1 << step) != 0 {
                    small.push_back(step);
                    reference.push_back(step);
                } else {
                    assert_eq!(small.pop_front(), reference.pop_front());
                }
                if let (Some(mine), Some(theirs)) = (small.front_mut(), reference.front_mut()) {
                    *mine += 100;
                    *theirs += 100;
                }
                assert_eq!(small.len(), reference.len());
                assert_eq!(small.front(), reference.front());
                assert_eq!(small.back(), reference.back());
                assert!(small.iter().eq(reference.iter()), "script {script:b}, step {step}");
                assert!(small.clone().iter_mut().map(|item| *item).eq(reference.iter().copied()));
            }
            small.clear();
            assert!(small.is_empty() && small.front().is_none());
        }
    }
}
