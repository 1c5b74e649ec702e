//! The IndexedDB backend (wasm32 only): every node's durable state in the browser, one database per cluster
//! (layout and encoding: `storage::codec`), so a node killed and restarted, or a whole page reloaded, reads
//! its state back.
//!
//! # Writing
//!
//! [`IndexedDbStorage`] implements the poll-based [`Storage`] trait. `submit(batch)` plans the batch's writes
//! at once (`codec::plan_batch`: the final value of every key it touches, JSON-encoded) and queues them; one
//! batch per node is in flight at a time, in one readwrite transaction that holds nothing but its own
//! requests (an IndexedDB transaction commits by itself at any `await` that is not one of its requests, so
//! nothing is awaited while it is built). The batch is durable when the transaction's `complete` event fires;
//! `poll_durable` then reports it, the storage's mirror of the durable state takes it (that mirror is what
//! `durable()` returns), and the next queued batch starts. So batches complete in submission order, and the
//! driver releases a message that depends on a batch only after that batch's transaction committed
//! (`Node::persisted`).
//!
//! **Durability: `strict`, for every batch.** A batch holds acceptor state (promises, acceptances) whose
//! messages wait for it: once a promise has left, forgetting it breaks Paxos, so "complete" must mean "on
//! stable storage", including after an OS crash or a power cut. Chrome's default (`relaxed`) reports
//! complete once the OS has the data, which survives a tab or browser crash only. Chosen entries and
//! snapshots could be relaxed (they can be learned again from the others), but they share the step's
//! transaction, and splitting a step into two transactions would cost more than it saves. The benchmark
//! (`tests/browser_storage.rs`, `benchmark_…`) measures both.
//!
//! A failed transaction (e.g. `QuotaExceededError`) surfaces from `poll_durable` as an error, after any batch
//! that committed before it, and nothing later is written or reported durable: the node's messages that wait
//! stay held, which is safe. The error stays until `crash()` (a restart tries again).
//!
//! # Crashes
//!
//! `crash()` (the playground's kill) keeps what committed and forgets the rest: queued batches are dropped,
//! the one in flight is aborted if the browser still lets it be (it does until the transaction starts to
//! commit, e.g. in the same task as its `submit`). An in-flight transaction that could not be aborted may
//! still commit: its effects were never acknowledged, so no message depended on them, but the restarted node
//! recovers from `durable()`, which lacks them. To keep the stored records equal to what the node believes,
//! `crash()` then queues a rewrite of the node's records from the mirror, which IndexedDB runs after that
//! transaction (readwrite transactions over the same stores run in the order they were created). So after a
//! kill the disk converges to exactly the acknowledged state, whatever IndexedDB's timing: a restart is
//! deterministic. A real crash (the tab closes) cannot queue anything: the next page load reads whatever
//! committed, which may include a batch never acknowledged. That is the usual crash model of a disk (a write
//! may land without its acknowledgement) and safe for the same reason: nothing was sent on its strength.
//!
//! # Determinism
//!
//! How long IndexedDB takes must not change the simulation's trace: a driver decides *in virtual time* when a
//! batch becomes durable (as it does with `MemoryStorage`) and, before acting on that decision, waits until
//! IndexedDB agrees (`poll_durable` reports it, or [`IndexedDbStorage::settled`] resolves). The browser only
//! adds wall-clock delay, never a different order.

mod database;
mod js;
mod lock;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::IdbTransaction;

pub use database::{clear_cluster, ClusterDb};
pub use js::{durability_of, storage_error, write_transaction, Durability};
pub use lock::{lock_name, take_over_cluster, try_lock_cluster, wait_for_cluster, DriverLock, LockAttempt, LockLoss};

use super::codec::{self, stores, Write};
use super::json::Stored;
use super::{Storage, StorageError};
use crate::kv::{KvCommand, KvStore};
use crate::paxos::{BatchId, DurableState, NodeId, WriteBatch};
use database::Connection;

/// One node's durable storage in IndexedDB. Made by [`IndexedDbStorage::open`] or [`ClusterDb::node_storage`]
/// (which read the node's state back); the simulator and the browser driver then use it through [`Storage`].
pub struct IndexedDbStorage<C = KvCommand, Snap = KvStore> {
    db: ClusterDb,
    node: NodeId,
    /// What IndexedDB acknowledged and the driver was told (or a crash absorbed).
    mirror: DurableState<C, Snap>,
    /// The state once every submitted batch is written: what the next batch's plan starts from.
    planned: DurableState<C, Snap>,
    pipeline: Rc<RefCell<Pipeline<C, Snap>>>,
    newest_durable: Option<BatchId>,
    reported: Option<BatchId>,
    /// The last batch submitted since the last crash: ids must grow.
    last_submitted: Option<BatchId>,
}

impl<C, Snap> std::fmt::Debug for IndexedDbStorage<C, Snap> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pipeline = self.pipeline.borrow();
        f.debug_struct("IndexedDbStorage")
            .field("database", &self.db.name())
            .field("node", &self.node)
            .field("newest_durable", &self.newest_durable)
            .field("queued", &pipeline.queue.len())
            .field("in_flight", &pipeline.in_flight.is_some())
            .field("failure", &pipeline.failure)
            .field("stats", &pipeline.stats)
            .finish()
    }
}

/// Writes waiting for IndexedDB, shared with the task that waits for the transaction in flight.
struct Pipeline<C, Snap> {
    connection: Rc<Connection>,
    node: NodeId,
    durability: Durability,
    /// Bumped by every crash: a transaction of an earlier epoch reports to no one.
    epoch: u64,
    queue: VecDeque<Job<C, Snap>>,
    in_flight: Option<InFlight<C, Snap>>,
    /// Batches of this epoch whose transaction committed, oldest first, not yet taken by `poll_durable`.
    committed: VecDeque<WriteBatch<C, Snap>>,
    failure: Option<StorageError>,
    waiting: Vec<Waker>,
    stats: WriteStats,
}

/// A batch's planned writes, or (without a batch) a rewrite of the node's records after a crash.
struct Job<C, Snap> {
    epoch: u64,
    batch: Option<WriteBatch<C, Snap>>,
    writes: Vec<Write>,
}

struct InFlight<C, Snap> {
    job: Job<C, Snap>,
    transaction: IdbTransaction,
}

/// Counts for the UI's storage pane and the benchmark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    /// Transactions that committed.
    pub transactions: u64,
    /// Puts and deletes in them.
    pub writes: u64,
    /// Rewrites queued by crashes.
    pub rewrites: u64,
}

impl<C, Snap> IndexedDbStorage<C, Snap>
where
    C: Clone + Stored + 'static,
    Snap: Clone + Stored + 'static,
{
    /// Opens `cluster`'s database and reads `node` back: its storage, whose `durable()` is what the node
    /// recovers from. For several nodes, open the [`ClusterDb`] once and use [`ClusterDb::node_storages`].
    pub async fn open(cluster: &str, node: NodeId) -> Result<Self, StorageError> {
        ClusterDb::open(cluster).await?.node_storage(node).await
    }

    pub(crate) fn new(db: ClusterDb, node: NodeId, state: DurableState<C, Snap>) -> Self {
        let pipeline = Pipeline {
            connection: db.connection().clone(),
            node,
            durability: Durability::Strict,
            epoch: 0,
            queue: VecDeque::new(),
            in_flight: None,
            committed: VecDeque::new(),
            failure: None,
            waiting: Vec::new(),
            stats: WriteStats::default(),
        };
        IndexedDbStorage {
            db,
            node,
            planned: state.clone(),
            mirror: state,
            pipeline: Rc::new(RefCell::new(pipeline)),
            newest_durable: None,
            reported: None,
            last_submitted: None,
        }
    }

    pub fn node(&self) -> NodeId {
        self.node
    }

    /// The cluster's database (for the `trace` documents, or to open another node on the same connection).
    pub fn db(&self) -> &ClusterDb {
        &self.db
    }

    /// Durability of later transactions. `Strict` unless changed; `Relaxed` exists for the benchmark.
    pub fn set_durability(&mut self, durability: Durability) {
        self.pipeline.borrow_mut().durability = durability;
    }

    pub fn stats(&self) -> WriteStats {
        self.pipeline.borrow().stats
    }

    /// Resolves once nothing is queued or in flight (every submitted batch committed, or a write failed:
    /// then with that error). Tests, benchmarks, and a driver that waits for the disk before moving on.
    pub fn settled(&self) -> Settled<C, Snap> {
        Settled { pipeline: self.pipeline.clone() }
    }

    /// Moves committed batches into the mirror. Returns whether there were any.
    fn absorb_committed(&mut self) -> bool {
        let committed: Vec<_> = self.pipeline.borrow_mut().committed.drain(..).collect();
        for batch in &committed {
            if let Some(previous) = self.newest_durable {
                assert!(batch.id > previous, "batch {} became durable after batch {previous}", batch.id);
            }
            self.mirror.apply_batch(batch);
            self.newest_durable = Some(batch.id);
        }
        !committed.is_empty()
    }

    /// Crash variant for tests: forget unsynced batches but let the one in flight commit (as when the browser
    /// was already committing it), so the rewrite that undoes it is exercised.
    #[doc(hidden)]
    pub fn crash_letting_in_flight_commit(&mut self) {
        self.crash_with(false);
    }

    fn crash_with(&mut self, abort: bool) {
        // A batch whose transaction committed is durable, whether or not anyone polled.
        self.absorb_committed();
        let mut pipeline = self.pipeline.borrow_mut();
        pipeline.epoch += 1;
        let mut rewrite = pipeline.queue.iter().any(|job| job.batch.is_none());
        pipeline.queue.clear();
        if let Some(flight) = &pipeline.in_flight {
            // Aborting works until the transaction starts to commit; after that it may still land.
            let aborted = abort && flight.transaction.abort().is_ok();
            rewrite |= !aborted || flight.job.batch.is_none();
        }
        pipeline.failure = None;
        if rewrite {
            let epoch = pipeline.epoch;
            pipeline.queue.push_back(Job { epoch, batch: None, writes: codec::plan_rewrite(&self.mirror) });
            pipeline.stats.rewrites += 1;
        }
        drop(pipeline);
        Pipeline::pump(&self.pipeline);
        self.planned = self.mirror.clone();
        // A restarted node numbers its batches afresh.
        self.newest_durable = None;
        self.reported = None;
        self.last_submitted = None;
    }
}

impl<C, Snap> Storage<C, Snap> for IndexedDbStorage<C, Snap>
where
    C: Clone + Stored + 'static,
    Snap: Clone + Stored + 'static,
{
    fn submit(&mut self, batch: WriteBatch<C, Snap>) {
        if let Some(last) = self.last_submitted {
            assert!(batch.id > last, "node {}: batch {} submitted after batch {last}", self.node, batch.id);
        }
        self.last_submitted = Some(batch.id);
        let writes = codec::plan_batch(&mut self.planned, &batch);
        {
            let mut pipeline = self.pipeline.borrow_mut();
            let epoch = pipeline.epoch;
            pipeline.queue.push_back(Job { epoch, batch: Some(batch), writes });
        }
        Pipeline::pump(&self.pipeline);
    }

    fn poll_durable(&mut self) -> Result<Option<BatchId>, StorageError> {
        self.absorb_committed();
        if self.newest_durable != self.reported {
            self.reported = self.newest_durable;
            return Ok(self.newest_durable);
        }
        match self.pipeline.borrow().failure.clone() {
            Some(error) => Err(error),
            None => Ok(None),
        }
    }

    fn durable(&self) -> &DurableState<C, Snap> {
        &self.mirror
    }

    fn crash(&mut self) {
        self.crash_with(true);
    }

    fn unsynced(&self) -> usize {
        let pipeline = self.pipeline.borrow();
        let in_flight = pipeline.in_flight.as_ref().filter(|flight| flight.job.epoch == pipeline.epoch);
        let batches = pipeline.queue.iter().chain(in_flight.map(|flight| &flight.job));
        batches.filter(|job| job.batch.is_some()).count()
    }
}

impl<C: 'static, Snap: 'static> Pipeline<C, Snap> {
    /// Starts the next queued job if nothing is in flight; wakes the waiting when there is nothing left.
    fn pump(this: &Rc<RefCell<Self>>) {
        let mut pipeline = this.borrow_mut();
        if pipeline.in_flight.is_some() {
            return;
        }
        if pipeline.failure.is_some() || pipeline.queue.is_empty() {
            pipeline.wake();
            return;
        }
        let front = pipeline.queue.front().expect("a queued job");
        match pipeline.start(&front.writes) {
            Ok(transaction) => {
                let done = JsFuture::from(js::transaction_done(&transaction));
                let job = pipeline.queue.pop_front().expect("a queued job");
                pipeline.in_flight = Some(InFlight { job, transaction });
                drop(pipeline);
                let this = this.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let committed = done.await.is_ok();
                    Pipeline::finish(&this, committed);
                });
            }
            Err(error) => {
                // Nothing of this job reached the disk (a transaction that could not be filled was aborted).
                // It stays queued, not durable, until a crash drops it.
                pipeline.failure = Some(error);
                pipeline.wake();
            }
        }
    }

    /// A transaction over the node stores holding `writes`, started (not yet committed).
    fn start(&self, writes: &[Write]) -> Result<IdbTransaction, StorageError> {
        let context = format!("node {} cannot write", self.node);
        if let Some(error) = self.connection.closed_error() {
            return Err(error);
        }
        let transaction = js::write_transaction(&self.connection.database, &stores::NODE, self.durability)
            .map_err(|error| self.connection.error(&context, &error))?;
        if let Err(error) = database::perform(&transaction, self.node, writes) {
            let _ = transaction.abort();
            return Err(self.connection.error(&context, &error));
        }
        Ok(transaction)
    }

    fn finish(this: &Rc<RefCell<Self>>, committed: bool) {
        {
            let mut pipeline = this.borrow_mut();
            let flight = pipeline.in_flight.take().expect("a transaction finished while one was in flight");
            if committed {
                pipeline.stats.transactions += 1;
                pipeline.stats.writes += flight.job.writes.len() as u64;
            }
            // A job of an earlier epoch reports to no one: the crash that ended its epoch dropped it, and
            // queued a rewrite behind it if it could still commit.
            if flight.job.epoch == pipeline.epoch {
                if committed {
                    if let Some(batch) = flight.job.batch {
                        pipeline.committed.push_back(batch);
                    }
                } else {
                    // Aborted by the browser (quota, I/O error): nothing of it is on disk. It goes back to the
                    // front of the queue, not durable, and nothing behind it is written.
                    let why = flight.transaction.error().map_or(JsValue::from_str("aborted"), JsValue::from);
                    let context = format!("node {}'s write failed", pipeline.node);
                    pipeline.failure = Some(pipeline.connection.error(&context, &why));
                    pipeline.queue.push_front(flight.job);
                }
            }
            pipeline.wake();
        }
        Pipeline::pump(this);
    }

    fn wake(&mut self) {
        for waker in self.waiting.drain(..) {
            waker.wake();
        }
    }
}

/// Resolves when a storage has nothing queued or in flight: `Ok` when everything committed, or the error of
/// the write that failed. See [`IndexedDbStorage::settled`].
pub struct Settled<C, Snap> {
    pipeline: Rc<RefCell<Pipeline<C, Snap>>>,
}

impl<C, Snap> Future for Settled<C, Snap> {
    type Output = Result<(), StorageError>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let mut pipeline = self.pipeline.borrow_mut();
        if let Some(error) = &pipeline.failure {
            return Poll::Ready(Err(error.clone()));
        }
        if pipeline.queue.is_empty() && pipeline.in_flight.is_none() {
            return Poll::Ready(Ok(()));
        }
        if !pipeline.waiting.iter().any(|waker| waker.will_wake(context.waker())) {
            pipeline.waiting.push(context.waker().clone());
        }
        Poll::Pending
    }
}

impl<C, Snap> crate::storage::conformance::Settle for IndexedDbStorage<C, Snap>
where
    C: Clone + Stored + 'static,
    Snap: Clone + Stored + 'static,
{
    fn settle(&mut self) -> impl Future<Output = ()> {
        let settled = self.settled();
        async move {
            settled.await.expect("the writes commit");
        }
    }
}
