//! Random faults, drawn from the run's one seeded RNG while the fault phase lasts (`FaultConfig` says how often):
//!
//! - **Partitions**, symmetric or one-way (one side hears the other and is not heard by it), splitting the nodes
//!   at random or cutting the current leader off from everyone else.
//! - **Link faults**: one directed link down (A hears B, B does not hear A), or a link flapping down and up both
//!   ways every few ticks. Each ends on its own and heals only its own link (`Network::set_link_faults`).
//! - **Crashes** of a minority of nodes at a time, and crashes right after a write batch lands on disk but before
//!   its node hears so (`crash_after_write`).
//! - **Message faults**, drawn as each message is sent (`Sim::route`): loss, duplication, delay, and lateness of
//!   hundreds of ticks (`late_delay`).
//!
//! Every fault goes through the fault gate (`Sim::fault_allowed`), so the shrinker can remove any of them, and
//! each is recorded in the trace.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::paxos::{MessageKind, NodeId, RoleKind};

use super::config::LATE_TICKS_MIN;
use super::shrink::FaultKind;
use super::{Sim, TraceEvent};

/// A link fault in force until a tick.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkFault {
    pub shape: LinkShape,
    pub since: u64,
    pub until: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "shape")]
pub enum LinkShape {
    /// Messages from `from` to `to` are lost; the other direction works.
    OneWay { from: NodeId, to: NodeId },
    /// Both directions between `a` and `b` go down for `period` ticks, then up for `period` ticks, and so on.
    Flapping { a: NodeId, b: NodeId, period: u64 },
}

impl LinkFault {
    /// The directed links this fault holds down at tick `now`.
    fn down_at(&self, now: u64) -> Vec<(NodeId, NodeId)> {
        match self.shape {
            LinkShape::OneWay { from, to } => vec![(from, to)],
            LinkShape::Flapping { a, b, period } if ((now - self.since) / period).is_multiple_of(2) => {
                vec![(a, b), (b, a)]
            }
            LinkShape::Flapping { .. } => Vec::new(),
        }
    }
}

impl Sim {
    /// One tick's random faults: partitions end or start, link faults end or start, nodes restart or crash.
    pub(super) fn inject_faults(&mut self) {
        self.end_or_start_partition();
        self.end_or_start_link_fault();
        self.restart_or_crash_nodes();
    }

    fn end_or_start_partition(&mut self) {
        match self.partition_until {
            Some(until) if until <= self.now => {
                self.partition_until = None;
                self.network.heal();
                self.trace.record(self.now, TraceEvent::Healed);
            }
            None if self.rng.chance(self.config.faults.partition_ppm) => self.start_partition(),
            _ => {}
        }
    }

    /// A partition of one of three shapes: the leader against the rest, two random groups, or random directed
    /// links (asymmetric). The first two cut both ways, or one way only.
    fn start_partition(&mut self) {
        let faults = self.config.faults.clone();
        let until = self.now + faults.partition_ticks.max(1);
        let leader = self.current_leader().filter(|_| self.rng.chance(faults.leader_partition_ppm));
        if leader.is_none() && self.rng.chance(faults.asymmetric_partition_ppm) {
            let links = self.random_links();
            if !links.is_empty()
                && self.fault_allowed(|| FaultKind::AsymmetricPartition { links: links.clone(), until })
            {
                links.iter().for_each(|(from, to)| self.network.cut(*from, *to));
                self.trace.record(self.now, TraceEvent::LinksCut { links });
                self.partition_until = Some(until);
            }
            return;
        }
        let groups = self.partition_groups(leader);
        let one_way = self.rng.chance(faults.one_way_partition_ppm);
        let kind = || FaultKind::Partition { groups: groups.clone(), one_way, until };
        if groups.iter().all(|group| !group.is_empty()) && self.fault_allowed(kind) {
            if one_way {
                self.cut_one_way(&groups[0], &groups[1]);
            } else {
                self.partition(&groups);
            }
            self.partition_until = Some(until);
        }
    }

    fn current_leader(&self) -> Option<NodeId> {
        let mut nodes = self.machines.iter().filter_map(|machine| machine.node.as_ref());
        nodes.find(|node| node.role() == RoleKind::Leader).map(|node| node.id())
    }

    /// Two groups: `leader` alone against the rest, else a random split. Which group comes first is random too,
    /// so a one-way cut silences either side.
    fn partition_groups(&mut self, leader: Option<NodeId>) -> Vec<Vec<NodeId>> {
        let nodes = self.machines.len() as NodeId;
        let mut groups = vec![Vec::new(), Vec::new()];
        match leader {
            Some(leader) => {
                groups[0].push(leader);
                groups[1].extend((1..=nodes).filter(|id| *id != leader));
            }
            None => (1..=nodes).for_each(|id| groups[self.rng.index(2)].push(id)),
        }
        if self.rng.chance(500_000) {
            groups.swap(0, 1);
        }
        groups
    }

    /// Each directed link between two different nodes, cut with a chance of one in three.
    fn random_links(&mut self) -> Vec<(NodeId, NodeId)> {
        let nodes = self.machines.len() as NodeId;
        let mut links = Vec::new();
        for from in 1..=nodes {
            for to in (1..=nodes).filter(|to| *to != from) {
                if self.rng.chance(333_333) {
                    links.push((from, to));
                }
            }
        }
        links
    }

    /// Every link from a node of `silenced` to a node of `deaf` is cut; the other direction keeps working.
    fn cut_one_way(&mut self, silenced: &[NodeId], deaf: &[NodeId]) {
        for from in silenced {
            for to in deaf {
                self.network.cut(*from, *to);
            }
        }
        let links = silenced.iter().flat_map(|from| deaf.iter().map(move |to| (*from, *to))).collect();
        self.trace.record(self.now, TraceEvent::LinksCut { links });
    }

    fn end_or_start_link_fault(&mut self) {
        let now = self.now;
        let before = self.link_faults.len();
        self.link_faults.retain(|fault| fault.until > now);
        let started = self.start_link_fault();
        if started || before != self.link_faults.len() || self.link_faults.iter().any(|f| f.is_flapping()) {
            // Filled by insertion, not `collect`: collecting into a set sorts, and a sort of a new element type
            // costs the browser bundle a few kilobytes (BENCHMARKS.md).
            let mut down = BTreeSet::new();
            self.link_faults.iter().for_each(|fault| down.extend(fault.down_at(now)));
            self.network.set_link_faults(down);
        }
    }

    /// Draws a new one-way or flapping link fault; returns whether one started.
    fn start_link_fault(&mut self) -> bool {
        let faults = self.config.faults.clone();
        if self.config.nodes < 2 {
            return false;
        }
        let shape = if self.rng.chance(faults.one_way_link_ppm) {
            let (from, to) = self.random_link();
            LinkShape::OneWay { from, to }
        } else if self.rng.chance(faults.flapping_link_ppm) {
            let (a, b) = self.random_link();
            LinkShape::Flapping { a, b, period: self.rng.between(1, 4) }
        } else {
            return false;
        };
        let fault = LinkFault { shape, since: self.now, until: self.now + faults.link_ticks.max(1) };
        if !self.fault_allowed(|| FaultKind::Link { link: fault.clone() }) {
            return false;
        }
        self.trace.record(self.now, TraceEvent::LinkFailed { fault: fault.clone() });
        self.link_faults.push(fault);
        true
    }

    /// Two different nodes, at random.
    fn random_link(&mut self) -> (NodeId, NodeId) {
        let nodes = self.machines.len() as u64;
        let from = self.rng.between(1, nodes);
        let to = (from - 1 + self.rng.between(1, nodes - 1)) % nodes + 1;
        (from as NodeId, to as NodeId)
    }

    fn restart_or_crash_nodes(&mut self) {
        let crash_ppm = self.config.faults.crash_ppm;
        for index in 0..self.machines.len() {
            let id = index as NodeId + 1;
            match self.machines[index].down_until {
                Some(until) if until <= self.now => self.restart(id),
                _ => {}
            }
            if self.machines[index].node.is_some() && self.may_crash() && self.rng.chance(crash_ppm) {
                let until = self.now + self.config.faults.down_ticks.max(1);
                if self.fault_allowed(|| FaultKind::Crash { node: id, until }) {
                    self.crash(id, Some(until));
                }
            }
        }
    }

    /// Whether one more node may go down: at most a minority is down at once, so a majority can make progress.
    fn may_crash(&self) -> bool {
        // Counted in the smaller of the configurations in play (a change may be under way), over its members.
        let smallest = match &self.reconfiguration {
            Some(change) if change.target.len() < self.members.len() => change.target,
            _ => self.members,
        };
        let down = self.machines.iter().filter(|machine| machine.node.is_none() && !machine.retired).count();
        down < (smallest.len() - 1) / 2
    }

    /// Called as a batch of node `id` lands on disk, before the node is told: with `mid_write_crash_ppm`, the
    /// node crashes right there. Returns whether it did.
    pub(super) fn crash_after_write(&mut self, id: NodeId, batch: u64) -> bool {
        if self.phase != super::Phase::Faults || !self.may_crash() {
            return false;
        }
        if !self.rng.chance(self.config.faults.mid_write_crash_ppm) {
            return false;
        }
        let until = self.now + self.config.faults.down_ticks.max(1);
        if !self.fault_allowed(|| FaultKind::CrashAfterWrite { node: id, batch, until }) {
            return false;
        }
        self.crash(id, Some(until));
        true
    }

    /// Extra delay for message `id`: with `late_ppm`, 100 to `late_ticks_max` ticks.
    pub(super) fn late_delay(&mut self, id: u64, from: NodeId, to: NodeId, kind: MessageKind) -> u64 {
        let faults = &self.config.faults;
        let (late_ppm, late_ticks_max) = (faults.late_ppm, faults.late_ticks_max);
        if !self.rng.chance(late_ppm) {
            return 0;
        }
        let ticks = self.rng.between(LATE_TICKS_MIN, late_ticks_max.max(LATE_TICKS_MIN));
        if !self.fault_allowed(|| FaultKind::Late { id, from, to, kind, ticks }) {
            return 0;
        }
        ticks
    }
}

impl LinkFault {
    fn is_flapping(&self) -> bool {
        matches!(self.shape, LinkShape::Flapping { .. })
    }
}
