//! The sans-IO Multi-Paxos core. `Node` is the entry point: a pure state machine with inputs (`propose`,
//! `receive`, `tick`, `persisted`) and effects (`ready`). Nothing here touches a clock, randomness or I/O,
//! and nothing here imports the rest of the project.

mod acceptor;
mod bugs;
mod config;
mod durable;
mod effects;
mod election;
mod fingerprint;
mod learner;
mod lease;
mod log;
mod membership;
mod message;
mod node;
mod proposer;
mod types;

pub use bugs::{Bug, BugSet};
pub use config::Config;
pub use durable::{BatchId, DurableState, Record, WriteBatch};
pub use effects::{Applied, Event, ProposeOutcome, Ready, Rejection, Reply, RoleKind};
pub use log::{Log, LogSlot};
pub use membership::{Members, Membership};
pub use message::{Entry, Envelope, Message, MessageKind, Snapshot, Value};
pub use node::{DurableStateOf, EnvelopeOf, MessageOf, Node, ReadyOf, RecordOf, SlotState};
pub use types::*;

#[cfg(test)]
mod tests;
