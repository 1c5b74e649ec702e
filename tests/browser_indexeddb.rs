//! IndexedDB works from Rust in a real browser: a record written in one readwrite transaction, committed,
//! reads back equal in a new transaction. Runs in headless Chromium (`cargo test --target
//! wasm32-unknown-unknown`, see .cargo/config.toml).
#![cfg(target_arch = "wasm32")]

use idb::{DatabaseEvent, Factory, ObjectStoreParams, TransactionMode, TransactionResult};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const STORE: &str = "records";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Record {
    slot: u64,
    ballot: (u64, u32),
    command: String,
    bytes: Vec<u8>,
}

/// Deletes any database left by an earlier run, then opens a fresh one with one object store.
async fn fresh_database(name: &str) -> idb::Database {
    let factory = Factory::new().expect("IndexedDB is available");
    factory.delete(name).expect("delete request").await.expect("delete the old database");
    let mut open = factory.open(name, Some(1)).expect("open request");
    open.on_upgrade_needed(|event| {
        let database = event.database().expect("database in upgrade event");
        database.create_object_store(STORE, ObjectStoreParams::new()).expect("create object store");
    });
    open.await.expect("open the database")
}

#[wasm_bindgen_test]
async fn record_round_trips_through_indexeddb() {
    let name = "synod-test-roundtrip";
    let database = fresh_database(name).await;
    let record = Record { slot: 7, ballot: (3, 1), command: "put k v".into(), bytes: vec![0, 1, 254, 255] };
    let key = JsValue::from_str("slot/7");

    // Write in one readwrite transaction and wait for its `complete` event, not just the request's success.
    let write = database.transaction(&[STORE], TransactionMode::ReadWrite).expect("readwrite transaction");
    let value = serde_wasm_bindgen::to_value(&record).expect("record to JS");
    write.object_store(STORE).expect("store").put(&value, Some(&key)).expect("put request").await.expect("put");
    let outcome = write.commit().expect("commit").await.expect("transaction completes");
    assert_eq!(outcome, TransactionResult::Committed);

    // Read back in a new transaction.
    let read = database.transaction(&[STORE], TransactionMode::ReadOnly).expect("readonly transaction");
    let stored = read.object_store(STORE).expect("store").get(key).expect("get request").await.expect("get");
    let stored = stored.expect("the record was stored");
    let back: Record = serde_wasm_bindgen::from_value(stored).expect("JS to record");
    assert_eq!(back, record);
    assert_eq!(read.await.expect("read transaction completes"), TransactionResult::Committed);

    // Negative space: a key never written reads as absent.
    let read = database.transaction(&[STORE], TransactionMode::ReadOnly).expect("readonly transaction");
    let missing = read.object_store(STORE).expect("store").get(JsValue::from_str("slot/8")).expect("get").await;
    assert!(missing.expect("get").is_none());

    database.close();
    Factory::new().unwrap().delete(name).unwrap().await.expect("clean up the test database");
}
