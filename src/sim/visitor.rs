//! The visitor's own operations (`UserAction::ClientOp`). Each keeps the path it took (target, forwards), its
//! attempts and how it ended, so the playground can show "→ node 2 → leader 5, slot 7: ok".
//!
//! With automatic retries off (`UserAction::SetRetries`, off unless a run turns it on, so older runs keep their
//! meaning) the visitor is a person deciding what to do next: a rejection or a timeout ends the operation. With
//! them on, the visitor's client behaves as a key-value client library does: on a rejection without a leader, a
//! hint, or a timeout it sends the same (client, seq) again, after a backoff of 2, 4, 8, then 16 ticks (at once
//! after a timeout, which already waited), to the hinted leader or else to the next live node, until an answer
//! or the operation's deadline ([`RETRY_DEADLINE_TICKS`] after it was sent). Only then is its outcome unknown.
//! A node that is down refuses the connection at once (as a closed port would), so the client moves on without
//! waiting. Everything here happens inside the simulator's ticks, so the trace (every attempt is an `Invoked`
//! event) replays exactly.

use crate::check::OpId;
use crate::kv::{KvCommand, KvOutput};
use crate::paxos::{NodeId, Rejection, Reply, Slot};

use super::client::Outstanding;
use super::simulator::VISITOR;
use super::{Sim, TraceEvent};

/// How long a retrying operation keeps trying, from when the visitor sent it: 30 s at the playground's default
/// speed of 8 ticks/s, past a first election and a leader's failover with room to spare.
pub const RETRY_DEADLINE_TICKS: u64 = 240;
/// The first backoff after a rejection; it doubles with each attempt up to [`BACKOFF_TICKS_MAX`].
pub const BACKOFF_TICKS_MIN: u64 = 2;
pub const BACKOFF_TICKS_MAX: u64 = 16;

/// How a visitor's operation ended (or that it has not yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VisitorOutcome {
    Waiting,
    /// Chosen in `slot` and applied; the reply came at tick `at`.
    Answered {
        at: u64,
        slot: u64,
        output: KvOutput,
    },
    /// Refused before it entered the log: it did not take effect.
    Rejected {
        at: u64,
        rejection: Rejection,
    },
    /// No reply within the timeout (or, retrying, by the deadline): it may take effect or not (indeterminate
    /// in the history).
    TimedOut {
        at: u64,
    },
}

/// How one attempt (one send of the operation's (client, seq)) went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    Waiting,
    /// The reply to the operation came while this attempt was the latest.
    Answered {
        at: u64,
    },
    Rejected {
        at: u64,
        rejection: Rejection,
    },
    /// The node was down: the connection was refused, nothing was sent.
    Refused {
        at: u64,
    },
    /// No reply within the timeout (or by the deadline).
    TimedOut {
        at: u64,
    },
    /// Still waiting when node `by`, which an earlier attempt went to, answered: a node answers the request
    /// it holds once the same (client, seq) is applied, whichever attempt got it into the log.
    Superseded {
        at: u64,
        by: NodeId,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub node: NodeId,
    pub sent_at: u64,
    pub outcome: AttemptOutcome,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisitorOp {
    pub op: OpId,
    pub seq: u64,
    pub command: KvCommand,
    pub invoked_at: u64,
    /// The node the latest attempt went to.
    pub target: NodeId,
    /// Each node the latest attempt was forwarded to, in order (a follower passes it to the leader it knows).
    pub forwards: Vec<NodeId>,
    pub outcome: VisitorOutcome,
    /// Every send of this operation, oldest first (one unless it was retried).
    pub attempts: Vec<Attempt>,
    /// Retrying: the tick it gives up at. `None`: it does not retry.
    pub deadline: Option<u64>,
    /// Retrying, between attempts: the tick the next one goes.
    pub next_attempt_at: Option<u64>,
    /// The slot in which this (client, seq) was first applied, once some node applied it. An answer naming a
    /// later slot came from the session table: a retry chosen again, and not applied again.
    pub applied_in: Option<Slot>,
}

impl VisitorOp {
    pub fn new(op: OpId, seq: u64, command: KvCommand, target: NodeId, now: u64) -> VisitorOp {
        VisitorOp {
            op,
            seq,
            command,
            invoked_at: now,
            target,
            forwards: Vec::new(),
            outcome: VisitorOutcome::Waiting,
            attempts: Vec::new(),
            deadline: None,
            next_attempt_at: None,
            applied_in: None,
        }
    }

    pub fn waiting(&self) -> bool {
        self.outcome == VisitorOutcome::Waiting
    }

    /// Answered, with a slot after the one it was first applied in: the session table answered a retry.
    pub fn answered_by_session_table(&self) -> Option<(Slot, Slot)> {
        match (&self.outcome, self.applied_in) {
            (VisitorOutcome::Answered { slot, .. }, Some(first)) if *slot != first => Some((first, *slot)),
            _ => None,
        }
    }

    /// The operation ended at tick `at` with `outcome`, by a reply from node `from` (`reply`, as an attempt
    /// sees it). The latest attempt takes it if it went to `from`, and is superseded if it went elsewhere and
    /// still waits; earlier attempts keep what they saw (a node one of them went to may answer after its
    /// timeout, once a later attempt got the request applied).
    fn finish(&mut self, from: NodeId, at: u64, reply: AttemptOutcome, outcome: VisitorOutcome) {
        match self.attempts.last().map(|attempt| attempt.node) {
            Some(node) if node == from => self.end_attempt(reply),
            _ => self.end_attempt(AttemptOutcome::Superseded { at, by: from }),
        }
        self.next_attempt_at = None;
        self.outcome = outcome;
    }

    fn end_attempt(&mut self, outcome: AttemptOutcome) {
        if let Some(attempt) = self.attempts.last_mut().filter(|attempt| attempt.outcome == AttemptOutcome::Waiting) {
            attempt.outcome = outcome;
        }
    }
}

/// The backoff before attempt `attempts + 1`: 2, 4, 8, then 16 ticks.
fn backoff(attempts: u32) -> u64 {
    let doublings = attempts.saturating_sub(1).min(8);
    (BACKOFF_TICKS_MIN << doublings).min(BACKOFF_TICKS_MAX)
}

impl Sim {
    /// Whether the visitor's client retries by itself (`UserAction::SetRetries`).
    pub fn visitor_retries(&self) -> bool {
        self.visitor_retries
    }

    /// The visitor sends `command` to `target`, unless an operation of theirs is still under way.
    pub(super) fn visitor_invoke(&mut self, target: NodeId, command: KvCommand) {
        if self.visitor.outstanding.is_some() {
            return;
        }
        let seq = self.visitor.next_seq;
        self.visitor.next_seq += 1;
        let op = self.history.invoke(VISITOR, command.clone(), self.now);
        self.checker.client_invoked(VISITOR, seq, &command);
        let mut visitor_op = VisitorOp::new(op, seq, command.clone(), target, self.now);
        visitor_op.deadline = self.visitor_retries.then_some(self.now + RETRY_DEADLINE_TICKS);
        self.visitor_ops.push(visitor_op);
        self.visitor.outstanding = Some(Outstanding { op, seq, command, target, sent_at: self.now, attempts: 0 });
        self.visitor_send(target);
    }

    /// One attempt of the outstanding operation, to `target`.
    fn visitor_send(&mut self, target: NodeId) {
        let Some(outstanding) = self.visitor.outstanding.as_mut() else { return };
        outstanding.target = target;
        outstanding.sent_at = self.now;
        outstanding.attempts += 1;
        let request = outstanding.request(VISITOR);
        let Some(op) = self.visitor_ops.last_mut() else { return };
        op.target = target;
        op.forwards.clear();
        op.next_attempt_at = None;
        op.attempts.push(Attempt { node: target, sent_at: self.now, outcome: AttemptOutcome::Waiting });
        let retrying = op.deadline.is_some();
        let down = self.machines[target as usize - 1].node.is_none();
        self.send_request(target, request);
        if retrying && down {
            self.visitor_retry_later(AttemptOutcome::Refused { at: self.now }, None);
        }
    }

    /// Ends the current attempt with `outcome` and schedules the next one after the backoff, to `hint` if given.
    fn visitor_retry_later(&mut self, outcome: AttemptOutcome, hint: Option<NodeId>) {
        let now = self.now;
        let (attempts, current) = match &self.visitor.outstanding {
            Some(outstanding) => (outstanding.attempts, outstanding.target),
            None => return,
        };
        let next = hint.unwrap_or_else(|| self.next_live_node(current));
        if let Some(outstanding) = self.visitor.outstanding.as_mut() {
            outstanding.target = next;
        }
        if let Some(op) = self.visitor_ops.last_mut() {
            op.end_attempt(outcome);
            op.next_attempt_at = Some(now + backoff(attempts));
        }
    }

    /// The next node after `node`, in id order and round, that is up (a node down refuses connections); `node`'s
    /// successor if none is.
    fn next_live_node(&self, node: NodeId) -> NodeId {
        let nodes = self.machines.len() as NodeId;
        let after = |step: NodeId| (node - 1 + step) % nodes + 1;
        (1..=nodes).map(after).find(|id| self.machines[*id as usize - 1].node.is_some()).unwrap_or_else(|| after(1))
    }

    /// Notes that the visitor's waiting operation `seq` was forwarded to node `to` (other clients: nothing).
    pub(super) fn visitor_forwarded(&mut self, client: u64, seq: u64, to: NodeId) {
        if client != VISITOR {
            return;
        }
        if let Some(op) = self.visitor_ops.last_mut().filter(|op| op.seq == seq && op.waiting()) {
            op.forwards.push(to);
        }
    }

    /// Notes the slot where the visitor's waiting operation was first applied (from a node's applied requests).
    pub(super) fn visitor_applied(&mut self, client: u64, seq: u64, slot: Slot) {
        if let Some(op) = self.visitor_ops.last_mut().filter(|op| client == VISITOR && op.seq == seq) {
            op.applied_in.get_or_insert(slot);
        }
    }

    /// Once a tick: the next attempt when its backoff is over, a timeout, or the deadline.
    pub(super) fn step_visitor(&mut self) {
        let Some(outstanding) = &self.visitor.outstanding else { return };
        let (sent_at, target) = (outstanding.sent_at, outstanding.target);
        let Some(op) = self.visitor_ops.last() else { return };
        let (deadline, next_attempt_at) = (op.deadline, op.next_attempt_at);
        let timed_out = next_attempt_at.is_none() && self.now - sent_at >= self.config.workload.timeout_ticks;
        match deadline {
            Some(deadline) if self.now >= deadline => self.visitor_give_up(),
            Some(_) if next_attempt_at.is_some_and(|at| self.now >= at) => self.visitor_send(target),
            Some(_) if timed_out => {
                // The timeout already waited: the next attempt goes at once.
                self.visitor_retry_later(AttemptOutcome::TimedOut { at: self.now }, None);
                let next = self.visitor.outstanding.as_ref().map_or(target, |outstanding| outstanding.target);
                self.visitor_send(next);
            }
            None if timed_out => self.visitor_give_up(),
            _ => {}
        }
    }

    /// No answer, and no more attempts: the operation is indeterminate, and the visitor may send another.
    pub(super) fn visitor_give_up(&mut self) {
        let Some(outstanding) = self.visitor.outstanding.take() else { return };
        self.history.timeout(outstanding.op);
        self.trace.record(self.now, TraceEvent::GaveUp { client: VISITOR, seq: outstanding.seq });
        let at = self.now;
        if let Some(op) = self.visitor_ops.last_mut().filter(|op| op.seq == outstanding.seq) {
            op.end_attempt(AttemptOutcome::TimedOut { at });
            op.next_attempt_at = None;
            op.outcome = VisitorOutcome::TimedOut { at };
        }
    }

    /// A reply to the visitor, from node `from`. An answer ends the operation. A rejection ends it too unless
    /// it retries and the command was valid; a retrying client ignores a rejection from an attempt already over.
    pub(super) fn visitor_reply(&mut self, from: NodeId, reply: Reply<KvOutput>) {
        let Some(outstanding) = self.visitor.outstanding.as_ref().filter(|o| o.seq == reply.seq) else { return };
        let op = outstanding.op;
        let Some(last) = self.visitor_ops.last() else { return };
        let retrying = last.deadline.is_some();
        let current = last.attempts.last().is_some_and(|a| a.node == from && a.outcome == AttemptOutcome::Waiting);
        let at = self.now;
        let (attempt, outcome) = match reply.result {
            Ok((slot, output)) => {
                self.history.complete(op, output.clone(), at);
                (AttemptOutcome::Answered { at }, VisitorOutcome::Answered { at, slot, output })
            }
            Err(rejection) if retrying && !matches!(rejection, Rejection::Invalid(_)) => {
                if current {
                    let hint = match rejection {
                        Rejection::NotLeader { hint } => hint,
                        _ => None,
                    };
                    self.visitor_retry_later(AttemptOutcome::Rejected { at, rejection }, hint);
                }
                return;
            }
            Err(rejection) => {
                self.history.fail(op, at);
                let attempt = AttemptOutcome::Rejected { at, rejection: rejection.clone() };
                (attempt, VisitorOutcome::Rejected { at, rejection })
            }
        };
        self.visitor.outstanding = None;
        if let Some(last) = self.visitor_ops.last_mut() {
            last.finish(from, at, attempt, outcome);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_two_ticks_up_to_sixteen() {
        let waits: Vec<u64> = (1..=6).map(backoff).collect();
        assert_eq!(waits, [2, 4, 8, 16, 16, 16]);
    }
}
