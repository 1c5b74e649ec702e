//! The IndexedDB backend in headless Chromium (`cargo test --target wasm32-unknown-unknown --test
//! browser_storage`): the storage conformance suite, every record type read back through a fresh connection,
//! crashes before a commit, recovery, unreadable and old or new records, resets, another tab's upgrade, the
//! driver lock, and a three-node cluster driven on IndexedDB through kills and reloads. Each test uses its own
//! cluster (database), deleted first.
//!
//! The benchmarks are ignored by default; run them with
//!
//!     cargo test --release --target wasm32-unknown-unknown --test browser_storage -- --include-ignored benchmark
#![cfg(target_arch = "wasm32")]

use std::collections::{BTreeMap, VecDeque};

use idb::{Factory, TransactionMode};
use js_sys::{Object, Reflect};
use synod::kv::{KvCommand, KvOutput, KvStore};
use synod::paxos::{
    Ballot, Config, DurableState, Entry, Envelope, Node, NodeId, Record, Request, RoleKind, Snapshot, StateMachine,
    Value, WriteBatch,
};
use synod::storage::codec::{self, stores};
use synod::storage::conformance::{self, command, promise_batch, Settle};
use synod::storage::indexeddb::{
    self, clear_cluster, take_over_cluster, try_lock_cluster, wait_for_cluster, ClusterDb, Durability,
    IndexedDbStorage, LockAttempt, LockLoss,
};
use synod::storage::json::Json;
use synod::storage::{Storage, StorageError};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

type KvIdb = IndexedDbStorage<KvCommand, KvStore>;
type State = DurableState<KvCommand, KvStore>;

/// A new, empty cluster database named after the test.
async fn fresh(cluster: &str) -> ClusterDb {
    clear_cluster(cluster).await.expect("delete the old database");
    ClusterDb::open(cluster).await.expect("open a new database")
}

async fn fresh_node(cluster: &str, node: NodeId) -> KvIdb {
    fresh(cluster).await.node_storage(node).await.expect("an empty node")
}

/// What a second connection (another page load) reads back for `node`.
async fn reread(cluster: &str, node: NodeId) -> Result<State, StorageError> {
    Ok(IndexedDbStorage::<KvCommand, KvStore>::open(cluster, node).await?.durable().clone())
}

async fn flush(storage: &mut KvIdb) -> Option<u64> {
    storage.settled().await.expect("the writes commit");
    storage.poll_durable().expect("no write failed")
}

/// Writes one raw value into `store` of `cluster`'s database, bypassing the codec (corruption, old records).
async fn put_raw(cluster: &str, store: &str, key: JsValue, value: JsValue) {
    let database = Factory::new().unwrap().open(&codec::database_name(cluster), None).unwrap().await.unwrap();
    let transaction = database.transaction(&[store], TransactionMode::ReadWrite).unwrap();
    transaction.object_store(store).unwrap().put(&value, Some(&key)).unwrap().await.unwrap();
    assert!(transaction.await.unwrap().is_committed());
    database.close();
}

async fn get_raw(cluster: &str, store: &str, key: JsValue) -> Option<JsValue> {
    let database = Factory::new().unwrap().open(&codec::database_name(cluster), None).unwrap().await.unwrap();
    let transaction = database.transaction(&[store], TransactionMode::ReadOnly).unwrap();
    let value = transaction.object_store(store).unwrap().get(key).unwrap().await.unwrap();
    database.close();
    value
}

fn entry_key(node: NodeId, slot: u64) -> JsValue {
    js_sys::Array::of2(&JsValue::from(node), &JsValue::from_f64(slot as f64)).into()
}

fn corrupt_message(result: Result<State, StorageError>) -> String {
    match result {
        Err(StorageError::Corrupt(message)) => message,
        other => panic!("expected StorageError::Corrupt, got {other:?}"),
    }
}

// ---- the conformance suite and round trips ------------------------------------------------------------------

#[wasm_bindgen_test]
async fn indexeddb_passes_the_conformance_suite() {
    conformance::run_all_async(|check| async move { fresh_node(&format!("test/conformance/{check}"), 1).await }).await;
}

#[wasm_bindgen_test]
async fn every_record_type_reads_back_through_a_fresh_connection() {
    let cluster = "test/round-trip";
    let db = fresh(cluster).await;
    let mut one: KvIdb = db.node_storage(1).await.unwrap();
    let mut two: KvIdb = db.node_storage(2).await.unwrap();
    one.submit(conformance::every_record_type_batch(1));
    assert_eq!(flush(&mut one).await, Some(1));
    assert_eq!(
        reread(cluster, 1).await.unwrap(),
        *one.durable(),
        "promise, accepts (value and no-op), chosen, chosen-up-to"
    );

    let snapshot = Snapshot { upto: 5, state: conformance::snapshot_state(), membership: Default::default() };
    let batched =
        Value::Batch(std::rc::Rc::new(command(8).requests().iter().chain(command(9).requests()).cloned().collect()));
    one.submit(WriteBatch {
        id: 2,
        records: vec![
            Record::Snapshot(Box::new(snapshot.clone())),
            Record::Accept { slot: 7, ballot: Ballot::new(2, 3), value: batched },
        ],
    });
    two.submit(promise_batch(1, 9));
    assert_eq!(flush(&mut one).await, Some(2));
    assert_eq!(flush(&mut two).await, Some(1));
    let back = reread(cluster, 1).await.unwrap();
    assert_eq!(back, *one.durable(), "a snapshot, the compaction it causes, and a batched value");
    assert_eq!(back.snapshot, Some(snapshot));
    assert_eq!(back.entries.keys().copied().collect::<Vec<_>>(), [5, 6, 7]);
    assert_eq!(reread(cluster, 2).await.unwrap(), *two.durable(), "nodes share a database, not their records");
    assert_eq!(reread(cluster, 3).await.unwrap(), State::default(), "a node never written reads as empty");
    assert_eq!(one.stats().transactions, 2, "one transaction per batch");
}

#[wasm_bindgen_test]
async fn writes_ask_for_strict_durability() {
    let db = fresh("test/durability").await;
    let mut storage: KvIdb = db.node_storage(1).await.unwrap();
    // Chromium (default: relaxed) and Firefox (default: strict-like) both take the hint and report it back;
    // a browser that ignored it would report nothing, and this test says so (scripts/test test-firefox).
    let transaction = indexeddb::write_transaction(&database_of(&db).await, &stores::NODE, Durability::Strict).unwrap();
    assert_eq!(indexeddb::durability_of(&transaction).as_deref(), Some("strict"));
    storage.submit(promise_batch(1, 1));
    assert_eq!(flush(&mut storage).await, Some(1));
}

/// A raw connection to the same database, for the durability probe.
async fn database_of(db: &ClusterDb) -> web_sys::IdbDatabase {
    Factory::new().unwrap().open(db.name(), None).unwrap().await.unwrap().into()
}

// ---- crashes and recovery -----------------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn a_crash_before_the_commit_loses_exactly_that_write() {
    let cluster = "test/crash-abort";
    let mut storage = fresh_node(cluster, 1).await;
    storage.submit(conformance::every_record_type_batch(1));
    assert_eq!(flush(&mut storage).await, Some(1));
    let before = storage.durable().clone();

    // Issued but not committed: the crash comes in the same task, so the browser still lets it be aborted.
    storage.submit(WriteBatch {
        id: 2,
        records: vec![
            Record::Promise(Ballot::new(9, 9)),
            Record::Accept { slot: 20, ballot: Ballot::new(9, 9), value: command(20) },
        ],
    });
    assert_eq!(storage.unsynced(), 1);
    storage.crash();
    assert_eq!(*storage.durable(), before);
    storage.settled().await.expect("nothing fails");
    assert_eq!(storage.poll_durable(), Ok(None), "the lost batch is never reported");
    assert_eq!((storage.stats().transactions, storage.stats().rewrites), (1, 0), "aborted, so nothing to undo");
    assert_eq!(reread(cluster, 1).await.unwrap(), before, "the aborted transaction left no trace");
}

#[wasm_bindgen_test]
async fn a_write_that_commits_after_the_crash_is_undone() {
    let cluster = "test/crash-commit";
    let mut storage = fresh_node(cluster, 1).await;
    storage.submit(conformance::every_record_type_batch(1));
    assert_eq!(flush(&mut storage).await, Some(1));
    let before = storage.durable().clone();

    // As if the browser was already committing batch 2 when the node was killed: it lands on disk, never
    // acknowledged; the rewrite the crash queued behind it restores the acknowledged state.
    storage.submit(WriteBatch {
        id: 2,
        records: vec![
            Record::Promise(Ballot::new(9, 9)),
            Record::Snapshot(Box::new(Snapshot { upto: 6, state: KvStore::default(), membership: Default::default() })),
            Record::Accept { slot: 20, ballot: Ballot::new(9, 9), value: command(20) },
        ],
    });
    storage.crash_letting_in_flight_commit();
    assert_eq!(*storage.durable(), before);
    storage.settled().await.expect("nothing fails");
    assert_eq!(storage.stats().transactions, 3, "batch 1, the batch that landed anyway, and the rewrite");
    assert_eq!(storage.stats().rewrites, 1);
    assert_eq!(storage.poll_durable(), Ok(None), "the batch that landed after the crash is not reported");
    assert_eq!(reread(cluster, 1).await.unwrap(), before, "the disk holds exactly the acknowledged state");

    // The restarted node goes on from there, numbering from 1.
    storage.submit(promise_batch(1, 4));
    assert_eq!(flush(&mut storage).await, Some(1));
    assert_eq!(reread(cluster, 1).await.unwrap(), *storage.durable());
    assert_eq!(storage.durable().promised, Ballot::new(4, 1));
}

/// Batches of every kind, some crashes in between: after each, a fresh connection reads back exactly the
/// state the storage acknowledged.
#[wasm_bindgen_test]
async fn recovery_equals_the_state_before_the_kill() {
    let cluster = "test/recovery";
    let mut storage = fresh_node(cluster, 2).await;
    let mut id = 0;
    for round in 0..6u64 {
        let mut batches = Vec::new();
        for step in 0..5u64 {
            id += 1;
            let slot = round * 10 + step;
            let ballot = Ballot::new(round as u32 + 1, 2);
            let mut records = vec![
                Record::Promise(ballot),
                Record::Accept { slot, ballot, value: command(slot) },
                Record::Chosen { slot: slot.saturating_sub(1), ballot, value: command(slot.saturating_sub(1)) },
                Record::ChosenUpTo(slot.saturating_sub(1)),
            ];
            if step == 4 {
                let mut state = KvStore::default();
                std::rc::Rc::make_mut(&mut state.data).insert(format!("round{round}"), "done".into());
                records.push(Record::Snapshot(Box::new(Snapshot {
                    upto: slot.saturating_sub(2),
                    state,
                    membership: Default::default(),
                })));
            }
            batches.push(WriteBatch { id, records });
        }
        let last = batches.last().unwrap().id;
        let mut batches = batches.into_iter();
        for batch in batches.by_ref().take(3) {
            storage.submit(batch);
        }
        assert_eq!(flush(&mut storage).await, Some(last - 2));
        for batch in batches {
            storage.submit(batch);
        }
        if round % 2 == 1 {
            // Kill with one write in flight and one queued: those two are lost, the first three survive.
            storage.crash();
            id = 0;
        } else {
            assert_eq!(flush(&mut storage).await, Some(last));
        }
        storage.settled().await.unwrap();
        let durable = storage.durable().clone();
        assert_eq!(reread(cluster, 2).await.unwrap(), durable, "round {round}");
        // A restart rebuilds the storage from IndexedDB alone.
        storage = IndexedDbStorage::open(cluster, 2).await.unwrap();
        assert_eq!(*storage.durable(), durable);
    }
    assert!(storage.durable().snapshot.is_some());
}

// ---- unreadable, old and new records ------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn corrupted_records_give_the_documented_error() {
    let cluster = "test/corrupt";
    let mut storage = fresh_node(cluster, 1).await;
    storage.submit(conformance::every_record_type_batch(1));
    flush(&mut storage).await;
    drop(storage);

    put_raw(cluster, stores::ENTRIES, entry_key(1, 4), JsValue::from_str("{not json")).await;
    let message = corrupt_message(reread(cluster, 1).await);
    assert!(message.starts_with("the entries record [1, 4] is not JSON"), "{message}");
    assert_eq!(reread(cluster, 2).await, Ok(State::default()), "another node's records are still readable");

    put_raw(cluster, stores::ENTRIES, entry_key(1, 4), JsValue::from_f64(3.0)).await;
    let message = corrupt_message(reread(cluster, 1).await);
    assert!(message.contains("it is a number, not JSON text"), "{message}");

    put_raw(cluster, stores::ENTRIES, entry_key(1, 4), JsValue::from_str(r#"{"schema":1,"ballot":7}"#)).await;
    let message = corrupt_message(reread(cluster, 1).await);
    assert!(message.starts_with("the entries record [1, 4] does not decode"), "{message}");

    put_raw(cluster, stores::ACCEPTOR, JsValue::from(1), JsValue::from_str(r#"{"promised":{"round":1,"node":1}}"#))
        .await;
    let message = corrupt_message(reread(cluster, 1).await);
    assert_eq!(message, "the acceptor record 1 has no schema version");
    assert_eq!(
        StorageError::Corrupt(message).to_string(),
        "stored data is unreadable: the acceptor record 1 has no schema version"
    );
}

#[wasm_bindgen_test]
async fn newer_records_and_databases_are_refused() {
    let cluster = "test/newer";
    fresh(cluster).await;
    let newer_version = codec::SCHEMA_VERSION + 1;
    let newer = format!(r#"{{"schema":{newer_version},"promised":{{"round":1,"node":1}},"chosen_upto":0}}"#);
    put_raw(cluster, stores::ACCEPTOR, JsValue::from(1), JsValue::from_str(&newer)).await;
    let message = corrupt_message(reread(cluster, 1).await);
    let expected = format!("acceptor record 1 has schema version {newer_version}");
    assert!(message.contains(&expected) && message.contains("newer build"), "{message}");

    put_raw(cluster, stores::META, JsValue::from_str("schema"), JsValue::from_str(r#"{"schema":5,"format":"synod"}"#))
        .await;
    match ClusterDb::open(cluster).await {
        Err(StorageError::Corrupt(message)) => assert!(message.contains("schema version 5"), "{message}"),
        other => {
            panic!("a database whose meta record is newer must not open: {:?}", other.map(|db| db.name().to_owned()))
        }
    }

    // A newer build's database version (its object stores may differ).
    let cluster = "test/newer-database";
    clear_cluster(cluster).await.unwrap();
    let database =
        Factory::new().unwrap().open(&codec::database_name(cluster), Some(codec::DATABASE_VERSION + 1)).unwrap();
    database.await.unwrap().close();
    match ClusterDb::open(cluster).await {
        Err(StorageError::Corrupt(message)) => assert!(message.contains("newer build"), "{message}"),
        other => panic!("a newer database version must not open: {:?}", other.map(|db| db.name().to_owned())),
    }
    clear_cluster(cluster).await.unwrap();
}

#[wasm_bindgen_test]
async fn version_0_records_are_migrated_and_rewritten() {
    let cluster = "test/version-0";
    fresh(cluster).await;
    let acceptor = r#"{"schema":0,"promised":"3.2","chosen_upto":1}"#;
    put_raw(cluster, stores::ACCEPTOR, JsValue::from(2), JsValue::from_str(acceptor)).await;
    let entry = r#"{"schema":0,"ballot":"3.1","value":"Noop","chosen":true}"#;
    put_raw(cluster, stores::ENTRIES, entry_key(2, 0), JsValue::from_str(entry)).await;

    let state = reread(cluster, 2).await.unwrap();
    assert_eq!(state.promised, Ballot::new(3, 2));
    assert_eq!(state.chosen_upto, 1);
    assert_eq!(state.entries[&0], Entry { ballot: Ballot::new(3, 1), value: Value::Noop, chosen: true });
    let stored = get_raw(cluster, stores::ACCEPTOR, JsValue::from(2)).await.unwrap().as_string().unwrap();
    assert_eq!(stored, codec::encode_acceptor(codec::AcceptorRecord { promised: Ballot::new(3, 2), chosen_upto: 1 }));
    let stored = get_raw(cluster, stores::ENTRIES, entry_key(2, 0)).await.unwrap().as_string().unwrap();
    assert!(stored.starts_with(r#"{"schema":2,"ballot":{"round":3,"node":1}"#), "rewritten in version 2: {stored}");
    assert_eq!(reread(cluster, 2).await.unwrap(), state, "and reads the same again");
}

// ---- reset, other tabs, unavailable, quota ------------------------------------------------------------------

#[wasm_bindgen_test]
async fn clear_cluster_empties_it_and_stops_its_old_connections() {
    let cluster = "test/clear";
    let mut storage = fresh_node(cluster, 1).await;
    storage.submit(conformance::every_record_type_batch(1));
    flush(&mut storage).await;
    storage.db().put_trace("position", &Json::parse(r#"{"tick":5}"#).unwrap()).await.unwrap();

    clear_cluster(cluster).await.expect("this tab's own connection lets go");
    assert!(storage.db().closed_because().unwrap().contains("deleted"), "the old connection knows why it closed");
    storage.submit(promise_batch(2, 4));
    match storage.settled().await {
        Err(StorageError::Blocked(message)) => assert!(message.contains("deleted"), "{message}"),
        other => panic!("a write to a deleted cluster must fail: {other:?}"),
    }
    assert!(matches!(storage.poll_durable(), Err(StorageError::Blocked(_))), "and surfaces from poll_durable");
    assert_eq!(storage.unsynced(), 1, "nothing later is reported durable");

    let db = ClusterDb::open(cluster).await.unwrap();
    assert_eq!(db.load::<KvCommand, KvStore>(&[1]).await.unwrap(), [State::default()]);
    assert_eq!(db.trace_keys().await.unwrap(), Vec::<String>::new());
}

#[wasm_bindgen_test]
async fn clear_cluster_reports_a_tab_that_does_not_let_go() {
    let cluster = "test/clear-blocked";
    drop(fresh(cluster).await);
    // A connection without a versionchange handler, as an old or broken tab would hold.
    let stubborn = Factory::new().unwrap().open(&codec::database_name(cluster), None).unwrap().await.unwrap();
    match clear_cluster(cluster).await {
        Err(StorageError::Blocked(message)) => assert!(message.contains("as soon as that tab closes"), "{message}"),
        other => panic!("expected Blocked, got {other:?}"),
    }
    stubborn.close();
    // The delete goes through once the other connection closes; the next open starts afresh.
    let db = ClusterDb::open(cluster).await.unwrap();
    assert_eq!(db.load::<KvCommand, KvStore>(&[1]).await.unwrap(), [State::default()]);
}

#[wasm_bindgen_test]
async fn another_tab_upgrading_the_database_closes_this_one() {
    let cluster = "test/versionchange";
    let mut storage = fresh_node(cluster, 1).await;
    storage.submit(promise_batch(1, 2));
    flush(&mut storage).await;
    // A newer build in another tab opens version 2: this tab must let go, or the other would be blocked.
    let newer =
        Factory::new().unwrap().open(&codec::database_name(cluster), Some(codec::DATABASE_VERSION + 1)).unwrap();
    newer.await.expect("not blocked by this tab").close();
    let why = storage.db().closed_because().expect("closed");
    assert!(why.contains("newer build"), "{why}");
    storage.submit(promise_batch(2, 3));
    assert!(matches!(storage.settled().await, Err(StorageError::Blocked(_))));
    clear_cluster(cluster).await.unwrap();
}

#[wasm_bindgen_test]
async fn no_indexeddb_means_unavailable() {
    // Hide `indexedDB` as a browser with it disabled would, then put it back.
    let global = js_sys::global();
    let key = JsValue::from_str("indexedDB");
    let original = Object::get_own_property_descriptor(&global, &key);
    assert!(!original.is_undefined(), "indexedDB is an own property of the window");
    let hidden = Object::new();
    Reflect::set(&hidden, &JsValue::from_str("value"), &JsValue::UNDEFINED).unwrap();
    Reflect::set(&hidden, &JsValue::from_str("configurable"), &JsValue::TRUE).unwrap();
    Object::define_property(&global, &key, &hidden);
    let result = ClusterDb::open("test/unavailable").await;
    Object::define_property(&global, &key, original.unchecked_ref());
    match result {
        Err(StorageError::Unavailable(message)) => assert!(message.contains("no IndexedDB"), "{message}"),
        other => panic!("expected Unavailable, got {:?}", other.map(|db| db.name().to_owned())),
    }
    drop(fresh("test/unavailable").await);
}

#[wasm_bindgen_test]
fn a_quota_error_is_recognised() {
    let exception = web_sys::DomException::new_with_message_and_name("Quota exceeded.", "QuotaExceededError").unwrap();
    match indexeddb::storage_error("node 1's write failed", &exception.into()) {
        StorageError::QuotaExceeded(message) => assert!(message.starts_with("node 1's write failed"), "{message}"),
        other => panic!("expected QuotaExceeded, got {other:?}"),
    }
    let exception = web_sys::DomException::new_with_message_and_name("Oops.", "UnknownError").unwrap();
    assert_eq!(
        indexeddb::storage_error("reading", &exception.into()),
        StorageError::Other("reading: UnknownError: Oops.".into())
    );
}

#[wasm_bindgen_test]
async fn trace_documents_round_trip() {
    let cluster = "test/trace";
    let db = fresh(cluster).await;
    let position = Json::parse(r#"{"tick":1234,"seed":7,"actions":[{"crash":2},{"put":["k","v"]}]}"#).unwrap();
    db.put_trace("position", &position).await.unwrap();
    db.put_trace("config", &String::from("five nodes")).await.unwrap();
    let again = ClusterDb::open(cluster).await.unwrap();
    assert_eq!(again.get_trace::<Json>("position").await.unwrap(), Some(position));
    assert_eq!(again.trace_keys().await.unwrap(), ["config", "position"]);
    again.delete_trace("config").await.unwrap();
    assert_eq!(db.get_trace::<String>("config").await.unwrap(), None);
    put_raw(cluster, stores::TRACE, JsValue::from_str("bad"), JsValue::from_str("[")).await;
    assert!(matches!(db.get_trace::<Json>("bad").await, Err(StorageError::Corrupt(_))));
}

// ---- two tabs: the driver lock --------------------------------------------------------------------------------

#[wasm_bindgen_test]
async fn one_tab_drives_a_cluster_and_another_can_take_over() {
    let cluster = "test/lock";
    let LockAttempt::Acquired(first) = try_lock_cluster(cluster).await.unwrap() else { panic!("the lock is free") };
    assert!(first.is_held());
    assert_eq!(first.name(), "synod-driver-test/lock");
    // Web Locks do not tell tabs apart from requests within one tab, so a second request plays the other tab.
    assert!(matches!(try_lock_cluster(cluster).await.unwrap(), LockAttempt::HeldElsewhere));
    assert!(matches!(try_lock_cluster("test/lock-other").await.unwrap(), LockAttempt::Acquired(_)), "per cluster");

    let second = take_over_cluster(cluster).await.unwrap();
    assert!(second.is_held());
    assert_eq!(first.lost().await, LockLoss::Stolen, "the first tab learns it must stop driving");
    assert!(!first.is_held());

    second.release().await;
    let LockAttempt::Acquired(third) = try_lock_cluster(cluster).await.unwrap() else { panic!("released") };
    drop(third);
    let fourth = wait_for_cluster(cluster).await.unwrap();
    assert!(fourth.is_held(), "dropping a lock releases it too");
}

/// Chromium and Firefox both free a released lock a task or more later; a page that lets go of its cluster and
/// opens it again at once (or a frame that replaces another) must not take itself for another tab.
#[wasm_bindgen_test]
async fn a_lock_let_go_just_now_is_taken_by_the_next_request() {
    for round in 0..5 {
        let LockAttempt::Acquired(lock) = try_lock_cluster("test/relock").await.unwrap() else { panic!("free") };
        drop(lock);
        let again = try_lock_cluster("test/relock").await.unwrap();
        assert!(matches!(again, LockAttempt::Acquired(_)), "round {round}: the lock is free again");
    }
}

// ---- a cluster driven on IndexedDB ----------------------------------------------------------------------------

/// Three real nodes on IndexedDB, driven as the browser driver will: each step every node ticks, receives,
/// and hands out its `Ready`; its batch goes to its storage; messages go out only as the node releases them
/// (after `persisted`), and every message is checked against the sender's acknowledged state.
struct Driver {
    cluster: String,
    nodes: BTreeMap<NodeId, Node<KvStore>>,
    storages: BTreeMap<NodeId, KvIdb>,
    network: VecDeque<Envelope<KvCommand, KvStore>>,
    /// Puts a client saw succeed, key → value.
    acknowledged: BTreeMap<String, String>,
    next_seq: u64,
}

const NODES: [NodeId; 3] = [1, 2, 3];

fn config(id: NodeId) -> Config {
    Config { snapshot_interval: 16, ..Config::cluster(id, NODES.len()) }
}

impl Driver {
    /// Opens the cluster and rebuilds every node from IndexedDB: the start after a page load.
    async fn load(cluster: &str) -> Driver {
        let db = ClusterDb::open(cluster).await.unwrap();
        let storages: Vec<KvIdb> = db.node_storages(&NODES).await.unwrap();
        let nodes =
            storages.iter().map(|s| (s.node(), Node::recover(config(s.node()), s.durable()).unwrap())).collect();
        let storages = storages.into_iter().map(|s| (s.node(), s)).collect();
        Driver {
            cluster: cluster.into(),
            nodes,
            storages,
            network: VecDeque::new(),
            acknowledged: BTreeMap::new(),
            next_seq: 1,
        }
    }

    async fn step(&mut self) {
        for envelope in std::mem::take(&mut self.network) {
            self.nodes.get_mut(&envelope.to).unwrap().receive(envelope);
        }
        for (id, node) in &mut self.nodes {
            node.tick();
            let ready = node.ready();
            for envelope in ready.messages {
                self.storages[id].durable().backs(&envelope.message).expect("persist before send");
                self.network.push_back(envelope);
            }
            for reply in ready.replies {
                if let Ok((_, KvOutput::Ok)) = reply.result {
                    let key = format!("key{}", reply.seq);
                    self.acknowledged.insert(key, format!("value{}", reply.seq));
                }
            }
            if let Some(batch) = ready.write.filter(|batch| !batch.records.is_empty()) {
                self.storages.get_mut(id).unwrap().submit(batch);
            }
        }
        for (id, storage) in &mut self.storages {
            storage.settled().await.expect("the writes commit");
            if let Some(batch) = storage.poll_durable().unwrap() {
                self.nodes.get_mut(id).unwrap().persisted(batch);
            }
        }
    }

    fn leader(&mut self) -> Option<&mut Node<KvStore>> {
        self.nodes.values_mut().find(|node| node.role() == RoleKind::Leader)
    }

    /// Puts `count` new keys through the leader (a client retries nothing: unacknowledged puts may be lost).
    async fn put(&mut self, count: u64) {
        let mut steps = 0;
        while self.leader().is_none() {
            self.step().await;
            steps += 1;
            assert!(steps < 200, "a leader is elected");
        }
        for _ in 0..count {
            let seq = self.next_seq;
            self.next_seq += 1;
            let command = KvCommand::Put { key: format!("key{seq}"), value: format!("value{seq}") };
            self.leader().unwrap().propose(Request { client: 1, seq, command });
        }
        for _ in 0..12 {
            self.step().await;
        }
    }

    /// Kills a node (its memory is gone, its unacknowledged writes are lost) and restarts it from storage.
    fn kill_and_restart(&mut self, id: NodeId) {
        let storage = self.storages.get_mut(&id).unwrap();
        storage.crash();
        self.nodes.insert(id, Node::recover(config(id), storage.durable()).unwrap());
    }

    /// Every acknowledged put is in every node's store, once the nodes caught up.
    async fn check_every_acknowledged_write(&mut self) {
        for _ in 0..300 {
            let complete =
                |node: &Node<KvStore>| self.acknowledged.iter().all(|(k, v)| node.machine().get(k) == Some(v));
            if self.nodes.values().all(complete) {
                return;
            }
            self.step().await;
        }
        panic!("an acknowledged write is missing after {} reloads", self.cluster);
    }
}

/// The storage half of the issue's end-to-end test: writes, kills, and several "page reloads" (everything in
/// memory dropped, the cluster rebuilt from IndexedDB alone, messages in flight lost); every acknowledged
/// write is still there. The page-level version (a real reload) belongs to the UI's Playwright tests.
#[wasm_bindgen_test]
async fn acknowledged_writes_survive_kills_and_reloads() {
    let cluster = "test/driven";
    drop(fresh(cluster).await);
    let mut driver = Driver::load(cluster).await;
    let mut acknowledged = BTreeMap::new();
    for reload in 0..3u64 {
        driver.next_seq = 1 + reload * 1000;
        driver.put(20).await;
        driver.kill_and_restart(2);
        driver.put(20).await;
        acknowledged.append(&mut driver.acknowledged.clone());
        assert!(acknowledged.len() as u64 >= 20 * (reload + 1), "most puts are acknowledged: {}", acknowledged.len());
        // Reload: drop every node, storage and message; read the cluster back.
        let states: BTreeMap<NodeId, State> =
            driver.storages.iter().map(|(id, s)| (*id, s.durable().clone())).collect();
        drop(driver);
        driver = Driver::load(cluster).await;
        for (id, state) in &states {
            assert_eq!(
                driver.storages[id].durable(),
                state,
                "reload {reload}: node {id} reads back what it acknowledged"
            );
        }
        driver.acknowledged = acknowledged.clone();
        driver.check_every_acknowledged_write().await;
    }
    let snapshots = driver.storages.values().filter(|s| s.durable().snapshot.is_some()).count();
    assert!(snapshots > 0, "the log was compacted along the way");
}

// ---- benchmarks (ignored) -------------------------------------------------------------------------------------

fn now_ms() -> f64 {
    web_sys::window().and_then(|window| window.performance()).expect("performance").now()
}

fn accept_batches(count: u64, per_batch: u64) -> Vec<WriteBatch<KvCommand, KvStore>> {
    let ballot = Ballot::new(1, 1);
    (0..count / per_batch)
        .map(|batch| WriteBatch {
            id: batch + 1,
            records: (0..per_batch)
                .map(|i| {
                    let slot = batch * per_batch + i;
                    let command =
                        KvCommand::Put { key: format!("key{}", slot % 1000), value: format!("value-{slot:08}") };
                    Record::Accept { slot, ballot, value: Value::command(Request { client: 1, seq: slot, command }) }
                })
                .collect(),
        })
        .collect()
}

/// Records per second written in batches: all submitted at once (the queue keeps one transaction in
/// flight), and one batch at a time waiting for each (a driver that waits every step).
#[wasm_bindgen_test]
#[ignore]
async fn benchmark_records_per_second() {
    const RECORDS: u64 = 5_000;
    for durability in [Durability::Strict, Durability::Relaxed] {
        for per_batch in [1, 50, 500] {
            for wait_each in [false, true] {
                let records = if per_batch == 1 { RECORDS / 10 } else { RECORDS };
                let mut storage = fresh_node("bench/records", 1).await;
                storage.set_durability(durability);
                let start = now_ms();
                for batch in accept_batches(records, per_batch) {
                    storage.submit(batch);
                    if wait_each {
                        storage.settle().await;
                    }
                }
                storage.settled().await.unwrap();
                let elapsed = now_ms() - start;
                assert_eq!(storage.poll_durable().unwrap(), Some(records / per_batch));
                console_log!(
                    "{durability:?}, {per_batch} records per batch, {}: {records} records in {elapsed:.0} ms = {:.0} records/s, {:.2} ms per transaction",
                    if wait_each { "waiting for each batch" } else { "all queued" },
                    records as f64 / elapsed * 1000.0,
                    elapsed / (records / per_batch) as f64,
                );
            }
        }
    }
    clear_cluster("bench/records").await.unwrap();
}

/// The state of a node that applied `commands` puts (over 1,000 keys, 10 clients), as its snapshot.
fn applied_state(commands: u64) -> KvStore {
    let mut store = KvStore::default();
    for seq in 1..=commands {
        let command = KvCommand::Put { key: format!("key{}", seq % 1000), value: format!("value-{seq:08}") };
        store.apply(&Request { client: seq % 10, seq, command });
    }
    store
}

/// Time to read back a 5-node cluster that applied 10,000 commands: with a snapshot at 10,000 and a log
/// suffix of 100 entries per node (what compaction leaves), and, for comparison, with all 10,000 entries.
#[wasm_bindgen_test]
#[ignore]
async fn benchmark_recovery_of_five_nodes() {
    const COMMANDS: u64 = 10_000;
    const SUFFIX: u64 = 100;
    let nodes: Vec<NodeId> = (1..=5).collect();
    let ballot = Ballot::new(1, 1);
    for compacted in [true, false] {
        let cluster = if compacted { "bench/recovery-snapshot" } else { "bench/recovery-log" };
        let db = fresh(cluster).await;
        let state = applied_state(COMMANDS);
        for &node in &nodes {
            let mut storage: KvIdb = db.node_storage(node).await.unwrap();
            let mut records = vec![Record::Promise(ballot), Record::ChosenUpTo(COMMANDS)];
            let batches = if compacted {
                records.push(Record::Snapshot(Box::new(Snapshot {
                    upto: COMMANDS,
                    state: state.clone(),
                    membership: Default::default(),
                })));
                accept_batches(COMMANDS + SUFFIX, SUFFIX).split_off((COMMANDS / SUFFIX) as usize)
            } else {
                accept_batches(COMMANDS, 500)
            };
            storage.submit(WriteBatch { id: 1, records });
            for (id, mut batch) in batches.into_iter().enumerate() {
                batch.id = id as u64 + 2;
                storage.submit(batch);
            }
            storage.settled().await.unwrap();
        }
        drop(db);
        let mut times = Vec::new();
        for _ in 0..5 {
            let start = now_ms();
            let db = ClusterDb::open(cluster).await.unwrap();
            let storages: Vec<KvIdb> = db.node_storages(&nodes).await.unwrap();
            let rebuilt: Vec<Node<KvStore>> =
                storages.iter().map(|s| Node::recover(config_of(s.node()), s.durable()).unwrap()).collect();
            times.push(now_ms() - start);
            assert!(rebuilt.iter().all(|node| node.machine().data.len() == 1000));
        }
        times.sort_by(f64::total_cmp);
        console_log!(
            "recover 5 nodes, {COMMANDS} applied commands, {}: median {:.0} ms (min {:.0}, max {:.0}) for open + read + Node::recover",
            if compacted { "snapshot + 100-entry suffix" } else { "no snapshot, 10,000 entries each" },
            times[2],
            times[0],
            times[4]
        );
        clear_cluster(cluster).await.unwrap();
    }
}

fn config_of(id: NodeId) -> Config {
    Config::cluster(id, 5)
}
