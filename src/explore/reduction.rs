//! Partial-order reduction by sleep sets (Godefroid, "Partial-Order Methods for the Verification of Concurrent
//! Systems", 1996, chapter 5), with the state-caching rule that keeps every reachable state.
//!
//! Most events touch one node: delivering a message to node 2 and ticking node 3 lead to the same state in either
//! order. A plain search takes both orders, and meets the state at the end of the diamond twice; at the default
//! bounds it computed about 4.5 events per unique state. A sleep set is what a state may skip: an event already
//! taken from an ancestor, commuting with every event taken since, so the state it leads to is reached through the
//! ancestor's other branch. When the search takes event `e` from a state, the child inherits the parent's sleeping
//! events, and the parent's events taken before `e`, that commute with `e`.
//!
//! **What commutes.** Whether two events commute is read from what each one did when taken (its [`Footprint`]),
//! and every doubt makes them dependent:
//! - the nodes whose machine (node or disk) changed, or that the event names (a message's destination, a tick's
//!   node), must be disjoint: a delivery to a node that is down changes nothing, yet it does not commute with
//!   the node's restart;
//! - at most one of them may touch the clients (a request, an answer): the history's order of invocations and
//!   answers is part of the state;
//! - a bound both spend must have room for both (two ticks with one left do not commute: each disables the other);
//! - the crash that spends the last crash acknowledges every volatile write in the cluster, and from then on every
//!   event acknowledges its writes at once (`World::apply_recording`): it commutes only with an event that
//!   neither wrote nor acknowledged a write, nor ran at a node holding one. Its footprint holds the nodes whose
//!   writes it acknowledged; no event it commutes with changes which nodes hold writes, so that set is the same
//!   wherever it is asleep.
//!
//! The network is a multiset of contents, so sends from two nodes commute; the checker's record of what was
//! chosen and learned is a map by slot. **The messages bound** (`Bounds::messages`) is the one global limit
//! events share: taken first, an event that sends more than it takes could push an intermediate state of the
//! other order over the bound, where the search stops. So a sleeping event stays asleep in a child only if the
//! child, plus what the event adds, is within the bound, and an event whose child exceeded the bound is never put
//! to sleep (nothing was explored behind it).
//!
//! **State caching.** A state met again may have been expanded with a larger sleep set than the new path gives it.
//! Then the events sleeping before but not now are taken from it again (a re-expansion), and its stored sleep set
//! shrinks to the intersection (Godefroid's figure 5.3). Without that rule, combining sleep sets with a visited set
//! can lose states. Every state the plain search reaches is still reached, at the same depth: `tests/explore.rs`
//! compares the two searches' state counts.
//!
//! - a membership change, and every event while one is under way, commutes with nothing (the operator's state
//!   is global, and a change starts and stops machines).
//!
//! Events are named across paths by a key: a message event by its content (identical copies are one choice, and a
//! message's id depends on the path), any other event by its node or client.

use std::hash::{Hash, Hasher};

use super::{Event, World};

/// What an event did when taken from a state: enough to tell whether it commutes with another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footprint {
    /// Bit `n - 1` for node `n`: its machine changed, or the event names it.
    nodes: u16,
    /// The clients' history, or a step client, changed.
    clients: bool,
    /// It spent the last crash: from then on, writes are acknowledged at once.
    ends_crashes: bool,
    /// Some node issued or acknowledged a write, or its node held one (`World::wrote`).
    writes: bool,
    /// The bounds it spent, a bit each (`World::spent_fields`).
    spent: u8,
    /// Messages in flight after it, minus before.
    growth: i8,
}

impl Footprint {
    /// What `event` did, taking `parent` to `child`.
    pub fn of(event: Event, parent: &World, child: &World) -> Footprint {
        let mut nodes = parent.named_node(event).map_or(0, |node| 1u16 << (node - 1));
        // A membership change, and any event while one is under way, touches the operator's state and may start or
        // stop machines: it commutes with nothing.
        if parent.changes_membership(event) || child.changes_membership(event) {
            nodes = u16::MAX;
        }
        let machines = parent.sim().machines().iter().zip(child.sim().machines());
        for (index, (before, after)) in machines.enumerate() {
            if !std::rc::Rc::ptr_eq(before, after) {
                nodes |= 1 << index;
            }
        }
        let clients = matches!(event, Event::Request { .. } | Event::Retry { .. })
            || parent.clients_mark() != child.clients_mark();
        let growth = child.sim().network().len() as i64 - parent.sim().network().len() as i64;
        Footprint {
            nodes,
            clients,
            ends_crashes: matches!(event, Event::Crash { .. }) && child.acknowledges_at_once(),
            writes: parent.wrote(event, child),
            spent: parent.spent_fields(child),
            growth: growth.clamp(i64::from(i8::MIN), i64::from(i8::MAX)) as i8,
        }
    }

    /// Whether the two events, both enabled in a state where only the bounds in `roomy` have room for two more,
    /// lead to the same state in either order, each leaving the other enabled.
    fn commutes_with(&self, other: &Footprint, roomy: u8) -> bool {
        let crash_meets_write = (self.ends_crashes && other.writes) || (other.ends_crashes && self.writes);
        !crash_meets_write
            && self.nodes & other.nodes == 0
            && !(self.clients && other.clients)
            && self.spent & other.spent & !roomy == 0
    }
}

/// An event a state may skip, by its key, with what it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Asleep {
    pub key: u64,
    pub footprint: Footprint,
}

/// The events a state may skip.
pub type SleepSet = Vec<Asleep>;

/// An event's name across paths: a message event by its kind and content, any other by itself.
pub fn key(world: &World, event: Event) -> u64 {
    let mut hasher = super::hasher::Fingerprinter::default();
    match event {
        Event::Deliver { id } | Event::Drop { id } | Event::Duplicate { id } => {
            let kind = match event {
                Event::Deliver { .. } => 0u8,
                Event::Drop { .. } => 1,
                _ => 2,
            };
            (kind, world.message_digest(id)).hash(&mut hasher);
        }
        other => (3u8, other).hash(&mut hasher),
    }
    hasher.finish()
}

/// Appends to `child` (empty: the search reuses one vector for every child) the child's sleep set after `taken`
/// (with `footprint`) from a state with sleep set `sleeping`, whose events taken before it were `earlier`: every
/// one of them that commutes with `taken` and still fits the messages bound in the child. `roomy` and
/// `messages_left` describe the parent and the child as `World::roomy_bounds` and the messages bound minus the
/// child's messages in flight.
pub fn inherit_into(
    child: &mut SleepSet,
    sleeping: &[Asleep],
    earlier: &[Asleep],
    footprint: &Footprint,
    roomy: u8,
    messages_left: i64,
) {
    let inherited = sleeping
        .iter()
        .chain(earlier)
        .filter(|asleep| asleep.footprint.commutes_with(footprint, roomy))
        .filter(|asleep| i64::from(asleep.footprint.growth.max(0)) <= messages_left);
    child.extend(inherited);
}

/// What a stored sleep set loses when its state is met again with `met`: the events to take from it now (asleep
/// before, not now), and the stored set becomes the intersection, kept at the front of `stored` in its order;
/// returns the woken keys and how many stay asleep. In place, as the search keeps every state's sleep set in one
/// vector (`search.rs`).
pub fn wake(stored: &mut [Asleep], met: &[Asleep]) -> (Vec<u64>, usize) {
    let mut woken = Vec::new();
    let mut kept = 0;
    for at in 0..stored.len() {
        let asleep = stored[at];
        if met.iter().any(|m| m.key == asleep.key) {
            stored[kept] = asleep;
            kept += 1;
        } else {
            woken.push(asleep.key);
        }
    }
    (woken, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inherit(
        sleeping: &[Asleep],
        earlier: &[Asleep],
        footprint: &Footprint,
        roomy: u8,
        messages_left: i64,
    ) -> SleepSet {
        let mut child = SleepSet::new();
        inherit_into(&mut child, sleeping, earlier, footprint, roomy, messages_left);
        child
    }

    fn footprint(nodes: u16, clients: bool, spent: u8) -> Footprint {
        Footprint { nodes, clients, ends_crashes: false, writes: false, spent, growth: 0 }
    }

    #[test]
    fn events_at_different_nodes_commute_and_at_one_node_do_not() {
        assert!(footprint(0b001, false, 0).commutes_with(&footprint(0b010, false, 0), 0));
        assert!(!footprint(0b011, false, 0).commutes_with(&footprint(0b010, false, 0), 0));
    }

    #[test]
    fn two_client_events_never_commute() {
        assert!(!footprint(0b001, true, 0).commutes_with(&footprint(0b010, true, 0), 0));
        assert!(footprint(0b001, true, 0).commutes_with(&footprint(0b010, false, 0), 0));
    }

    #[test]
    fn the_last_crash_does_not_commute_with_a_write() {
        let crash = Footprint { ends_crashes: true, ..footprint(0b001, false, 0) };
        assert!(crash.commutes_with(&footprint(0b010, false, 0), 0));
        let writer = Footprint { writes: true, ..footprint(0b010, false, 0) };
        assert!(!crash.commutes_with(&writer, 0));
        assert!(!writer.commutes_with(&crash, 0));
    }

    #[test]
    fn a_shared_bound_needs_room_for_both() {
        let (a, b) = (footprint(0b001, false, 0b100), footprint(0b010, false, 0b100));
        assert!(!a.commutes_with(&b, 0));
        assert!(a.commutes_with(&b, 0b100));
    }

    #[test]
    fn an_event_that_would_overflow_the_messages_bound_wakes_up() {
        let taken = footprint(0b001, false, 0);
        let sender = Asleep { key: 1, footprint: Footprint { growth: 2, ..footprint(0b010, false, 0) } };
        assert_eq!(inherit(&[sender], &[], &taken, 0, 2), vec![sender]);
        assert!(inherit(&[sender], &[], &taken, 0, 1).is_empty());
    }

    #[test]
    fn meeting_a_state_again_wakes_what_the_new_path_keeps_awake() {
        let asleep = |key| Asleep { key, footprint: footprint(0, false, 0) };
        let mut stored = vec![asleep(1), asleep(2), asleep(3)];
        assert_eq!(wake(&mut stored, &[asleep(2), asleep(4)]), (vec![1, 3], 1));
        assert_eq!(stored[..1], [asleep(2)]);
        let mut stored = vec![asleep(1), asleep(2), asleep(3)];
        assert_eq!(wake(&mut stored, &[asleep(3), asleep(1)]), (vec![2], 2));
        assert_eq!(stored[..2], [asleep(1), asleep(3)], "the kept ones in their order");
    }
}
