//! Unit tests per role and per invariant: one node, driven message by message.

use std::rc::Rc;

use crate::kv::{KvCommand, KvStore};

use super::*;

type KvNode = Node<KvStore>;

fn node(id: NodeId, bugs: BugSet) -> KvNode {
    let mut config = Config::cluster(id, 3);
    config.bugs = bugs;
    Node::new(config).expect("valid config")
}

fn from(node: NodeId, to: NodeId, message: MessageOf<KvStore>) -> EnvelopeOf<KvStore> {
    Envelope { from: node, to, message }
}

fn put(seq: u64, value: &str) -> Value<KvCommand> {
    Value::command(Request { client: 1, seq, command: KvCommand::Put { key: "k".into(), value: value.into() } })
}

/// Takes the node's effects, acknowledging its writes at once, until it is quiet.
fn drain(node: &mut KvNode) -> (Vec<EnvelopeOf<KvStore>>, Vec<Event>) {
    let (mut messages, mut events) = (Vec::new(), Vec::new());
    loop {
        let ready = node.ready();
        if ready.is_empty() {
            return (messages, events);
        }
        messages.extend(ready.messages);
        events.extend(ready.events);
        if let Some(batch) = ready.write {
            node.persisted(batch.id);
        }
    }
}

fn prepare(ballot: Ballot) -> MessageOf<KvStore> {
    Message::Prepare { ballot, first_unchosen: 0 }
}

fn accept(ballot: Ballot, first_slot: Slot, values: Vec<Value<KvCommand>>, chosen_upto: Slot) -> MessageOf<KvStore> {
    Message::Accept { ballot, first_slot, values: values.into(), chosen_upto }
}

#[test]
fn an_acceptor_promises_a_higher_ballot_and_nacks_a_lower_one() {
    let mut acceptor = node(1, BugSet::NONE);
    acceptor.receive(from(3, 1, prepare(Ballot::new(2, 3))));
    let (messages, _) = drain(&mut acceptor);
    assert!(
        matches!(messages[..], [Envelope { to: 3, message: Message::Promise { ballot, .. }, .. }] if ballot == Ballot::new(2, 3))
    );
    acceptor.receive(from(2, 1, prepare(Ballot::new(1, 2))));
    let (messages, _) = drain(&mut acceptor);
    assert!(
        matches!(messages[..], [Envelope { to: 2, message: Message::Nack { promised, .. }, .. }] if promised == Ballot::new(2, 3))
    );
    assert_eq!(acceptor.promised(), Ballot::new(2, 3), "the promise never decreases");
}

#[test]
fn a_promise_waits_until_it_is_durable() {
    let mut acceptor = node(1, BugSet::NONE);
    acceptor.receive(from(3, 1, prepare(Ballot::new(1, 3))));
    let ready = acceptor.ready();
    assert!(ready.messages.is_empty(), "the promise must not leave before its write");
    let batch = ready.write.expect("the promise is written");
    assert_eq!(batch.records, vec![Record::Promise(Ballot::new(1, 3))]);
    acceptor.persisted(batch.id);
    assert_eq!(acceptor.ready().messages.len(), 1);
}

#[test]
fn the_planted_send_before_persist_bug_lets_the_promise_out_early() {
    let mut acceptor = node(1, Bug::SendBeforePersist.into());
    acceptor.receive(from(3, 1, prepare(Ballot::new(1, 3))));
    let ready = acceptor.ready();
    assert_eq!(ready.messages.len(), 1);
    let disk = DurableStateOf::<KvStore>::default();
    assert!(disk.backs(&ready.messages[0].message).is_err(), "the durability check sees the violation");
}

#[test]
fn an_acceptor_nacks_an_accept_below_its_promise_unless_the_bug_is_planted() {
    for (bugs, accepts) in [(BugSet::NONE, false), (Bug::AcceptBelowPromise.into(), true)] {
        let mut acceptor = node(1, bugs);
        acceptor.receive(from(3, 1, prepare(Ballot::new(5, 3))));
        drain(&mut acceptor);
        acceptor.receive(from(2, 1, accept(Ballot::new(4, 2), 0, vec![put(1, "a")], 0)));
        let (messages, _) = drain(&mut acceptor);
        assert_eq!(matches!(acceptor.get(0), SlotState::Accepted(_)), accepts, "bugs {bugs:?}");
        assert_eq!(matches!(messages[0].message, Message::Accepted { .. }), accepts);
    }
}

#[test]
fn a_promise_reports_accepted_values_and_a_snapshot_for_compacted_slots() {
    let mut acceptor = node(1, BugSet::NONE);
    acceptor.receive(from(3, 1, accept(Ballot::new(1, 3), 0, vec![put(1, "a"), put(2, "b")], 0)));
    drain(&mut acceptor);
    acceptor.receive(from(2, 1, Message::Prepare { ballot: Ballot::new(2, 2), first_unchosen: 1 }));
    let (messages, _) = drain(&mut acceptor);
    let Message::Promise { entries, snapshot, .. } = &messages[0].message else { panic!("{messages:?}") };
    assert_eq!(entries.iter().map(|(slot, _)| *slot).collect::<Vec<_>>(), vec![1], "only from first_unchosen on");
    assert!(snapshot.is_none());

    let mut config = Config::cluster(1, 3);
    config.snapshot_interval = 2;
    let mut compacting = KvNode::new(config).unwrap();
    compacting.receive(from(3, 1, accept(Ballot::new(1, 3), 0, vec![put(1, "a"), put(2, "b")], 2)));
    drain(&mut compacting);
    assert_eq!(compacting.log().start(), 2, "applied two slots and compacted them");
    compacting.receive(from(2, 1, Message::Prepare { ballot: Ballot::new(2, 2), first_unchosen: 0 }));
    let (messages, _) = drain(&mut compacting);
    let Message::Promise { snapshot: Some(snapshot), .. } = &messages[0].message else { panic!("{messages:?}") };
    assert_eq!(snapshot.upto, 2);
    assert_eq!(snapshot.state.get("k").map(String::as_str), Some("b"));
}

#[test]
fn a_follower_learns_from_the_commit_point_only_values_of_the_same_ballot() {
    let mut follower = node(1, BugSet::NONE);
    follower.receive(from(2, 1, accept(Ballot::new(1, 2), 0, vec![put(1, "old")], 0)));
    follower.receive(from(3, 1, accept(Ballot::new(2, 3), 1, vec![put(2, "new")], 0)));
    // Ballot 2.3's leader says slots 0 and 1 are chosen: slot 1 holds its value, slot 0 an older ballot's.
    follower.receive(from(
        3,
        1,
        Message::Heartbeat {
            ballot: Ballot::new(2, 3),
            leading: true,
            quorum_connected: true,
            chosen_upto: 2,
            lease_stamp: None,
        },
    ));
    assert!(matches!(follower.get(0), SlotState::Accepted(_)), "slot 0 may have been chosen with another value");
    assert!(matches!(follower.get(1), SlotState::Chosen(_)));
    assert_eq!(follower.applied_upto(), 0, "slot 1 waits for slot 0: apply order is slot order");
    follower.receive(from(
        3,
        1,
        Message::Chosen {
            ballot: Ballot::new(2, 3),
            entries: vec![(0, Entry { ballot: Ballot::new(2, 3), value: put(1, "old"), chosen: true })],
        },
    ));
    assert_eq!(follower.applied_upto(), 2);
    let (_, events) = drain(&mut follower);
    let chosen: Vec<Slot> = events
        .iter()
        .flat_map(|event| match event {
            Event::Chosen { first_slot, count, .. } => *first_slot..first_slot + count,
            _ => 0..0,
        })
        .collect();
    assert_eq!(chosen, vec![1, 0], "slot 1 learned with the commit, slot 0 from catch-up");
}

#[test]
#[should_panic(expected = "chosen-never-changes")]
fn learning_a_different_value_for_a_chosen_slot_panics() {
    let mut follower = node(1, BugSet::NONE);
    let chosen = |value| Message::Chosen {
        ballot: Ballot::new(1, 3),
        entries: vec![(0, Entry { ballot: Ballot::new(1, 3), value, chosen: true })],
    };
    follower.receive(from(3, 1, chosen(put(1, "a"))));
    follower.receive(from(3, 1, chosen(put(2, "b"))));
}

#[test]
fn with_a_planted_bug_a_broken_invariant_is_reported_not_panicked() {
    let mut follower = node(1, Bug::MinorityQuorum.into());
    let chosen = |value| Message::Chosen {
        ballot: Ballot::new(1, 3),
        entries: vec![(0, Entry { ballot: Ballot::new(1, 3), value, chosen: true })],
    };
    follower.receive(from(3, 1, chosen(put(1, "a"))));
    follower.receive(from(3, 1, chosen(put(2, "b"))));
    let (_, events) = drain(&mut follower);
    assert!(events
        .iter()
        .any(|event| matches!(event, Event::InvariantBroken { invariant, .. } if invariant == "chosen-never-changes")));
    assert_eq!(follower.log().get(0).unwrap().value(), put(1, "a"), "the first chosen value stays");
}

#[test]
fn a_leader_counts_its_own_vote_only_once_it_is_durable() {
    let (mut leader, ballot) = elected_leader();
    leader.propose(Request { client: 1, seq: 1, command: KvCommand::Get { key: "k".into() } });
    let ready = leader.ready();
    let batch = ready.write.expect("the leader's own accept is written");
    // Node 1's vote alone is not a majority of 3; the leader's own vote is not counted until durable.
    leader.receive(from(1, 3, Message::Accepted { ballot, first_slot: 0, count: 1, chosen_upto: 0 }));
    assert!(matches!(leader.get(0), SlotState::Accepted(_)));
    leader.persisted(batch.id);
    assert!(matches!(leader.get(0), SlotState::Chosen(_)));
}

#[test]
fn a_leader_records_the_slots_it_sends_in_one_accept_as_one_range() {
    let (mut leader, ballot) = elected_leader();
    for seq in 1..=3 {
        leader.propose(Request { client: 1, seq, command: KvCommand::Get { key: "k".into() } });
    }
    let ready = leader.ready();
    let records = ready.write.expect("the leader's own accepts are written").records;
    assert!(
        matches!(&records[..], [Record::AcceptRange { first_slot: 0, ballot: by, values }] if *by == ballot && values.len() == 3),
        "{records:?}"
    );
    let Some(Message::Accept { values: sent, .. }) = ready.messages.first().map(|envelope| &envelope.message) else {
        panic!("the accepts go out with the write")
    };
    let Record::AcceptRange { values: recorded, .. } = &records[0] else { unreachable!() };
    assert!(Rc::ptr_eq(sent, recorded), "the record shares the values sent to the followers");
}

#[test]
fn a_single_slot_sent_is_recorded_as_one_accept() {
    let (mut leader, ballot) = elected_leader();
    leader.propose(Request { client: 1, seq: 1, command: KvCommand::Get { key: "k".into() } });
    let records = leader.ready().write.expect("the leader's own accept is written").records;
    assert!(matches!(&records[..], [Record::Accept { slot: 0, ballot: by, .. }] if *by == ballot), "{records:?}");
}

#[test]
fn a_leader_deposed_before_sending_records_its_proposals_before_promising() {
    let (mut leader, ballot) = elected_leader();
    for seq in 1..=2 {
        leader.propose(Request { client: 1, seq, command: KvCommand::Get { key: "k".into() } });
    }
    // Node 1 campaigns above the leader before the leader sent its accepts (no `ready` in between).
    let higher = Ballot::new(ballot.round + 1, 1);
    leader.receive(from(1, 3, prepare(higher)));
    let ready = leader.ready();
    assert!(ready.messages.iter().all(|envelope| !matches!(envelope.message, Message::Promise { .. })));
    let records = ready.write.expect("the acceptances and the promise are written").records;
    assert!(
        matches!(
            &records[..],
            [Record::Accept { slot: 0, ballot: a, .. }, Record::Accept { slot: 1, ballot: b, .. }, Record::Promise(p)]
                if *a == ballot && *b == ballot && *p == higher
        ),
        "the acceptances the promise reports are in the write it waits for: {records:?}"
    );
}

/// Node 3 of 3, leading with promises from itself and node 1.
fn elected_leader() -> (KvNode, Ballot) {
    let mut leader = node(3, BugSet::NONE);
    for _ in 0..12 {
        leader.receive(from(
            1,
            3,
            Message::Heartbeat {
                ballot: Ballot::ZERO,
                leading: false,
                quorum_connected: true,
                chosen_upto: 0,
                lease_stamp: None,
            },
        ));
        leader.tick();
        drain(&mut leader);
    }
    let Some(ballot) = leader.own_ballot() else { panic!("node 3 campaigns") };
    leader.receive(from(1, 3, Message::Promise { ballot, entries: vec![], snapshot: None, chosen_upto: 0 }));
    drain(&mut leader);
    assert_eq!(leader.role(), RoleKind::Leader);
    (leader, ballot)
}

#[test]
fn quorums_are_majorities_unless_the_minority_bug_is_planted() {
    for (nodes, majority, minority) in [(3, 2, 1), (4, 3, 2), (5, 3, 2), (7, 4, 3)] {
        let correct = KvNode::new(Config::cluster(1, nodes)).unwrap();
        let mut config = Config::cluster(1, nodes);
        config.bugs = Bug::MinorityQuorum.into();
        let buggy = KvNode::new(config).unwrap();
        assert_eq!((correct.quorum(), buggy.quorum()), (majority, minority), "{nodes} nodes");
    }
}

#[test]
fn recovery_keeps_the_promise_unless_the_forget_bug_is_planted() {
    let mut disk = DurableStateOf::<KvStore>::default();
    disk.apply(&Record::Promise(Ballot::new(7, 2)));
    disk.apply(&Record::Accept { slot: 0, ballot: Ballot::new(7, 2), value: put(1, "a") });
    let recovered = KvNode::recover(Config::cluster(1, 3), &disk).unwrap();
    assert_eq!(recovered.promised(), Ballot::new(7, 2));
    assert!(matches!(recovered.get(0), SlotState::Accepted(_)));
    let mut config = Config::cluster(1, 3);
    config.bugs = Bug::ForgetPromiseOnRestart.into();
    assert_eq!(KvNode::recover(config, &disk).unwrap().promised(), Ballot::ZERO);
}

#[test]
fn recovery_reapplies_the_durable_chosen_prefix_on_top_of_the_snapshot() {
    let mut disk = DurableStateOf::<KvStore>::default();
    let mut state = KvStore::default();
    Rc::make_mut(&mut state.data).insert("k".into(), "snap".into());
    disk.apply(&Record::Snapshot(Box::new(Snapshot { upto: 3, state, membership: Default::default() })));
    disk.apply(&Record::Accept { slot: 3, ballot: Ballot::new(1, 3), value: put(9, "after") });
    disk.apply(&Record::ChosenUpTo(4));
    let recovered = KvNode::recover(Config::cluster(1, 3), &disk).unwrap();
    assert_eq!((recovered.applied_upto(), recovered.first_unchosen()), (4, 4));
    assert_eq!(recovered.machine().get("k").map(String::as_str), Some("after"));
    assert!(matches!(recovered.get(2), SlotState::Compacted));
}

#[test]
fn a_bad_configuration_is_refused_with_a_reason() {
    let error = |config: Config| KvNode::new(config).err().expect("refused");
    assert!(error(Config::new(0, vec![1, 2, 3])).contains("node ids are 1 to"));
    assert!(KvNode::new(Config::new(4, vec![1, 2, 3])).is_ok(), "a node that joins later starts outside");
    assert!(error(Config::new(1, vec![1, 1, 2])).contains("distinct"));
    let mut config = Config::cluster(1, 3);
    config.election_timeout_ticks = 1;
    assert!(error(config).contains("election_timeout_ticks"));
}

#[test]
fn values_share_their_requests() {
    let value = put(1, "a");
    let copy = value.clone();
    let (Value::Command(a), Value::Command(b)) = (&value, &copy) else { unreachable!() };
    assert!(Rc::ptr_eq(a, b), "cloning a value must not copy the command");
}

#[test]
fn slots_learned_together_are_reported_as_one_chosen_range() {
    let mut follower = node(1, BugSet::NONE);
    let ballot = Ballot::new(1, 2);
    follower.receive(from(2, 1, accept(ballot, 0, vec![put(1, "a"), put(2, "b"), put(3, "c")], 0)));
    drain(&mut follower);
    follower.receive(from(2, 1, Message::Commit { ballot, chosen_upto: 3 }));
    let (_, events) = drain(&mut follower);
    let chosen: Vec<&Event> = events.iter().filter(|event| matches!(event, Event::Chosen { .. })).collect();
    assert_eq!(chosen, vec![&Event::Chosen { first_slot: 0, count: 3, ballot }]);
    assert_eq!(follower.applied_upto(), 3);
}

#[test]
fn a_node_that_does_not_report_applied_requests_still_applies_them() {
    let ballot = Ballot::new(1, 2);
    let mut nodes = [true, false].map(|report_applied| {
        let mut config = Config::cluster(1, 3);
        config.report_applied = report_applied;
        KvNode::new(config).expect("valid config")
    });
    for node in &mut nodes {
        node.receive(from(2, 1, accept(ballot, 0, vec![put(1, "a"), put(2, "b")], 2)));
    }
    let [reporting, quiet] = &mut nodes;
    assert_eq!(reporting.ready().applied.iter().map(|applied| applied.slot).collect::<Vec<_>>(), vec![0, 1]);
    assert!(quiet.ready().applied.is_empty());
    assert_eq!(quiet.applied_upto(), 2);
    assert_eq!(quiet.machine(), reporting.machine(), "both applied the same requests");
}

#[test]
fn an_accept_of_fresh_slots_is_one_range_record_that_storage_reads_slot_by_slot() {
    let mut follower = node(1, BugSet::default());
    let ballot = Ballot::new(1, 3);
    let values: Rc<[Value<KvCommand>]> = vec![put(1, "a"), Value::Noop, put(2, "b")].into();
    let accept = Message::Accept { ballot, first_slot: 0, values: Rc::clone(&values), chosen_upto: 0 };
    follower.receive(from(3, 1, accept));
    let batch = follower.ready().write.expect("the acceptance is written");
    assert_eq!(batch.records.len(), 2, "a promise and one range record: {:?}", batch.records);
    assert!(
        matches!(&batch.records[1], Record::AcceptRange { first_slot: 0, values: held, .. } if Rc::ptr_eq(held, &values))
    );

    // Storage holds exactly what one `Accept` per slot would have left.
    let mut from_range = DurableStateOf::<KvStore>::default();
    from_range.apply_batch(&batch);
    let mut from_slots = DurableStateOf::<KvStore>::default();
    from_slots.apply(&Record::Promise(ballot));
    for (slot, value) in (0..).zip(values.iter()) {
        from_slots.apply(&Record::Accept { slot, ballot, value: value.clone() });
    }
    assert_eq!(from_range, from_slots);
    assert_eq!(from_range.entries.len(), 3);
}

#[test]
fn an_accept_over_a_chosen_slot_keeps_a_record_per_slot() {
    let mut follower = node(1, BugSet::default());
    let ballot = Ballot::new(1, 3);
    follower.receive(from(
        3,
        1,
        Message::Chosen { ballot, entries: vec![(0, Entry { ballot, value: put(1, "a"), chosen: true })] },
    ));
    drain(&mut follower);
    let values: Rc<[Value<KvCommand>]> = vec![put(1, "a"), put(2, "b")].into();
    follower.receive(from(3, 1, Message::Accept { ballot: Ballot::new(2, 3), first_slot: 0, values, chosen_upto: 0 }));
    let batch = follower.ready().write.expect("the acceptance is written");
    let kinds: Vec<&str> = batch.records.iter().map(Record::name).collect();
    assert_eq!(kinds, ["promise", "accept", "accept"]);
}
