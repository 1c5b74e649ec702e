//! A node's configuration. Every duration is counted in ticks: the core has no clock.

use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::{BugSet, NodeId, NODES_MAX};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// This node's id.
    pub id: NodeId,
    /// The cluster's initial configuration: every member's id at slot 0. Later configurations come through the log
    /// (`membership.rs`). A node that joins later is not in it: it starts as a learner and votes once it learns a
    /// configuration that includes it. Shared, as it never changes: a copy of a node (the model checker copies one
    /// for every state it computes) counts a reference instead of allocating the list again.
    pub members: Rc<[NodeId]>,
    /// A node broadcasts a heartbeat (which doubles as the leader's commit notice) this often.
    pub heartbeat_ticks: u64,
    /// A peer not heard from for this long is presumed down; a node also waits this long after it starts
    /// before it tries to lead, so it hears who else is there first.
    pub election_timeout_ticks: u64,
    /// Prepares and accepts still unanswered after this long are sent again (messages get lost).
    pub retry_ticks: u64,
    /// How many slots a leader may have proposed but not yet chosen (pipelining). It is also Lamport's α: a
    /// reconfiguration chosen in slot `j` governs slots from `j + pipeline_window` on (`membership.rs`), so every
    /// node of a cluster must use the same value.
    pub pipeline_window: u64,
    /// How many client requests a leader queues beyond the window before it rejects with "overloaded".
    pub queue_max: usize,
    /// How many client requests one slot may carry (1: no per-slot batching).
    pub batch_max: usize,
    /// How many slots one catch-up message carries at most.
    pub catch_up_max: u64,
    /// Take a snapshot and compact the log every this many applied slots (0: never).
    pub snapshot_interval: u64,
    /// A client request a node forwarded or proposed is forgotten (no reply) after this long.
    pub pending_ticks_max: u64,
    /// Whether `Ready::applied` lists every applied request. The simulator's checker and the tests read it; a
    /// driver that answers clients from `Ready::replies` alone can turn it off and save a shared-pointer copy
    /// per command per replica. The state machine applies every chosen request either way.
    #[serde(default = "report_applied_default")]
    pub report_applied: bool,
    /// Read leases (issue 18, `lease.rs`): a follower that hears the leader's heartbeat promises no other ballot
    /// for this many of its own ticks, and the leader answers lease reads while a majority's promises last.
    /// 0: no leases (lease reads go through the log).
    #[serde(default)]
    pub lease_ticks: u64,
    /// The bound on clock drift the lease assumes, in parts per million: every node's ticks run at a rate within
    /// `1 ± clock_drift_ppm / 10^6` of real time.
    #[serde(default)]
    pub clock_drift_ppm: u32,
    /// Planted bugs (none by default).
    pub bugs: BugSet,
}

fn report_applied_default() -> bool {
    true
}

impl Config {
    /// Sensible defaults for a cluster of `members`, as node `id`.
    pub fn new(id: NodeId, members: Vec<NodeId>) -> Config {
        Config {
            id,
            members: members.into(),
            heartbeat_ticks: 2,
            election_timeout_ticks: 10,
            retry_ticks: 8,
            pipeline_window: 64,
            queue_max: 1024,
            batch_max: 1,
            catch_up_max: 256,
            snapshot_interval: 0,
            pending_ticks_max: 200,
            report_applied: true,
            lease_ticks: 0,
            clock_drift_ppm: 0,
            bugs: BugSet::NONE,
        }
    }

    /// Members 1..=n, as node `id`.
    pub fn cluster(id: NodeId, nodes: usize) -> Config {
        Config::new(id, (1..=nodes as NodeId).collect())
    }

    /// Checks the configuration; a node refuses to start with a bad one.
    pub fn validate(&self) -> Result<(), String> {
        if self.members.is_empty() || self.members.len() > NODES_MAX {
            return Err(format!("a cluster has 1 to {NODES_MAX} members, not {}", self.members.len()));
        }
        if self.members.contains(&0) {
            return Err("node ids start at 1".into());
        }
        // At most NODES_MAX members: comparing pairs is cheaper than a sort, in time and in bundle size.
        if self.members.iter().enumerate().any(|(i, id)| self.members[..i].contains(id)) {
            return Err("member ids must be distinct".into());
        }
        if self.id == 0 || self.id as usize > NODES_MAX {
            return Err(format!("node ids are 1 to {NODES_MAX}, not {}", self.id));
        }
        if self.heartbeat_ticks == 0 || self.retry_ticks == 0 {
            return Err("heartbeat_ticks and retry_ticks must be at least 1".into());
        }
        if self.election_timeout_ticks <= self.heartbeat_ticks {
            return Err("election_timeout_ticks must exceed heartbeat_ticks".into());
        }
        if self.pipeline_window == 0 || self.batch_max == 0 || self.catch_up_max == 0 {
            return Err("pipeline_window, batch_max and catch_up_max must be at least 1".into());
        }
        if self.clock_drift_ppm >= 500_000 {
            return Err("clock_drift_ppm must be below 500000 (clocks within 50% of real time)".into());
        }
        if self.lease_ticks > 0 && self.lease_ticks < 4 {
            return Err("lease_ticks is 0 (no leases) or at least 4".into());
        }
        Ok(())
    }
}
