//! Deterministic hashing for the search's tables: the same on every run and platform, and cheap for the
//! `u64` keys they use.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A fixed pseudo-random word per input (splitmix64's finaliser).
pub(super) fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// For maps keyed by integers that are already spread out or cheap to mix.
#[derive(Clone, Copy, Default)]
pub(super) struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        mix(self.0)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(26) ^ word).wrapping_mul(0x2545_f491_4f6c_dd1d);
    }
}

pub(super) type WordMap<K, V> = HashMap<K, V, BuildHasherDefault<WordHasher>>;
