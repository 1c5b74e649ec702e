//! How a node's durable state is laid out in IndexedDB and how each record is encoded. Pure code, compiled
//! natively too, so the schema, the migrations and the write plans are tested without a browser; the
//! IndexedDB backend (`storage::indexeddb`, wasm32) only moves the strings this module makes.
//!
//! # Layout
//!
//! One database per cluster, named [`database_name`]`(cluster)` = `synod-<cluster>` (embedded examples pass a
//! cluster name with their own prefix, e.g. `example/leader-crash`). Its object stores:
//!
//! | store | key | value (JSON text) |
//! | --- | --- | --- |
//! | `meta` | `"schema"` | `{"schema":2,"format":"synod"}`: written when the database is created |
//! | `acceptor` | node id | `{"schema":2,"promised":{"round":3,"node":2},"chosen_upto":17}` |
//! | `entries` | `[node id, slot]` | `{"schema":2,"ballot":{"round":3,"node":2},"value":…,"chosen":true}` |
//! | `snapshots` | node id | `{"schema":2,"upto":16,"state":…,"membership":[[0,14]]}`: the node's latest snapshot |
//! | `trace` | any string | `{"schema":2,"value":…}`: whatever the simulator keeps (trace position, actions) |
//!
//! `value` is a [`Value`] as serde_json writes it (`"Noop"`, `{"Command":{…}}`, `{"Batch":[…]}`,
//! `{"Reconfig":30}`, a configuration as the bit mask of its node ids), `membership` the configurations that
//! govern slots from the snapshot on (`[[first slot, members], …]`; version 1 had none: it migrates to `[]`,
//! the initial configuration), `state` the
//! state machine's snapshot (for the key-value store, its data and session table). A node's whole durable
//! state is its `acceptor` record, its `snapshots` record and its `entries` range `[node, 0]..[node, ∞)`; no
//! entry lies below the snapshot (the transaction that writes a snapshot deletes them).
//!
//! # Versions and the upgrade path
//!
//! Two numbers, changed for different reasons:
//!
//! - [`DATABASE_VERSION`], IndexedDB's own version, covers the set of object stores. Opening with a higher
//!   number runs `upgradeneeded`, where `storage::indexeddb` creates what each version added (`if old < 1 {
//!   create the five stores }`; a version 2 would add `if old < 2 { … }`). A database with a higher version
//!   than this build knows fails to open with a "newer build" error.
//! - [`SCHEMA_VERSION`] is carried by every record (`"schema"`), so records of different ages can coexist.
//!   Decoding an older record migrates it step by step ([`upgrade_record`]: version v to v + 1, in order);
//!   the IndexedDB backend then rewrites that node's records in the current version, in one transaction, as
//!   soon as it opened them. A record with a newer version, without a version, or that does not decode gives
//!   a [`DecodeError`] naming the store, the key and the reason, which becomes [`StorageError::Corrupt`]: the
//!   caller shows it and offers to reset the cluster. Nothing is changed on disk in that case.
//!
//! Version 0 is the worked example of a migration (Synod never wrote it; tests do): it stored ballots as
//! `"round.node"` strings (`"promised":"3.2"`, `"ballot":"3.2"`). Version 1 stores them as objects. Version 2
//! (issue 20, membership changes) adds a snapshot's `membership` and the `Reconfig` value.

use std::collections::{BTreeMap, BTreeSet};

use crate::paxos::{Ballot, DurableState, Entry, Membership, NodeId, Slot, Snapshot, Value, WriteBatch};

use super::json::{Json, Stored, Writer};
use super::StorageError;

/// IndexedDB's version of the database: which object stores exist.
pub const DATABASE_VERSION: u32 = 1;
/// The version of the record encoding this build writes; it reads this one and every older one.
pub const SCHEMA_VERSION: u64 = 2;
/// Every cluster's database name starts with this.
pub const DATABASE_PREFIX: &str = "synod-";
/// What the `meta` record's `format` says, so a foreign database of the same name is not mistaken for ours.
pub const FORMAT: &str = "synod";
/// The key of the one `meta` record.
pub const META_KEY: &str = "schema";
/// Largest slot an IndexedDB key (a JavaScript number) holds exactly.
pub const SLOT_MAX: Slot = (1 << 53) - 1;

/// The object stores, by name.
pub mod stores {
    pub const META: &str = "meta";
    pub const ACCEPTOR: &str = "acceptor";
    pub const ENTRIES: &str = "entries";
    pub const SNAPSHOTS: &str = "snapshots";
    pub const TRACE: &str = "trace";
    /// Every store, in the order they are created.
    pub const ALL: [&str; 5] = [META, ACCEPTOR, ENTRIES, SNAPSHOTS, TRACE];
    /// The stores holding nodes' durable state: a write batch's transaction covers these.
    pub const NODE: [&str; 3] = [ACCEPTOR, ENTRIES, SNAPSHOTS];
}

/// The database that holds `cluster`.
pub fn database_name(cluster: &str) -> String {
    format!("{DATABASE_PREFIX}{cluster}")
}

/// The `acceptor` record of one node: its promise and how far it knows the log is chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AcceptorRecord {
    pub promised: Ballot,
    pub chosen_upto: Slot,
}

/// The key of a record, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordKey {
    Node(NodeId),
    Entry(NodeId, Slot),
    Name(String),
}

impl std::fmt::Display for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordKey::Node(node) => write!(f, "{node}"),
            RecordKey::Entry(node, slot) => write!(f, "[{node}, {slot}]"),
            RecordKey::Name(name) => write!(f, "{name:?}"),
        }
    }
}

/// What is wrong with a stored record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The text is not JSON at all.
    NotJson(String),
    /// JSON, but no integer `schema` field.
    NoSchema,
    /// Written by a newer build: this one cannot know what the fields mean.
    NewerSchema(u64),
    /// The right version, the wrong shape (a missing or mistyped field), or a migration that failed.
    BadShape(String),
    /// The records disagree with each other (e.g. an entry below the snapshot that should have deleted it).
    Inconsistent(String),
}

/// A record that cannot be read: which store, which key, and why. Shown to the visitor (as
/// [`StorageError::Corrupt`]) with an offer to reset the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub store: &'static str,
    pub key: RecordKey,
    pub problem: Problem,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let DecodeError { store, key, problem } = self;
        write!(f, "the {store} record {key} ")?;
        match problem {
            Problem::NotJson(why) => write!(f, "is not JSON ({why})"),
            Problem::NoSchema => write!(f, "has no schema version"),
            Problem::NewerSchema(found) => write!(
                f,
                "has schema version {found}, but this build of Synod reads versions 0 to {SCHEMA_VERSION}: a newer \
                 build wrote it. Use that build, or reset the cluster"
            ),
            Problem::BadShape(why) => write!(f, "does not decode ({why})"),
            Problem::Inconsistent(why) => write!(f, "is inconsistent: {why}"),
        }
    }
}

impl std::error::Error for DecodeError {}

impl From<DecodeError> for StorageError {
    fn from(error: DecodeError) -> StorageError {
        StorageError::Corrupt(error.to_string())
    }
}

// ---- records as stored (version 1) -------------------------------------------------------------------------
// Every record is an object with its `schema` first, then its fields; `storage::json` reads and writes them
// (the text serde_json would write for the same shapes, which is what earlier builds wrote).

/// A record: `{"schema":2,` then what `fields` writes, then `}`.
fn record(fields: impl FnOnce(&mut Writer)) -> String {
    let mut out = Writer::default();
    out.open('{');
    out.key("schema");
    out.u64(SCHEMA_VERSION);
    fields(&mut out);
    out.close('}');
    out.finish()
}

pub fn encode_meta() -> String {
    record(|out| {
        out.key("format");
        out.str(FORMAT);
    })
}

pub fn encode_acceptor(acceptor: AcceptorRecord) -> String {
    record(|out| {
        out.key("promised");
        acceptor.promised.write(out);
        out.key("chosen_upto");
        out.u64(acceptor.chosen_upto);
    })
}

pub fn encode_entry<C: Stored>(entry: &Entry<C>) -> String {
    record(|out| {
        out.key("ballot");
        entry.ballot.write(out);
        out.key("value");
        entry.value.write(out);
        out.key("chosen");
        out.bool(entry.chosen);
    })
}

pub fn encode_snapshot<Snap: Stored>(snapshot: &Snapshot<Snap>) -> String {
    record(|out| {
        out.key("upto");
        out.u64(snapshot.upto);
        out.key("state");
        snapshot.state.write(out);
        out.key("membership");
        snapshot.membership.write(out);
    })
}

/// A `trace` record, holding whatever the caller keeps there.
pub fn encode_document<T: Stored>(value: &T) -> String {
    record(|out| {
        out.key("value");
        value.write(out);
    })
}

/// A decoded record and whether it was migrated from an older schema version (so it should be rewritten).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded<T> {
    pub value: T,
    pub migrated: bool,
}

/// Decodes one record: parse, check the version, migrate an older one step by step, then `read` its fields.
fn decode<T>(
    store: &'static str,
    key: RecordKey,
    text: &str,
    read: impl FnOnce(&Json) -> Result<T, String>,
) -> Result<Decoded<T>, DecodeError> {
    let fail = |problem| DecodeError { store, key: key.clone(), problem };
    let mut json = Json::parse(text).map_err(|why| fail(Problem::NotJson(why)))?;
    if !matches!(json, Json::Object(_)) {
        return Err(fail(Problem::BadShape(format!("{} is not a record (an object)", json.kind()))));
    }
    let version = json.get("schema").and_then(|version| version.u64().ok()).ok_or_else(|| fail(Problem::NoSchema))?;
    if version > SCHEMA_VERSION {
        return Err(fail(Problem::NewerSchema(version)));
    }
    for from in version..SCHEMA_VERSION {
        upgrade_record(store, from, &mut json)
            .map_err(|why| fail(Problem::BadShape(format!("{why} (upgrading from version {from})"))))?;
    }
    let value = read(&json).map_err(|why| fail(Problem::BadShape(why)))?;
    Ok(Decoded { value, migrated: version < SCHEMA_VERSION })
}

/// Migrates one `store` record (an object) from schema version `from` to `from + 1`, in place. Every version
/// step a future build adds goes here, as one more arm.
pub fn upgrade_record(store: &str, from: u64, record: &mut Json) -> Result<(), String> {
    match (from, store) {
        // Version 0 wrote ballots as "round.node" strings.
        (0, stores::ACCEPTOR) => ballot_from_v0(record, "promised"),
        (0, stores::ENTRIES) => ballot_from_v0(record, "ballot"),
        (0, _) => Ok(()),
        // Version 1 came before membership changes: a snapshot's configurations are the initial one's (empty).
        (1, stores::SNAPSHOTS) => {
            record.set("membership", Json::Array(Vec::new()));
            Ok(())
        }
        (1, _) => Ok(()),
        _ => Err(format!("no upgrade from schema version {from} for the {store} store")),
    }?;
    record.set("schema", Json::Number((from + 1).to_string()));
    Ok(())
}

fn ballot_from_v0(record: &mut Json, name: &str) -> Result<(), String> {
    let text = record.get(name).and_then(|field| field.str().ok()).ok_or_else(|| format!("{name} is not a string"))?;
    let ballot = parse_ballot_v0(text).ok_or_else(|| format!("{name} {text:?} is not \"round.node\""))?;
    record.set(name, Json::parse(&ballot.to_json()).expect("a ballot writes JSON"));
    Ok(())
}

/// Version 0's ballot text, `"round.node"` (as `Ballot`'s `Display` writes it).
pub fn parse_ballot_v0(text: &str) -> Option<Ballot> {
    let (round, node) = text.split_once('.')?;
    Some(Ballot::new(round.parse().ok()?, node.parse().ok()?))
}

/// The `meta` record: refuses a newer build's database and a foreign one.
pub fn decode_meta(text: &str) -> Result<(), DecodeError> {
    let key = || RecordKey::Name(META_KEY.into());
    let format = decode(stores::META, key(), text, |meta| meta.read_field("format", Json::string))?.value;
    if format != FORMAT {
        let why = format!("its format is {format:?}, not {FORMAT:?}: this database was not written by Synod");
        return Err(DecodeError { store: stores::META, key: key(), problem: Problem::BadShape(why) });
    }
    Ok(())
}

pub fn decode_acceptor(node: NodeId, text: &str) -> Result<Decoded<AcceptorRecord>, DecodeError> {
    decode(stores::ACCEPTOR, RecordKey::Node(node), text, |acceptor| {
        Ok(AcceptorRecord {
            promised: acceptor.read_field("promised", Ballot::read)?,
            chosen_upto: acceptor.read_field("chosen_upto", Json::u64)?,
        })
    })
}

pub fn decode_entry<C: Stored>(node: NodeId, slot: Slot, text: &str) -> Result<Decoded<Entry<C>>, DecodeError> {
    decode(stores::ENTRIES, RecordKey::Entry(node, slot), text, |entry| {
        Ok(Entry {
            ballot: entry.read_field("ballot", Ballot::read)?,
            value: entry.read_field("value", Value::read)?,
            chosen: entry.read_field("chosen", Json::bool)?,
        })
    })
}

pub fn decode_snapshot<Snap: Stored>(node: NodeId, text: &str) -> Result<Decoded<Snapshot<Snap>>, DecodeError> {
    decode(stores::SNAPSHOTS, RecordKey::Node(node), text, |snapshot| {
        Ok(Snapshot {
            upto: snapshot.read_field("upto", Json::u64)?,
            state: snapshot.read_field("state", Snap::read)?,
            membership: snapshot.read_field("membership", Membership::read)?,
        })
    })
}

pub fn decode_document<T: Stored>(key: &str, text: &str) -> Result<Decoded<T>, DecodeError> {
    decode(stores::TRACE, RecordKey::Name(key.into()), text, |document| document.read_field("value", T::read))
}

/// One node's records as read from the stores, before they are checked against each other.
#[derive(Clone, Debug)]
pub struct NodeRecords<C, Snap> {
    pub node: NodeId,
    pub acceptor: Option<AcceptorRecord>,
    pub snapshot: Option<Snapshot<Snap>>,
    /// In slot order.
    pub entries: Vec<(Slot, Entry<C>)>,
}

impl<C: Clone, Snap: Clone> NodeRecords<C, Snap> {
    /// The durable state these records hold. An entry below the snapshot is refused: the transaction that
    /// wrote the snapshot deleted those, so one left means the records were changed by something else.
    pub fn into_state(self) -> Result<DurableState<C, Snap>, DecodeError> {
        let NodeRecords { node, acceptor, snapshot, entries } = self;
        let acceptor = acceptor.unwrap_or_default();
        let log_start = snapshot.as_ref().map_or(0, |snapshot| snapshot.upto);
        let mut state = DurableState {
            promised: acceptor.promised,
            entries: BTreeMap::new(),
            chosen_upto: acceptor.chosen_upto.max(log_start),
            snapshot,
        };
        for (slot, entry) in entries {
            if slot < log_start {
                return Err(DecodeError {
                    store: stores::ENTRIES,
                    key: RecordKey::Entry(node, slot),
                    problem: Problem::Inconsistent(format!(
                        "it lies below the node's snapshot (slot {log_start}), which removed the entries below it"
                    )),
                });
            }
            let previous = state.entries.insert(slot, entry);
            assert!(previous.is_none(), "the entries store holds one record per [node, slot] key");
        }
        Ok(state)
    }
}

// ---- write plans -------------------------------------------------------------------------------------------

/// One change to one node's records, as the IndexedDB backend performs it inside a transaction (in order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    /// Puts the node's `acceptor` record.
    Acceptor(String),
    /// Puts the `entries` record `[node, slot]`.
    Entry { slot: Slot, json: String },
    /// Puts the node's `snapshots` record.
    Snapshot(String),
    /// Deletes the node's `snapshots` record.
    DeleteSnapshot,
    /// Deletes the node's entries with `from <= slot < to` (`to: None`: every slot from `from` on).
    DeleteEntries { from: Slot, to: Option<Slot> },
}

impl Write {
    /// A short name for the UI's storage pane and for counting.
    pub fn name(&self) -> &'static str {
        match self {
            Write::Acceptor(_) => "put acceptor",
            Write::Entry { .. } => "put entry",
            Write::Snapshot(_) => "put snapshot",
            Write::DeleteSnapshot => "delete snapshot",
            Write::DeleteEntries { .. } => "delete entries",
        }
    }
}

fn acceptor_of<C, Snap>(state: &DurableState<C, Snap>) -> AcceptorRecord {
    AcceptorRecord { promised: state.promised, chosen_upto: state.chosen_upto }
}

fn check_slot(slot: Slot) {
    assert!(slot <= SLOT_MAX, "slot {slot} does not fit an IndexedDB key exactly");
}

/// Applies `batch` to `state` (the node's durable state once every earlier batch is written) and returns the
/// writes that take the stored records from the old state to the new one: only what changed, each key once,
/// with its final value. Done when the batch is submitted, so its transaction holds no `await` but its own
/// requests.
pub fn plan_batch<C, Snap>(state: &mut DurableState<C, Snap>, batch: &WriteBatch<C, Snap>) -> Vec<Write>
where
    C: Clone + Stored,
    Snap: Clone + Stored,
{
    let acceptor_before = acceptor_of(state);
    let start_before = state.log_start();
    let mut slots = BTreeSet::new();
    for record in &batch.records {
        state.apply(record);
        match record {
            crate::paxos::Record::Chosen { slot, .. } => {
                check_slot(*slot);
                slots.insert(*slot);
            }
            _ => {
                for (slot, _, _) in record.acceptances() {
                    check_slot(slot);
                    slots.insert(slot);
                }
            }
        }
    }
    let mut writes = Vec::with_capacity(slots.len() + 3);
    if state.log_start() > start_before {
        let snapshot = state.snapshot.as_ref().expect("the log start moves only with a snapshot");
        check_slot(snapshot.upto);
        writes.push(Write::DeleteEntries { from: start_before, to: Some(snapshot.upto) });
        writes.push(Write::Snapshot(encode_snapshot(snapshot)));
    }
    if acceptor_of(state) != acceptor_before {
        writes.push(Write::Acceptor(encode_acceptor(acceptor_of(state))));
    }
    // A slot the batch touched may be gone again (a later snapshot in the same batch compacted it): the
    // delete above covers it.
    for slot in slots {
        if let Some(entry) = state.entries.get(&slot) {
            writes.push(Write::Entry { slot, json: encode_entry(entry) });
        }
    }
    writes
}

/// The writes that replace every record of a node with `state`: used to undo a write that may have committed
/// after a simulated crash, and to rewrite records migrated from an older schema version.
pub fn plan_rewrite<C: Stored, Snap: Stored>(state: &DurableState<C, Snap>) -> Vec<Write> {
    let mut writes = Vec::with_capacity(state.entries.len() + 3);
    writes.push(Write::DeleteEntries { from: 0, to: None });
    writes.push(Write::Acceptor(encode_acceptor(acceptor_of(state))));
    writes.push(match &state.snapshot {
        Some(snapshot) => Write::Snapshot(encode_snapshot(snapshot)),
        None => Write::DeleteSnapshot,
    });
    for (slot, entry) in &state.entries {
        check_slot(*slot);
        writes.push(Write::Entry { slot: *slot, json: encode_entry(entry) });
    }
    writes
}

#[cfg(test)]
mod tests {
    use std::ops::Bound;

    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::kv::{KvCommand, KvStore};
    use crate::paxos::{Record, Request};

    type State = DurableState<KvCommand, KvStore>;

    /// The object stores of one node, as a test double: what `Write`s do to IndexedDB.
    #[derive(Default)]
    struct Disk {
        acceptor: Option<String>,
        snapshot: Option<String>,
        entries: BTreeMap<Slot, String>,
    }

    impl Disk {
        fn perform(&mut self, writes: &[Write]) {
            for write in writes {
                match write {
                    Write::Acceptor(json) => self.acceptor = Some(json.clone()),
                    Write::Entry { slot, json } => {
                        self.entries.insert(*slot, json.clone());
                    }
                    Write::Snapshot(json) => self.snapshot = Some(json.clone()),
                    Write::DeleteSnapshot => self.snapshot = None,
                    Write::DeleteEntries { from, to } => {
                        let end = to.map_or(Bound::Unbounded, Bound::Excluded);
                        let doomed: Vec<Slot> =
                            self.entries.range((Bound::Included(*from), end)).map(|(s, _)| *s).collect();
                        for slot in doomed {
                            self.entries.remove(&slot);
                        }
                    }
                }
            }
        }

        fn read(&self, node: NodeId) -> Result<State, DecodeError> {
            let mut entries = Vec::new();
            for (slot, json) in &self.entries {
                entries.push((*slot, decode_entry(node, *slot, json)?.value));
            }
            NodeRecords {
                node,
                acceptor: self
                    .acceptor
                    .as_deref()
                    .map(|json| decode_acceptor(node, json))
                    .transpose()?
                    .map(|d| d.value),
                snapshot: self
                    .snapshot
                    .as_deref()
                    .map(|json| decode_snapshot(node, json))
                    .transpose()?
                    .map(|d| d.value),
                entries,
            }
            .into_state()
        }
    }

    fn put(seq: u64) -> Value<KvCommand> {
        Value::command(Request {
            client: 7,
            seq,
            command: KvCommand::Put { key: format!("k{seq}"), value: "v".into() },
        })
    }

    fn random_record(rng: &mut ChaCha8Rng, applied: &mut u64) -> Record<KvCommand, KvStore> {
        let ballot = Ballot::new(rng.random_range(0..6), rng.random_range(1..4));
        let slot = rng.random_range(0..40);
        match rng.random_range(0..10) {
            0 | 1 => Record::Promise(ballot),
            2 | 3 => Record::Accept { slot, ballot, value: if rng.random_bool(0.2) { Value::Noop } else { put(slot) } },
            4 => {
                let values = (slot..slot + rng.random_range(2..5)).map(put).collect();
                Record::AcceptRange { first_slot: slot, ballot, values }
            }
            5 | 6 => Record::Chosen { slot, ballot, value: put(slot) },
            7 | 8 => Record::ChosenUpTo(slot),
            _ => {
                *applied += 1;
                let mut state = KvStore::default();
                std::rc::Rc::make_mut(&mut state.data).insert(format!("applied{applied}"), "x".into());
                Record::Snapshot(Box::new(Snapshot { upto: slot, state, membership: Default::default() }))
            }
        }
    }

    /// The write plans keep the stores equal to the durable state, batch after batch, whatever the records.
    #[test]
    fn planned_writes_keep_the_stores_equal_to_the_durable_state() {
        for seed in 0..200 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let (mut expected, mut planned, mut disk, mut applied) =
                (State::default(), State::default(), Disk::default(), 0);
            for id in 1..=30 {
                let records = (0..rng.random_range(0..6)).map(|_| random_record(&mut rng, &mut applied)).collect();
                let batch = WriteBatch { id, records };
                expected.apply_batch(&batch);
                disk.perform(&plan_batch(&mut planned, &batch));
                assert_eq!(
                    planned, expected,
                    "seed {seed} batch {id}: the plan applies the batch as DurableState does"
                );
                assert_eq!(
                    disk.read(3).expect("decodes"),
                    expected,
                    "seed {seed} batch {id}: the stores hold the state"
                );
            }
            let mut rewritten = Disk { entries: [(99, "garbage".into())].into(), ..Disk::default() };
            rewritten.perform(&plan_rewrite(&expected));
            assert_eq!(rewritten.read(3).expect("decodes"), expected, "seed {seed}: a rewrite replaces everything");
        }
    }

    #[test]
    fn a_plan_writes_only_what_changed() {
        let mut state = State::default();
        let batch = |id, records| WriteBatch { id, records };
        let writes = plan_batch(&mut state, &batch(1, vec![Record::Promise(Ballot::new(2, 1))]));
        assert_eq!(writes.iter().map(Write::name).collect::<Vec<_>>(), ["put acceptor"]);
        let stale = plan_batch(&mut state, &batch(2, vec![Record::Promise(Ballot::new(1, 1))]));
        assert!(stale.is_empty(), "a promise that does not raise the stored one writes nothing");
        let accepts = (0..3).map(|slot| Record::Accept { slot, ballot: Ballot::new(2, 1), value: put(slot) });
        let writes = plan_batch(&mut state, &batch(3, accepts.collect()));
        assert_eq!(writes.iter().map(Write::name).collect::<Vec<_>>(), ["put entry"; 3]);
        let snapshot =
            Record::Snapshot(Box::new(Snapshot { upto: 2, state: KvStore::default(), membership: Default::default() }));
        let writes = plan_batch(&mut state, &batch(4, vec![snapshot]));
        assert_eq!(writes[0], Write::DeleteEntries { from: 0, to: Some(2) });
        assert_eq!(
            writes.iter().map(Write::name).collect::<Vec<_>>(),
            ["delete entries", "put snapshot", "put acceptor"]
        );
    }

    #[test]
    fn every_record_round_trips() {
        let entry = Entry { ballot: Ballot::new(3, 2), value: put(4), chosen: true };
        assert_eq!(
            decode_entry::<KvCommand>(1, 4, &encode_entry(&entry)).unwrap(),
            Decoded { value: entry, migrated: false }
        );
        let noop = Entry::<KvCommand> { ballot: Ballot::new(1, 1), value: Value::Noop, chosen: false };
        assert_eq!(decode_entry::<KvCommand>(1, 5, &encode_entry(&noop)).unwrap().value, noop);
        let batch =
            Value::Batch(std::rc::Rc::new(put(1).requests().iter().chain(put(2).requests()).cloned().collect()));
        let batched = Entry { ballot: Ballot::new(1, 1), value: batch, chosen: false };
        assert_eq!(decode_entry::<KvCommand>(1, 6, &encode_entry(&batched)).unwrap().value, batched);
        let acceptor = AcceptorRecord { promised: Ballot::new(9, 3), chosen_upto: 12 };
        assert_eq!(decode_acceptor(1, &encode_acceptor(acceptor)).unwrap().value, acceptor);
        let mut state = KvStore::default();
        std::rc::Rc::make_mut(&mut state.data).insert("a".into(), "1".into());
        std::rc::Rc::make_mut(&mut state.sessions)
            .insert(7, crate::kv::Session { seq: 3, output: crate::kv::KvOutput::Value(None) });
        let snapshot = Snapshot { upto: 10, state, membership: Default::default() };
        assert_eq!(decode_snapshot::<KvStore>(1, &encode_snapshot(&snapshot)).unwrap().value, snapshot);
        let document = Json::parse(r#"{"tick":42,"actions":["crash 2"]}"#).unwrap();
        let json = encode_document(&document);
        assert_eq!(decode_document::<Json>("position", &json).unwrap().value, document);
        assert!(json.starts_with(r#"{"schema":2,"#), "every record carries its version first: {json}");
        decode_meta(&encode_meta()).expect("the meta record decodes");
    }

    /// The records' text is the layout in the module docs, which is what builds that wrote them through serde
    /// wrote: records already on visitors' disks keep reading.
    #[test]
    fn records_are_written_as_the_layout_says() {
        let acceptor = AcceptorRecord { promised: Ballot::new(3, 2), chosen_upto: 17 };
        assert_eq!(encode_acceptor(acceptor), r#"{"schema":2,"promised":{"round":3,"node":2},"chosen_upto":17}"#);
        let entry = Entry { ballot: Ballot::new(3, 2), value: put(4), chosen: true };
        assert_eq!(
            encode_entry(&entry),
            r#"{"schema":2,"ballot":{"round":3,"node":2},"value":{"Command":{"client":7,"seq":4,"command":{"Put":{"key":"k4","value":"v"}}}},"chosen":true}"#
        );
        let noop = Entry::<KvCommand> { ballot: Ballot::new(1, 1), value: Value::Noop, chosen: false };
        assert_eq!(encode_entry(&noop), r#"{"schema":2,"ballot":{"round":1,"node":1},"value":"Noop","chosen":false}"#);
        let mut state = KvStore::default();
        std::rc::Rc::make_mut(&mut state.data).insert("a".into(), "1".into());
        std::rc::Rc::make_mut(&mut state.sessions)
            .insert(7, crate::kv::Session { seq: 3, output: crate::kv::KvOutput::Value(None) });
        assert_eq!(
            encode_snapshot(&Snapshot { upto: 10, state, membership: Default::default() }),
            r#"{"schema":2,"upto":10,"state":{"data":{"a":"1"},"sessions":{"7":{"seq":3,"output":{"Value":null}}}},"membership":[]}"#
        );
        assert_eq!(encode_document(&String::from("x")), r#"{"schema":2,"value":"x"}"#);
        assert_eq!(encode_meta(), r#"{"schema":2,"format":"synod"}"#);
    }

    #[test]
    fn version_1_snapshots_migrate_to_the_initial_configuration_and_reconfigurations_are_read() {
        let snapshot = decode_snapshot::<KvStore>(3, r#"{"schema":1,"upto":4,"state":{"data":{},"sessions":{}}}"#);
        let snapshot = snapshot.unwrap();
        assert!(snapshot.migrated && snapshot.value.membership.is_empty() && snapshot.value.upto == 4);
        let reconfig = r#"{"schema":2,"ballot":{"round":1,"node":2},"value":{"Reconfig":14},"chosen":true}"#;
        let entry = decode_entry::<KvCommand>(2, 9, reconfig).unwrap().value;
        assert_eq!(entry.value, Value::Reconfig(crate::paxos::Members::of([1, 2, 3])));
        assert_eq!(encode_entry(&entry), reconfig);
        let bad = r#"{"schema":2,"ballot":{"round":1,"node":2},"value":{"Reconfig":1},"chosen":true}"#;
        assert!(decode_entry::<KvCommand>(2, 9, bad).unwrap_err().to_string().contains("node ids start at 1"));
    }

    #[test]
    fn version_0_records_are_migrated() {
        let acceptor = decode_acceptor(2, r#"{"schema":0,"promised":"3.2","chosen_upto":5}"#).unwrap();
        assert_eq!(
            acceptor,
            Decoded { value: AcceptorRecord { promised: Ballot::new(3, 2), chosen_upto: 5 }, migrated: true }
        );
        let v0 = r#"{"schema":0,"ballot":"4.1","value":"Noop","chosen":false}"#;
        let entry = decode_entry::<KvCommand>(2, 8, v0).unwrap();
        assert_eq!(entry.value, Entry { ballot: Ballot::new(4, 1), value: Value::Noop, chosen: false });
        assert!(entry.migrated);
        let snapshot =
            decode_snapshot::<KvStore>(2, r#"{"schema":0,"upto":3,"state":{"data":{},"sessions":{}}}"#).unwrap();
        assert!(snapshot.migrated && snapshot.value.upto == 3);
        let bad = decode_entry::<KvCommand>(2, 8, r#"{"schema":0,"ballot":"four","value":"Noop","chosen":false}"#);
        let error = bad.unwrap_err();
        assert!(matches!(error.problem, Problem::BadShape(_)), "{error}");
        assert!(error.to_string().contains("\"four\" is not \"round.node\""), "{error}");
        assert_eq!(parse_ballot_v0("12.3"), Some(Ballot::new(12, 3)));
        assert_eq!(parse_ballot_v0("12"), None);
        assert_eq!(parse_ballot_v0("1.300"), None, "a node id is a u8");
    }

    #[test]
    fn unreadable_records_name_the_store_the_key_and_the_reason() {
        let error = decode_entry::<KvCommand>(1, 3, "{not json").unwrap_err();
        assert_eq!((error.store, &error.key), (stores::ENTRIES, &RecordKey::Entry(1, 3)));
        assert!(matches!(error.problem, Problem::NotJson(_)));
        assert!(error.to_string().starts_with("the entries record [1, 3] is not JSON"), "{error}");

        let error = decode_acceptor(4, r#"{"schema":3,"promised":{"round":1,"node":1},"chosen_upto":0}"#).unwrap_err();
        assert_eq!(error.problem, Problem::NewerSchema(3), "a newer record is refused even when it looks familiar");
        let message = StorageError::from(error).to_string();
        assert!(
            message.contains("acceptor record 4 has schema version 3") && message.contains("newer build"),
            "{message}"
        );

        let error = decode_snapshot::<KvStore>(4, r#"{"upto":1,"state":{}}"#).unwrap_err();
        assert_eq!(error.problem, Problem::NoSchema);
        let error = decode_acceptor(4, r#"{"schema":2,"promised":"1.1","chosen_upto":0}"#).unwrap_err();
        assert!(matches!(error.problem, Problem::BadShape(_)), "a current record of the wrong shape: {error}");
        let error = decode_acceptor(4, "[1, 2]").unwrap_err();
        assert!(matches!(error.problem, Problem::BadShape(_)));
        let error = decode_meta(r#"{"schema":2,"format":"someone-else"}"#).unwrap_err();
        assert!(error.to_string().contains("not written by Synod"), "{error}");
    }

    #[test]
    fn an_entry_below_the_snapshot_is_refused() {
        let records = NodeRecords::<KvCommand, KvStore> {
            node: 2,
            acceptor: None,
            snapshot: Some(Snapshot { upto: 5, state: KvStore::default(), membership: Default::default() }),
            entries: vec![(4, Entry { ballot: Ballot::new(1, 1), value: Value::Noop, chosen: true })],
        };
        let error = records.into_state().unwrap_err();
        assert_eq!(error.key, RecordKey::Entry(2, 4));
        assert!(matches!(error.problem, Problem::Inconsistent(_)), "{error}");
    }

    #[test]
    fn database_names_are_namespaced() {
        assert_eq!(database_name("main"), "synod-main");
        assert_eq!(database_name("example/leader-crash"), "synod-example/leader-crash");
    }
}
