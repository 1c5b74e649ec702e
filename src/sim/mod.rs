//! The deterministic simulator (native and Wasm): virtual time, one seeded RNG, a faulty network, crashes
//! with storage that loses unsynced writes, client workloads, a trace that replays bit for bit, and the
//! safety and linearizability checkers watching every step.

mod action;
pub mod branches;
mod changes;
pub mod checkpoints;
mod choices;
mod client;
pub mod clock;
mod config;
mod faults;
pub mod fuzz;
pub mod link;
pub mod membership;
pub mod network;
mod rng;
pub mod shrink;
mod simulator;
mod stepping;
mod trace;
mod visitor;

pub use action::{ScheduledAction, UserAction};
pub use changes::{FieldChange, NodeChanges, Place};
pub use config::{
    FaultConfig, SimConfig, Timing, WorkloadConfig, FAULT_FIELDS, FAULT_FIELDS_V1, FUZZ_DRIFT_PPM, LATE_TICKS_MIN,
    LEASE_BUG_DRIFT_PPM, PLAYGROUND_TICKS_MAX,
};
pub use faults::{LinkFault, LinkShape};
pub use network::InFlight;
pub use rng::SimRng;
pub use simulator::{KvBatch, KvNode, KvStorage, Machine, Phase, Sim, NEVER, STEP_CLIENTS, VISITOR};
pub use stepping::step_client_id;
pub use trace::{Trace, TraceEntry, TraceEvent};
pub use visitor::{
    Attempt, AttemptOutcome, VisitorOp, VisitorOutcome, BACKOFF_TICKS_MAX, BACKOFF_TICKS_MIN, RETRY_DEADLINE_TICKS,
};
