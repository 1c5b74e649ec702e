//! Stepping: while it lasts nothing happens by itself, and each action does exactly its one thing; a stepped run
//! replays from its actions alone.

use synod::kv::KvCommand;
use synod::paxos::{BugSet, MessageKind, RoleKind};
use synod::sim::{ScheduledAction, Sim, SimConfig, UserAction, NEVER};

/// Three nodes, no clients, until node 3 leads; then stepping.
fn stepping_cluster() -> Sim {
    let mut sim = Sim::new(SimConfig::playground(3, BugSet::NONE, 0, 0), 1, Vec::new(), true).unwrap();
    while sim.node(3).map(|node| node.role()) != Some(RoleKind::Leader) {
        sim.tick();
    }
    sim.step(UserAction::Stepping { on: true });
    sim
}

fn clocks(sim: &Sim) -> Vec<u64> {
    (1..=3).map(|id| sim.node(id).unwrap().now()).collect()
}

#[test]
fn while_stepping_time_passes_but_nothing_happens() {
    let mut sim = stepping_cluster();
    let (clocks_before, in_flight, trace) = (clocks(&sim), sim.network().len(), sim.trace().len());
    for _ in 0..50 {
        sim.tick();
    }
    assert_eq!(clocks(&sim), clocks_before, "no node's clock moved");
    assert_eq!(sim.network().len(), in_flight, "nothing was delivered or sent");
    assert_eq!(sim.trace().len(), trace, "nothing was recorded");
}

#[test]
fn each_step_does_its_one_thing() {
    let mut sim = stepping_cluster();
    let before = clocks(&sim);
    sim.step(UserAction::TickNode { node: 2 });
    assert_eq!(clocks(&sim), vec![before[0], before[1] + 1, before[2]], "only node 2's clock moved");
    // A request to the leader: its accepts wait in flight, its write waits for an acknowledgement.
    let put = KvCommand::Put { key: "x".into(), value: "1".into() };
    sim.step(UserAction::Request { client: 1, target: 3, command: put.clone() });
    assert!(sim.volatile_writes(3) > 0, "the leader's acceptance is not durable yet");
    let accept = sim.network().in_flight().find(|message| message.to == 1 && message.kind == MessageKind::Accept);
    let accept = accept.map(|message| message.id).expect("an accept to node 1");
    assert_eq!(sim.network().get(accept).unwrap().deliver_at, NEVER);
    sim.step(UserAction::DeliverNow { id: accept });
    assert!(sim.volatile_writes(1) > 0, "node 1 accepted, not durably yet");
    let answered = |sim: &Sim| sim.network().in_flight().any(|message| message.kind == MessageKind::Accepted);
    assert!(!answered(&sim), "its answer waits for its disk");
    sim.step(UserAction::AckWrite { node: 1 });
    assert!(answered(&sim), "now it leaves");
    assert_eq!(sim.step_request_waiting(1), Some(&put), "the client still waits");
}

#[test]
fn leaving_stepping_makes_what_waited_due_and_time_runs_again() {
    let mut sim = stepping_cluster();
    let put = KvCommand::Put { key: "x".into(), value: "1".into() };
    sim.step(UserAction::Request { client: 1, target: 3, command: put });
    sim.step(UserAction::Stepping { on: false });
    sim.run_until(sim.now() + 20);
    assert_eq!(sim.step_request_waiting(1), None, "answered");
    for id in 1..=3 {
        assert_eq!(sim.node(id).unwrap().machine().get("x").map(String::as_str), Some("1"), "applied on node {id}");
    }
}

#[test]
fn a_stepped_run_replays_from_its_actions() {
    let mut sim = stepping_cluster();
    let mut actions = vec![ScheduledAction { tick: sim.now(), action: UserAction::Stepping { on: true } }];
    let put = KvCommand::Append { key: "x".into(), value: "a".into() };
    let mut act = |sim: &mut Sim, action: UserAction| {
        actions.push(ScheduledAction { tick: sim.now() + 1, action: action.clone() });
        sim.step(action);
    };
    act(&mut sim, UserAction::Request { client: 1, target: 2, command: put });
    let forward = sim.network().in_flight().next().unwrap().id;
    act(&mut sim, UserAction::DuplicateMessage { id: forward });
    act(&mut sim, UserAction::DeliverNow { id: forward });
    act(&mut sim, UserAction::Retry { client: 1, target: 3 });
    act(&mut sim, UserAction::AckWrite { node: 3 });
    act(&mut sim, UserAction::Crash { node: 1 });
    act(&mut sim, UserAction::Restart { node: 1 });
    let mut replayed = Sim::new(SimConfig::playground(3, BugSet::NONE, 0, 0), 1, actions, true).unwrap();
    replayed.run_until(sim.now());
    assert_eq!(replayed.trace().hash(), sim.trace().hash());
    assert_eq!(replayed.trace().len(), sim.trace().len());
}

#[test]
fn a_rejected_retry_leaves_the_outcome_unknown_while_the_first_attempt_may_still_apply() {
    let mut sim = stepping_cluster();
    sim.step(UserAction::Crash { node: 1 });
    sim.step(UserAction::Restart { node: 1 });
    let append = KvCommand::Append { key: "x".into(), value: "a".into() };
    sim.step(UserAction::Request { client: 1, target: 3, command: append });
    // Node 1 has just restarted and knows no leader: it rejects the retry, while node 3 proposes the first try.
    sim.step(UserAction::Retry { client: 1, target: 1 });
    let op = &sim.history().operations()[0];
    assert_eq!(op.outcome, synod::check::Outcome::Indeterminate, "not failed: the first attempt may apply");
    sim.step(UserAction::Stepping { on: false });
    sim.run_until(sim.now() + 30);
    assert_eq!(sim.node(3).unwrap().machine().get("x").map(String::as_str), Some("a"), "the first attempt applied");
    let history = synod::check::linearizability_violation(sim.history(), 0, sim.now());
    assert!(history.is_none(), "{history:?}");
}

#[test]
fn the_enabled_events_are_every_message_and_every_node_choice() {
    let mut sim = stepping_cluster();
    let put = KvCommand::Put { key: "x".into(), value: "1".into() };
    sim.step(UserAction::Request { client: 1, target: 3, command: put });
    sim.step(UserAction::Crash { node: 2 });
    let events = sim.enabled_events();
    for message in sim.network().in_flight() {
        let id = message.id;
        for event in
            [UserAction::DeliverNow { id }, UserAction::DropMessage { id }, UserAction::DuplicateMessage { id }]
        {
            assert!(events.contains(&event), "{event:?} is offered");
        }
    }
    assert!(events.contains(&UserAction::Restart { node: 2 }) && !events.contains(&UserAction::Crash { node: 2 }));
    assert!(!events.contains(&UserAction::TickNode { node: 2 }), "a node that is down has no timer");
    assert!(events.contains(&UserAction::AckWrite { node: 3 }), "the leader's write waits for its disk");
    assert!(!events.contains(&UserAction::AckWrite { node: 1 }), "node 1 has written nothing");
    assert_eq!(events.len(), 3 * sim.network().len() + 1 + 3 + 2, "and nothing else");
    let accept = sim.network().in_flight().find(|m| m.kind == MessageKind::Accept && m.to == 1).unwrap().id;
    let name = sim.describe_event(&UserAction::DeliverNow { id: accept }).unwrap();
    assert_eq!(name, format!("Deliver #{accept} accept 3 → 1"));
    assert_eq!(sim.describe_event(&UserAction::TickNode { node: 3 }).unwrap(), "Fire timer of node 3");
    assert_eq!(sim.describe_event(&UserAction::AckWrite { node: 1 }).unwrap(), "Acknowledge write of node 1");
    assert_eq!(sim.describe_event(&UserAction::Heal), None, "a heal is not one event");
}

#[test]
fn the_changes_of_a_step_name_the_node_and_its_fields_in_memory_and_on_disk() {
    let mut sim = stepping_cluster();
    let put = KvCommand::Put { key: "x".into(), value: "1".into() };
    sim.step(UserAction::Request { client: 1, target: 3, command: put });
    let accept = sim.network().in_flight().find(|m| m.kind == MessageKind::Accept && m.to == 1).unwrap().id;
    let before = sim.machines().to_vec();
    sim.step(UserAction::DeliverNow { id: accept });
    let changes = sim.changes_since(&before);
    assert_eq!(changes.iter().map(|c| c.node).collect::<Vec<_>>(), vec![1], "only node 1 changed");
    let field = |changes: &[synod::sim::NodeChanges], place, name: &str| {
        changes[0].fields.iter().find(|f| f.place == place && f.field.starts_with(name)).cloned()
    };
    let slot = field(&changes, synod::sim::Place::Memory, "slot ").expect("a slot of its log changed");
    assert_eq!(slot.before, "empty");
    assert!(slot.after.starts_with("accepted put x=1"), "{slot:?}");
    let pending = field(&changes, synod::sim::Place::Disk, "writes not yet durable").expect("a write is pending");
    assert_eq!((pending.before.as_str(), pending.after.as_str()), ("0", "1"));
    assert!(field(&changes, synod::sim::Place::Disk, "slot ").is_none(), "nothing reached the disk yet");
    let before = sim.machines().to_vec();
    sim.step(UserAction::AckWrite { node: 1 });
    let changes = sim.changes_since(&before);
    let on_disk = field(&changes, synod::sim::Place::Disk, "slot ").expect("the entry reached the disk");
    assert_eq!(on_disk.before, "empty");
    let before = sim.machines().to_vec();
    sim.step(UserAction::TickNode { node: 2 });
    assert!(sim.changes_since(&before).iter().all(|c| c.node == 2), "a timer changes its own node only");
}
