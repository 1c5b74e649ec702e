//! What a visitor stepping event by event may choose next, and what each choice is called on its button.
//!
//! The model checker (`crate::explore`) enumerates the same kinds of events within its bounds, merging copies of
//! one message; a visitor has no bounds, and picks one copy of a message rather than another, so here every
//! message in flight gets its own three choices.

use crate::paxos::NodeId;

use super::{Sim, UserAction};

impl Sim {
    /// Every event a visitor may choose now, in a fixed order: for each message in flight (oldest first),
    /// deliver, drop and duplicate it; then for each node, fire its timer, acknowledge its oldest volatile write
    /// and crash it, or, when it is down, restart it. A paused node's timer does not fire (its clock stands).
    pub fn enabled_events(&self) -> Vec<UserAction> {
        let mut events = Vec::new();
        for message in self.network().in_flight() {
            let id = message.id;
            events.extend([
                UserAction::DeliverNow { id },
                UserAction::DropMessage { id },
                UserAction::DuplicateMessage { id },
            ]);
        }
        for (index, machine) in self.machines().iter().enumerate() {
            let node = index as NodeId + 1;
            if machine.node.is_none() {
                events.push(UserAction::Restart { node });
                continue;
            }
            if !machine.paused {
                events.push(UserAction::TickNode { node });
            }
            if self.volatile_writes(node) > 0 {
                events.push(UserAction::AckWrite { node });
            }
            events.push(UserAction::Crash { node });
        }
        events
    }

    /// `event`'s name, starting with its verb, as its button says it: "Deliver #351 commit 5 → 4", "Fire timer
    /// of node 3", "Acknowledge write of node 1". A message no longer in flight is named by its id alone. `None`
    /// for an action that is not one event (a partition, a client operation of the visitor's).
    pub fn describe_event(&self, event: &UserAction) -> Option<String> {
        let message = |verb: &str, id: u64| match self.network().get(id) {
            Some(m) => format!("{verb} #{id} {} {} → {}", m.kind.name(), m.from, m.to),
            None => format!("{verb} #{id}"),
        };
        Some(match event {
            UserAction::DeliverNow { id } => message("Deliver", *id),
            UserAction::DropMessage { id } => message("Drop", *id),
            UserAction::DuplicateMessage { id } => message("Duplicate", *id),
            UserAction::TickNode { node } => format!("Fire timer of node {node}"),
            UserAction::AckWrite { node } => format!("Acknowledge write of node {node}"),
            UserAction::Crash { node } => format!("Crash node {node}"),
            UserAction::Restart { node } => format!("Restart node {node}"),
            UserAction::Request { client, target, command } => {
                format!("Send {command} from client {client} to node {target}")
            }
            UserAction::Retry { client, target } => format!("Retry client {client}'s request at node {target}"),
            _ => return None,
        })
    }
}
