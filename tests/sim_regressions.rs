//! Runs the fuzzer once found failing, each pinned to its seed and its exact configuration (written out here,
//! so a change to the fuzzer's defaults does not silently stop them reproducing).

use synod::sim::{fuzz::run_seed, FaultConfig, SimConfig, WorkloadConfig};

/// The fault mix both pinned configurations ran with (today's `FaultConfig::fuzz_classic`, written out).
fn classic_faults() -> FaultConfig {
    FaultConfig {
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
    }
}

fn fuzz_config_of_2026_11_25() -> SimConfig {
    SimConfig {
        nodes: 5,
        snapshot_interval: 16,
        faults: classic_faults(),
        workload: WorkloadConfig {
            clients: 4,
            ops: 200,
            keys: 3,
            mix: [30, 30, 10, 20, 10],
            invoke_ppm: 300_000,
            timeout_ticks: 25,
            attempts_max: 4,
            ..WorkloadConfig::default()
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

/// The fuzzer's configuration of 87ec5f2 (2026-12-01): five nodes, eight clients on five keys, snapshots every 16
/// slots, 1,200 ticks of the classic faults.
fn fuzz_config_of_2026_12_01() -> SimConfig {
    SimConfig {
        nodes: 5,
        snapshot_interval: 16,
        faults: classic_faults(),
        workload: WorkloadConfig { clients: 8, keys: 5, ..WorkloadConfig::default() },
        fault_ticks: 1_200,
        heal_ticks: 400,
        ..SimConfig::default()
    }
}

/// The nine liveness failures of 100,000 seeds on 87ec5f2 (issue 15) had one cause: a leader was elected by a
/// quorum whose chosen point was behind that of the other followers, which had compacted the slots it still
/// needed votes for. They acknowledged nothing there, and catch-up flowed only from leaders to followers, so the
/// leader retransmitted its accepts until the liveness bound. Now a follower ahead of its leader catches it up.
#[test]
fn a_leader_elected_behind_its_followers_compacted_logs_catches_up_from_them() {
    for seed in [18701, 19036, 38394, 60441, 70963, 75325, 79153, 82082, 95810] {
        let outcome = run_seed(&fuzz_config_of_2026_12_01(), seed);
        assert!(outcome.violations.is_empty(), "seed {seed}: {}", outcome.violations[0]);
    }
}
