//! Runs the fuzzer once found failing, each pinned to its seed and its exact configuration (written out here,
//! so a change to the fuzzer's defaults does not silently stop them reproducing).

use synod::sim::{fuzz::run_seed, FaultConfig, SimConfig, WorkloadConfig};

fn fuzz_config_of_2026_11_25() -> SimConfig {
    SimConfig {
        nodes: 5,
        snapshot_interval: 16,
        faults: FaultConfig {
            drop_ppm: 100_000,
            duplicate_ppm: 30_000,
            delay_min: 1,
            delay_max: 6,
            partition_ppm: 15_000,
            partition_ticks: 40,
            crash_ppm: 6_000,
            down_ticks: 30,
            storage_delay_max: 3,
            ..FaultConfig::none()
        },
        workload: WorkloadConfig {
            clients: 4,
            ops: 200,
            keys: 3,
            mix: [30, 30, 10, 20, 10],
            invoke_ppm: 300_000,
            timeout_ticks: 25,
            attempts_max: 4,
        },
        fault_ticks: 600,
        heal_ticks: 400,
        ..SimConfig::default()
    }
}

/// A new leader learned from a promise that a slot was chosen while it still had a gap below it, and so
/// proposed that slot again in its ballot; a follower that knew the slot was chosen acknowledged the new
/// ballot without writing it, so its accepted message was not backed by its disk (persist-before-send).
#[test]
fn re_accepting_a_chosen_slot_is_written_before_it_is_acknowledged() {
    for seed in [1, 3, 4] {
        let outcome = run_seed(&fuzz_config_of_2026_11_25(), seed);
        assert!(outcome.violations.is_empty(), "seed {seed}: {}", outcome.violations[0]);
    }
}
