//! The core throughput workload with reads (issue 18): the same cluster, router and storage as
//! `core_throughput`, but a share of the commands are reads, at the `log` or the `lease` level, and every replica
//! ticks once per round (a lease lives on heartbeats, so the nodes need time to pass; the heartbeats are counted).
//! Reported: how many reads the leader answered alone, and the messages delivered per command and per read.

use serde::Serialize;

use super::core_throughput::{deliver, elect_with_leases, BenchEnvelope, BenchPut, Replica};
use crate::paxos::{ProposeOutcome, ReadLevel, Request};

/// The read lease of the read mix, in ticks (rounds): twice the default election timeout, as in the simulator.
const LEASE_TICKS: u64 = 20;

/// One run of the read mix.
#[derive(Clone, Debug, Serialize)]
pub struct ReadMixResult {
    pub nodes: usize,
    pub reads: ReadLevel,
    pub read_percent: u64,
    pub commands: u64,
    pub read_commands: u64,
    pub reads_answered_locally: u64,
    pub messages_delivered: u64,
    pub msgs_per_cmd: f64,
    pub rounds: u64,
    pub elapsed_s: f64,
    pub cmds_per_s: f64,
}

/// Command i is a read when `i % 100 < read_percent`, else the put of `core_throughput`.
fn commands(count: u64, read_percent: u64, level: ReadLevel) -> Vec<Request<BenchPut>> {
    (0..count)
        .map(|i| {
            let read = (i % 100 < read_percent).then_some(level);
            Request { client: 1, seq: i, command: BenchPut { key: format!("key{}", i % 1024), value: i, read } }
        })
        .collect()
}

/// Runs the mix once: `per_round` commands proposed at the leader per round, until every command is answered
/// or chosen on every replica.
pub fn run(
    nodes: usize,
    per_round: u64,
    count: u64,
    read_percent: u64,
    level: ReadLevel,
    now_s: &dyn Fn() -> f64,
) -> ReadMixResult {
    assert!(per_round > 0 && read_percent <= 100, "per_round positive, read_percent at most 100");
    let lease_ticks = if level == ReadLevel::Lease { LEASE_TICKS } else { 0 };
    let (mut replicas, leader) = elect_with_leases(nodes, per_round, lease_ticks);
    let commands = commands(count, read_percent, level);
    let read_commands = commands.iter().filter(|request| request.command.read.is_some()).count() as u64;
    let start = now_s();
    let (delivered, rounds, local) = timed_rounds(&mut replicas, leader, commands, per_round);
    let elapsed_s = now_s() - start;
    let writes = count - read_commands;
    for replica in &replicas {
        assert_eq!(replica.node.machine().applied, writes, "node {}: every write applied once", replica.node.id());
    }
    ReadMixResult {
        nodes,
        reads: level,
        read_percent,
        commands: count,
        read_commands,
        reads_answered_locally: local,
        messages_delivered: delivered,
        msgs_per_cmd: delivered as f64 / count as f64,
        rounds,
        elapsed_s,
        cmds_per_s: count as f64 / elapsed_s,
    }
}

/// Rounds of propose, deliver, collect, tick, until the leader has proposed everything and every replica has
/// chosen all it proposed. Returns (messages delivered, rounds, reads answered locally).
fn timed_rounds(
    replicas: &mut [Replica],
    leader: u8,
    commands: Vec<Request<BenchPut>>,
    per_round: u64,
) -> (u64, u64, u64) {
    let mut pending = commands.into_iter().peekable();
    let (mut collected, mut delivering): (Vec<BenchEnvelope>, Vec<BenchEnvelope>) = (Vec::new(), Vec::new());
    let (mut delivered, mut rounds, mut local) = (0u64, 0u64, 0u64);
    let leader_index = leader as usize - 1;
    loop {
        for request in pending.by_ref().take(per_round as usize) {
            if let ProposeOutcome::ReadLocally { .. } = replicas[leader_index].node.propose(request) {
                local += 1;
            }
        }
        std::mem::swap(&mut collected, &mut delivering);
        delivered += deliver(replicas, &mut delivering);
        for replica in replicas.iter_mut() {
            replica.node.tick();
            replica.collect(&mut collected);
        }
        rounds += 1;
        let leader_node = &replicas[leader_index].node;
        assert_eq!(leader_node.leader(), Some(leader), "the leader changed during the run");
        let proposed = leader_node.next_slot().expect("still leading");
        let done = pending.peek().is_none()
            && leader_node.queued() == 0
            && replicas.iter().all(|replica| replica.node.first_unchosen() >= proposed);
        if done {
            return (delivered, rounds, local);
        }
        assert!(rounds < 1_000_000, "no progress after {rounds} rounds");
    }
}

impl std::fmt::Display for ReadMixResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "nodes={} reads={} read_percent={} commands={}: {} reads, {} answered by the leader alone; {} messages, \
             {:.4} messages/command; {:.3} M commands/s",
            self.nodes,
            self.reads.name(),
            self.read_percent,
            self.commands,
            self.read_commands,
            self.reads_answered_locally,
            self.messages_delivered,
            self.msgs_per_cmd,
            self.cmds_per_s / 1e6
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_reads_are_answered_by_the_leader_and_save_the_log_its_messages() {
        let clock = || 0.0;
        // One command per round, so a read through the log costs its own accepts and acceptances.
        let log = run(5, 1, 2_000, 50, ReadLevel::Log, &clock);
        let lease = run(5, 1, 2_000, 50, ReadLevel::Lease, &clock);
        assert_eq!(log.reads_answered_locally, 0);
        assert_eq!(lease.read_commands, 1_000);
        assert_eq!(lease.reads_answered_locally, lease.read_commands, "the leader held its lease throughout");
        // A log read costs an accept and an acceptance per follower (8 messages with 5 nodes); a lease read none.
        let saved = log.messages_delivered - lease.messages_delivered;
        assert!(saved >= 7 * lease.read_commands, "saved only {saved} messages: {lease:?} vs {log:?}");
    }
}
