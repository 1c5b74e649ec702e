//! Interned values of one key. A state is a `u32`; `ABSENT` (0) is the key not existing.
//!
//! Appends make most of the states, each a little longer than one before it, so interning must not cost
//! an allocation or a pass over the whole string for each: texts live in one arena, and a polynomial hash
//! extends to a concatenation in O(1) (`hash(a + b) = hash(a)·B^len(b) + hash(b)`). A hash hit is confirmed
//! by comparing the texts, so collisions cost time, never correctness.

use super::hashing::WordMap;

pub(super) type StateId = u32;
pub(super) const ABSENT: StateId = 0;

const BASE: u64 = 0x100_0000_01b3;

/// A text's polynomial hash and `BASE^len`, what appending it to another text needs.
#[derive(Clone, Copy, Debug)]
pub(super) struct Suffix {
    hash: u64,
    power: u64,
}

impl Suffix {
    pub fn of(text: &str) -> Suffix {
        text.bytes().fold(Suffix { hash: 0, power: 1 }, |suffix, byte| Suffix {
            hash: suffix.hash.wrapping_mul(BASE).wrapping_add(u64::from(byte) + 1),
            power: suffix.power.wrapping_mul(BASE),
        })
    }
}

pub(super) struct Values {
    arena: String,
    /// Per state: where its text is in `arena`, and its hash.
    spans: Vec<(u32, u32)>,
    hashes: Vec<u64>,
    /// Hash → state; on a collision between different texts the later one goes under hash + 1 (and so on).
    by_hash: WordMap<u64, StateId>,
}

impl Values {
    pub fn new() -> Self {
        Values { arena: String::new(), spans: vec![(0, 0)], hashes: vec![0], by_hash: WordMap::default() }
    }

    /// The text of a state (`None`: absent).
    pub fn text(&self, state: StateId) -> Option<&str> {
        (state != ABSENT).then(|| self.slice(state))
    }

    fn slice(&self, state: StateId) -> &str {
        let (start, len) = self.spans[state as usize];
        &self.arena[start as usize..(start + len) as usize]
    }

    pub fn intern(&mut self, text: &str) -> StateId {
        let start = self.arena.len();
        self.arena.push_str(text);
        self.settle(start, Suffix::of(text).hash)
    }

    /// The state whose text is `base`'s followed by `suffix` (whose `Suffix` is `hashed`).
    pub fn intern_appended(&mut self, base: StateId, suffix: &str, hashed: Suffix) -> StateId {
        let start = self.arena.len();
        let (base_start, base_len) = self.spans[base as usize];
        self.arena.extend_from_within(base_start as usize..(base_start + base_len) as usize);
        self.arena.push_str(suffix);
        let hash = self.hashes[base as usize].wrapping_mul(hashed.power).wrapping_add(hashed.hash);
        self.settle(start, hash)
    }

    /// Finds or adds the state for the text just written at `arena[start..]`.
    fn settle(&mut self, start: usize, hash: u64) -> StateId {
        let mut slot = hash;
        loop {
            match self.by_hash.get(&slot) {
                Some(&state) if self.slice(state) == &self.arena[start..] => {
                    self.arena.truncate(start);
                    return state;
                }
                Some(_) => slot = slot.wrapping_add(1),
                None => break,
            }
        }
        let state = StateId::try_from(self.spans.len()).expect("fewer than 2^32 distinct values");
        let len = self.arena.len() - start;
        let span = (u32::try_from(start), u32::try_from(len));
        self.spans.push((span.0.expect("values fit in 4 GiB"), span.1.expect("values fit in 4 GiB")));
        self.hashes.push(hash);
        self.by_hash.insert(slot, state);
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_get_one_state_however_they_were_built() {
        let mut values = Values::new();
        let ab = values.intern("ab");
        let a = values.intern("a");
        let empty = values.intern("");
        assert_ne!(empty, ABSENT, "the empty value is not absence");
        assert_eq!(values.intern_appended(a, "b", Suffix::of("b")), ab);
        assert_eq!(values.intern_appended(ABSENT, "ab", Suffix::of("ab")), ab);
        assert_eq!(values.intern_appended(empty, "a", Suffix::of("a")), a);
        let abc = values.intern_appended(ab, "c", Suffix::of("c"));
        assert_eq!(values.text(abc), Some("abc"));
        assert_eq!(values.intern("abc"), abc);
        assert_eq!(values.text(ABSENT), None);
        assert_eq!(values.text(empty), Some(""));
    }

    #[test]
    fn colliding_hashes_still_tell_texts_apart() {
        let mut values = Values::new();
        let first = values.intern("one");
        let start = values.arena.len();
        values.arena.push_str("two");
        let colliding = values.settle(start, Suffix::of("one").hash);
        assert_ne!(colliding, first);
        assert_eq!(values.text(colliding), Some("two"));
        assert_eq!(values.intern("one"), first);
    }
}
