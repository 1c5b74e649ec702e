//! `UserAction::Reload` (the playground's page reload): running nodes restart from exactly their durable state,
//! messages in flight are lost, nodes that were down stay down, and a run with reloads replays exactly.

use synod::sim::{ScheduledAction, Sim, SimConfig, UserAction};
use synod::storage::Storage;

fn config() -> SimConfig {
    let mut config = SimConfig::fuzz(5);
    config.faults = synod::sim::FaultConfig { delay_min: 1, delay_max: 3, ..synod::sim::FaultConfig::none() };
    config
}

#[test]
fn a_reload_restarts_running_nodes_from_disk_and_loses_messages_in_flight() {
    let mut sim =
        Sim::new(config(), 3, vec![ScheduledAction { tick: 40, action: UserAction::Crash { node: 2 } }], false)
            .unwrap();
    sim.run_until(120);
    assert!(!sim.network().is_empty(), "the cluster is busy: messages are in flight");
    let durable: Vec<_> = sim.machines().iter().map(|machine| machine.storage.durable().clone()).collect();
    sim.apply_action(UserAction::Reload);
    assert!(sim.node(2).is_none(), "a node the visitor killed stays down");
    for id in [1, 3, 4, 5] {
        let node = sim.node(id).expect("a running node is running again");
        assert_eq!(node.promised(), durable[id as usize - 1].promised, "node {id} recovered its durable promise");
    }
    assert!(
        sim.network().in_flight().all(|message| message.sent_at == sim.now()),
        "only what the restarted nodes sent since is in flight"
    );
    sim.run_until(400);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn durable_batches_rebuild_every_durable_state_and_change_nothing() {
    let actions = vec![
        ScheduledAction { tick: 50, action: UserAction::Reload },
        ScheduledAction { tick: 90, action: UserAction::Crash { node: 1 } },
        ScheduledAction { tick: 130, action: UserAction::Reload },
        ScheduledAction { tick: 150, action: UserAction::Restart { node: 1 } },
    ];
    let mut plain = Sim::new(config(), 9, actions.clone(), false).unwrap();
    let mut kept = Sim::new(config(), 9, actions, false).unwrap();
    kept.keep_durable_batches();
    let mut rebuilt = vec![synod::paxos::DurableStateOf::<synod::kv::KvStore>::default(); 5];
    while kept.now() < 300 {
        plain.tick();
        kept.tick();
        for (node, batch) in kept.take_durable_batches() {
            rebuilt[node as usize - 1].apply_batch(&batch);
        }
    }
    assert_eq!(plain.trace().hash(), kept.trace().hash(), "keeping batches changes nothing in the run");
    for (index, machine) in kept.machines().iter().enumerate() {
        assert_eq!(&rebuilt[index], machine.storage.durable(), "node {}: the batches add up to its disk", index + 1);
    }
    assert!(kept.violations().is_empty(), "{:?}", kept.violations());
}
