//! Invariants on ballots and commit points, the ones issue 15's holes broke:
//!
//! - **One value per (slot, ballot)**, across every accept ever sent and every acceptance a leader wrote for
//!   itself. A ballot belongs to one proposer, which proposes once per slot; a second value means it used the
//!   ballot twice (after a crash, say).
//! - **A node's ballots strictly increase across restarts**: a ballot a node sends prepares or accepts in is above
//!   every ballot it sent in before it last restarted, whatever it forgot in the crash. (A campaign whose prepares
//!   never left, because the node crashed before its promise was durable, used nothing.)
//! - **Every commit point sent is sound**: when the leader of ballot b says "every slot below c is chosen", each
//!   value b proposed below c is the chosen one. Followers mark their entries of ballot b chosen on that word, so a
//!   commit point that covers a slot where b proposed something else makes them apply the wrong value.

use std::collections::BTreeMap;

use crate::paxos::{Ballot, Message, NodeId, Slot};

use super::{describe_value, names, KvValue};
use crate::shared::Shared;

/// A broken invariant, before the checker stamps where it happened.
pub(super) struct Found {
    pub invariant: &'static str,
    pub slot: Option<Slot>,
    pub nodes: Vec<NodeId>,
    pub values: Vec<String>,
    pub detail: String,
}

#[derive(Clone, Debug, Default)]
pub(super) struct BallotChecks {
    /// The value each ballot proposed in each slot, and the node that proposed it; by ballot first, so one
    /// ballot's proposals in a range of slots are one range of keys.
    proposals: Shared<BTreeMap<(Ballot, Slot), (NodeId, KvValue)>>,
    /// Per node (by index), the highest ballot it ever sent prepares or accepts in, and whether it did so since
    /// it last started.
    used: Shared<Vec<Option<(Ballot, bool)>>>,
    /// Per ballot, the highest commit point sent in it so far (slots below were checked).
    commit_points: Shared<BTreeMap<Ballot, (NodeId, Slot)>>,
}

impl BallotChecks {
    pub fn new(nodes: usize) -> Self {
        BallotChecks { used: Shared::new(vec![None; nodes]), ..BallotChecks::default() }
    }

    /// A node joined with the next id.
    pub fn node_added(&mut self) {
        self.used.push(None);
    }

    /// Node `node` proposes (or accepts for itself, as a leader) `value` for `slot` in `ballot`.
    pub fn proposed(
        &mut self,
        node: NodeId,
        slot: Slot,
        ballot: Ballot,
        value: &KvValue,
        chosen: &dyn Fn(Slot) -> Option<KvValue>,
    ) -> Vec<Found> {
        let mut found = Vec::new();
        match self.proposals.get(&(ballot, slot)) {
            Some((first, earlier)) if earlier != value => found.push(Found {
                invariant: names::ONE_VALUE_PER_BALLOT,
                slot: Some(slot),
                nodes: vec![*first, node],
                values: vec![describe_value(earlier), describe_value(value)],
                detail: format!("ballot {ballot} proposed two different values for slot {slot}"),
            }),
            Some(_) => {}
            None => {
                self.proposals.insert((ballot, slot), (node, value.clone()));
                // A proposal below a commit point already sent in its ballot is checked against it too.
                if let Some((leader, commit)) = self.commit_points.get(&ballot).copied() {
                    if slot < commit {
                        found.extend(self.check_commit(leader, ballot, slot..slot + 1, commit, chosen));
                    }
                }
            }
        }
        found
    }

    /// Node `node` (by index `index`) restarted.
    pub fn restarted(&mut self, index: usize) {
        if let Some((_, this_life)) = &mut self.used[index] {
            *this_life = false;
        }
    }

    /// Node `node` (by index `index`) sends a prepare or an accept in its own `ballot`.
    fn sent_in(&mut self, index: usize, node: NodeId, ballot: Ballot) -> Option<Found> {
        let before = self.used[index];
        let reused = before.filter(|(used, this_life)| ballot < *used || (ballot == *used && !this_life));
        let after = Some(match before {
            Some((used, this_life)) if used > ballot => (used, this_life),
            _ => (ballot, true),
        });
        if after != before {
            self.used[index] = after; // Written only when it changes: `used` is shared with copies of the checker.
        }
        let (used, _) = reused?;
        Some(Found {
            invariant: names::BALLOTS_INCREASE,
            slot: None,
            nodes: vec![node],
            values: vec![],
            detail: format!("node {node} sends in ballot {ballot}, though before it restarted it had sent in {used}"),
        })
    }

    /// Node `node` sends `message`: a commit point it carries must be sound.
    pub fn message_sent<C, Snap>(
        &mut self,
        index: usize,
        node: NodeId,
        message: &Message<C, Snap>,
        chosen: &dyn Fn(Slot) -> Option<KvValue>,
    ) -> Vec<Found> {
        let mut found = Vec::new();
        if let Message::Prepare { ballot, .. } | Message::Accept { ballot, .. } = message {
            found.extend(self.sent_in(index, node, *ballot));
        }
        let (ballot, chosen_upto) = match message {
            Message::Accept { ballot, chosen_upto, .. }
            | Message::Commit { ballot, chosen_upto }
            | Message::Heartbeat { ballot, leading: true, chosen_upto, .. } => (*ballot, *chosen_upto),
            _ => return found,
        };
        let checked = self.commit_points.get(&ballot).map_or(0, |(_, slot)| *slot);
        if chosen_upto > checked {
            self.commit_points.insert(ballot, (node, chosen_upto));
            found.extend(self.check_commit(node, ballot, checked..chosen_upto, chosen_upto, chosen));
        }
        found
    }

    /// Checks the proposals of `ballot` in `slots` against the chosen values, for a commit point `commit`.
    fn check_commit(
        &self,
        leader: NodeId,
        ballot: Ballot,
        slots: std::ops::Range<Slot>,
        commit: Slot,
        chosen: &dyn Fn(Slot) -> Option<KvValue>,
    ) -> Vec<Found> {
        let mut found = Vec::new();
        for ((_, slot), (_, proposed)) in self.proposals.range((ballot, slots.start)..(ballot, slots.end)) {
            let slot = *slot;
            let chosen = chosen(slot);
            if chosen.as_ref() == Some(proposed) {
                continue;
            }
            let mut values = vec![describe_value(proposed)];
            let detail = match &chosen {
                Some(chosen) => {
                    values.push(describe_value(chosen));
                    format!(
                        "node {leader} said every slot below {commit} is chosen in ballot {ballot}, but ballot {ballot} \
                         proposed slot {slot} a value other than the chosen one: a follower holding it would apply it"
                    )
                }
                None => format!(
                    "node {leader} said every slot below {commit} is chosen in ballot {ballot}, but no majority ever \
                     accepted a value for slot {slot}"
                ),
            };
            found.push(Found { invariant: names::COMMIT_SOUND, slot: Some(slot), nodes: vec![leader], values, detail });
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;
    use crate::kv::KvCommand;
    use crate::paxos::{Request, Value};

    fn put(value: &str) -> KvValue {
        Value::Command(Rc::new(Request {
            client: 1,
            seq: 1,
            command: KvCommand::Put { key: "x".into(), value: value.into() },
        }))
    }

    fn nothing_chosen(_: Slot) -> Option<KvValue> {
        None
    }

    #[test]
    fn a_ballot_that_proposes_two_values_for_a_slot_is_caught() {
        let mut checks = BallotChecks::new(3);
        let ballot = Ballot::new(1, 3);
        assert!(checks.proposed(3, 0, ballot, &put("a"), &nothing_chosen).is_empty());
        assert!(checks.proposed(1, 0, ballot, &put("a"), &nothing_chosen).is_empty(), "the same value again is fine");
        assert!(checks.proposed(3, 1, ballot, &put("b"), &nothing_chosen).is_empty(), "another slot is fine");
        let found = checks.proposed(3, 0, ballot, &put("b"), &nothing_chosen);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].invariant, names::ONE_VALUE_PER_BALLOT);
        assert_eq!(found[0].slot, Some(0));
    }

    #[test]
    fn a_node_may_repeat_a_ballot_until_it_restarts_but_never_after() {
        let mut checks = BallotChecks::new(3);
        let prepare = |ballot| Message::<KvCommand, ()>::Prepare { ballot, first_unchosen: 0 };
        let (first, second) = (Ballot::new(1, 2), Ballot::new(2, 2));
        assert!(checks.message_sent(1, 2, &prepare(first), &nothing_chosen).is_empty());
        assert!(checks.message_sent(1, 2, &prepare(first), &nothing_chosen).is_empty(), "a retransmission");
        checks.restarted(1);
        let found = checks.message_sent(1, 2, &prepare(first), &nothing_chosen);
        assert_eq!(found.len(), 1, "the same ballot after a restart");
        assert_eq!(found[0].invariant, names::BALLOTS_INCREASE);
        checks.restarted(1);
        assert!(checks.message_sent(1, 2, &prepare(second), &nothing_chosen).is_empty(), "a higher ballot is fine");
        assert_eq!(checks.message_sent(1, 2, &prepare(first), &nothing_chosen).len(), 1, "a lower one never is");
    }

    #[test]
    fn a_commit_point_over_a_slot_its_ballot_proposed_differently_is_caught_whichever_comes_first() {
        let ballot = Ballot::new(2, 4);
        let chosen = |slot: Slot| (slot == 0).then(|| put("w"));
        let commit = Message::<KvCommand, ()>::Commit { ballot, chosen_upto: 1 };
        // The proposal is known first.
        let mut checks = BallotChecks::new(5);
        assert!(checks.proposed(4, 0, ballot, &put("v"), &chosen).is_empty());
        let found = checks.message_sent(3, 4, &commit, &chosen);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].invariant, found[0].slot), (names::COMMIT_SOUND, Some(0)));
        // The commit point is known first; the proposal shows up later (say, a late accept).
        let mut checks = BallotChecks::new(5);
        assert!(checks.message_sent(3, 4, &commit, &chosen).is_empty());
        assert_eq!(checks.proposed(4, 0, ballot, &put("v"), &chosen).len(), 1);
        // A sound commit point: the ballot proposed the chosen value.
        let mut checks = BallotChecks::new(5);
        assert!(checks.proposed(4, 0, ballot, &put("w"), &chosen).is_empty());
        assert!(checks.message_sent(3, 4, &commit, &chosen).is_empty());
        // Another ballot's proposals are not this commit point's business.
        let mut checks = BallotChecks::new(5);
        assert!(checks.proposed(1, 0, Ballot::new(1, 1), &put("v"), &chosen).is_empty());
        assert!(checks.message_sent(3, 4, &commit, &chosen).is_empty());
    }
}
