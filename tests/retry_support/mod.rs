//! A playground run in which the visitor's client retries by itself (`tests/sim_retry.rs` natively,
//! `tests/sim_wasm.rs` in headless Chromium): a put before any leader exists, the leader killed, and a put
//! through a follower that still forwards to the dead leader. Its trace hash is recorded in
//! `tests/data/sim_retry_hash.txt`, so both builds must give the same run, retries included.

use synod::kv::KvCommand;
use synod::paxos::RoleKind;
use synod::sim::link::{RunRecord, RunSetup};
use synod::sim::{Sim, UserAction};

/// When the leader is killed, and when the second put is sent (through node 1, a follower).
pub const KILL_AT: u64 = 120;
pub const SECOND_PUT_AT: u64 = 121;
pub const END: u64 = 600;

pub fn put(key: &str, value: &str) -> KvCommand {
    KvCommand::Put { key: key.into(), value: value.into() }
}

/// The playground's default setup (five nodes, two background clients), started fresh as a visitor starts it.
pub fn record() -> RunRecord {
    let mut record = RunRecord::fresh(RunSetup::default());
    record.actions.push((1, UserAction::ClientOp { target: 1, command: put("x", "1") }));
    record
}

/// The run of [`record`] up to [`END`], with the leader at [`KILL_AT`] killed and a second put after it.
pub fn run() -> Sim {
    let record = record();
    let mut sim = Sim::new(record.setup.config(), record.setup.seed, Vec::new(), false).unwrap();
    while sim.now() < END {
        let now = sim.now();
        for (_, action) in record.actions.iter().filter(|(tick, _)| *tick == now) {
            sim.apply_action(action.clone());
        }
        if sim.now() == KILL_AT {
            let leader = (1..=5).find(|id| sim.node(*id).is_some_and(|node| node.role() == RoleKind::Leader));
            sim.apply_action(UserAction::Crash { node: leader.expect("a leader by tick 120") });
        }
        if sim.now() == SECOND_PUT_AT {
            sim.apply_action(UserAction::ClientOp { target: 1, command: put("y", "2") });
        }
        sim.tick();
    }
    sim
}
