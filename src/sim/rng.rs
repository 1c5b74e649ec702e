//! The one source of randomness in a run: ChaCha8 from a seed, integer draws only, so the stream is the
//! same natively and in Wasm.
//!
//! The stream is exactly `rand_chacha::ChaCha8Rng::seed_from_u64(seed)` and the draws are exactly `rand`'s
//! `random_range` (0.9, Canon's method); the tests below compare both word for word. Both are written out here
//! because the library versions cost far more in Wasm than natively: `rand_chacha` computes its blocks with
//! `ppv-lite86`'s vector types, which are SIMD natively but emulated lane by lane in Wasm (its block function
//! took 5× as long there as natively), and `rand`'s generic range code was not inlined in Wasm. The block
//! function below is plain 32-bit arithmetic on sixteen words, which V8 keeps in registers; natively it costs
//! about a hundredth of a second more per 300 seeds than the SIMD one (see BENCHMARKS.md, issue 5).

use rand::rand_core::block::{BlockRng, BlockRngCore};
use rand::{RngCore, SeedableRng};

/// ChaCha with 8 rounds, a 64-bit block counter (words 12–13) and stream 0 (words 14–15), four blocks a call,
/// as `rand_chacha`'s `ChaCha8Core` lays them out.
#[derive(Clone, Debug)]
pub struct ChaCha8Core {
    key: [u32; 8],
    counter: u64,
}

/// Four 64-byte blocks.
#[derive(Clone, Debug)]
pub struct Blocks([u32; 64]);

impl Default for Blocks {
    fn default() -> Blocks {
        Blocks([0; 64])
    }
}

impl AsRef<[u32]> for Blocks {
    fn as_ref(&self) -> &[u32] {
        &self.0
    }
}

impl AsMut<[u32]> for Blocks {
    fn as_mut(&mut self) -> &mut [u32] {
        &mut self.0
    }
}

const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

#[inline(always)]
fn quarter_round(x: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    x[a] = x[a].wrapping_add(x[b]);
    x[d] = (x[d] ^ x[a]).rotate_left(16);
    x[c] = x[c].wrapping_add(x[d]);
    x[b] = (x[b] ^ x[c]).rotate_left(12);
    x[a] = x[a].wrapping_add(x[b]);
    x[d] = (x[d] ^ x[a]).rotate_left(8);
    x[c] = x[c].wrapping_add(x[d]);
    x[b] = (x[b] ^ x[c]).rotate_left(7);
}

impl ChaCha8Core {
    fn block(&self, counter: u64, out: &mut [u32]) {
        let k = &self.key;
        let input: [u32; 16] = [
            SIGMA[0],
            SIGMA[1],
            SIGMA[2],
            SIGMA[3],
            k[0],
            k[1],
            k[2],
            k[3],
            k[4],
            k[5],
            k[6],
            k[7],
            counter as u32,
            (counter >> 32) as u32,
            0,
            0,
        ];
        let mut x = input;
        for _ in 0..4 {
            quarter_round(&mut x, 0, 4, 8, 12);
            quarter_round(&mut x, 1, 5, 9, 13);
            quarter_round(&mut x, 2, 6, 10, 14);
            quarter_round(&mut x, 3, 7, 11, 15);
            quarter_round(&mut x, 0, 5, 10, 15);
            quarter_round(&mut x, 1, 6, 11, 12);
            quarter_round(&mut x, 2, 7, 8, 13);
            quarter_round(&mut x, 3, 4, 9, 14);
        }
        for (out, (word, input)) in out.iter_mut().zip(x.iter().zip(input.iter())) {
            *out = word.wrapping_add(*input);
        }
    }
}

impl BlockRngCore for ChaCha8Core {
    type Item = u32;
    type Results = Blocks;

    fn generate(&mut self, results: &mut Blocks) {
        for (index, out) in results.0.chunks_exact_mut(16).enumerate() {
            self.block(self.counter.wrapping_add(index as u64), out);
        }
        self.counter = self.counter.wrapping_add(4);
    }
}

impl SeedableRng for ChaCha8Core {
    type Seed = [u8; 32];

    fn from_seed(seed: [u8; 32]) -> ChaCha8Core {
        let mut key = [0u32; 8];
        for (word, bytes) in key.iter_mut().zip(seed.chunks_exact(4)) {
            *word = u32::from_le_bytes(bytes.try_into().expect("4 bytes"));
        }
        ChaCha8Core { key, counter: 0 }
    }
}

/// `(a × b) >> 64` and `(a × b) mod 2^64`.
#[inline(always)]
fn widening_mul(a: u64, b: u64) -> (u64, u64) {
    let product = u128::from(a) * u128::from(b);
    ((product >> 64) as u64, product as u64)
}

#[derive(Clone, Debug)]
pub struct SimRng(BlockRng<ChaCha8Core>);

impl SimRng {
    pub fn new(seed: u64) -> SimRng {
        SimRng(BlockRng::<ChaCha8Core>::seed_from_u64(seed))
    }

    /// True with probability `ppm` / 1,000,000.
    pub fn chance(&mut self, ppm: u32) -> bool {
        ppm > 0 && self.below_u32(1_000_000) < ppm
    }

    /// Uniform in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        assert!(low <= high, "empty range {low}..={high}");
        low.wrapping_add(self.below_u64(high.wrapping_sub(low).wrapping_add(1)))
    }

    /// Uniform index below `len`.
    pub fn index(&mut self, len: usize) -> usize {
        assert!(len > 0, "choosing from nothing");
        self.below_u64(len as u64) as usize
    }

    /// An index drawn by weight.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|weight| *weight as u64).sum();
        let mut pick = self.between(0, total - 1);
        for (index, weight) in weights.iter().enumerate() {
            if pick < *weight as u64 {
                return index;
            }
            pick -= *weight as u64;
        }
        unreachable!("pick below the total weight")
    }

    /// Uniform in `0..range` (`0`: any `u32`), as `rand`'s `random_range` draws a `u32`.
    fn below_u32(&mut self, range: u32) -> u32 {
        if range == 0 {
            return self.0.next_u32();
        }
        let product = u64::from(self.0.next_u32()) * u64::from(range);
        let (mut result, low) = ((product >> 32) as u32, product as u32);
        if low > range.wrapping_neg() {
            let high = ((u64::from(self.0.next_u32()) * u64::from(range)) >> 32) as u32;
            result += low.checked_add(high).is_none() as u32;
        }
        result
    }

    /// Uniform in `0..range` (`0`: any `u64`), as `rand`'s `random_range` draws a `u64`.
    fn below_u64(&mut self, range: u64) -> u64 {
        if range == 0 {
            return self.0.next_u64();
        }
        let (mut result, low) = widening_mul(self.0.next_u64(), range);
        if low > range.wrapping_neg() {
            let (high, _) = widening_mul(self.0.next_u64(), range);
            result += low.checked_add(high).is_none() as u64;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use rand::Rng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn the_block_function_gives_rand_chachas_stream_word_for_word() {
        for seed in [0, 1, 42, u64::MAX] {
            let mut ours = BlockRng::<ChaCha8Core>::seed_from_u64(seed);
            let mut theirs = ChaCha8Rng::seed_from_u64(seed);
            // Odd mixes of 32- and 64-bit reads cross block and buffer boundaries at every offset.
            for step in 0..20_000u32 {
                if step % 3 == 0 {
                    assert_eq!(ours.next_u64(), theirs.next_u64(), "seed {seed}, step {step}");
                } else {
                    assert_eq!(ours.next_u32(), theirs.next_u32(), "seed {seed}, step {step}");
                }
            }
        }
    }

    #[test]
    fn draws_are_rands_random_range_draw_for_draw() {
        let mut ours = SimRng::new(3);
        let mut theirs = ChaCha8Rng::seed_from_u64(3);
        // Small ranges, the simulator's, and huge ones (where Canon's second draw is frequent).
        let ranges = [1u64, 2, 3, 6, 7, 1_000, u32::MAX as u64, 1 << 40, u64::MAX / 3, u64::MAX - 5];
        for round in 0..2_000 {
            for &range in &ranges {
                let low = round as u64 % 5;
                let high = low.saturating_add(range - 1);
                assert_eq!(ours.between(low, high), theirs.random_range(low..=high), "{low}..={high}");
                assert_eq!(
                    ours.index(range.min(1 << 20) as usize),
                    theirs.random_range(0..range.min(1 << 20)) as usize
                );
            }
            for ppm in [1, 30_000, 100_000, 750_000, 999_999, 1_000_000] {
                assert_eq!(ours.chance(ppm), theirs.random_range(0..1_000_000u32) < ppm, "ppm {ppm}");
            }
            for range in [1u32, 5, 1_000_000, u32::MAX / 3 * 2, u32::MAX] {
                assert_eq!(ours.below_u32(range), theirs.random_range(0..range), "below {range}");
            }
        }
        assert_eq!(ours.between(0, u64::MAX), theirs.random_range(0..=u64::MAX));
    }
}
