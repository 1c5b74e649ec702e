//! The core throughput workload (issue 9), reproducible against any Multi-Paxos library:
//!
//! K replicas in one process and one thread, in-memory storage acknowledged at once, no faults, no ticks
//! while timing, no snapshots, no serialisation; messages are moved through a FIFO router. Command i is a put
//! of key `"key{i % 1024}"` (a `String`) to value `i` (`u64`); all N commands are built before the clock
//! starts. Untimed set-up: tick until every replica agrees on one leader that is ready; drain messages.
//! Timed loop, open loop and pipelined: each round (1) proposes the next P commands at the leader without
//! waiting for earlier ones, (2) delivers every message collected in the previous round, (3) collects every
//! replica's outgoing messages. Stop when every replica has all N commands chosen. Untimed check: every
//! replica's chosen log is exactly commands 0..N-1 in order.

use serde::{Deserialize, Serialize};

use crate::paxos::{Config, EnvelopeOf, Node, NodeId, ReadLevel, ReadyOf, Record, Request, RoleKind, StateMachine};

/// The workload's command: a put of a `u64` under a `String` key, or (the read mix, `read_mix.rs`) a read of the
/// checksum at a read level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenchPut {
    pub key: String,
    pub value: u64,
    #[serde(default)]
    pub read: Option<ReadLevel>,
}

/// The benchmark's state machine: it applies every put (in slot order, as any replica must) but keeps only a
/// running checksum, so the measurement is the consensus core, not a map implementation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChecksumMachine {
    pub applied: u64,
    pub checksum: u64,
}

impl StateMachine for ChecksumMachine {
    type Command = BenchPut;
    type Output = ();
    type Snapshot = (u64, u64);

    fn apply(&mut self, request: &Request<BenchPut>) {
        if request.command.read.is_some() {
            return; // A read that went through the log changes nothing.
        }
        self.applied += 1;
        self.checksum = self.checksum.rotate_left(5) ^ request.command.value ^ request.command.key.len() as u64;
    }

    fn validate(_: &BenchPut) -> Result<(), String> {
        Ok(())
    }

    fn snapshot(&self) -> (u64, u64) {
        (self.applied, self.checksum)
    }

    fn restore(&mut self, snapshot: &(u64, u64)) {
        (self.applied, self.checksum) = *snapshot;
    }

    fn read_level(command: &BenchPut) -> ReadLevel {
        command.read.unwrap_or(ReadLevel::Log)
    }

    fn query(&self, command: &BenchPut) -> Option<()> {
        command.read.map(|_| ())
    }
}

pub(super) type BenchNode = Node<ChecksumMachine>;
pub(super) type BenchEnvelope = EnvelopeOf<ChecksumMachine>;

/// One measured run.
#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    pub elapsed_s: f64,
    pub cmds_per_s: f64,
    pub messages_delivered: u64,
    pub msgs_per_cmd: f64,
    pub rounds: u64,
}

/// The workload's commands, built before any clock starts.
pub fn commands(count: u64) -> Vec<Request<BenchPut>> {
    (0..count)
        .map(|i| Request {
            client: 1,
            seq: i,
            command: BenchPut { key: format!("key{}", i % 1024), value: i, read: None },
        })
        .collect()
}

type BenchRecord = Record<BenchPut, (u64, u64)>;

/// Records per write-ahead-log segment (80 KiB: below glibc's mmap threshold, so segments are recycled).
const SEGMENT: usize = 2048;

/// A replica's in-memory storage: an append-only write-ahead log of every record it acknowledged (recovery
/// would replay it into a `DurableState`). Kept in fixed-size segments, as a disk log keeps segment files, so
/// an append never moves what is already stored.
#[derive(Default)]
struct WriteAheadLog {
    segments: Vec<Vec<BenchRecord>>,
}

impl WriteAheadLog {
    /// Moves `records` (oldest first) to the end of the log.
    fn append(&mut self, records: &mut Vec<BenchRecord>) {
        while !records.is_empty() {
            let segment = match self.segments.last_mut() {
                Some(segment) if segment.len() < SEGMENT => segment,
                _ => {
                    self.segments.push(Vec::with_capacity(SEGMENT));
                    self.segments.last_mut().expect("just pushed")
                }
            };
            let take = (SEGMENT - segment.len()).min(records.len());
            // A range drain has an exact length, so this is one bulk move, not a push per record.
            segment.extend(records.drain(..take));
        }
    }

    /// Slot acceptances stored (an `AcceptRange` record holds several).
    fn acceptances(&self) -> usize {
        self.segments.iter().flatten().map(|record| record.acceptances().count()).sum()
    }
}

/// A replica with its in-memory storage.
pub(super) struct Replica {
    pub node: BenchNode,
    disk: WriteAheadLog,
    /// Reused effect buffers (`Node::ready_into`).
    ready: ReadyOf<ChecksumMachine>,
}

impl Replica {
    /// Collects everything the node has to say, acknowledging each write at once (after storing it).
    pub fn collect(&mut self, outgoing: &mut Vec<BenchEnvelope>) {
        loop {
            self.node.ready_into(&mut self.ready);
            outgoing.append(&mut self.ready.messages);
            self.ready.applied.clear();
            self.ready.events.clear();
            self.ready.replies.clear();
            let Some(batch) = self.ready.write.as_mut().filter(|batch| !batch.records.is_empty()) else {
                // `ready` hands over everything; only a new input (here: an acknowledgement) makes more.
                return;
            };
            self.disk.append(&mut batch.records);
            self.node.persisted(batch.id);
        }
    }
}

pub(super) fn deliver(replicas: &mut [Replica], messages: &mut Vec<BenchEnvelope>) -> u64 {
    let count = messages.len() as u64;
    for envelope in messages.drain(..) {
        replicas[envelope.to as usize - 1].node.receive(envelope);
    }
    count
}

/// Builds the cluster and ticks until one leader is ready and everyone knows it. Untimed.
fn elect(nodes: usize, per_round: u64) -> (Vec<Replica>, NodeId) {
    elect_with_leases(nodes, per_round, 0)
}

/// `elect`, with read leases of `lease_ticks` (0: none); with leases, also until the leader holds its lease.
pub(super) fn elect_with_leases(nodes: usize, per_round: u64, lease_ticks: u64) -> (Vec<Replica>, NodeId) {
    let mut replicas: Vec<Replica> = (1..=nodes as NodeId)
        .map(|id| {
            let mut config = Config::cluster(id, nodes);
            // Open loop: the window and the queue must hold what the workload keeps in flight.
            config.pipeline_window = (4 * per_round).max(64);
            config.queue_max = usize::MAX;
            // The driver answers no clients and keeps no history: it needs no list of applied requests.
            config.report_applied = false;
            config.lease_ticks = lease_ticks;
            Replica {
                node: Node::new(config).expect("valid config"),
                disk: WriteAheadLog::default(),
                ready: Default::default(),
            }
        })
        .collect();
    let mut in_flight = Vec::new();
    for _ in 0..10_000 {
        for replica in &mut replicas {
            replica.node.tick();
            replica.collect(&mut in_flight);
        }
        while !in_flight.is_empty() {
            deliver(&mut replicas, &mut in_flight);
            for replica in &mut replicas {
                replica.collect(&mut in_flight);
            }
        }
        let leaders: Vec<NodeId> =
            replicas.iter().filter(|r| r.node.role() == RoleKind::Leader).map(|r| r.node.id()).collect();
        if let [leader] = leaders[..] {
            let lease_held = lease_ticks == 0 || replicas[leader as usize - 1].node.holds_read_lease();
            if lease_held && replicas.iter().all(|replica| replica.node.leader() == Some(leader)) {
                return (replicas, leader);
            }
        }
    }
    panic!("no stable leader after 10,000 ticks");
}

/// Runs the workload once. `now_s` reads a monotonic clock in seconds (std natively, `performance.now()`
/// in a browser).
pub fn run_once(nodes: usize, per_round: u64, count: u64, now_s: &dyn Fn() -> f64) -> RunResult {
    assert!(per_round > 0 && count > 0, "per_round and commands must be positive");
    let (mut replicas, leader) = elect(nodes, per_round);
    let mut commands = commands(count).into_iter();
    let start = now_s();
    let (delivered, rounds) = timed_rounds(&mut replicas, leader, &mut commands, per_round);
    let elapsed_s = now_s() - start;
    // The emptied buffer of built commands (megabytes, returned to the system at once) is freed after the clock
    // stops, as OmniPaxos's bench frees its own: neither side times the freeing of its input.
    drop(commands);

    for replica in &replicas {
        verify_chosen_log(&replica.node, count);
        // Every slot's acceptance went through storage.
        let stored = replica.disk.acceptances();
        assert!(stored as u64 >= count, "node {} stored {stored} acceptances", replica.node.id());
    }
    RunResult {
        elapsed_s,
        cmds_per_s: count as f64 / elapsed_s,
        messages_delivered: delivered,
        msgs_per_cmd: delivered as f64 / count as f64,
        rounds,
    }
}

/// The timed part: rounds of propose, deliver, collect until every replica chose every command. Returns
/// (messages delivered, rounds). Never inlined, so a profiler can attribute exactly this.
#[inline(never)]
fn timed_rounds(
    replicas: &mut [Replica],
    leader: NodeId,
    pending: &mut std::vec::IntoIter<Request<BenchPut>>,
    per_round: u64,
) -> (u64, u64) {
    let count = pending.len() as u64;
    let mut collected: Vec<BenchEnvelope> = Vec::new();
    let mut delivering: Vec<BenchEnvelope> = Vec::new();
    let (mut delivered, mut rounds) = (0u64, 0u64);
    let leader_index = leader as usize - 1;
    loop {
        for request in pending.by_ref().take(per_round as usize) {
            replicas[leader_index].node.propose(request);
        }
        std::mem::swap(&mut collected, &mut delivering);
        delivered += deliver(replicas, &mut delivering);
        for replica in replicas.iter_mut() {
            replica.collect(&mut collected);
        }
        rounds += 1;
        if replicas.iter().all(|replica| replica.node.first_unchosen() >= count) {
            return (delivered, rounds);
        }
        assert!(rounds < 100 * count + 1000, "no progress after {rounds} rounds");
    }
}

/// Every replica's chosen log is exactly commands 0..N-1, in order.
fn verify_chosen_log(node: &BenchNode, count: u64) {
    let mut expected = 0u64;
    for (slot, entry) in node.log().iter_from(0) {
        if slot >= node.first_unchosen() {
            break;
        }
        assert!(entry.is_chosen(), "node {}: slot {slot} below first_unchosen is not chosen", node.id());
        for request in entry.requests() {
            assert_eq!(request.command.value, expected, "node {}: slot {slot} out of order", node.id());
            assert_eq!(request.command.key, format!("key{}", expected % 1024));
            expected += 1;
        }
    }
    assert_eq!(expected, count, "node {} chose {expected} of {count} commands", node.id());
    assert_eq!(node.machine().applied, count, "node {} applied {} commands", node.id(), node.machine().applied);
}

/// One configuration's result over several fresh runs.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub nodes: usize,
    pub per_round: u64,
    pub commands: u64,
    pub runs: usize,
    pub cmds_per_s_median: f64,
    pub cmds_per_s_runs: Vec<f64>,
    pub msgs_per_cmd: f64,
}

/// Runs the workload `runs` times, each on a fresh cluster, and summarises.
pub fn run_many(nodes: usize, per_round: u64, commands: u64, runs: usize, now_s: &dyn Fn() -> f64) -> Summary {
    assert!(runs > 0, "at least one run");
    let results: Vec<RunResult> = (0..runs).map(|_| run_once(nodes, per_round, commands, now_s)).collect();
    let cmds_per_s_runs: Vec<f64> = results.iter().map(|result| result.cmds_per_s).collect();
    Summary {
        nodes,
        per_round,
        commands,
        runs,
        cmds_per_s_median: median(cmds_per_s_runs.clone()),
        cmds_per_s_runs,
        // Deterministic: every run delivers the same messages.
        msgs_per_cmd: results[0].msgs_per_cmd,
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "nodes={} per_round={} commands={} runs={}: median {:.3} M chosen commands/s, {:.4} messages/command",
            self.nodes,
            self.per_round,
            self.commands,
            self.runs,
            self.cmds_per_s_median / 1e6,
            self.msgs_per_cmd
        )
    }
}

/// Median of the runs' throughputs.
pub fn median(mut values: Vec<f64>) -> f64 {
    assert!(!values.is_empty(), "median of nothing");
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workload_chooses_every_command_in_order_on_every_replica() {
        let clock = || 0.0;
        for (nodes, per_round) in [(3, 1), (5, 100), (5, 1000)] {
            let result = run_once(nodes, per_round, 3_000, &clock);
            assert!(result.messages_delivered > 0);
            // Commits ride on later accepts: two messages per follower per round, never more.
            let followers = nodes as f64 - 1.0;
            assert!(result.msgs_per_cmd <= 2.0 * followers / per_round as f64 + 0.01, "{result:?}");
        }
    }

    #[test]
    fn what_every_replica_stores_per_slot_stays_small() {
        // A log entry per slot and at least one record per accept on every replica, most of it in memory the run
        // has not touched before: each byte here costs page faults (BENCHMARKS.md, issue 21).
        assert_eq!(std::mem::size_of::<crate::paxos::LogSlot<BenchPut>>(), 16);
        assert_eq!(std::mem::size_of::<Option<crate::paxos::LogSlot<BenchPut>>>(), 16);
        assert_eq!(std::mem::size_of::<BenchRecord>(), 32);
    }

    #[test]
    fn the_median_is_the_middle_value() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
    }
}
