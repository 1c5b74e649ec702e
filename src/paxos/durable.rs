//! Durable records: what a node asks its storage to write, and the state those writes build up. A restarted
//! node rebuilds itself from a `DurableState` alone, so everything safety needs must be here.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::{Ballot, Entry, Message, Slot, Snapshot, Value};

/// Identifies one write batch; batches become durable in order.
pub type BatchId = u64;

/// One durable change. A batch of them is written atomically (one IndexedDB transaction).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Record<C, Snap> {
    /// The acceptor promised to ignore ballots below this one.
    Promise(Ballot),
    /// The acceptor accepted `value` for `slot` in `ballot`.
    Accept { slot: Slot, ballot: Ballot, value: Value<C> },
    /// The acceptor accepted `values[i]` for slot `first_slot + i`, in `ballot`: a whole accept message in one
    /// record, sharing the message's values. A follower under load accepts hundreds of slots per message, and a
    /// record per slot was most of the memory its storage wrote.
    AcceptRange { first_slot: Slot, ballot: Ballot, values: Rc<[Value<C>]> },
    /// The node learned that `value` was chosen for `slot` (catch-up from a leader).
    Chosen { slot: Slot, ballot: Ballot, value: Value<C> },
    /// Every slot below this is chosen, with the value this log holds for it.
    ChosenUpTo(Slot),
    /// The state machine as of `upto`; every entry below `upto` is dropped (log compaction). Boxed: snapshots are
    /// rare, and the largest variant sets the size of every record, one or more per slot on every replica.
    Snapshot(Box<Snapshot<Snap>>),
}

impl<C, Snap> Record<C, Snap> {
    /// Short name, for the UI's storage pane and traces.
    pub fn name(&self) -> &'static str {
        match self {
            Record::Promise(_) => "promise",
            Record::Accept { .. } => "accept",
            Record::AcceptRange { .. } => "accept-range",
            Record::Chosen { .. } => "chosen",
            Record::ChosenUpTo(_) => "chosen-up-to",
            Record::Snapshot(_) => "snapshot",
        }
    }

    /// The acceptances this record writes, slot by slot: one for `Accept`, one per value for `AcceptRange`,
    /// none for the others.
    pub fn acceptances(&self) -> impl Iterator<Item = (Slot, Ballot, &Value<C>)> {
        let (first_slot, ballot, values): (Slot, Ballot, &[Value<C>]) = match self {
            Record::Accept { slot, ballot, value } => (*slot, *ballot, std::slice::from_ref(value)),
            Record::AcceptRange { first_slot, ballot, values } => (*first_slot, *ballot, values),
            Record::Promise(_) | Record::Chosen { .. } | Record::ChosenUpTo(_) | Record::Snapshot(_) => {
                (0, Ballot::ZERO, &[])
            }
        };
        (first_slot..).zip(values).map(move |(slot, value)| (slot, ballot, value))
    }
}

/// Records a node produced in one step, to be written atomically.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WriteBatch<C, Snap> {
    pub id: BatchId,
    pub records: Vec<Record<C, Snap>>,
}

/// Everything a node's storage has acknowledged.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DurableState<C, Snap> {
    pub promised: Ballot,
    pub entries: BTreeMap<Slot, Entry<C>>,
    pub chosen_upto: Slot,
    pub snapshot: Option<Snapshot<Snap>>,
}

impl<C, Snap> Default for DurableState<C, Snap> {
    fn default() -> Self {
        DurableState { promised: Ballot::ZERO, entries: BTreeMap::new(), chosen_upto: 0, snapshot: None }
    }
}

impl<C: Clone, Snap: Clone> DurableState<C, Snap> {
    /// The first slot still held as an entry (everything below is in the snapshot).
    pub fn log_start(&self) -> Slot {
        self.snapshot.as_ref().map_or(0, |snapshot| snapshot.upto)
    }

    /// Applies one record, as storage does once the record's batch is written.
    pub fn apply(&mut self, record: &Record<C, Snap>) {
        match record {
            // A promise never goes backwards on disk either: a stale record (reordered by a buggy driver)
            // must not lower it. The planted bug `forget-promise-on-restart` acts on recovery, not here.
            Record::Promise(ballot) => self.promised = self.promised.max(*ballot),
            Record::Accept { .. } | Record::AcceptRange { .. } => {
                let log_start = self.log_start();
                for (slot, ballot, value) in record.acceptances().filter(|(slot, _, _)| *slot >= log_start) {
                    let chosen = self.entries.get(&slot).is_some_and(|entry| entry.chosen);
                    self.entries.insert(slot, Entry { ballot, value: value.clone(), chosen });
                }
            }
            Record::Chosen { slot, ballot, value } => {
                if *slot >= self.log_start() {
                    self.entries.insert(*slot, Entry { ballot: *ballot, value: value.clone(), chosen: true });
                }
            }
            Record::ChosenUpTo(slot) => self.chosen_upto = self.chosen_upto.max(*slot),
            Record::Snapshot(snapshot) => {
                if snapshot.upto > self.log_start() {
                    self.entries = self.entries.split_off(&snapshot.upto);
                    self.chosen_upto = self.chosen_upto.max(snapshot.upto);
                    self.snapshot = Some(Snapshot::clone(snapshot));
                }
            }
        }
    }

    pub fn apply_batch(&mut self, batch: &WriteBatch<C, Snap>) {
        for record in &batch.records {
            self.apply(record);
        }
    }

    /// Checks that this durable state backs everything `message` reveals: a promise or an acceptance may
    /// leave a node only once it is on disk (otherwise a crash makes the node forget what it told others).
    /// The simulator calls this on every message a node sends, so a node that breaks persist-before-send is
    /// caught even when no crash happens to expose it.
    pub fn backs(&self, message: &Message<C, Snap>) -> Result<(), String> {
        match message {
            Message::Promise { ballot, .. } if self.promised < *ballot => {
                Err(format!("promise for ballot {ballot} sent while the durable promise is only {}", self.promised))
            }
            Message::Accepted { ballot, first_slot, count, .. } => {
                if self.promised < *ballot {
                    return Err(format!(
                        "accepted for ballot {ballot} sent while the durable promise is only {}",
                        self.promised
                    ));
                }
                for slot in (*first_slot..first_slot + count).filter(|slot| *slot >= self.log_start()) {
                    match self.entries.get(&slot) {
                        Some(entry) if entry.ballot >= *ballot || entry.chosen => {}
                        Some(entry) => {
                            return Err(format!(
                                "accepted slot {slot} in ballot {ballot} sent while disk holds ballot {}",
                                entry.ballot
                            ))
                        }
                        None => {
                            return Err(format!("accepted slot {slot} in ballot {ballot} sent before it was on disk"))
                        }
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
