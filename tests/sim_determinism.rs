//! The same (config, seed) gives the same run: the trace hash is equal across runs here, and equal to the hashes
//! recorded in tests/data/sim_trace_hashes.json, which the Wasm test (tests/sim_wasm.rs) checks in Chromium.
//! After a deliberate change to the simulator or the core, regenerate the file with
//! `SYNOD_BLESS=1 cargo test --test sim_determinism`.

use synod::sim::fuzz::run_seed;
use synod::sim::{ScheduledAction, Sim, SimConfig, UserAction};

fn hashes() -> Vec<(String, u64)> {
    let mut hashes = Vec::new();
    for seed in [0, 1, 7, 42] {
        hashes.push((format!("fuzz5-seed{seed}"), run_seed(&SimConfig::fuzz(5), seed).trace_hash));
    }
    hashes.push((format!("fuzz3-seed{}", 3), run_seed(&SimConfig::fuzz(3), 3).trace_hash));
    hashes
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    assert_eq!(hashes(), hashes());
    let a = run_seed(&SimConfig::fuzz(5), 5).trace_hash;
    let b = run_seed(&SimConfig::fuzz(5), 6).trace_hash;
    assert_ne!(a, b, "different seeds must give different runs");
}

#[test]
fn the_trace_hashes_match_the_recorded_ones() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sim_trace_hashes.json");
    let current: Vec<(String, String)> =
        hashes().into_iter().map(|(name, hash)| (name, format!("{hash:016x}"))).collect();
    if std::env::var_os("SYNOD_BLESS").is_some() {
        std::fs::write(path, serde_json::to_string_pretty(&current).unwrap() + "\n").unwrap();
    }
    let recorded: Vec<(String, String)> = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(
        current, recorded,
        "the simulator's runs changed; if that was intended, regenerate with SYNOD_BLESS=1 cargo test --test sim_determinism"
    );
}

#[test]
fn user_actions_replay_exactly_and_change_the_run() {
    let actions = vec![
        ScheduledAction { tick: 30, action: UserAction::Crash { node: 5 } },
        ScheduledAction { tick: 60, action: UserAction::Partition { groups: vec![vec![1, 2], vec![3, 4, 5]] } },
        ScheduledAction { tick: 90, action: UserAction::Heal },
        ScheduledAction { tick: 120, action: UserAction::Restart { node: 5 } },
    ];
    let run = |actions: Vec<ScheduledAction>| {
        let mut sim = Sim::new(SimConfig::fuzz(5), 11, actions, false).unwrap();
        sim.run_until(300);
        (sim.trace().hash(), sim.violations().len())
    };
    let (with_actions, violations) = run(actions.clone());
    assert_eq!(violations, 0);
    assert_eq!(run(actions), (with_actions, 0));
    assert_ne!(run(Vec::new()).0, with_actions);
}
