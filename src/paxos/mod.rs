//! The sans-IO Multi-Paxos core. See `node.rs` for the entry point.

mod types;

pub use types::*;
