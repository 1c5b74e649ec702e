//! Reads that skip the log (issue 18): `local` reads and the leader's read lease.
//!
//! A **local** read is answered at once by whichever node the client asked, from its own applied store. It costs
//! no message, and it may be stale: a follower that has not yet learned a write, or one cut off from the leader,
//! answers with what it has. The checker shows such a read as a linearizability violation.
//!
//! A **lease** read is answered by the leader from its applied store, without a slot, while it holds a read
//! lease; otherwise it goes through the log like any command. The danger is a leader that was deposed without
//! knowing it: a new leader may already have chosen, applied and answered a write the old one never saw. The
//! lease rules it out. Everything is counted in ticks of each node's own clock (the core has no other clock);
//! clocks may drift, each running at a rate within `1 ± ρ` of real time, with `ρ = clock_drift_ppm / 10^6`
//! known to every node. `D` is `lease_ticks`.
//!
//! - **Grant.** A follower that receives a heartbeat from the leader of the ballot it promised, stamped with the
//!   leader's clock `s`, *grants* that ballot a lease: for the next `D` ticks of its own clock it promises no other
//!   ballot: it ignores their prepares and does not campaign itself (`promise_blocked`). It echoes the newest
//!   stamp it granted on in its own heartbeats (`Heartbeat::lease_stamp`).
//! - **Hold.** The leader of ballot `b` keeps, per peer, the newest stamp echoed for `b`. With a majority (itself
//!   included) it holds the lease until its own clock reads `s_q + E`, where `s_q` is the oldest stamp among the
//!   majority's newest ones, and `E = ⌊(D − 1)(1 − ρ)/(1 + ρ)⌋ − 1` (`leader_lease_ticks`).
//! - **Serve.** A leader answers a lease read locally while it holds the lease and has applied every slot up to
//!   the end of its phase 1 (`LeaderState::reads_from`): everything chosen in a lower ballot is among those slots,
//!   and everything chosen in its own ballot it learns (and applies) before anyone else can.
//! - **Restart.** A node forgets its grants when it crashes, so after any start it promises no other ballot and
//!   does not campaign for `D` ticks (`quiet_until`): whatever it granted before the crash has expired by then.
//!
//! **Why it is safe.** Say the leader of `b` answers a lease read at real time `t`, holding the lease on stamps
//! of a majority `Q`, the oldest `s_q` sent at real time `τ`. A write the read could miss was chosen in a ballot
//! `b' > b` (lower ballots' choices are below `reads_from`), so `b'` had promises from a majority `Q'`, which meets
//! `Q` in some node `n`. If `n` is the old leader, it stepped down (the door, `Node::observe`) before promising
//! `b'`, so before `t`. Otherwise `n` granted `b` on receiving the stamp-`s_q` heartbeat (or a newer one), after
//! `τ`, and refused `b'` for `D` of its ticks: at least `(D − 1)/(1 + ρ)` real ticks (one tick lost to rounding).
//! It had not promised `b'` before the grant (it grants only the ballot it promised). So `b'` chose nothing before
//! `τ + 1 + (D − 1)/(1 + ρ)`. The leader stops serving when its clock passes `s_q + E`, at most `(E + 1)/(1 − ρ)`
//! real ticks after `τ`, which `E`'s definition keeps below that bound. The stamp is the leader's send time, so the
//! message's delay, however long, only shortens the lease the leader believes it holds.
//!
//! Planted bug `lease-ignores-drift` takes `E = D`: a leader whose clock runs slow keeps serving after the
//! followers' promises ran out on their fast clocks.

use super::node::{Node, Role};
use super::{Ballot, Bug, NodeId, ReadLevel, Reply, Request, Slot, StateMachine};

/// What a node knows about leases.
#[derive(Clone, Debug, Default)]
pub(super) struct LeaseState {
    /// As a follower: the ballot granted a lease and the tick (own clock) until which no other ballot is promised.
    pub granted: Option<(Ballot, u64)>,
    /// The newest leader stamp granted on, for the ballot this node promised, echoed in its heartbeats.
    pub echo: Option<(Ballot, u64)>,
    /// After a (re)start, nothing else is promised before this tick: grants made before a crash are forgotten.
    pub quiet_until: u64,
}

impl LeaseState {
    pub fn new(lease_ticks: u64) -> LeaseState {
        LeaseState { granted: None, echo: None, quiet_until: lease_ticks }
    }
}

impl<S: StateMachine> Node<S> {
    fn leases_on(&self) -> bool {
        self.config.lease_ticks > 0
    }

    /// `E` in the module docs: how long after a stamp the leader may serve reads on it, on its own clock.
    pub fn leader_lease_ticks(&self) -> u64 {
        let lease = self.config.lease_ticks;
        if self.bug(Bug::LeaseIgnoresDrift) {
            return lease; // Bug::LeaseIgnoresDrift: as if every clock ran at the same rate.
        }
        let drift = u64::from(self.config.clock_drift_ppm);
        (lease.saturating_sub(1) * (1_000_000 - drift) / (1_000_000 + drift)).saturating_sub(1)
    }

    /// The stamp this node's heartbeat carries: its clock if it leads, else the newest stamp it granted on.
    pub(super) fn heartbeat_lease_stamp(&self, leading: bool) -> Option<u64> {
        if !self.leases_on() {
            return None;
        }
        if leading {
            return Some(self.now);
        }
        self.lease.echo.filter(|(ballot, _)| *ballot == self.promised).map(|(_, stamp)| stamp)
    }

    /// A heartbeat's lease part: a leader's heartbeat asks for a grant, a follower's echoes one.
    pub(super) fn on_heartbeat_lease(&mut self, from: NodeId, ballot: Ballot, leading: bool, stamp: Option<u64>) {
        let Some(stamp) = stamp.filter(|_| self.leases_on()) else { return };
        if leading {
            if ballot != self.promised || !matches!(self.role, Role::Follower) {
                return; // Only the ballot this node promised gets a grant.
            }
            self.lease.granted = Some((ballot, self.now + self.config.lease_ticks));
            let newest = self.lease.echo.filter(|(echoed, _)| *echoed == ballot).map_or(stamp, |(_, s)| s.max(stamp));
            self.lease.echo = Some((ballot, newest));
            return;
        }
        let Role::Leader(leader) = &self.role else { return };
        if leader.ballot != ballot {
            return;
        }
        if let Some(peer) = self.peers.get_mut(&from) {
            let newest = peer.lease_stamp.filter(|(held, _)| *held == ballot).map_or(stamp, |(_, s)| s.max(stamp));
            peer.lease_stamp = Some((ballot, newest));
        }
    }

    /// Whether a grant (or a restart's quiet time) forbids promising `ballot` now.
    pub(super) fn promise_blocked(&self, ballot: Ballot) -> bool {
        if !self.leases_on() {
            return false;
        }
        let granted_other = self.lease.granted.is_some_and(|(granted, until)| granted != ballot && self.now < until);
        self.now < self.lease.quiet_until || granted_other
    }

    /// Whether a grant forbids this node to campaign (its own ballot is another ballot too).
    pub(super) fn campaign_blocked(&self) -> bool {
        self.promise_blocked(Ballot::new(u32::MAX, u8::MAX))
    }

    /// The tick (own clock) until which this leader holds its read lease, if it holds one.
    pub fn lease_expiry(&self) -> Option<u64> {
        let Role::Leader(leader) = &self.role else { return None };
        if !self.leases_on() {
            return None;
        }
        // While a configuration change is in the window, reads go through the log: one quorum's grants would not
        // stop a leader of the other configuration.
        let mut configurations = self.membership.governing(self.first_unchosen, leader.next_slot + 1);
        let members = configurations.next().expect("a configuration governs every slot");
        if configurations.next().is_some() || !members.contains(self.config.id) {
            return None;
        }
        let mut stamps: Vec<u64> = self
            .peers
            .iter()
            .filter(|(id, _)| members.contains(**id))
            .filter_map(|(_, peer)| peer.lease_stamp.filter(|(ballot, _)| *ballot == leader.ballot))
            .map(|(_, stamp)| stamp)
            .collect();
        // The leader grants itself: it steps down before it promises another ballot.
        let needed = members.quorum(self.bug(super::Bug::MinorityQuorum)) - 1;
        if stamps.len() < needed {
            return None;
        }
        stamps.sort_unstable_by(|a, b| b.cmp(a));
        let oldest = if needed == 0 { self.now } else { stamps[needed - 1] };
        Some(oldest + self.leader_lease_ticks())
    }

    /// Whether this node may answer a lease read from its own store now: see the module docs.
    pub fn holds_read_lease(&self) -> bool {
        let Role::Leader(leader) = &self.role else { return false };
        self.applied_upto >= leader.reads_from && self.lease_expiry().is_some_and(|until| self.now < until)
    }

    /// Answers a read that skips the log, if its level and this node allow: returns whether it was answered.
    pub(super) fn answer_read_locally(&mut self, request: &Request<S::Command>) -> Option<Slot> {
        let allowed = match S::read_level(&request.command) {
            ReadLevel::Log => false,
            ReadLevel::Local => true,
            ReadLevel::Lease => self.holds_read_lease(),
        };
        let output = self.machine.query(&request.command).filter(|_| allowed)?;
        let slot = self.applied_upto;
        self.replies.push(Reply { client: request.client, seq: request.seq, result: Ok((slot, output)) });
        Some(slot)
    }
}
