//! Time-travel checkpoints with bounded memory: a copy of the state every `every` ticks, the newest `recent`
//! of them kept as taken, older ones thinned so the gaps grow with age. At most `max` are kept. Seeking to a
//! tick restores the newest checkpoint at or before it and replays forward from there, so it stays exact;
//! only the replay gets longer the further back one goes.

/// A checkpoint is thinned away when the gap it would leave is smallest relative to its age; this many
/// parts per unit of age keep integer arithmetic (the same choice natively and in Wasm). u64 suffices for
/// gaps up to 10^13 ticks, and spares the Wasm bundle 128-bit division.
const AGE_SCALE: u64 = 1_000_000;

#[derive(Clone, Debug)]
pub struct Checkpoints<T> {
    /// (tick, state), ticks increasing; the first is never thinned.
    entries: Vec<(u64, T)>,
    every: u64,
    max: usize,
    recent: usize,
}

impl<T> Checkpoints<T> {
    /// Starts with `first`, the state at `tick`. `recent` + 2 ≤ `max` (the first, the recent ones, one to thin).
    pub fn new(tick: u64, first: T, every: u64, max: usize, recent: usize) -> Checkpoints<T> {
        assert!(every > 0 && recent + 2 <= max, "checkpoints: every {every}, max {max}, recent {recent}");
        Checkpoints { entries: vec![(tick, first)], every, max, recent }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn ticks(&self) -> impl Iterator<Item = u64> + '_ {
        self.entries.iter().map(|(tick, _)| *tick)
    }

    /// The tick of the newest checkpoint.
    pub fn newest_tick(&self) -> u64 {
        self.entries.last().map_or(0, |(tick, _)| *tick)
    }

    /// Whether a checkpoint should be taken at `tick` (a multiple of `every` past the newest one).
    pub fn due(&self, tick: u64) -> bool {
        tick.is_multiple_of(self.every) && tick > self.newest_tick()
    }

    /// Adds the state at `tick` (after the newest one), then thins if there are too many.
    pub fn push(&mut self, tick: u64, state: T) {
        assert!(tick > self.newest_tick(), "checkpoint at {tick} after one at {}", self.newest_tick());
        self.entries.push((tick, state));
        while self.entries.len() > self.max {
            self.thin(tick);
        }
    }

    /// Removes the older checkpoint whose removal leaves the smallest gap relative to its age.
    fn thin(&mut self, now: u64) {
        let last_thinnable = self.entries.len() - self.recent;
        let cost = |i: usize| {
            let (before, after) = (self.entries[i - 1].0, self.entries[i + 1].0);
            (after - before).saturating_mul(AGE_SCALE) / (now - before).max(1)
        };
        let victim = (1..last_thinnable).min_by_key(|&i| (cost(i), i)).expect("max leaves one to thin");
        self.entries.remove(victim);
    }

    /// The newest checkpoint at or before `tick` (the first one if `tick` precedes them all).
    pub fn at_or_before(&self, tick: u64) -> &(u64, T) {
        let after = self.entries.partition_point(|(at, _)| *at <= tick);
        &self.entries[after.saturating_sub(1)]
    }

    /// Forgets checkpoints after `tick` (a new branch of history starts there); the first one stays.
    pub fn forget_after(&mut self, tick: u64) {
        let keep = self.entries.partition_point(|(at, _)| *at <= tick).max(1);
        self.entries.truncate(keep);
    }

    /// Replaces the checkpoint at exactly `tick`, if there is one (the state changed within that tick).
    pub fn replace_at(&mut self, tick: u64, state: impl FnOnce() -> T) {
        if let Some(entry) = self.entries.last_mut().filter(|(at, _)| *at == tick) {
            entry.1 = state();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_stays_bounded_recent_checkpoints_stay_dense_and_old_ones_thin_with_age() {
        let mut checkpoints = Checkpoints::new(0, 0u64, 100, 64, 16);
        for tick in 1..=1_000_000u64 {
            if checkpoints.due(tick) {
                checkpoints.push(tick, tick);
            }
        }
        assert_eq!(checkpoints.len(), 64);
        let ticks: Vec<u64> = checkpoints.ticks().collect();
        assert_eq!(ticks[0], 0, "the start is always kept");
        let recent: Vec<u64> = ticks[ticks.len() - 16..].to_vec();
        assert_eq!(recent, (0..16).map(|i| 998_500 + 100 * i).collect::<Vec<_>>(), "the newest every 100 ticks");
        let gaps: Vec<u64> = ticks.windows(2).map(|w| w[1] - w[0]).collect();
        // Gaps grow with age: a gap far back is wider than one near the present.
        assert!(gaps[1] > 10 * gaps[gaps.len() - 20], "{gaps:?}");
        for (tick, state) in checkpoints.entries.iter() {
            assert_eq!(tick, state);
        }
    }

    #[test]
    fn lookups_and_branches() {
        let mut checkpoints = Checkpoints::new(0, "start", 100, 4, 1);
        for (tick, state) in [(100, "a"), (200, "b"), (300, "c")] {
            assert!(checkpoints.due(tick));
            checkpoints.push(tick, state);
        }
        assert!(!checkpoints.due(300) && !checkpoints.due(350));
        assert_eq!(checkpoints.at_or_before(250), &(200, "b"));
        assert_eq!(checkpoints.at_or_before(300), &(300, "c"));
        assert_eq!(checkpoints.at_or_before(99), &(0, "start"));
        checkpoints.push(400, "d");
        assert_eq!(checkpoints.len(), 4, "one thinned");
        assert_eq!(checkpoints.at_or_before(400), &(400, "d"));
        checkpoints.replace_at(400, || "d'");
        checkpoints.replace_at(399, || panic!("no checkpoint at 399"));
        assert_eq!(checkpoints.at_or_before(1_000), &(400, "d'"));
        checkpoints.forget_after(150);
        assert!(checkpoints.ticks().all(|tick| tick <= 150));
        assert!(checkpoints.due(200));
        checkpoints.forget_after(0);
        assert_eq!(checkpoints.ticks().collect::<Vec<_>>(), vec![0]);
    }
}
