//! The one source of randomness in a run: ChaCha8 from a seed, integer draws only, so the stream is the
//! same natively and in Wasm.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Clone, Debug)]
pub struct SimRng(ChaCha8Rng);

impl SimRng {
    pub fn new(seed: u64) -> SimRng {
        SimRng(ChaCha8Rng::seed_from_u64(seed))
    }

    /// True with probability `ppm` / 1,000,000.
    pub fn chance(&mut self, ppm: u32) -> bool {
        ppm > 0 && self.0.random_range(0..1_000_000u32) < ppm
    }

    /// Uniform in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        assert!(low <= high, "empty range {low}..={high}");
        self.0.random_range(low..=high)
    }

    /// Uniform index below `len`.
    pub fn index(&mut self, len: usize) -> usize {
        assert!(len > 0, "choosing from nothing");
        self.0.random_range(0..len as u64) as usize
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
}
