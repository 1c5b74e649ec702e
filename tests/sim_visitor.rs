//! The visitor's own client (`UserAction::ClientOp`): its path through the cluster is recorded, a rejection
//! ends the operation, and a request that gets no reply times out as indeterminate instead of waiting forever.

use synod::check::Outcome;
use synod::kv::{KvCommand, KvOutput};
use synod::paxos::{NodeId, Rejection, RoleKind};
use synod::sim::{FaultConfig, Sim, SimConfig, UserAction, VisitorOutcome, WorkloadConfig};

const TIMEOUT: u64 = 30;

/// Five nodes, no background clients, no faults, far from the end of the fault phase.
fn quiet_sim() -> Sim {
    let config = SimConfig {
        workload: WorkloadConfig { clients: 0, timeout_ticks: TIMEOUT, ..WorkloadConfig::default() },
        faults: FaultConfig::none(),
        fault_ticks: 10_000,
        ..SimConfig::default()
    };
    Sim::new(config, 3, Vec::new(), false).unwrap()
}

fn elect(sim: &mut Sim) -> NodeId {
    for _ in 0..500 {
        sim.tick();
        let leaders: Vec<NodeId> =
            (1..=5).filter(|id| sim.node(*id).is_some_and(|node| node.role() == RoleKind::Leader)).collect();
        if let [leader] = leaders[..] {
            if (1..=5).all(|id| sim.node(id).unwrap().leader() == Some(leader)) {
                return leader;
            }
        }
    }
    panic!("no leader known to every node after 500 ticks");
}

fn put(key: &str, value: &str) -> KvCommand {
    KvCommand::Put { key: key.into(), value: value.into() }
}

fn run_while_busy(sim: &mut Sim, ticks: u64) {
    for _ in 0..ticks {
        if !sim.visitor_busy() {
            return;
        }
        sim.tick();
    }
}

#[test]
fn a_request_through_a_follower_records_the_forward_and_the_slot() {
    let mut sim = quiet_sim();
    let leader = elect(&mut sim);
    let follower = if leader == 1 { 2 } else { 1 };
    sim.apply_action(UserAction::ClientOp { target: follower, command: put("x", "1") });
    run_while_busy(&mut sim, 100);
    let op = &sim.visitor_ops()[0];
    assert_eq!((op.target, op.forwards.as_slice()), (follower, &[leader][..]));
    let VisitorOutcome::Answered { slot, output, .. } = &op.outcome else { panic!("not answered: {op:?}") };
    assert_eq!(output, &KvOutput::Ok);
    assert!(sim.node(leader).unwrap().applied_upto() > *slot, "the reply names the slot it was chosen in");
    assert!(matches!(sim.history().operations()[op.op.0].outcome, Outcome::Completed { .. }));

    sim.apply_action(UserAction::ClientOp { target: leader, command: put("y", "2") });
    run_while_busy(&mut sim, 100);
    let direct = &sim.visitor_ops()[1];
    assert!(direct.forwards.is_empty(), "the leader proposes it itself: {direct:?}");
    assert!(matches!(direct.outcome, VisitorOutcome::Answered { .. }), "{direct:?}");
}

#[test]
fn a_request_to_a_leader_that_dies_times_out_as_indeterminate() {
    let mut sim = quiet_sim();
    let leader = elect(&mut sim);
    sim.apply_action(UserAction::ClientOp { target: leader, command: put("lost", "maybe") });
    sim.apply_action(UserAction::Crash { node: leader });
    assert!(sim.visitor_busy());
    let sent = sim.now();
    run_while_busy(&mut sim, TIMEOUT + 5);
    assert!(!sim.visitor_busy(), "the visitor gives up after the timeout");
    let op = &sim.visitor_ops()[0];
    assert_eq!(op.outcome, VisitorOutcome::TimedOut { at: sent + TIMEOUT });
    assert_eq!(sim.history().operations()[op.op.0].outcome, Outcome::Indeterminate);

    // The visitor can go on: the next operation, to a live node, completes.
    let live = if leader == 1 { 2 } else { 1 };
    sim.apply_action(UserAction::ClientOp { target: live, command: put("next", "op") });
    run_while_busy(&mut sim, 200);
    assert!(matches!(sim.visitor_ops()[1].outcome, VisitorOutcome::Answered { .. }), "{:?}", sim.visitor_ops()[1]);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn a_request_before_any_leader_is_rejected_and_did_not_happen() {
    let mut sim = quiet_sim();
    sim.apply_action(UserAction::ClientOp { target: 1, command: put("early", "bird") });
    run_while_busy(&mut sim, TIMEOUT);
    let op = &sim.visitor_ops()[0];
    match &op.outcome {
        VisitorOutcome::Rejected { rejection: Rejection::NotLeader { .. }, .. } => {}
        other => panic!("expected a not-leader rejection, got {other:?}"),
    }
    assert!(matches!(sim.history().operations()[op.op.0].outcome, Outcome::Failed { .. }));
    assert!(!sim.visitor_busy());
}
