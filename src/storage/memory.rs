//! In-memory storage that models durability: a submitted batch stays volatile until `sync_one`/`sync_all`
//! (the simulator decides when, to model disk latency), and `crash` loses whatever is still volatile.

use smallvec::SmallVec;

use crate::paxos::{BatchId, DurableState, WriteBatch};
use crate::shared::Shared;

use super::{Storage, StorageError};

/// The durable state and each volatile batch are shared copy-on-write (`Shared`): the model checker copies a
/// storage whenever a step writes to it, and a step changes one part (a batch issued, the oldest made durable, the
/// volatile ones lost in a crash), so a copy shares the rest instead of copying every entry and batch.
#[derive(Clone, Debug)]
pub struct MemoryStorage<C, Snap> {
    durable: Shared<DurableState<C, Snap>>,
    /// Oldest first; one or two at a time, held in place (`SmallVec`).
    unsynced: SmallVec<[Shared<WriteBatch<C, Snap>>; 2]>,
    newest_durable: Option<BatchId>,
    reported: Option<BatchId>,
    /// When true, `submit` makes a batch durable at once (benchmarks, tests that do not model latency).
    pub sync_on_submit: bool,
}

impl<C: Clone, Snap: Clone> MemoryStorage<C, Snap> {
    pub fn new() -> Self {
        MemoryStorage {
            durable: Shared::new(DurableState::default()),
            unsynced: SmallVec::new(),
            newest_durable: None,
            reported: None,
            sync_on_submit: false,
        }
    }

    /// Storage that already holds `durable` (e.g. loaded from elsewhere).
    pub fn with_state(durable: DurableState<C, Snap>) -> Self {
        MemoryStorage { durable: Shared::new(durable), ..MemoryStorage::new() }
    }

    /// Makes the oldest volatile batch durable. Returns its id, or `None` if nothing was pending.
    pub fn sync_one(&mut self) -> Option<BatchId> {
        self.sync_oldest().map(|batch| batch.id)
    }

    /// Makes the oldest volatile batch durable, and returns it (`None` if nothing was pending): the simulator's
    /// checker reads it again once it is applied.
    pub fn sync_oldest(&mut self) -> Option<Shared<WriteBatch<C, Snap>>> {
        if self.unsynced.is_empty() {
            return None;
        }
        let batch = self.unsynced.remove(0);
        if let Some(previous) = self.newest_durable {
            assert!(batch.id > previous, "batch {} became durable after batch {previous}", batch.id);
        }
        self.durable.apply_batch(&batch);
        self.newest_durable = Some(batch.id);
        Some(batch)
    }

    /// Makes every volatile batch durable.
    pub fn sync_all(&mut self) -> Option<BatchId> {
        while self.sync_one().is_some() {}
        self.newest_durable
    }

    /// The volatile batches, oldest first (for the UI's storage pane).
    pub fn pending(&self) -> impl Iterator<Item = &WriteBatch<C, Snap>> {
        self.unsynced.iter().map(|batch| &**batch)
    }
}

impl<C: Clone, Snap: Clone> Default for MemoryStorage<C, Snap> {
    fn default() -> Self {
        MemoryStorage::new()
    }
}

impl<C: Clone, Snap: Clone> Storage<C, Snap> for MemoryStorage<C, Snap> {
    fn submit(&mut self, batch: WriteBatch<C, Snap>) {
        self.unsynced.push(Shared::new(batch));
        if self.sync_on_submit {
            self.sync_all();
        }
    }

    fn poll_durable(&mut self) -> Result<Option<BatchId>, StorageError> {
        if self.newest_durable == self.reported {
            return Ok(None);
        }
        self.reported = self.newest_durable;
        Ok(self.newest_durable)
    }

    fn durable(&self) -> &DurableState<C, Snap> {
        &self.durable
    }

    fn crash(&mut self) {
        self.unsynced.clear();
        // A restarted node starts numbering batches afresh.
        self.newest_durable = None;
        self.reported = None;
    }

    fn unsynced(&self) -> usize {
        self.unsynced.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::{KvCommand, KvStore};

    #[test]
    fn memory_storage_passes_the_conformance_suite() {
        // `Settle` syncs: the checks decide when each batch becomes durable.
        super::super::conformance::run_all(MemoryStorage::<KvCommand, KvStore>::new);
    }

    #[test]
    fn a_crash_loses_exactly_the_unsynced_batches() {
        let mut storage = MemoryStorage::<KvCommand, KvStore>::new();
        storage.submit(super::super::conformance::promise_batch(1, 3));
        storage.sync_all();
        storage.submit(super::super::conformance::promise_batch(2, 7));
        assert_eq!(storage.unsynced(), 1);
        storage.crash();
        assert_eq!({ storage.durable().promised.round }, 3, "the synced promise survives, the unsynced one is lost");
        assert_eq!(storage.unsynced(), 0);
    }
}
