//! Simulated clients: each has at most one operation outstanding, sends it to a random live node, waits up
//! to a timeout, and retries the same (client, seq) elsewhere; after `attempts_max` it gives up and the
//! operation is indeterminate in the history.

use crate::check::OpId;
use crate::kv::KvCommand;
use crate::paxos::{NodeId, Request};

use super::{SimRng, WorkloadConfig};

#[derive(Clone, Debug)]
pub struct Outstanding {
    pub op: OpId,
    pub seq: u64,
    pub command: KvCommand,
    pub target: NodeId,
    pub sent_at: u64,
    pub attempts: u32,
}

impl Outstanding {
    /// The request that (re)sends this operation, from `client`.
    pub fn request(&self, client: u64) -> Request<KvCommand> {
        Request { client, seq: self.seq, command: self.command.clone() }
    }
}

#[derive(Clone, Debug)]
pub struct Client {
    pub id: u64,
    pub next_seq: u64,
    pub outstanding: Option<Outstanding>,
    /// Values this client wrote, for compare-and-set expectations.
    written: Vec<String>,
}

impl Client {
    pub fn new(id: u64) -> Client {
        Client { id, next_seq: 1, outstanding: None, written: Vec::new() }
    }

    /// A random command from the workload's mix; values are unique per (client, seq).
    pub fn next_command(&mut self, workload: &WorkloadConfig, rng: &mut SimRng) -> KvCommand {
        let key = format!("k{}", rng.between(0, workload.keys - 1));
        let value = format!("c{}s{}", self.id, self.next_seq);
        let [get, put, delete, append, cas] = workload.mix;
        let command = match rng.weighted(&[get, put, delete, append, cas, workload.scans]) {
            0 => KvCommand::get_at(key, workload.reads),
            1 => KvCommand::Put { key, value: value.clone() },
            2 => KvCommand::Delete { key },
            3 => KvCommand::Append { key, value: format!("{value};") },
            5 => random_scan(workload, rng),
            _ => {
                let expected = match self.written.len() {
                    0 => None,
                    len => Some(self.written[rng.index(len)].clone()).filter(|_| rng.chance(750_000)),
                };
                KvCommand::Cas { key, expected, new: value.clone() }
            }
        };
        if matches!(command, KvCommand::Put { .. } | KvCommand::Cas { .. }) {
            self.written.push(value);
            if self.written.len() > 8 {
                self.written.remove(0);
            }
        }
        command
    }
}

/// A scan between two of the keys `k0..=k{keys}` (the last one is past every key the clients write), in key
/// order, with a limit half of the time.
fn random_scan(workload: &WorkloadConfig, rng: &mut SimRng) -> KvCommand {
    let first = rng.between(0, workload.keys);
    let second = (first + rng.between(1, workload.keys)) % (workload.keys + 1);
    let (start, end) = (format!("k{first}"), format!("k{second}"));
    let (start, end) = if start < end { (start, end) } else { (end, start) };
    let limit = rng.chance(500_000).then(|| rng.between(1, workload.keys) as u32);
    KvCommand::Scan { start, end, limit, level: workload.reads }
}
