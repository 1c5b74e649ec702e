//! A node's fingerprint: everything that decides what the node does next, fed to a hasher. The model checker
//! (`crate::explore`) tells states apart by it, so two nodes with equal fingerprints must behave alike whatever
//! happens to them: every field that any handler reads is in, and nothing else (the configuration, which never
//! changes, and the effect buffers, which the driver empties after every step).
//!
//! Times are in as the node uses them. It never reads its clock but to compare how long ago something happened
//! with a fixed limit (a peer silent for `election_timeout_ticks` is down, an accept unanswered for `retry_ticks`
//! is sent again, …) or to see whether a heartbeat is due (`now` modulo `heartbeat_ticks`). So each time goes in as
//! its age capped at the limit it is compared with: two nodes whose clocks differ but agree on every such
//! comparison, now and after any number of further ticks, have the same fingerprint.

use std::hash::{Hash, Hasher};

use super::node::{Node, Role};
use super::StateMachine;

impl<S> Node<S>
where
    S: StateMachine + Hash,
    S::Command: Hash,
    S::Snapshot: Hash,
{
    /// Feeds this node's state to `state`. Panics if effects are waiting for the driver: a fingerprint is taken
    /// between steps, once `ready` has handed everything out.
    pub fn fingerprint<H: Hasher>(&self, state: &mut H) {
        assert!(
            self.outbox.is_empty() && self.replies.is_empty() && self.records.is_empty() && self.self_inbox.is_empty(),
            "node {}: fingerprint taken with effects not handed out",
            self.config.id
        );
        (self.promised, self.first_unchosen, self.applied_upto, self.chosen_upto_recorded).hash(state);
        (self.chosen_at_last_heartbeat, self.max_ballot_seen, self.leader_hint).hash(state);
        (self.log.start(), self.log.end()).hash(state);
        for (slot, entry) in self.log.iter_from(self.log.start()) {
            (slot, entry).hash(state);
        }
        (&self.machine, &self.snapshot, &self.queue, &self.membership, self.reconfigs_learned).hash(state);
        (self.next_batch, self.persisted_upto, &self.held).hash(state);
        self.hash_role(state);
        self.hash_times(state);
    }

    /// The role, with its times as ages.
    fn hash_role<H: Hasher>(&self, state: &mut H) {
        let retry = self.config.retry_ticks;
        match &self.role {
            Role::Follower => state.write_u8(0),
            Role::Candidate(candidate) => {
                state.write_u8(1);
                (candidate.ballot, candidate.promised_by, &candidate.adopted).hash(state);
                self.age(candidate.sent_tick, retry).hash(state);
            }
            Role::Leader(leader) => {
                state.write_u8(2);
                (leader.ballot, leader.next_slot, leader.votes_start, &leader.votes).hash(state);
                // Re-proposals still to come, not where they end: the end only gates lease reads, which the
                // explorer does not tell apart either.
                let reproposals_left = leader.reads_from.saturating_sub(leader.next_slot);
                (leader.unsent_from, leader.commit_sent, reproposals_left, &leader.deferred).hash(state);
                (leader.reconfigs_learned, leader.pending_reconfig).hash(state);
                self.age(leader.last_progress_tick, retry).hash(state);
            }
        }
    }

    /// Every time the node keeps, as the age its handlers compare with a limit.
    fn hash_times<H: Hasher>(&self, state: &mut H) {
        let (timeout, retry) = (self.config.election_timeout_ticks, self.config.retry_ticks);
        (self.now % self.config.heartbeat_ticks).hash(state);
        self.elect_not_before.saturating_sub(self.now).hash(state);
        for (id, peer) in self.peers.iter() {
            (id, peer.quorum_connected, peer.chosen_upto).hash(state);
            peer.last_heard.map(|heard| self.age(heard, timeout)).hash(state);
            peer.catch_up_sent.map(|sent| self.age(sent, retry)).hash(state);
        }
        // A hash map iterates in no fixed order: hash its entries sorted.
        let limit = self.config.pending_ticks_max;
        let mut pending: Vec<_> =
            self.pending.iter().map(|(request, received)| (*request, self.age(*received, limit))).collect();
        pending.sort_unstable();
        pending.hash(state);
    }

    /// How long ago `tick` was, no more than `limit`: past the limit every comparison comes out the same.
    fn age(&self, tick: u64, limit: u64) -> u64 {
        self.now.saturating_sub(tick).min(limit)
    }
}
