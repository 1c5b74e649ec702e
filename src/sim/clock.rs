//! Drifting clocks (issue 18): each node's clock runs at its own fixed rate, within `1 ± drift_ppm / 10^6` ticks
//! per simulator tick, so a node may tick twice in one simulator tick, or not at all. The rates and starting
//! phases come from a generator of their own, seeded from the run's seed: the run's main random stream is the
//! same with drift as without, and with `drift_ppm = 0` every node ticks exactly once per simulator tick, as
//! before.

use super::SimRng;

const PPM: u64 = 1_000_000;

/// One node's clock: its rate and how far it is into its next tick, both in millionths of a tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    pub rate_ppm: u64,
    phase_ppm: u64,
}

impl Clock {
    /// Clocks for `nodes` nodes, drifting by up to `drift_ppm`, drawn from `seed`.
    pub fn for_nodes(nodes: usize, drift_ppm: u32, seed: u64) -> Vec<Clock> {
        if drift_ppm == 0 {
            return vec![Clock { rate_ppm: PPM, phase_ppm: 0 }; nodes];
        }
        let drift = u64::from(drift_ppm);
        let mut rng = SimRng::new(seed ^ 0xC10C_D21F_75EE_D000);
        (0..nodes)
            .map(|_| Clock { rate_ppm: PPM - drift + rng.between(0, 2 * drift), phase_ppm: rng.between(0, PPM - 1) })
            .collect()
    }

    /// The clock of node `id` in a cluster that grew to it: the same draw `for_nodes` makes for it.
    pub fn for_node(id: usize, drift_ppm: u32, seed: u64) -> Clock {
        Clock::for_nodes(id, drift_ppm, seed)[id - 1]
    }

    /// One simulator tick passes: how many ticks this node's clock takes (0, 1 or 2 for drift below 50%).
    pub fn advance(&mut self) -> u64 {
        self.phase_ppm += self.rate_ppm;
        let ticks = self.phase_ppm / PPM;
        self.phase_ppm %= PPM;
        ticks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_drift_every_clock_ticks_once_per_tick() {
        let mut clocks = Clock::for_nodes(3, 0, 7);
        assert!((0..100).all(|_| clocks.iter_mut().all(|clock| clock.advance() == 1)));
    }

    #[test]
    fn drifting_clocks_keep_their_rate_within_the_bound_and_are_seeded() {
        let clocks = Clock::for_nodes(5, 100_000, 7);
        assert_eq!(clocks, Clock::for_nodes(5, 100_000, 7));
        assert_ne!(clocks, Clock::for_nodes(5, 100_000, 8));
        for mut clock in clocks {
            let ticks: u64 = (0..10_000).map(|_| clock.advance()).sum();
            assert!((9_000..=11_000).contains(&ticks), "{ticks} ticks in 10000 at rate {}", clock.rate_ppm);
            // The clock keeps its rate exactly: it is never a whole tick ahead of or behind it.
            assert!((ticks * PPM).abs_diff(10_000 * clock.rate_ppm) < PPM, "{ticks} ticks at rate {}", clock.rate_ppm);
        }
    }
}
