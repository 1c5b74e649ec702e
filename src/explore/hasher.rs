//! The explorer's fingerprints and digests: a hasher with 64 bits of state on every target.
//!
//! `rustc-hash`'s `FxHasher` keeps a `usize`: 64 bits natively, 32 in WebAssembly, where a few hundred thousand
//! states then hold a few dozen pairs with the same fingerprint, and the search takes the second of each for the
//! first and never expands it (BENCHMARKS.md, "Explore from here"). This is the same word mix (rotate, xor,
//! multiply) on a `u64`, so the browser's worker tells apart what the command line does.

use std::hash::Hasher;

#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Fingerprinter(u64);

impl Fingerprinter {
    const MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;

    #[inline]
    fn word(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::MULTIPLIER);
    }
}

impl Hasher for Fingerprinter {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.word(u64::from_le_bytes(word.try_into().expect("8 bytes")));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.word(u64::from_le_bytes(last));
        }
    }

    #[inline]
    fn write_u8(&mut self, value: u8) {
        self.word(u64::from(value));
    }

    #[inline]
    fn write_u16(&mut self, value: u16) {
        self.word(u64::from(value));
    }

    #[inline]
    fn write_u32(&mut self, value: u32) {
        self.word(u64::from(value));
    }

    #[inline]
    fn write_u64(&mut self, value: u64) {
        self.word(value);
    }

    #[inline]
    fn write_usize(&mut self, value: usize) {
        self.word(value as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use std::hash::{Hash, Hasher};

    use super::Fingerprinter;

    fn digest<T: Hash>(value: &T) -> u64 {
        let mut hasher = Fingerprinter::default();
        value.hash(&mut hasher);
        hasher.finish()
    }

    /// Values that differ only above bit 31 hash apart: the state is 64 bits wide on every target.
    #[test]
    fn high_bits_count() {
        assert_ne!(digest(&(1u64 << 40)), digest(&0u64));
        assert_ne!(digest(&"a longer text than a word"), digest(&"a longer text than a wore"));
        assert_eq!(digest(&(7u8, "x")), digest(&(7u8, "x")));
    }
}
