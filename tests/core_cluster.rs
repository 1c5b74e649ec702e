//! Scripted multi-node runs of the Multi-Paxos core through the in-test router.

mod core_support;

use core_support::{append, get, put, Cluster};
use synod::kv::{KvCommand, KvOutput};
use synod::paxos::{Bug, Event, MessageKind, ProposeOutcome, Rejection, RoleKind, SlotState, Value};

fn value_of(cluster: &Cluster, node: u8, key: &str) -> Option<String> {
    cluster.kv(node).get(key).cloned()
}

#[test]
fn three_nodes_elect_the_highest_id_and_commit_a_put() {
    let mut cluster = Cluster::new(3, |_| {});
    assert_eq!(cluster.elect(), 3, "the highest-id live node leads");
    let outcome = cluster.propose(3, 1, 1, put("x", "1"));
    assert_eq!(outcome, ProposeOutcome::Proposed { slot: 0 });
    cluster.deliver_all();
    cluster.ticks(2); // A heartbeat carries the commit point to the followers.
    assert_eq!(cluster.reply(1, 1).unwrap().result, Ok((0, KvOutput::Ok)));
    for node in 1..=3 {
        assert_eq!(value_of(&cluster, node, "x").as_deref(), Some("1"), "node {node}");
        assert!(matches!(cluster.node(node).get(0), SlotState::Chosen(_)));
    }
    assert!(cluster.persist_violations.is_empty(), "{:?}", cluster.persist_violations);
}

#[test]
fn a_follower_forwards_to_the_leader_and_answers_its_client() {
    let mut cluster = Cluster::new(3, |_| {});
    cluster.elect();
    assert_eq!(cluster.propose(1, 9, 1, put("k", "v")), ProposeOutcome::Forwarded { to: 3 });
    cluster.deliver_all();
    cluster.ticks(2);
    assert_eq!(cluster.reply(9, 1).unwrap().result, Ok((0, KvOutput::Ok)));
    cluster.propose(2, 9, 2, get("k"));
    cluster.deliver_all();
    cluster.ticks(2);
    assert_eq!(cluster.reply(9, 2).unwrap().result, Ok((1, KvOutput::Value(Some("v".into())))));
}

#[test]
fn without_a_leader_a_request_is_rejected_with_a_clear_reason() {
    let mut cluster = Cluster::new(3, |_| {});
    let outcome = cluster.propose(1, 1, 1, put("x", "1"));
    assert_eq!(outcome, ProposeOutcome::Rejected(Rejection::NotLeader { hint: None }));
    let invalid = cluster.propose(1, 1, 2, put("", "1"));
    assert!(matches!(invalid, ProposeOutcome::Rejected(Rejection::Invalid(reason)) if reason.contains("empty")));
    assert_eq!(cluster.replies.len(), 2, "rejections are replies too");
}

#[test]
fn a_leader_proposal_is_chosen_after_two_message_delays() {
    for nodes in [3, 5] {
        let mut cluster = Cluster::new(nodes, |_| {});
        let leader = cluster.elect();
        cluster.propose(leader, 1, 1, put("x", "1"));
        let mut delays = 0;
        while !matches!(cluster.node(leader).get(0), SlotState::Chosen(_)) {
            assert!(cluster.deliver_round() > 0, "nothing in flight and slot 0 not chosen");
            delays += 1;
        }
        assert_eq!(delays, 2, "accept out, accepted back ({nodes} nodes)");
    }
}

#[test]
fn unbatched_commands_cost_at_most_two_messages_per_follower() {
    let mut cluster = Cluster::new(5, |_| {});
    let leader = cluster.elect();
    cluster.delivered.clear();
    let commands = 100;
    for seq in 0..commands {
        cluster.propose(leader, 1, seq, put("k", &seq.to_string()));
        cluster.deliver_all(); // One command at a time: no batching at all.
    }
    let protocol: u64 = [MessageKind::Accept, MessageKind::Accepted].iter().map(|kind| cluster.delivered[kind]).sum();
    let per_command = protocol as f64 / commands as f64;
    assert!(per_command <= 2.0 * 4.0, "{per_command} messages per command; 2(n-1) = 8");
    // Closed loop: the leader goes idle after every command, so each commit point travels alone.
    let commits = cluster.delivered.get(&MessageKind::Commit).copied().unwrap_or(0) as f64 / commands as f64;
    assert!(commits <= 4.0, "{commits} commit messages per command");
    assert_eq!(cluster.delivered.get(&MessageKind::Chosen), None, "no follower needed catch-up");
}

#[test]
fn batched_commands_from_many_clients_cost_under_one_message_each() {
    let mut cluster = Cluster::new(5, |config| config.pipeline_window = 1024);
    let leader = cluster.elect();
    cluster.delivered.clear();
    let (clients, rounds) = (100u64, 10u64);
    for round in 0..rounds {
        for client in 0..clients {
            let outcome = cluster.propose_unflushed(leader, client, round, put(&format!("k{client}"), "v"));
            assert!(matches!(outcome, ProposeOutcome::Proposed { .. }), "{outcome:?}");
        }
        cluster.flush(leader);
        cluster.deliver_all();
    }
    let protocol: u64 = [MessageKind::Accept, MessageKind::Accepted].iter().map(|kind| cluster.delivered[kind]).sum();
    let per_command = protocol as f64 / (clients * rounds) as f64;
    assert!(per_command <= 1.0, "{per_command} messages per command with 100 concurrent clients");
    assert_eq!(cluster.chosen_slots(leader), clients * rounds);
}

#[test]
fn per_slot_batching_packs_several_requests_into_one_slot() {
    let mut cluster = Cluster::new(3, |config| config.batch_max = 10);
    let leader = cluster.elect();
    for client in 0..25 {
        assert_eq!(cluster.propose_unflushed(leader, client, 1, put("k", "v")), ProposeOutcome::Queued);
    }
    cluster.flush(leader);
    cluster.deliver_all();
    assert_eq!(cluster.chosen_slots(leader), 3, "25 requests in slots of 10, 10 and 5");
    let SlotState::Chosen(entry) = cluster.node(leader).get(2) else { panic!("slot 2 not chosen") };
    assert!(matches!(&entry.value, Value::Batch(requests) if requests.len() == 5));
    assert_eq!(cluster.replies.len(), 25);
}

#[test]
fn competing_leaders_never_choose_two_values_for_a_slot() {
    let mut cluster = Cluster::new(5, |_| {});
    assert_eq!(cluster.elect(), 5);
    // Cut node 5 off: 4 takes over among {1,2,3,4} while 5 still believes it leads for a while.
    cluster.partition(&[5], &[1, 2, 3, 4]);
    cluster.propose(5, 1, 1, put("x", "from-5"));
    cluster.tick_until(100, |cluster| cluster.node(4).role() == RoleKind::Leader);
    cluster.propose(4, 2, 1, put("x", "from-4"));
    cluster.deliver_all();
    cluster.heal();
    cluster.elect();
    cluster.ticks(10);
    cluster.assert_chosen_agree();
    for node in 1..=5 {
        assert_eq!(value_of(&cluster, node, "x").as_deref(), Some("from-4"), "the cut-off leader chose nothing");
    }
    assert!(cluster.reply(1, 1).is_none_or(|reply| reply.result.is_err()), "node 5's proposal was never chosen");
}

#[test]
fn dueling_proposers_with_interleaved_phases_stay_safe() {
    let mut cluster = Cluster::new(3, |_| {});
    cluster.elect();
    cluster.propose(3, 1, 1, put("a", "1"));
    cluster.deliver_all();
    // Both 2 and 3 now campaign; their prepares and accepts interleave message by message.
    cluster.partition(&[3], &[1]);
    cluster.partition(&[2], &[3]);
    cluster.ticks(30);
    cluster.propose(3, 2, 1, put("b", "3"));
    cluster.heal();
    for _ in 0..50 {
        cluster.tick();
        cluster.assert_chosen_agree();
    }
    cluster.elect();
    cluster.assert_chosen_agree();
}

#[test]
fn a_new_leader_adopts_accepted_values_and_fills_holes_with_noops() {
    let mut cluster = Cluster::new(3, |_| {});
    assert_eq!(cluster.elect(), 3);
    // Node 3 proposes three commands, but only slot 2's accept reaches node 2, and none reaches node 1.
    for seq in 0..3 {
        cluster.propose(3, 1, seq, put("k", &format!("v{seq}")));
    }
    let in_flight: Vec<_> = cluster.network.drain(..).collect();
    for envelope in in_flight {
        let keep = matches!(&envelope.message, synod::paxos::Message::Accept { first_slot: 2, .. }) && envelope.to == 2;
        if keep {
            cluster.network.push_back(envelope);
        }
    }
    cluster.deliver_all();
    // The leader dies between phase 2 and learning anything was chosen.
    cluster.crash(3);
    assert_eq!(cluster.elect(), 2);
    cluster.ticks(4);
    let node = cluster.node(2);
    let noop = |slot| matches!(node.get(slot), SlotState::Chosen(entry) if entry.value.is_noop());
    assert!(noop(0) && noop(1), "holes below the highest reported slot become no-ops");
    let SlotState::Chosen(entry) = node.get(2) else { panic!("slot 2 not chosen") };
    assert_eq!(entry.value.requests()[0].command, put("k", "v2"), "the accepted value was adopted");
    let became = cluster.events.iter().find_map(|(id, event)| match event {
        Event::BecameLeader { noops, reproposed, .. } if *id == 2 => Some((noops, reproposed)),
        _ => None,
    });
    assert_eq!(became.map(|(noops, reproposed)| (*noops, *reproposed)), Some((2, 1)));
    assert_eq!(value_of(&cluster, 1, "k").as_deref(), Some("v2"));
}

#[test]
fn a_restarted_node_rebuilds_from_storage_and_catches_up() {
    let mut cluster = Cluster::new(3, |_| {});
    cluster.elect();
    for seq in 0..5 {
        cluster.propose(3, 1, seq, append("log", &seq.to_string()));
        cluster.deliver_all();
    }
    cluster.ticks(2);
    cluster.crash(1);
    for seq in 5..10 {
        cluster.propose(3, 1, seq, append("log", &seq.to_string()));
        cluster.deliver_all();
    }
    cluster.restart(1);
    assert_eq!(value_of(&cluster, 1, "log").as_deref(), Some("01234"), "recovered from its own disk");
    cluster.tick_until(50, |cluster| cluster.chosen_slots(1) == 10);
    assert_eq!(value_of(&cluster, 1, "log").as_deref(), Some("0123456789"));
}

#[test]
fn a_whole_cluster_restart_keeps_every_acknowledged_write() {
    let mut cluster = Cluster::new(5, |_| {});
    cluster.elect();
    for seq in 0..20 {
        cluster.propose(5, 1, seq, append("k", "x"));
        cluster.deliver_all();
    }
    let acknowledged = cluster.replies.iter().filter(|reply| reply.result.is_ok()).count();
    assert_eq!(acknowledged, 20);
    for node in 1..=5 {
        cluster.crash(node);
    }
    for node in 1..=5 {
        cluster.restart(node);
    }
    cluster.elect();
    cluster.ticks(4);
    for node in 1..=5 {
        assert_eq!(value_of(&cluster, node, "k").map(|v| v.len()), Some(20), "node {node}");
    }
}

#[test]
fn a_crash_loses_exactly_the_writes_not_yet_durable() {
    let mut cluster = Cluster::new(3, |_| {});
    cluster.elect();
    cluster.sync_immediately = false;
    cluster.propose(3, 1, 1, put("x", "1"));
    cluster.deliver_all();
    // Followers accepted, but their disks have not acknowledged: no accepted message may have left.
    assert!(cluster.network.is_empty());
    assert_eq!(cluster.node(1).held_messages(), 1);
    cluster.crash(1);
    cluster.restart(1);
    assert!(matches!(cluster.node(1).get(0), SlotState::Empty), "the unacknowledged accept is gone");
    cluster.sync(2);
    cluster.sync(3);
    cluster.deliver_all();
    assert!(matches!(cluster.node(3).get(0), SlotState::Chosen(_)), "node 2 and the leader form a majority");
    assert!(cluster.persist_violations.is_empty(), "{:?}", cluster.persist_violations);
}

#[test]
fn sending_before_persisting_is_caught() {
    let mut cluster = Cluster::new(3, |config| config.bugs = Bug::SendBeforePersist.into());
    // Nodes 1 and 2 never get an acknowledgement, so every promise the bug lets out of them is a violation. The
    // campaigning node 3's disk works: a prepare still waits for its sender's own promise to be durable.
    cluster.lagging.extend([1, 2]);
    for _ in 0..40 {
        for id in cluster.live() {
            cluster.node_mut(id).tick();
            cluster.flush(id);
        }
        cluster.deliver_all();
    }
    assert!(
        cluster.persist_violations.iter().any(|violation| violation.contains("promise for ballot")),
        "{:?}",
        cluster.persist_violations
    );
}

#[test]
fn a_correct_node_never_sends_before_persisting_even_with_slow_disks() {
    let mut cluster = Cluster::new(3, |_| {});
    cluster.sync_immediately = false;
    for tick in 0..200 {
        for id in cluster.live() {
            cluster.node_mut(id).tick();
            cluster.flush(id);
        }
        cluster.deliver_all();
        if tick % 3 == 0 {
            for id in cluster.live() {
                cluster.sync(id);
            }
        }
        if let Some(leader) = cluster.leaders().first().copied() {
            cluster.propose(leader, 1, tick, put("k", "v"));
        }
    }
    assert!(cluster.persist_violations.is_empty(), "{:?}", cluster.persist_violations);
    assert!(cluster.node(3).first_unchosen() > 10, "progress despite slow disks");
}

#[test]
fn a_retried_request_is_applied_once() {
    let mut cluster = Cluster::new(3, |_| {});
    cluster.elect();
    // The client's first attempt goes through node 1; its reply is lost; it retries through node 2.
    cluster.propose(1, 7, 1, append("k", "a"));
    cluster.deliver_all();
    cluster.propose(2, 7, 1, append("k", "a"));
    cluster.deliver_all();
    cluster.ticks(4);
    for node in 1..=3 {
        assert_eq!(value_of(&cluster, node, "k").as_deref(), Some("a"), "node {node} applied the retry again");
    }
    assert_eq!(cluster.reply(7, 1).unwrap().result.as_ref().map(|(_, output)| output), Ok(&KvOutput::Ok));
}

#[test]
fn a_lagging_node_catches_up_from_a_snapshot() {
    let mut cluster = Cluster::new(3, |config| config.snapshot_interval = 5);
    cluster.elect();
    cluster.partition(&[1], &[2, 3]);
    for seq in 0..23 {
        cluster.propose(3, 1, seq, append("k", "x"));
        cluster.deliver_all();
    }
    cluster.ticks(2);
    assert!(cluster.node(3).log().start() >= 20, "the leader compacted its log");
    assert_eq!(cluster.chosen_slots(1), 0);
    cluster.heal();
    cluster.tick_until(60, |cluster| cluster.chosen_slots(1) == 23);
    assert_eq!(value_of(&cluster, 1, "k").map(|v| v.len()), Some(23));
    assert!(cluster.events.iter().any(|(id, event)| *id == 1 && matches!(event, Event::SnapshotInstalled { .. })));
    assert_eq!(cluster.kv(1), cluster.kv(3), "the session table came along too");
}

#[test]
fn a_new_leader_behind_a_compacted_majority_learns_from_their_snapshots() {
    let mut cluster = Cluster::new(3, |config| config.snapshot_interval = 4);
    cluster.elect();
    cluster.partition(&[2], &[1, 3]);
    for seq in 0..10 {
        cluster.propose(3, 1, seq, put("k", &seq.to_string()));
        cluster.deliver_all();
    }
    cluster.ticks(2);
    // Node 2 lags; now the leader dies and node 2 must lead with node 1, which compacted its log.
    cluster.heal();
    cluster.partition(&[3], &[1, 2]);
    cluster.crash(3);
    cluster.network.clear();
    assert_eq!(cluster.elect(), 2);
    cluster.ticks(4);
    assert_eq!(value_of(&cluster, 2, "k").as_deref(), Some("9"));
    cluster.propose(2, 1, 10, put("k", "after"));
    cluster.deliver_all();
    cluster.ticks(2);
    assert_eq!(value_of(&cluster, 1, "k").as_deref(), Some("after"));
    cluster.assert_chosen_agree();
}

#[test]
fn a_minority_partition_makes_no_progress_and_the_majority_does() {
    let mut cluster = Cluster::new(5, |_| {});
    cluster.elect();
    cluster.partition(&[4, 5], &[1, 2, 3]);
    cluster.tick_until(100, |cluster| cluster.node(3).role() == RoleKind::Leader);
    assert_ne!(cluster.node(5).role(), RoleKind::Leader, "a leader cut off from the majority steps down");
    cluster.propose(3, 1, 1, put("x", "majority"));
    cluster.deliver_all();
    let before = cluster.chosen_slots(5);
    cluster.propose(5, 2, 1, put("x", "minority"));
    cluster.ticks(20);
    assert_eq!(cluster.chosen_slots(5), before, "the minority chooses nothing");
    assert_eq!(value_of(&cluster, 1, "x").as_deref(), Some("majority"));
    cluster.heal();
    cluster.elect();
    cluster.ticks(10);
    cluster.assert_chosen_agree();
    assert_eq!(value_of(&cluster, 4, "x").as_deref(), Some("majority"));
}

#[test]
fn an_overloaded_leader_rejects_instead_of_queueing_forever() {
    let mut cluster = Cluster::new(3, |config| {
        config.pipeline_window = 2;
        config.queue_max = 3;
    });
    cluster.elect();
    let outcomes: Vec<ProposeOutcome> =
        (0..6).map(|client| cluster.propose_unflushed(3, client, 1, put("k", "v"))).collect();
    assert_eq!(outcomes.iter().filter(|outcome| matches!(outcome, ProposeOutcome::Proposed { .. })).count(), 2);
    assert_eq!(outcomes.iter().filter(|outcome| **outcome == ProposeOutcome::Queued).count(), 3);
    assert_eq!(outcomes[5], ProposeOutcome::Rejected(Rejection::Overloaded));
    cluster.flush(3);
    cluster.deliver_all();
    cluster.tick();
    assert_eq!(cluster.chosen_slots(3), 5, "queued requests enter the log as the window frees");
}

#[test]
fn every_command_kind_goes_through_the_log() {
    let mut cluster = Cluster::new(3, |_| {});
    cluster.elect();
    let commands = [
        put("k", "1"),
        append("k", "2"),
        KvCommand::Cas { key: "k".into(), expected: Some("12".into()), new: "3".into() },
        get("k"),
        KvCommand::Delete { key: "k".into() },
        get("k"),
    ];
    for (seq, command) in commands.into_iter().enumerate() {
        cluster.propose(2, 1, seq as u64, command);
        cluster.deliver_all();
    }
    cluster.ticks(2);
    let output = |seq| cluster.reply(1, seq).unwrap().result.clone().unwrap().1;
    assert_eq!(output(2), KvOutput::Cas(true));
    assert_eq!(output(3), KvOutput::Value(Some("3".into())));
    assert_eq!(output(5), KvOutput::Value(None));
}

/// Recovery re-applies the durable log through the machine it is given, so a setting that is not replicated
/// state (the planted bug `apply-retry-twice`) holds during recovery too. Before `recover_with`, the
/// simulator could switch the bug on only afterwards: a restarted node then re-applied a retry once while
/// the others had applied it twice, and the checker blamed the snapshot state instead of the bug's effect.
#[test]
fn a_node_recovered_with_a_machine_reapplies_its_log_through_that_machine() {
    let mut cluster = Cluster::new(3, |_| {});
    let leader = cluster.elect();
    for _ in 0..2 {
        // A client's retry: the same (client, seq) is proposed, and chosen, twice.
        cluster.propose(leader, 7, 1, append("k", "a"));
        cluster.deliver_all();
    }
    cluster.ticks(4); // The followers learn the commit point and write it down.
    let (config, disk) = (cluster.configs[&1].clone(), cluster.disks[&1].clone());
    assert!(disk.chosen_upto >= 2, "both copies are durably chosen on node 1");
    let plain = core_support::KvNode::recover(config.clone(), &disk).unwrap();
    assert_eq!(plain.machine().get("k").map(String::as_str), Some("a"), "the session table applies a retry once");
    let buggy_machine = synod::kv::KvStore { bug_apply_retry_twice: true, ..Default::default() };
    let buggy = core_support::KvNode::recover_with(config, &disk, buggy_machine).unwrap();
    assert!(buggy.machine().bug_apply_retry_twice);
    assert_eq!(buggy.machine().get("k").map(String::as_str), Some("aa"), "recovery applied it with the bug on");
}
