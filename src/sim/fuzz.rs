//! Running many seeds: one seed is one whole simulated run (faults, healing, liveness bound, history check).

use serde::Serialize;

use crate::check::invariants::Violation;

use super::{Sim, SimConfig};

/// What one seed did.
#[derive(Clone, Debug, Serialize)]
pub struct SeedOutcome {
    pub seed: u64,
    pub trace_hash: u64,
    pub ticks: u64,
    pub operations: usize,
    pub violations: Vec<Violation>,
    /// The history was too hard to check within the step budget (see `Sim::undecided`).
    pub undecided: Option<String>,
}

/// Runs one seed to the end. A panic in the core is caught (natively) and reported as a violation.
pub fn run_seed(config: &SimConfig, seed: u64) -> SeedOutcome {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let run = std::panic::catch_unwind(|| run_seed_unguarded(config, seed));
        run.unwrap_or_else(|panic| {
            let violation = Violation::from_panic(seed, panic);
            SeedOutcome { seed, trace_hash: 0, ticks: 0, operations: 0, violations: vec![violation], undecided: None }
        })
    }
    #[cfg(target_arch = "wasm32")]
    run_seed_unguarded(config, seed)
}

fn run_seed_unguarded(config: &SimConfig, seed: u64) -> SeedOutcome {
    let mut sim = Sim::new(config.clone(), seed, Vec::new(), false).expect("a valid fuzz configuration");
    sim.run_to_end();
    SeedOutcome {
        seed,
        trace_hash: sim.trace().hash(),
        ticks: sim.now(),
        operations: sim.history().len(),
        violations: sim.violations().to_vec(),
        undecided: sim.undecided().map(String::from),
    }
}

/// Runs seeds `first..first + count` on `threads` threads (natively); calls `progress` after each seed.
/// Returns the failing outcomes, lowest seed first.
#[cfg(not(target_arch = "wasm32"))]
pub fn run_seeds(
    config: &SimConfig,
    first: u64,
    count: u64,
    threads: usize,
    progress: &(dyn Fn(&SeedOutcome) + Sync),
) -> Vec<SeedOutcome> {
    let threads = threads.max(1) as u64;
    let mut failures: Vec<SeedOutcome> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|worker| {
                scope.spawn(move || {
                    let mut failures = Vec::new();
                    let mut seed = first + worker;
                    while seed < first + count {
                        let outcome = run_seed(config, seed);
                        progress(&outcome);
                        if !outcome.violations.is_empty() {
                            failures.push(outcome);
                        }
                        seed += threads;
                    }
                    failures
                })
            })
            .collect();
        workers.into_iter().flat_map(|worker| worker.join().expect("fuzz worker")).collect()
    });
    failures.sort_by_key(|outcome| outcome.seed);
    failures
}
