//! One cluster's database: opening it (creating or upgrading its object stores), noticing another tab's
//! upgrade or delete, reading nodes back, the `trace` documents, and deleting the whole cluster.

use std::cell::RefCell;
use std::rc::Rc;

use idb::{KeyRange, ObjectStoreParams, Query, TransactionMode};
use js_sys::Array;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{DomException, Event, IdbDatabase, IdbFactory, IdbOpenDbRequest, IdbTransaction, IdbVersionChangeEvent};

use super::js::{self, Durability};
use super::IndexedDbStorage;
use crate::paxos::{DurableState, NodeId, Slot};
use crate::storage::codec::{self, stores, DecodeError, NodeRecords, Problem, RecordKey, Write};
use crate::storage::json::Stored;
use crate::storage::StorageError;

/// An open connection to one cluster's database, shared (cheaply cloned) by the storages of its nodes.
///
/// When another tab upgrades or deletes the database (a newer build, or "reset cluster" there), the browser
/// fires `versionchange` here; the connection closes at once so the other tab is not blocked, and every later
/// write of this tab's nodes fails with `StorageError::Blocked` saying why ([`ClusterDb::closed_because`]).
#[derive(Clone)]
pub struct ClusterDb {
    connection: Rc<Connection>,
}

impl std::fmt::Debug for ClusterDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterDb").field("name", &self.name()).field("closed_because", &self.closed_because()).finish()
    }
}

pub(super) struct Connection {
    cluster: String,
    name: String,
    pub(super) database: IdbDatabase,
    /// Why the connection closed under us, if it did.
    closed: Rc<RefCell<Option<String>>>,
    _on_version_change: Closure<dyn FnMut(IdbVersionChangeEvent)>,
    _on_close: Closure<dyn FnMut(Event)>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.database.set_onversionchange(None);
        self.database.set_onclose(None);
        // Waits for running transactions: a dropped storage's last writes still commit.
        self.database.close();
    }
}

impl Connection {
    /// The error for a request that failed because the connection is gone, or `None` if it is not.
    pub(super) fn closed_error(&self) -> Option<StorageError> {
        self.closed.borrow().clone().map(StorageError::Blocked)
    }

    pub(super) fn error(&self, context: &str, error: &JsValue) -> StorageError {
        self.closed_error().unwrap_or_else(|| js::storage_error(context, error))
    }
}

fn factory() -> Result<IdbFactory, StorageError> {
    let factory = idb::Factory::new().map_err(|error| {
        StorageError::Unavailable(format!(
            "this browser offers no IndexedDB here ({error}); the cluster lives in memory"
        ))
    })?;
    Ok(factory.into())
}

/// Creates what each database version added. Runs inside the `versionchange` transaction of an open that
/// found an older (or no) database; a failure aborts it, and the open fails with the reason.
fn upgrade(event: &IdbVersionChangeEvent) -> Result<(), String> {
    let request: IdbOpenDbRequest =
        event.target().ok_or("no request")?.dyn_into().map_err(|_| "not an open request")?;
    let database = idb::Database::from(
        request.result().map_err(|_| "no database")?.dyn_into::<IdbDatabase>().map_err(|_| "not a database")?,
    );
    let transaction = request.transaction().ok_or("no upgrade transaction")?;
    let old = event.old_version() as u32;
    if old < 1 {
        for store in stores::ALL {
            database.create_object_store(store, ObjectStoreParams::new()).map_err(|error| error.to_string())?;
        }
        let meta = transaction.object_store(stores::META).map_err(|error| js::describe(&error).1)?;
        meta.put_with_key(&JsValue::from_str(&codec::encode_meta()), &JsValue::from_str(codec::META_KEY))
            .map_err(|error| js::describe(&error).1)?;
    }
    // A database version 2 would add `if old < 2 { … }` here.
    Ok(())
}

pub(super) fn node_key(node: NodeId) -> JsValue {
    JsValue::from(node)
}

pub(super) fn entry_key(node: NodeId, slot: f64) -> JsValue {
    Array::of2(&JsValue::from(node), &JsValue::from_f64(slot)).into()
}

/// Every entry key of `node` with `from <= slot < to` (`to: None`: no upper end).
fn entry_range(node: NodeId, from: Slot, to: Option<Slot>) -> Result<KeyRange, JsValue> {
    let upper = entry_key(node, to.map_or(f64::INFINITY, |to| to as f64));
    KeyRange::bound(&entry_key(node, from as f64), &upper, Some(false), Some(to.is_some()))
        .map_err(|error| JsValue::from_str(&error.to_string()))
}

/// Issues `writes` for `node` in `transaction` (requests only, no waiting: the caller awaits the
/// transaction's `complete`).
pub(super) fn perform(transaction: &IdbTransaction, node: NodeId, writes: &[Write]) -> Result<(), JsValue> {
    let transaction = idb::Transaction::from(transaction.clone());
    let store = |name| transaction.object_store(name).map_err(|error| JsValue::from_str(&error.to_string()));
    let (acceptor, entries, snapshots) = (store(stores::ACCEPTOR)?, store(stores::ENTRIES)?, store(stores::SNAPSHOTS)?);
    let fail = |error: idb::Error| JsValue::from_str(&error.to_string());
    for write in writes {
        match write {
            Write::Acceptor(json) => drop(acceptor.put(&JsValue::from_str(json), Some(&node_key(node))).map_err(fail)?),
            Write::Entry { slot, json } => {
                drop(entries.put(&JsValue::from_str(json), Some(&entry_key(node, *slot as f64))).map_err(fail)?)
            }
            Write::Snapshot(json) => {
                drop(snapshots.put(&JsValue::from_str(json), Some(&node_key(node))).map_err(fail)?)
            }
            Write::DeleteSnapshot => drop(snapshots.delete(Query::Key(node_key(node))).map_err(fail)?),
            Write::DeleteEntries { from, to } => {
                drop(entries.delete(Query::KeyRange(entry_range(node, *from, *to)?)).map_err(fail)?)
            }
        }
    }
    Ok(())
}

/// A stored value that should be JSON text.
fn text(store: &'static str, key: RecordKey, value: &JsValue) -> Result<String, DecodeError> {
    value.as_string().ok_or_else(|| DecodeError {
        store,
        key,
        problem: Problem::BadShape(format!(
            "it is a {}, not JSON text",
            value.js_typeof().as_string().unwrap_or_default()
        )),
    })
}

fn slot_of(node: NodeId, key: &JsValue) -> Result<Slot, DecodeError> {
    let slot = Array::from(key).get(1).as_f64().filter(|slot| slot.fract() == 0.0 && *slot >= 0.0);
    slot.map(|slot| slot as Slot).ok_or_else(|| DecodeError {
        store: stores::ENTRIES,
        key: RecordKey::Name(format!("{key:?}")),
        problem: Problem::BadShape(format!("the key is not [{node}, slot]")),
    })
}

fn idb_error(context: &str) -> impl Fn(idb::Error) -> StorageError + '_ {
    move |error| StorageError::Other(format!("{context}: {error}"))
}

/// Why opening `cluster`'s database failed, from the request's exception and, if the upgrade itself failed,
/// its reason.
fn open_failure(cluster: &str, exception: Option<DomException>, upgrade_failure: Option<String>) -> StorageError {
    let (kind, message) = exception.map(|e| (e.name(), e.message())).unwrap_or_default();
    match (kind.as_str(), upgrade_failure) {
        (_, Some(why)) => StorageError::Corrupt(format!("cannot create the stores of cluster {cluster:?}: {why}")),
        ("VersionError", _) => StorageError::Corrupt(format!(
            "cluster {cluster:?} was stored by a newer build of Synod (database version above {}); use that build, \
             or reset the cluster",
            codec::DATABASE_VERSION
        )),
        ("QuotaExceededError", _) => {
            StorageError::QuotaExceeded(format!("no room to create cluster {cluster:?}: {message}"))
        }
        _ => StorageError::Unavailable(format!("cannot open cluster {cluster:?}: {kind}: {message}")),
    }
}

/// One node's records as read, decoded into its durable state, and whether any was of an older schema.
fn decode_node<C, Snap>(
    node: NodeId,
    acceptor: Option<JsValue>,
    snapshot: Option<JsValue>,
    keys: &[JsValue],
    values: &[JsValue],
) -> Result<(DurableState<C, Snap>, bool), StorageError>
where
    C: Clone + Stored,
    Snap: Clone + Stored,
{
    assert_eq!(keys.len(), values.len(), "getAllKeys and getAll over one range in one transaction agree");
    let mut migrated = false;
    let acceptor = match acceptor {
        Some(value) => {
            let decoded = codec::decode_acceptor(node, &text(stores::ACCEPTOR, RecordKey::Node(node), &value)?)?;
            migrated |= decoded.migrated;
            Some(decoded.value)
        }
        None => None,
    };
    let snapshot = match snapshot {
        Some(value) => {
            let json = text(stores::SNAPSHOTS, RecordKey::Node(node), &value)?;
            let decoded = codec::decode_snapshot(node, &json)?;
            migrated |= decoded.migrated;
            Some(decoded.value)
        }
        None => None,
    };
    let mut entries = Vec::with_capacity(keys.len());
    for (key, value) in keys.iter().zip(values) {
        let slot = slot_of(node, key)?;
        let decoded = codec::decode_entry(node, slot, &text(stores::ENTRIES, RecordKey::Entry(node, slot), value)?)?;
        migrated |= decoded.migrated;
        entries.push((slot, decoded.value));
    }
    let state = NodeRecords { node, acceptor, snapshot, entries }.into_state()?;
    Ok((state, migrated))
}

impl ClusterDb {
    /// Opens (creating or upgrading) the database of `cluster`. Errors:
    /// - `Unavailable`: no IndexedDB here (disabled, a private window that refuses it, an opaque origin); the
    ///   caller runs the cluster in memory and says so.
    /// - `Blocked`: another tab holds an older version open and does not close it. This open keeps waiting in
    ///   the background and closes the connection if it ever succeeds; try again later.
    /// - `Corrupt`: a newer build's database, or not a Synod database; offer to reset the cluster.
    /// - `QuotaExceeded`: no room even to create it.
    pub async fn open(cluster: &str) -> Result<ClusterDb, StorageError> {
        let name = codec::database_name(cluster);
        let request = factory()?.open_with_u32(&name, codec::DATABASE_VERSION).map_err(|error| {
            let (kind, message) = js::describe(&error);
            StorageError::Unavailable(format!("the browser refused to open IndexedDB ({kind}: {message})"))
        })?;
        let upgrade_failure = Rc::new(RefCell::new(None::<String>));
        let on_upgrade = {
            let upgrade_failure = upgrade_failure.clone();
            Closure::<dyn FnMut(IdbVersionChangeEvent)>::new(move |event: IdbVersionChangeEvent| {
                if let Err(why) = upgrade(&event) {
                    *upgrade_failure.borrow_mut() = Some(why);
                    let request = event.target().and_then(|target| target.dyn_into::<IdbOpenDbRequest>().ok());
                    if let Some(transaction) = request.and_then(|request| request.transaction()) {
                        let _ = transaction.abort();
                    }
                }
            })
        };
        request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        let mut outcome = JsFuture::from(js::open_request_done(&request)).await;
        if outcome.as_ref().is_err_and(|event| js::event_type(event).as_deref() == Some("blocked")) {
            outcome = match js::wait_out_blocked(&request).await {
                Ok(true) => Ok(JsValue::UNDEFINED),
                Ok(false) => Err(JsValue::from_str("blocked")),
                Err(event) => Err(event),
            };
        }
        let outcome = match outcome {
            Ok(_) => Ok(()),
            Err(still) if still.as_string().as_deref() == Some("blocked") => {
                // The upgrade may still run once the other tab lets go: keep its handler, and close a
                // connection nobody is waiting for any more.
                on_upgrade.forget();
                let close_late = Closure::once_into_js(move |event: Event| {
                    let request = event.target().and_then(|target| target.dyn_into::<IdbOpenDbRequest>().ok());
                    if let Some(database) = request.and_then(|request| request.result().ok()) {
                        database.unchecked_into::<IdbDatabase>().close();
                    }
                });
                request.set_onsuccess(Some(close_late.unchecked_ref()));
                request.set_onblocked(None);
                return Err(StorageError::Blocked(format!(
                    "another tab keeps an older version of cluster {cluster:?} open; close it (or reload it) and \
                     try again"
                )));
            }
            Err(_) => Err(request.error().ok().flatten()),
        };
        request.set_onupgradeneeded(None);
        drop(on_upgrade);
        if let Err(exception) = outcome {
            return Err(open_failure(cluster, exception, upgrade_failure.borrow().clone()));
        }
        let database: IdbDatabase = request
            .result()
            .ok()
            .and_then(|result| result.dyn_into().ok())
            .ok_or_else(|| StorageError::Other("the open request succeeded without a database".into()))?;
        let connection = Connection::watch(cluster, name, database);
        let db = ClusterDb { connection: Rc::new(connection) };
        db.check_meta().await?;
        Ok(db)
    }

    pub fn cluster(&self) -> &str {
        &self.connection.cluster
    }

    /// The IndexedDB database's name (`synod-<cluster>`).
    pub fn name(&self) -> &str {
        &self.connection.name
    }

    /// Why the connection closed under this tab (another tab upgraded or deleted the database), if it did.
    pub fn closed_because(&self) -> Option<String> {
        self.connection.closed.borrow().clone()
    }

    pub(super) fn connection(&self) -> &Rc<Connection> {
        &self.connection
    }

    fn read_transaction(&self, names: &[&str]) -> Result<idb::Transaction, StorageError> {
        if let Some(error) = self.connection.closed_error() {
            return Err(error);
        }
        idb::Database::from(self.connection.database.clone())
            .transaction(names, TransactionMode::ReadOnly)
            .map_err(idb_error("cannot start a read"))
    }

    async fn check_meta(&self) -> Result<(), StorageError> {
        let names = idb::Database::from(self.connection.database.clone()).store_names();
        if let Some(missing) = stores::ALL.iter().find(|store| !names.iter().any(|name| name == *store)) {
            return Err(StorageError::Corrupt(format!(
                "database {:?} has no {missing} store: it was not made by Synod; reset it",
                self.name()
            )));
        }
        let transaction = self.read_transaction(&[stores::META])?;
        let meta = transaction.object_store(stores::META).map_err(idb_error("meta"))?;
        let request = meta.get(JsValue::from_str(codec::META_KEY)).map_err(idb_error("meta"))?;
        let value = request.await.map_err(idb_error("cannot read the meta record"))?;
        let key = || RecordKey::Name(codec::META_KEY.into());
        let value = value.ok_or_else(|| DecodeError { store: stores::META, key: key(), problem: Problem::NoSchema })?;
        codec::decode_meta(&text(stores::META, key(), &value)?)?;
        Ok(())
    }

    /// Reads the durable state of `nodes`, all in one read transaction. A node never written reads as empty.
    /// Records of an older schema version are migrated, and then rewritten in the current one.
    pub async fn load<C, Snap>(&self, nodes: &[NodeId]) -> Result<Vec<DurableState<C, Snap>>, StorageError>
    where
        C: Clone + Stored,
        Snap: Clone + Stored,
    {
        use std::future::IntoFuture;
        let transaction = self.read_transaction(&stores::NODE)?;
        let store = |name| transaction.object_store(name).map_err(idb_error("cannot read"));
        let (acceptors, entries, snapshots) =
            (store(stores::ACCEPTOR)?, store(stores::ENTRIES)?, store(stores::SNAPSHOTS)?);
        let range = |node| entry_range(node, 0, None).map_err(|error| js::storage_error("entry range", &error));
        // Every request is issued, and its future made (which registers its handlers), before the first
        // await: a request that completes before anyone listens would never be heard.
        let mut pending = Vec::with_capacity(nodes.len());
        for &node in nodes {
            let context = "cannot read a node";
            pending.push((
                node,
                acceptors.get(node_key(node)).map_err(idb_error(context))?.into_future(),
                snapshots.get(node_key(node)).map_err(idb_error(context))?.into_future(),
                entries
                    .get_all_keys(Some(Query::KeyRange(range(node)?)), None)
                    .map_err(idb_error(context))?
                    .into_future(),
                entries.get_all(Some(Query::KeyRange(range(node)?)), None).map_err(idb_error(context))?.into_future(),
            ));
        }
        let mut raw = Vec::with_capacity(nodes.len());
        for (node, acceptor, snapshot, keys, values) in pending {
            raw.push((node, acceptor.await, snapshot.await, keys.await, values.await));
        }
        let mut states = Vec::with_capacity(nodes.len());
        for (node, acceptor, snapshot, keys, values) in raw {
            let context = "cannot read a node";
            let (acceptor, snapshot) = (acceptor.map_err(idb_error(context))?, snapshot.map_err(idb_error(context))?);
            let (keys, values) = (keys.map_err(idb_error(context))?, values.map_err(idb_error(context))?);
            let (state, migrated) = decode_node(node, acceptor, snapshot, &keys, &values)?;
            if migrated {
                self.write(node, &codec::plan_rewrite(&state)).await?;
            }
            states.push(state);
        }
        Ok(states)
    }

    /// Reads `node` back and returns its storage (the recovery path after a kill or a page reload).
    pub async fn node_storage<C, Snap>(&self, node: NodeId) -> Result<IndexedDbStorage<C, Snap>, StorageError>
    where
        C: Clone + Stored + 'static,
        Snap: Clone + Stored + 'static,
    {
        let state = self.load(&[node]).await?.pop().expect("one state per node asked for");
        Ok(IndexedDbStorage::new(self.clone(), node, state))
    }

    /// The storages of `nodes`, read in one transaction (a page reload restoring the whole cluster).
    pub async fn node_storages<C, Snap>(&self, nodes: &[NodeId]) -> Result<Vec<IndexedDbStorage<C, Snap>>, StorageError>
    where
        C: Clone + Stored + 'static,
        Snap: Clone + Stored + 'static,
    {
        let states = self.load(nodes).await?;
        Ok(nodes.iter().zip(states).map(|(node, state)| IndexedDbStorage::new(self.clone(), *node, state)).collect())
    }

    /// Performs `writes` for `node` in one strict transaction and waits for it to commit.
    pub(super) async fn write(&self, node: NodeId, writes: &[Write]) -> Result<(), StorageError> {
        let transaction = self.start_write(&stores::NODE, Durability::Strict)?;
        perform(&transaction, node, writes).map_err(|error| {
            let _ = transaction.abort();
            self.connection.error("cannot write", &error)
        })?;
        self.finish_write(&transaction, "cannot write").await
    }

    pub(super) fn start_write(&self, names: &[&str], durability: Durability) -> Result<IdbTransaction, StorageError> {
        if let Some(error) = self.connection.closed_error() {
            return Err(error);
        }
        js::write_transaction(&self.connection.database, names, durability)
            .map_err(|error| self.connection.error("cannot start a write", &error))
    }

    async fn finish_write(&self, transaction: &IdbTransaction, context: &str) -> Result<(), StorageError> {
        match JsFuture::from(js::transaction_done(transaction)).await {
            Ok(_) => Ok(()),
            Err(_) => Err(self.connection.error(
                context,
                &transaction.error().map_or(JsValue::from_str("the transaction was aborted"), JsValue::from),
            )),
        }
    }

    /// Starts one strict transaction holding the `writes` of several nodes and the `trace` documents
    /// `documents` (key, JSON from `codec::encode_document`), and returns a future that resolves when it
    /// commits (or with why it did not). Everything in it lands together or not at all: the playground stores
    /// one tick's durable batches of every node with the run's position, so the two never disagree. The
    /// transaction is built before this returns, with no `await` in between.
    pub fn write_cluster(
        &self,
        writes: &[(NodeId, Vec<Write>)],
        documents: &[(&str, String)],
    ) -> Result<impl std::future::Future<Output = Result<(), StorageError>> + 'static, StorageError> {
        let names = [stores::ACCEPTOR, stores::ENTRIES, stores::SNAPSHOTS, stores::TRACE];
        let transaction = self.start_write(&names, Durability::Strict)?;
        let issued = (|| -> Result<(), JsValue> {
            for (node, node_writes) in writes {
                perform(&transaction, *node, node_writes)?;
            }
            let store = transaction.object_store(stores::TRACE)?;
            for (key, json) in documents {
                store.put_with_key(&JsValue::from_str(json), &JsValue::from_str(key))?;
            }
            Ok(())
        })();
        if let Err(error) = issued {
            let _ = transaction.abort();
            return Err(self.connection.error("cannot write the cluster", &error));
        }
        let done = JsFuture::from(js::transaction_done(&transaction));
        let connection = self.connection.clone();
        Ok(async move {
            match done.await {
                Ok(_) => Ok(()),
                Err(_) => {
                    let why =
                        transaction.error().map_or(JsValue::from_str("the transaction was aborted"), JsValue::from);
                    Err(connection.error("cannot write the cluster", &why))
                }
            }
        })
    }

    /// Stores `value` as the `trace` document `key` (strict durability), replacing any earlier one.
    pub async fn put_trace<T: Stored>(&self, key: &str, value: &T) -> Result<(), StorageError> {
        let json = codec::encode_document(value);
        let transaction = self.start_write(&[stores::TRACE], Durability::Strict)?;
        let store = transaction
            .object_store(stores::TRACE)
            .and_then(|store| store.put_with_key(&JsValue::from_str(&json), &JsValue::from_str(key)).map(drop));
        store.map_err(|error| {
            let _ = transaction.abort();
            self.connection.error("cannot write the trace", &error)
        })?;
        self.finish_write(&transaction, "cannot write the trace").await
    }

    /// The `trace` document `key`, if there is one.
    pub async fn get_trace<T: Stored>(&self, key: &str) -> Result<Option<T>, StorageError> {
        let transaction = self.read_transaction(&[stores::TRACE])?;
        let store = transaction.object_store(stores::TRACE).map_err(idb_error("cannot read the trace"))?;
        let request = store.get(JsValue::from_str(key)).map_err(idb_error("cannot read the trace"))?;
        let Some(value) = request.await.map_err(idb_error("cannot read the trace"))? else { return Ok(None) };
        let json = text(stores::TRACE, RecordKey::Name(key.into()), &value)?;
        Ok(Some(codec::decode_document(key, &json)?.value))
    }

    /// The keys of every `trace` document, in order.
    pub async fn trace_keys(&self) -> Result<Vec<String>, StorageError> {
        let transaction = self.read_transaction(&[stores::TRACE])?;
        let store = transaction.object_store(stores::TRACE).map_err(idb_error("cannot read the trace"))?;
        let keys = store.get_all_keys(None, None).map_err(idb_error("cannot read the trace"))?;
        let keys = keys.await.map_err(idb_error("cannot read the trace"))?;
        Ok(keys.iter().filter_map(JsValue::as_string).collect())
    }

    /// Deletes the `trace` document `key` (nothing if there is none).
    pub async fn delete_trace(&self, key: &str) -> Result<(), StorageError> {
        let transaction = self.start_write(&[stores::TRACE], Durability::Strict)?;
        let deleted = transaction.object_store(stores::TRACE).and_then(|store| store.delete(&JsValue::from_str(key)));
        deleted.map_err(|error| {
            let _ = transaction.abort();
            self.connection.error("cannot delete from the trace", &error)
        })?;
        self.finish_write(&transaction, "cannot delete from the trace").await
    }

    /// Closes this handle's connection once its running transactions finish. Storages made from it keep
    /// their own handle (the connection closes when the last one goes).
    pub fn close(self) {}
}

impl Connection {
    fn watch(cluster: &str, name: String, database: IdbDatabase) -> Connection {
        let closed = Rc::new(RefCell::new(None));
        let on_version_change = {
            let (closed, database, cluster) = (closed.clone(), database.clone(), cluster.to_owned());
            Closure::<dyn FnMut(IdbVersionChangeEvent)>::new(move |event: IdbVersionChangeEvent| {
                database.close();
                // IndexedDB versions are integers; as one, the message needs no float formatting (kilobytes).
                let why = match event.new_version().map(|version| version as u64) {
                    None => format!("another tab deleted cluster {cluster:?} (reset); reload to start afresh"),
                    Some(version) => format!(
                        "another tab opened cluster {cluster:?} with a newer build (database version {version}); \
                         this tab let go of it: reload to use the newer build"
                    ),
                };
                *closed.borrow_mut() = Some(why);
            })
        };
        let on_close = {
            let (closed, cluster) = (closed.clone(), cluster.to_owned());
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                *closed.borrow_mut() = Some(format!(
                    "the browser closed the database of cluster {cluster:?} (site data cleared?); reload the page"
                ));
            })
        };
        database.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        database.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Connection {
            cluster: cluster.to_owned(),
            name,
            database,
            closed,
            _on_version_change: on_version_change,
            _on_close: on_close,
        }
    }
}

/// Deletes the whole database of `cluster` (the "reset cluster" action). Connections of this tab close
/// themselves when the delete begins (their nodes' next writes fail with `Blocked`: drop them first). If
/// another tab does not let go, this returns `Blocked` at once and the delete happens when it does.
pub async fn clear_cluster(cluster: &str) -> Result<(), StorageError> {
    let name = codec::database_name(cluster);
    let request =
        factory()?.delete_database(&name).map_err(|error| js::storage_error("cannot reset the cluster", &error))?;
    let mut outcome = JsFuture::from(js::open_request_done(&request)).await.map(|_| true);
    if outcome.as_ref().is_err_and(|event| js::event_type(event).as_deref() == Some("blocked")) {
        outcome = js::wait_out_blocked(&request).await;
    }
    match outcome {
        Ok(true) => Ok(()),
        Ok(false) => {
            request.set_onblocked(None);
            Err(StorageError::Blocked(format!(
                "another tab keeps cluster {cluster:?} open; it will be reset as soon as that tab closes it"
            )))
        }
        Err(_) => {
            let error = request.error().ok().flatten().map_or(JsValue::from_str("unknown error"), JsValue::from);
            Err(js::storage_error("cannot reset the cluster", &error))
        }
    }
}
