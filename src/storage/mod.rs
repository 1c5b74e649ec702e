//! Durable storage for a node: one trait, an in-memory backend that models crash loss of unsynced writes,
//! and (in the browser) an IndexedDB backend. Both run the same conformance suite.
//!
//! The trait is poll-based rather than `async` so the deterministic simulator can drive it step by step: a
//! driver `submit`s each write batch the node produces, later learns from `poll_durable` which batches are
//! on disk, and only then tells the node (`Node::persisted`), which releases the messages that waited.

pub mod codec;
pub mod conformance;
#[cfg(target_arch = "wasm32")]
pub mod indexeddb;
pub mod json;
mod memory;
mod stored;

pub use memory::MemoryStorage;

use crate::paxos::{BatchId, DurableState, WriteBatch};

/// Why storage failed. Every variant carries a message fit to show a visitor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageError {
    /// The backend cannot be used at all (e.g. IndexedDB is disabled); the caller falls back to memory.
    Unavailable(String),
    /// The browser refused to store more.
    QuotaExceeded(String),
    /// A stored record failed to decode or has an unknown schema version; nothing was changed.
    Corrupt(String),
    /// Another tab holds or upgraded the database.
    Blocked(String),
    Other(String),
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageError::Unavailable(why) => write!(f, "storage unavailable: {why}"),
            StorageError::QuotaExceeded(why) => write!(f, "storage quota exceeded: {why}"),
            StorageError::Corrupt(why) => write!(f, "stored data is unreadable: {why}"),
            StorageError::Blocked(why) => write!(f, "storage is blocked by another tab: {why}"),
            StorageError::Other(why) => write!(f, "storage error: {why}"),
        }
    }
}

impl std::error::Error for StorageError {}

/// One node's durable storage.
pub trait Storage<C, Snap> {
    /// Starts writing `batch` atomically. Batches become durable in the order they were submitted.
    fn submit(&mut self, batch: WriteBatch<C, Snap>);

    /// The newest batch that became durable since the last call, if any. The driver passes it to
    /// `Node::persisted`.
    fn poll_durable(&mut self) -> Result<Option<BatchId>, StorageError>;

    /// Everything acknowledged durable so far: what a restarted node recovers from.
    fn durable(&self) -> &DurableState<C, Snap>;

    /// The process died: writes not yet durable are lost.
    fn crash(&mut self);

    /// Batches submitted but not yet durable.
    fn unsynced(&self) -> usize;
}
