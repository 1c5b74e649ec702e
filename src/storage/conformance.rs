//! The storage conformance suite: every backend must pass it (the memory backend natively, IndexedDB in
//! headless Chromium, `tests/browser_storage.rs`). The checks are `async` only so that a backend whose
//! writes complete later (IndexedDB) can wait for them: each submit is followed by `Settle::settle`, which the
//! memory backend answers at once by syncing, so natively the checks run to completion in one poll.

use std::future::Future;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::kv::{KvCommand, KvStore};
use crate::paxos::{Ballot, Record, Request, Snapshot, Value, WriteBatch};

use super::{MemoryStorage, Storage};

pub type KvStorage = dyn Storage<KvCommand, KvStore>;

/// How a test waits until everything it submitted is durable (or failed): a memory backend syncs, IndexedDB
/// waits for its transactions. Tests only; drivers poll.
pub trait Settle {
    fn settle(&mut self) -> impl Future<Output = ()>;
}

impl<C: Clone, Snap: Clone> Settle for MemoryStorage<C, Snap> {
    fn settle(&mut self) -> impl Future<Output = ()> {
        self.sync_all();
        std::future::ready(())
    }
}

pub fn promise_batch(id: u64, round: u32) -> WriteBatch<KvCommand, KvStore> {
    WriteBatch { id, records: vec![Record::Promise(Ballot::new(round, 1))] }
}

pub fn command(seq: u64) -> Value<KvCommand> {
    Value::command(Request { client: 1, seq, command: KvCommand::Put { key: "k".into(), value: seq.to_string() } })
}

/// One batch with every record type (the snapshot comes in a second batch, see below).
pub fn every_record_type_batch(id: u64) -> WriteBatch<KvCommand, KvStore> {
    let ballot = Ballot::new(2, 3);
    WriteBatch {
        id,
        records: vec![
            Record::Promise(ballot),
            Record::Accept { slot: 4, ballot, value: command(4) },
            Record::Accept { slot: 5, ballot, value: Value::Noop },
            Record::Chosen { slot: 6, ballot, value: command(6) },
            Record::ChosenUpTo(3),
        ],
    }
}

pub fn snapshot_state() -> KvStore {
    let mut state = KvStore::default();
    Rc::make_mut(&mut state.data).insert("snap".into(), "shot".into());
    state
}

/// Every record type survives a round trip, and the durable state reflects the batch as a whole.
pub async fn every_record_type_round_trips<S: Storage<KvCommand, KvStore> + Settle>(storage: &mut S) {
    let ballot = Ballot::new(2, 3);
    let state = snapshot_state();
    storage.submit(every_record_type_batch(1));
    storage.settle().await;
    assert_eq!(storage.poll_durable().expect("poll"), Some(1));
    let durable = storage.durable();
    assert_eq!(durable.promised, ballot);
    assert_eq!(durable.entries[&4].value, command(4));
    assert!(durable.entries[&5].value.is_noop());
    assert!(durable.entries[&6].chosen && !durable.entries[&4].chosen);
    assert_eq!(durable.chosen_upto, 3);
    storage.submit(WriteBatch {
        id: 2,
        records: vec![Record::Snapshot(Box::new(Snapshot {
            upto: 5,
            state: state.clone(),
            membership: Default::default(),
        }))],
    });
    storage.settle().await;
    assert_eq!(storage.poll_durable().expect("poll"), Some(2));
    let durable = storage.durable();
    assert_eq!(durable.snapshot.as_ref().map(|snapshot| (snapshot.upto, &snapshot.state)), Some((5, &state)));
    assert!(!durable.entries.contains_key(&4), "the snapshot compacts the entries below it");
    assert!(durable.entries.contains_key(&5) && durable.entries.contains_key(&6));
    assert_eq!(durable.chosen_upto, 5);
}

/// A later accept for the same slot replaces the earlier one; a promise never goes backwards.
pub async fn later_writes_replace_earlier_ones<S: Storage<KvCommand, KvStore> + Settle>(storage: &mut S) {
    storage.submit(WriteBatch {
        id: 1,
        records: vec![
            Record::Promise(Ballot::new(5, 1)),
            Record::Accept { slot: 0, ballot: Ballot::new(4, 2), value: command(1) },
        ],
    });
    storage.submit(WriteBatch {
        id: 2,
        records: vec![
            Record::Promise(Ballot::new(3, 1)),
            Record::Accept { slot: 0, ballot: Ballot::new(5, 1), value: command(2) },
        ],
    });
    storage.settle().await;
    assert_eq!(storage.poll_durable().expect("poll"), Some(2));
    assert_eq!(storage.poll_durable().expect("poll"), None, "each batch is reported once");
    let durable = storage.durable();
    assert_eq!(durable.promised, Ballot::new(5, 1));
    assert_eq!(durable.entries[&0].value, command(2));
}

/// An accept for a slot already known chosen keeps it chosen; a chosen record marks it.
pub async fn chosen_survives_a_later_accept<S: Storage<KvCommand, KvStore> + Settle>(storage: &mut S) {
    let ballot = Ballot::new(1, 1);
    storage.submit(WriteBatch { id: 1, records: vec![Record::Chosen { slot: 2, ballot, value: command(2) }] });
    storage.submit(WriteBatch {
        id: 2,
        records: vec![Record::Accept { slot: 2, ballot: Ballot::new(2, 1), value: command(2) }],
    });
    storage.settle().await;
    assert_eq!(storage.poll_durable().expect("poll"), Some(2));
    let entry = &storage.durable().entries[&2];
    assert!(entry.chosen, "a re-acceptance of a chosen slot does not un-choose it");
    assert_eq!(entry.ballot, Ballot::new(2, 1));
}

/// A crash loses the batches not yet durable and nothing else; the restarted node numbers its batches from 1
/// again, and they are reported as usual.
pub async fn a_crash_loses_exactly_the_unsynced_batches<S: Storage<KvCommand, KvStore> + Settle>(storage: &mut S) {
    storage.submit(promise_batch(1, 3));
    storage.settle().await;
    assert_eq!(storage.poll_durable().expect("poll"), Some(1));
    storage.submit(promise_batch(2, 7));
    storage.submit(promise_batch(3, 8));
    assert_eq!(storage.unsynced(), 2);
    storage.crash();
    assert_eq!({ storage.durable().promised.round }, 3, "the synced promise survives, the unsynced ones are lost");
    assert_eq!(storage.unsynced(), 0);
    storage.settle().await;
    assert_eq!(storage.poll_durable().expect("poll"), None, "a lost batch is never reported");
    assert_eq!({ storage.durable().promised.round }, 3, "and never applied later");
    storage.submit(promise_batch(1, 5));
    storage.settle().await;
    assert_eq!(storage.poll_durable().expect("poll"), Some(1), "the restarted node's first batch");
    assert_eq!({ storage.durable().promised.round }, 5);
}

/// Runs every check, each on a fresh backend from `make`, which gets the check's name (e.g. to name a
/// database after it).
pub async fn run_all_async<S, F, Fut>(mut make: F)
where
    S: Storage<KvCommand, KvStore> + Settle,
    F: FnMut(&'static str) -> Fut,
    Fut: Future<Output = S>,
{
    every_record_type_round_trips(&mut make("every-record-type-round-trips").await).await;
    later_writes_replace_earlier_ones(&mut make("later-writes-replace-earlier-ones").await).await;
    chosen_survives_a_later_accept(&mut make("chosen-survives-a-later-accept").await).await;
    a_crash_loses_exactly_the_unsynced_batches(&mut make("a-crash-loses-exactly-the-unsynced").await).await;
}

/// Runs every check on a backend whose `settle` never waits (the memory backend).
pub fn run_all<S: Storage<KvCommand, KvStore> + Settle>(mut make: impl FnMut() -> S) {
    let checks = std::pin::pin!(run_all_async(|_| std::future::ready(make())));
    match checks.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(()) => {}
        Poll::Pending => panic!("a synchronous backend's checks waited for something"),
    }
}
