//! The storage conformance suite: every backend must pass it (the memory backend natively, IndexedDB in
//! headless Chromium). The checks are plain functions over a backend that syncs on submit.

use crate::kv::{KvCommand, KvStore};
use crate::paxos::{Ballot, Record, Request, Snapshot, Value, WriteBatch};

use super::Storage;

pub type KvStorage = dyn Storage<KvCommand, KvStore>;

pub fn promise_batch(id: u64, round: u32) -> WriteBatch<KvCommand, KvStore> {
    WriteBatch { id, records: vec![Record::Promise(Ballot::new(round, 1))] }
}

fn command(seq: u64) -> Value<KvCommand> {
    Value::command(Request { client: 1, seq, command: KvCommand::Put { key: "k".into(), value: seq.to_string() } })
}

/// Every record type survives a round trip, and the durable state reflects the batch as a whole.
pub fn every_record_type_round_trips(storage: &mut KvStorage) {
    let ballot = Ballot::new(2, 3);
    let mut state = KvStore::default();
    state.data.insert("snap".into(), "shot".into());
    storage.submit(WriteBatch {
        id: 1,
        records: vec![
            Record::Promise(ballot),
            Record::Accept { slot: 4, ballot, value: command(4) },
            Record::Accept { slot: 5, ballot, value: Value::Noop },
            Record::Chosen { slot: 6, ballot, value: command(6) },
            Record::ChosenUpTo(3),
        ],
    });
    assert_eq!(storage.poll_durable().expect("poll"), Some(1));
    let durable = storage.durable();
    assert_eq!(durable.promised, ballot);
    assert_eq!(durable.entries[&4].value, command(4));
    assert!(durable.entries[&5].value.is_noop());
    assert!(durable.entries[&6].chosen && !durable.entries[&4].chosen);
    assert_eq!(durable.chosen_upto, 3);
    storage.submit(WriteBatch { id: 2, records: vec![Record::Snapshot(Snapshot { upto: 5, state: state.clone() })] });
    assert_eq!(storage.poll_durable().expect("poll"), Some(2));
    let durable = storage.durable();
    assert_eq!(durable.snapshot.as_ref().map(|snapshot| (snapshot.upto, &snapshot.state)), Some((5, &state)));
    assert!(!durable.entries.contains_key(&4), "the snapshot compacts the entries below it");
    assert!(durable.entries.contains_key(&5) && durable.entries.contains_key(&6));
    assert_eq!(durable.chosen_upto, 5);
}

/// A later accept for the same slot replaces the earlier one; a promise never goes backwards.
pub fn later_writes_replace_earlier_ones(storage: &mut KvStorage) {
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
    assert_eq!(storage.poll_durable().expect("poll"), Some(2));
    assert_eq!(storage.poll_durable().expect("poll"), None, "each batch is reported once");
    let durable = storage.durable();
    assert_eq!(durable.promised, Ballot::new(5, 1));
    assert_eq!(durable.entries[&0].value, command(2));
}

/// Runs every check, each on a fresh backend from `make`.
pub fn run_all<S: Storage<KvCommand, KvStore> + 'static>(make: impl Fn() -> S) {
    every_record_type_round_trips(&mut make());
    later_writes_replace_earlier_ones(&mut make());
}
