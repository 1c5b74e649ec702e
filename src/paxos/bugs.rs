//! Planted bugs: named, documented protocol mistakes, all off by default. They exist to teach (a visitor turns
//! one on and watches the checker catch it) and to prove the checker's power (the fuzzer must find each one).
//! Each is one small, clearly marked branch in the protocol code: search for `Bug::` to find them.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bug {
    /// A restarted acceptor forgets its promise, so it can accept a ballot below one it promised to ignore.
    ForgetPromiseOnRestart,
    /// A new leader ignores the values acceptors report in phase 1 and fills every slot it does not know with
    /// a no-op, overwriting values that may already be chosen.
    IgnoreAcceptedInPhase1,
    /// Quorums of ⌊n/2⌋ nodes instead of ⌊n/2⌋+1: two quorums need not intersect.
    MinorityQuorum,
    /// Promises and acceptances leave before the state they reveal is durable; a crash then forgets them.
    SendBeforePersist,
    /// An acceptor accepts a ballot lower than the one it promised.
    AcceptBelowPromise,
    /// The state machine ignores its session table, so a retried request is applied twice.
    ApplyRetryTwice,
    /// A snapshot claims one slot more than it contains, so that slot's command is never applied.
    SnapshotOffByOne,
    /// In phase 1 a leader adopts the value with the *lowest* accepted ballot instead of the highest.
    AdoptLowestBallot,
    /// As before issue 15, only a prepare, an accept or a nack deposes a leader: catch-up, commits and heartbeats
    /// from a higher ballot go unheeded, and the leader learns chosen slots from catch-up and snapshots without
    /// checking them against its own proposals. Its commit point then vouches for slots it did not choose in its
    /// own ballot, where a follower may hold the leader's own, different, value (hole A of issue 15).
    CommitForeignChosen,
    /// The leader trusts its read lease for the full `lease_ticks` of its own clock, as if every clock ran at the
    /// same rate: a slow leader clock outlives the followers' promises, and a new leader's write goes unseen.
    LeaseIgnoresDrift,
    /// A leader lets a configuration it proposed govern at once: from the slot that holds it on, it counts votes with
    /// the new configuration's quorum, before the old configuration's quorum has chosen the change (issue 20). With
    /// a node replaced, old and new quorums need not intersect.
    ReconfigWithoutOverlap,
}

impl Bug {
    pub const ALL: [Bug; 11] = [
        Bug::ForgetPromiseOnRestart,
        Bug::IgnoreAcceptedInPhase1,
        Bug::MinorityQuorum,
        Bug::SendBeforePersist,
        Bug::AcceptBelowPromise,
        Bug::ApplyRetryTwice,
        Bug::SnapshotOffByOne,
        Bug::AdoptLowestBallot,
        Bug::CommitForeignChosen,
        Bug::LeaseIgnoresDrift,
        Bug::ReconfigWithoutOverlap,
    ];

    /// The kebab-case name used on the command line, in URLs and scenarios.
    pub fn name(self) -> &'static str {
        match self {
            Bug::ForgetPromiseOnRestart => "forget-promise-on-restart",
            Bug::IgnoreAcceptedInPhase1 => "ignore-accepted-in-phase1",
            Bug::MinorityQuorum => "minority-quorum",
            Bug::SendBeforePersist => "send-before-persist",
            Bug::AcceptBelowPromise => "accept-below-promise",
            Bug::ApplyRetryTwice => "apply-retry-twice",
            Bug::SnapshotOffByOne => "snapshot-off-by-one",
            Bug::AdoptLowestBallot => "adopt-lowest-ballot",
            Bug::CommitForeignChosen => "commit-foreign-chosen",
            Bug::LeaseIgnoresDrift => "lease-ignores-drift",
            Bug::ReconfigWithoutOverlap => "reconfig-without-overlap",
        }
    }

    /// One sentence on what goes wrong, for `synod bugs` and the UI.
    pub fn description(self) -> &'static str {
        match self {
            Bug::ForgetPromiseOnRestart => {
                "a restarted acceptor forgets its promised ballot and accepts proposals it had promised to reject"
            }
            Bug::IgnoreAcceptedInPhase1 => {
                "a new leader ignores values reported in phase 1 and fills unknown slots with no-ops, overwriting chosen values"
            }
            Bug::MinorityQuorum => "quorums have n/2 nodes instead of n/2+1, so two quorums may not intersect",
            Bug::SendBeforePersist => {
                "promises and accepts are sent before they are durable, so a crash makes an acceptor forget what it said"
            }
            Bug::AcceptBelowPromise => "an acceptor accepts a ballot lower than the one it promised",
            Bug::ApplyRetryTwice => "the session table is ignored, so a retried request is applied twice",
            Bug::SnapshotOffByOne => "a snapshot claims one more slot than it contains, so that command is never applied",
            Bug::AdoptLowestBallot => "in phase 1 the leader adopts the value with the lowest accepted ballot, not the highest",
            Bug::CommitForeignChosen => {
                "a leader ignores higher ballots outside prepares, accepts and nacks and learns chosen slots from them, so its commit point vouches for a value it never chose"
            }
            Bug::LeaseIgnoresDrift => {
                "the leader trusts its read lease for its full length on its own clock, ignoring drift, so a slow leader clock serves stale reads after a new leader wrote"
            }
            Bug::ReconfigWithoutOverlap => {
                "a leader counts votes with a new configuration as soon as it proposes it, without the old configuration's quorum, so a replaced node's quorum can choose alone"
            }
        }
    }

    pub fn from_name(name: &str) -> Option<Bug> {
        Bug::ALL.into_iter().find(|bug| bug.name() == name)
    }
}

impl std::fmt::Display for Bug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Bug {
    type Err = String;

    fn from_str(name: &str) -> Result<Bug, String> {
        Bug::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = Bug::ALL.iter().map(|bug| bug.name()).collect();
            format!("unknown planted bug {name:?}; known bugs: {}", known.join(", "))
        })
    }
}

/// The set of planted bugs a node runs with (empty by default: a correct Paxos).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BugSet(u32);

impl BugSet {
    pub const NONE: BugSet = BugSet(0);

    pub fn with(self, bug: Bug) -> BugSet {
        BugSet(self.0 | 1 << bug as u32)
    }

    pub fn contains(self, bug: Bug) -> bool {
        self.0 & (1 << bug as u32) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Bug> {
        Bug::ALL.into_iter().filter(move |bug| self.contains(*bug))
    }
}

impl From<Bug> for BugSet {
    fn from(bug: Bug) -> BugSet {
        BugSet::NONE.with(bug)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_known_ones() {
        for bug in Bug::ALL {
            assert_eq!(bug.name().parse::<Bug>(), Ok(bug));
        }
        let error = "nope".parse::<Bug>().unwrap_err();
        assert!(error.contains("minority-quorum"), "{error}");
    }

    #[test]
    fn a_bug_set_holds_exactly_what_was_added() {
        let set = BugSet::NONE.with(Bug::MinorityQuorum).with(Bug::SnapshotOffByOne);
        assert!(set.contains(Bug::MinorityQuorum) && set.contains(Bug::SnapshotOffByOne));
        assert!(!set.contains(Bug::AcceptBelowPromise));
        assert_eq!(set.iter().count(), 2);
        assert!(BugSet::NONE.is_empty());
    }
}
