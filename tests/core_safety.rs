//! Regression tests for three safety holes a review found in leadership and commit learning (issue 15). Each
//! drives real nodes message by message through the in-process router, losing or holding back chosen messages,
//! and then checks what every replica applied. All three failed on 87ec5f2: in A and B a follower applied a
//! value other than the one chosen, in C a node panicked in a legal run.
//!
//! The tests only steer the network and the disks; what the nodes send is up to them. So after the fixes the
//! runs take other paths (a deposed leader steps down earlier, a ballot waits for its promise to be durable),
//! and the assertions are about the outcome alone: one value per slot, applied everywhere.

mod core_support;

use core_support::{put, Cluster};
use synod::kv::KvCommand;
use synod::paxos::{Bug, BugSet, Message, MessageKind, NodeId, RoleKind};

/// Heals everything and lets the cluster settle, then checks that every node applied the same single command in
/// slot 0, one of `allowed`.
fn assert_everyone_applied_in_slot_zero(cluster: &mut Cluster, allowed: &[&KvCommand]) {
    heal_and_settle(cluster);
    cluster.assert_chosen_agree();
    let first = cluster.live()[0];
    let expected = cluster.applied_commands(first).into_iter().find(|(slot, _)| *slot == 0).map(|(_, command)| command);
    let expected = expected.unwrap_or_else(|| panic!("node {first} applied nothing in slot 0"));
    assert!(allowed.contains(&&expected), "slot 0 holds {expected:?}, which no client proposed");
    for id in cluster.live() {
        let applied = cluster.applied_commands(id);
        let slot_zero: Vec<&KvCommand> =
            applied.iter().filter(|(slot, _)| *slot == 0).map(|(_, command)| command).collect();
        assert_eq!(slot_zero, vec![&expected], "node {id} applied {applied:?}");
    }
}

fn heal_and_settle(cluster: &mut Cluster) {
    cluster.release_parked();
    cluster.heal();
    cluster.frozen.clear();
    cluster.lagging.clear();
    for id in cluster.live() {
        cluster.sync(id);
    }
    cluster.ticks(80);
}

fn block(cluster: &mut Cluster, from: NodeId, to: &[NodeId], kind: MessageKind) {
    for to in to {
        cluster.blocked.insert((from, *to, kind));
    }
}

/// Hole A: node 4 leads ballot b and gets `v` accepted by node 1 only. Node 5 wins a higher ballot with nodes 2
/// and 3 (node 1 and node 4 never hear of it) and chooses `w` in slot 0. Then node 5's catch-up alone reaches
/// node 4. On 87ec5f2 node 4 learned slot 0 from it without looking at the ballot, kept leading b, and sent a commit
/// point in b covering slot 0; node 1, still promised b and holding (0, b, v), took that as "v is chosen".
#[test]
fn a_deposed_leader_never_vouches_for_its_own_stale_value() {
    let (mut cluster, w) = hole_a(BugSet::NONE);
    assert_everyone_applied_in_slot_zero(&mut cluster, &[&w]);
}

/// The planted bug `commit-foreign-chosen` reopens hole A: node 1 applies the deposed leader's value.
#[test]
fn the_planted_commit_foreign_chosen_bug_reopens_hole_a() {
    let (cluster, w) = hole_a(Bug::CommitForeignChosen.into());
    let applied_in_slot_zero = |cluster: &Cluster, id| {
        cluster.applied_commands(id).into_iter().find(|(slot, _)| *slot == 0).map(|(_, command)| command)
    };
    assert_eq!(applied_in_slot_zero(&cluster, 5), Some(w));
    assert_eq!(applied_in_slot_zero(&cluster, 1), Some(put("x", "v")), "node 1 applied the deposed leader's value");
}

fn hole_a(bugs: BugSet) -> (Cluster, KvCommand) {
    let mut cluster = Cluster::new(5, |config| config.bugs = bugs);
    cluster.crash(5);
    assert_eq!(cluster.elect(), 4);
    let (v, w) = (put("x", "v"), put("x", "w"));

    // Node 4's accepts reach node 1 only, now and whenever it sends them again.
    block(&mut cluster, 4, &[2, 3, 5], MessageKind::Accept);
    cluster.propose(4, 1, 1, v.clone());
    cluster.deliver_all();
    assert!(cluster.node(1).log().get(0).is_some_and(|entry| entry.requests()[0].command == v));

    // Node 5 returns and wins a higher ballot with nodes 2 and 3; node 1 and node 4 never hear of it. Node 4's
    // clock stands still meanwhile, so it still counts nodes 1 to 3 as live when it moves again.
    cluster.frozen.insert(4);
    cluster.restart(5);
    cluster.cut.extend([(5, 1), (5, 4), (2, 4), (3, 4)]);
    cluster.tick_until(60, |cluster| cluster.node(5).role() == RoleKind::Leader);
    cluster.propose(5, 2, 1, w.clone());
    cluster.tick_until(20, |cluster| cluster.node(5).first_unchosen() == 1);

    // Node 4 moves again, and node 5's catch-up reaches it (nothing else node 5 sends does).
    cluster.frozen.clear();
    cluster.cut.remove(&(5, 4));
    for kind in MessageKind::ALL.into_iter().filter(|kind| *kind != MessageKind::Chosen) {
        cluster.blocked.insert((5, 4, kind));
    }
    cluster.ticks(8);
    (cluster, w)
}

/// Hole B: node 3's first incarnation campaigns and leads ballot 1.3 before its own promise of 1.3 is on disk,
/// and gets `v` accepted by node 1. It crashes, losing that promise. Node 1's late answer makes the second
/// incarnation believe a majority hears it; on 87ec5f2 it picked ballot 1.3 again (nothing durable told it
/// otherwise, and an `Accepted` did not count as seeing a ballot), won it with node 2 alone, and chose `w` in
/// slot 0. Node 1 still held (0, 1.3, v), so the next commit point in 1.3 made it apply `v`.
#[test]
fn a_proposer_never_reuses_a_ballot_after_a_crash() {
    let mut cluster = Cluster::new(3, |_| {});
    cluster.lagging.insert(3);
    // The first incarnation's accepts reach node 1 only; node 1's answer is held back until after the crash.
    block(&mut cluster, 3, &[2], MessageKind::Accept);
    cluster.holding.insert((1, 3, MessageKind::Accepted));
    cluster.ticks(14);
    let (v, w) = (put("x", "v"), put("x", "w"));
    cluster.propose(3, 1, 1, v.clone());
    cluster.deliver_all();
    cluster.crash(3);
    cluster.lagging.clear();

    // The second incarnation hears nothing from node 1 but that late answer, and its prepares and accepts to
    // node 1 are lost. Nodes 1 and 2 stand still meanwhile, so neither times node 3 out and campaigns itself.
    cluster.heal();
    cluster.frozen.extend([1, 2]);
    cluster.restart(3);
    block(&mut cluster, 3, &[1], MessageKind::Prepare);
    block(&mut cluster, 3, &[1], MessageKind::Accept);
    cluster.ticks(8);
    cluster.release_parked();
    cluster.ticks(6);
    cluster.frozen.clear();
    cluster.propose(3, 2, 1, w.clone());
    cluster.ticks(6);
    // Whatever happened, the client retries w (the same request: the session table applies it at most once).
    heal_and_settle(&mut cluster);
    let leader = cluster.elect();
    cluster.propose(leader, 2, 1, w.clone());
    assert_everyone_applied_in_slot_zero(&mut cluster, &[&v, &w]);
}

/// Hole C: node 1 promised node 4's ballot b and learns slot 0 = `w` through catch-up from node 5's higher
/// ballot, without promising it. Then node 4's accept of (0, b, v), held back until now, arrives. On 87ec5f2 the
/// acceptor panicked on `chosen-never-changes`; had it not, its `Accepted` would have been a false vote for `v`.
#[test]
fn a_stale_accept_for_a_slot_known_chosen_is_ignored() {
    let mut cluster = Cluster::new(5, |_| {});
    cluster.crash(5);
    assert_eq!(cluster.elect(), 4);
    let (v, w) = (put("x", "v"), put("x", "w"));
    block(&mut cluster, 4, &[2, 3, 5], MessageKind::Accept);
    cluster.holding.insert((4, 1, MessageKind::Accept));
    cluster.propose(4, 1, 1, v.clone());
    cluster.deliver_all();

    // Node 5 wins a higher ballot without node 1 and chooses w; node 1 hears of it only through catch-up.
    cluster.restart(5);
    cluster.cut.extend([(5, 4), (4, 5)]);
    block(&mut cluster, 5, &[1], MessageKind::Prepare);
    block(&mut cluster, 5, &[1], MessageKind::Accept);
    block(&mut cluster, 5, &[1], MessageKind::Commit);
    block(&mut cluster, 5, &[1], MessageKind::Heartbeat);
    cluster.tick_until(60, |cluster| cluster.node(5).role() == RoleKind::Leader);
    cluster.propose(5, 2, 1, w.clone());
    cluster.tick_until(30, |cluster| cluster.node(1).first_unchosen() == 1);
    let promised = cluster.node(1).promised();
    assert!(promised.node == 4, "node 1 is still promised node 4's ballot, not {promised}");

    // Node 4's old accept arrives: node 1 neither accepts it nor acknowledges it.
    let stale = cluster.parked.len();
    assert!(stale > 0, "node 4's accept was held back");
    cluster.release_parked();
    for _ in 0..stale {
        cluster.deliver_one();
    }
    let false_votes = cluster
        .network
        .iter()
        .filter(|envelope| envelope.from == 1 && envelope.to == 4)
        .filter(|envelope| matches!(envelope.message, Message::Accepted { first_slot: 0, ballot, .. } if ballot == promised))
        .count();
    assert_eq!(false_votes, 0, "node 1 voted for a value other than the chosen one");
    assert_eq!(cluster.node(1).log().get(0).map(|entry| entry.requests()[0].command.clone()), Some(w.clone()));
    assert_everyone_applied_in_slot_zero(&mut cluster, &[&w]);
}
