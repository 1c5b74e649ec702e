//! The set of (linearized operations, state) configurations the search has already explored.
//!
//! Every configuration's bitset lives in one flat arena and the table holds indices into it, so inserting
//! allocates only when the arena or the table doubles. The bitset's hash is kept up to date incrementally
//! (Zobrist hashing: the XOR of one random word per linearized operation), so hashing is O(1) too.

use super::hashing::mix;

/// The operations linearized so far, as a bitset with a running hash.
pub(super) struct Linearized {
    words: Vec<u64>,
    hash: u64,
}

impl Linearized {
    pub fn new(ops: usize) -> Self {
        Linearized { words: vec![0; ops.div_ceil(64)], hash: 0 }
    }

    pub fn insert(&mut self, op: usize) {
        debug_assert!(!self.contains(op));
        self.words[op / 64] |= 1 << (op % 64);
        self.hash ^= mix(op as u64);
    }

    pub fn remove(&mut self, op: usize) {
        debug_assert!(self.contains(op));
        self.words[op / 64] &= !(1 << (op % 64));
        self.hash ^= mix(op as u64);
    }

    pub fn contains(&self, op: usize) -> bool {
        self.words[op / 64] & (1 << (op % 64)) != 0
    }
}

const EMPTY: u32 = u32::MAX;

pub(super) struct VisitedSet {
    /// Words per entry: the bitset, then the state.
    stride: usize,
    /// Entry `i` is `arena[i * stride..(i + 1) * stride]`.
    arena: Vec<u64>,
    hashes: Vec<u64>,
    /// Open addressing with linear probing; a power of two in length, at most half full.
    slots: Vec<u32>,
}

impl VisitedSet {
    pub fn new(ops: usize) -> Self {
        VisitedSet { stride: ops.div_ceil(64) + 1, arena: Vec::new(), hashes: Vec::new(), slots: vec![EMPTY; 1024] }
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Adds the configuration; returns whether it was new.
    pub fn insert(&mut self, linearized: &Linearized, state: u32) -> bool {
        let hash = linearized.hash ^ mix(u64::from(state) | 1 << 63);
        let mask = self.slots.len() - 1;
        let mut slot = hash as usize & mask;
        loop {
            let entry = self.slots[slot];
            if entry == EMPTY {
                break;
            }
            if self.hashes[entry as usize] == hash && self.matches(entry as usize, linearized, state) {
                return false;
            }
            slot = (slot + 1) & mask;
        }
        let entry = u32::try_from(self.hashes.len()).expect("fewer than 2^32 configurations");
        self.slots[slot] = entry;
        self.hashes.push(hash);
        self.arena.extend_from_slice(&linearized.words);
        self.arena.push(u64::from(state));
        if self.hashes.len() * 2 > self.slots.len() {
            self.grow();
        }
        true
    }

    fn matches(&self, entry: usize, linearized: &Linearized, state: u32) -> bool {
        let stored = &self.arena[entry * self.stride..(entry + 1) * self.stride];
        stored[self.stride - 1] == u64::from(state) && stored[..self.stride - 1] == linearized.words[..]
    }

    fn grow(&mut self) {
        let mut slots = vec![EMPTY; self.slots.len() * 2];
        let mask = slots.len() - 1;
        for (entry, &hash) in self.hashes.iter().enumerate() {
            let mut slot = hash as usize & mask;
            while slots[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            slots[slot] = entry as u32;
        }
        self.slots = slots;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configuration_is_new_once() {
        let mut visited = VisitedSet::new(130);
        let mut linearized = Linearized::new(130);
        assert!(visited.insert(&linearized, 0));
        assert!(!visited.insert(&linearized, 0));
        assert!(visited.insert(&linearized, 1), "same operations, other state");
        linearized.insert(129);
        assert!(visited.insert(&linearized, 0), "other operations, same state");
        linearized.remove(129);
        assert!(!visited.insert(&linearized, 0), "removing restores the hash");
    }

    #[test]
    fn the_set_grows_without_forgetting() {
        let mut visited = VisitedSet::new(20);
        let mut linearized = Linearized::new(20);
        for pattern in 0..(1u32 << 12) {
            for op in 0..12 {
                if pattern & (1 << op) != 0 {
                    linearized.insert(op);
                }
            }
            assert!(visited.insert(&linearized, pattern % 3));
            for op in 0..12 {
                if linearized.contains(op) {
                    linearized.remove(op);
                }
            }
        }
        assert_eq!(visited.len(), 4096);
        for op in [1, 5] {
            linearized.insert(op);
        }
        assert!(!visited.insert(&linearized, (1 << 1 | 1 << 5) % 3));
    }
}
