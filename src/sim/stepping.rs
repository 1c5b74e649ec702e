//! Stepping: a mode in which nothing happens by itself. Messages wait in flight until an action delivers, drops
//! or duplicates one; a write stays volatile until an action acknowledges it; a node's clock moves only when an
//! action ticks that node; clients act only when an action sends a request. No random fault, delay or client
//! is drawn. Each action is recorded in the trace, so a stepped run replays and shares like any other: this is how
//! the model checker's paths (`crate::explore`) become runs, and how a visitor steps event by event.
//!
//! Requests while stepping come from *step clients* (numbered from 1, client id `STEP_CLIENTS + N`), which, like
//! the visitor, send one request at a time and retry only when an action says so (`UserAction::Retry`, the same
//! request again, to any node). A rejection ends the operation: as failed after one attempt, as of unknown
//! outcome after several (an earlier attempt may still be applied). Leaving stepping lets
//! time run again: what waited is due at once, and a step client's request still unanswered after the workload's
//! timeout is given up (indeterminate), as the visitor's is.

use std::rc::Rc;

use crate::kv::{KvCommand, KvOutput};
use crate::paxos::{NodeId, Rejection, Reply};

use super::client::{Client, Outstanding};
use super::simulator::{NEVER, STEP_CLIENTS};
use super::{InFlight, Sim, TraceEvent};

impl Sim {
    /// Whether the run is stepping.
    pub fn stepping(&self) -> bool {
        self.stepping
    }

    /// Step client `number`'s request still waiting for an answer, if any.
    pub fn step_request_waiting(&self, number: u8) -> Option<&KvCommand> {
        let client = self.step_clients.get(usize::from(number).checked_sub(1)?)?;
        client.outstanding.as_ref().map(|outstanding| &outstanding.command)
    }

    /// Starts or stops stepping. Stopping makes everything that waited due now.
    pub(super) fn set_stepping(&mut self, on: bool) {
        if self.stepping == on {
            return;
        }
        self.stepping = on;
        if on {
            return;
        }
        let waiting: Vec<u64> =
            self.network.in_flight().filter(|message| message.deliver_at == NEVER).map(|message| message.id).collect();
        for id in waiting {
            let message = self.network.remove(id).expect("in flight");
            self.network.push(InFlight { deliver_at: self.now + 1, ..message });
        }
        for machine in &mut self.machines {
            let machine = Rc::make_mut(machine);
            machine.durable_at.iter_mut().filter(|at| **at == NEVER).for_each(|at| *at = self.now);
        }
        for client in self.step_clients.iter_mut() {
            if let Some(outstanding) = &mut client.outstanding {
                outstanding.sent_at = self.now;
            }
        }
    }

    /// When a write batch machine `index` issues now becomes durable: after the disk's random delay, or, while
    /// stepping, when an action acknowledges it. Batches land in order.
    pub(super) fn durable_time(&mut self, index: usize) -> u64 {
        if self.stepping {
            return NEVER;
        }
        let delay = self.rng.between(0, self.config.faults.storage_delay_max);
        self.machines[index].durable_at.last().copied().unwrap_or(0).max(self.now + delay)
    }

    /// One tick of node `node`'s clock alone (its timers: heartbeats, elections, retransmissions).
    pub(super) fn tick_node(&mut self, node: NodeId) {
        let index = usize::from(node) - 1;
        let machine = Rc::make_mut(&mut self.machines[index]);
        if machine.paused {
            return;
        }
        if let Some(state) = machine.node.as_deref_mut() {
            state.tick();
            self.settle(index);
        }
    }

    /// Node `node`'s oldest volatile write becomes durable, and the node hears so.
    pub(super) fn ack_write(&mut self, node: NodeId) {
        let index = usize::from(node) - 1;
        if let Some(at) = Rc::make_mut(&mut self.machines[index]).durable_at.first_mut() {
            *at = self.now;
            self.settle(index);
        }
    }

    /// Step client `number` sends `command` to node `target` (ignored while it waits for an answer).
    pub(super) fn step_request(&mut self, number: u8, target: NodeId, command: KvCommand) {
        let slot = usize::from(number.max(1)) - 1;
        while self.step_clients.len() <= slot {
            let id = STEP_CLIENTS + self.step_clients.len() as u64 + 1;
            self.step_clients.push(Client::new(id));
        }
        let client = &mut self.step_clients[slot];
        if client.outstanding.is_some() {
            return;
        }
        let (id, seq) = (client.id, client.next_seq);
        client.next_seq += 1;
        let op = self.history.invoke(id, command.clone(), self.now);
        self.checker.client_invoked(id, seq, &command);
        let outstanding = Outstanding { op, seq, command, target, sent_at: self.now, attempts: 1 };
        let request = outstanding.request(id);
        self.step_clients[slot].outstanding = Some(outstanding);
        self.send_request(target, request);
    }

    /// Step client `number` sends its unanswered request again, to node `target` (ignored if it has none).
    pub(super) fn step_retry(&mut self, number: u8, target: NodeId) {
        let Some(client) = self.step_clients.get_mut(usize::from(number).saturating_sub(1)) else { return };
        let id = client.id;
        let Some(outstanding) = client.outstanding.as_mut() else { return };
        outstanding.target = target;
        outstanding.attempts += 1;
        outstanding.sent_at = self.now;
        let request = outstanding.request(id);
        self.send_request(target, request);
    }

    /// A step client's answer: like the visitor, it takes a rejection as the end of the operation.
    pub(super) fn step_client_reply(&mut self, number: u8, reply: Reply<KvOutput>) {
        let Some(client) = self.step_clients.get_mut(usize::from(number) - 1) else { return };
        let Some(outstanding) = client.outstanding.take_if(|outstanding| outstanding.seq == reply.seq) else {
            return; // A late answer.
        };
        let result = || match &reply.result {
            Ok((slot, output)) => format!("slot {slot}: {output}"),
            Err(rejection) => rejection.to_string(),
        };
        self.trace.record_with(self.now, || TraceEvent::Answered {
            client: reply.client,
            seq: reply.seq,
            result: result(),
        });
        self.end_step_op(&outstanding, reply.result);
    }

    /// A rejection says the node that sent it did not take the request; after a retry, an earlier attempt may
    /// still be applied, so the operation's outcome is then unknown, not failed.
    fn end_step_op(&mut self, outstanding: &Outstanding, result: Result<(u64, KvOutput), Rejection>) {
        match result {
            Ok((_, output)) => self.history.complete(outstanding.op, output, self.now),
            Err(_) if outstanding.attempts > 1 => self.history.timeout(outstanding.op),
            Err(_) => self.history.fail(outstanding.op, self.now),
        }
    }

    /// Out of stepping, a step client's request unanswered for the workload's timeout is given up.
    pub(super) fn time_out_step_clients(&mut self) {
        let (now, timeout) = (self.now, self.config.workload.timeout_ticks);
        for index in 0..self.step_clients.len() {
            let client = &mut self.step_clients[index];
            let Some(outstanding) = client.outstanding.take_if(|o| now - o.sent_at >= timeout) else { continue };
            self.history.timeout(outstanding.op);
            let client = self.step_clients[index].id;
            self.trace.record(self.now, TraceEvent::GaveUp { client, seq: outstanding.seq });
        }
    }

    /// How many of node `node`'s writes are still volatile.
    pub fn volatile_writes(&self, node: NodeId) -> usize {
        self.machines[usize::from(node) - 1].durable_at.len()
    }
}

/// A step client's id.
pub fn step_client_id(number: u8) -> u64 {
    STEP_CLIENTS + u64::from(number)
}
