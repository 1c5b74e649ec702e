//! Failure detection and leader election: every node heartbeats every `heartbeat_ticks`; a peer silent for
//! `election_timeout_ticks` is presumed down. The leader should be the highest-id live node that hears a
//! majority (a node cut off from the majority must not win just by having the highest id). Several nodes
//! may believe they lead at once; ballots keep that safe.

use super::node::{Node, Role};
use super::{Ballot, Message, NodeId, Slot, StateMachine};

impl<S: StateMachine> Node<S> {
    pub(super) fn is_alive(&self, node: NodeId) -> bool {
        if node == self.config.id {
            return true;
        }
        let timeout = self.config.election_timeout_ticks;
        self.peers
            .get(&node)
            .and_then(|peer| peer.last_heard)
            .is_some_and(|heard| self.now.saturating_sub(heard) < timeout)
    }

    /// Whether this node hears a majority of the newest configuration, itself included if it is a member.
    pub fn quorum_connected(&self) -> bool {
        let members = self.membership.latest();
        let alive = members.ids().filter(|node| self.is_alive(*node)).count();
        alive >= members.quorum(self.bug(super::Bug::MinorityQuorum))
    }

    /// The node the election rule picks: the highest id among live members of the newest configuration that hear
    /// a majority of it.
    pub fn preferred_leader(&self) -> Option<NodeId> {
        let members = self.membership.latest();
        let me = (members.contains(self.config.id) && self.quorum_connected()).then_some(self.config.id);
        let peers = self
            .peers
            .iter()
            .filter(|(id, peer)| members.contains(**id) && peer.quorum_connected && self.is_alive(**id))
            .map(|(id, _)| *id);
        peers.chain(me).max()
    }

    pub(super) fn on_heartbeat(
        &mut self,
        from: NodeId,
        ballot: Ballot,
        leading: bool,
        quorum_connected: bool,
        chosen_upto: Slot,
    ) {
        if let Some(peer) = self.peers.get_mut(&from) {
            peer.quorum_connected = quorum_connected;
            peer.chosen_upto = chosen_upto;
        }
        if leading {
            self.on_commit(from, ballot, chosen_upto);
        }
    }

    pub(super) fn on_tick(&mut self) {
        self.record_unrecorded();
        // The chosen point only saves a restarted node from re-learning: write it once per tick, not with
        // every batch (it would double the records on the hot path).
        if self.first_unchosen > self.chosen_upto_recorded {
            self.chosen_upto_recorded = self.first_unchosen;
            self.records.push(super::Record::ChosenUpTo(self.first_unchosen));
        }
        let heartbeat = self.now.is_multiple_of(self.config.heartbeat_ticks);
        if heartbeat {
            let leading = matches!(self.role, Role::Leader(_));
            let message = Message::Heartbeat {
                ballot: self.current_ballot(),
                leading,
                quorum_connected: self.quorum_connected(),
                chosen_upto: self.first_unchosen,
                lease_stamp: self.heartbeat_lease_stamp(leading),
            };
            self.broadcast(message, false);
            self.catch_up_lagging_peers();
            self.forget_stale_requests();
        }
        self.check_leadership();
        self.retransmit();
    }

    /// Campaigns when the election rule picks this node, and steps down when it picks another.
    fn check_leadership(&mut self) {
        let preferred = self.preferred_leader();
        let me = Some(self.config.id);
        match self.role {
            Role::Follower if preferred == me && self.now >= self.elect_not_before && !self.campaign_blocked() => {
                self.start_phase_one()
            }
            Role::Candidate(_) | Role::Leader(_) if preferred != me => {
                let reason = match preferred {
                    Some(node) if self.quorum_connected() => {
                        format!("node {node} has a higher id and hears a majority")
                    }
                    _ => "lost contact with a majority".to_string(),
                };
                self.step_down(reason);
            }
            _ => {}
        }
    }

    /// Client requests never answered within `pending_ticks_max` are forgotten (the client has retried).
    fn forget_stale_requests(&mut self) {
        let now = self.now;
        let limit = self.config.pending_ticks_max;
        self.pending.retain(|_, received| now - *received < limit);
    }
}
