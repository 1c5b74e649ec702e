//! The few pieces of the IndexedDB and DOM APIs that `idb` 0.6.5 does not offer, bound directly, and the
//! conversion of DOM errors into `StorageError`s.
//!
//! - `IDBDatabase.transaction(stores, mode, {durability})`: idb has no transaction options, and web-sys has
//!   `IdbTransactionOptions` only behind `--cfg=web_sys_unstable_apis` (a rustflag every build would need), so
//!   the method is bound here with its options as a plain object.
//! - Waiting for a transaction or an open/delete request: these are promises over the DOM events
//!   (`complete`/`abort`, `success`/`error`/`blocked`), with the DOM's `resolve`/`reject` functions as the
//!   handlers, so no Rust closure can be called after it was dropped. idb's `TransactionFuture` settles on the
//!   first bubbled request `error` event, before the transaction aborts and says why (so a quota error could
//!   not be told apart), and its open future cannot be abandoned on `blocked`.

use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{DomException, IdbDatabase, IdbOpenDbRequest, IdbTransaction};

use crate::storage::StorageError;

#[wasm_bindgen]
extern "C" {
    /// `IDBDatabase`, for the one method bound here.
    #[wasm_bindgen(js_name = IDBDatabase)]
    type RawDatabase;

    /// `IDBDatabase.transaction(storeNames, mode, options)`.
    #[wasm_bindgen(method, catch, js_name = transaction)]
    fn transaction_with_options(
        this: &RawDatabase,
        store_names: &Array,
        mode: &str,
        options: &Object,
    ) -> Result<IdbTransaction, JsValue>;
}

/// How hard the browser works before it reports a write transaction complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Flushed to the operating system's stable storage before `complete` (survives an OS crash or a power cut).
    Strict,
    /// Handed to the OS only: survives a tab or browser crash, not an OS crash. Chrome's default.
    Relaxed,
}

impl Durability {
    pub fn as_str(self) -> &'static str {
        match self {
            Durability::Strict => "strict",
            Durability::Relaxed => "relaxed",
        }
    }
}

/// A readwrite transaction over `stores` with the given durability.
pub fn write_transaction(
    database: &IdbDatabase,
    stores: &[&str],
    durability: Durability,
) -> Result<IdbTransaction, JsValue> {
    let names: Array = stores.iter().map(|store| JsValue::from_str(store)).collect();
    let options = Object::new();
    Reflect::set(&options, &JsValue::from_str("durability"), &JsValue::from_str(durability.as_str()))?;
    database.unchecked_ref::<RawDatabase>().transaction_with_options(&names, "readwrite", &options)
}

/// The durability a transaction actually got ("strict", "relaxed", "default"), or `None` where the browser
/// does not say (it then ignored the option).
pub fn durability_of(transaction: &IdbTransaction) -> Option<String> {
    Reflect::get(transaction, &JsValue::from_str("durability")).ok()?.as_string()
}

/// Resolves on the transaction's `complete` event, rejects on `abort` (then `transaction.error()` says why,
/// unless it was aborted on purpose). Set up before the task that issued the requests ends, so no event is
/// missed.
pub fn transaction_done(transaction: &IdbTransaction) -> Promise {
    Promise::new(&mut |resolve, reject| {
        transaction.set_oncomplete(Some(&resolve));
        transaction.set_onabort(Some(&reject));
    })
}

/// Resolves on an open or delete request's `success`; rejects with the event on `error` or `blocked`.
pub fn open_request_done(request: &IdbOpenDbRequest) -> Promise {
    Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
        request.set_onblocked(Some(&reject));
    })
}

/// Resolves on an open or delete request's `success`, rejects on `error`: for after `blocked`.
pub fn request_settled(request: &IdbOpenDbRequest) -> Promise {
    Promise::new(&mut |resolve, reject| {
        request.set_onsuccess(Some(&resolve));
        request.set_onerror(Some(&reject));
    })
}

/// Resolves with `value` after `ms` milliseconds (`setTimeout(resolve, ms, value)` of the window or worker).
pub fn sleep(ms: u32, value: &JsValue) -> Promise {
    Promise::new(&mut |resolve, reject| {
        let global = js_sys::global();
        let set_timeout =
            Reflect::get(&global, &JsValue::from_str("setTimeout")).and_then(JsCast::dyn_into::<js_sys::Function>);
        let started = set_timeout.and_then(|set_timeout| {
            let arguments = Array::of3(&resolve, &JsValue::from(ms), value);
            set_timeout.apply(&global, &arguments)
        });
        if let Err(error) = started {
            let _ = reject.call1(&JsValue::UNDEFINED, &error);
        }
    })
}

/// After `blocked`, how long an open or delete keeps waiting for the other connections to close before it
/// reports `Blocked`: a connection of this tab that was just closed (or another tab's that closes on
/// `versionchange`) lets go as soon as its last transaction finishes, which fires `blocked` first.
pub const BLOCKED_GRACE_MS: u32 = 1000;

/// Waits for `request` (which fired `blocked`) to succeed or fail within the grace period. `Ok(true)`: it
/// succeeded; `Ok(false)`: still blocked; `Err`: it failed.
pub async fn wait_out_blocked(request: &IdbOpenDbRequest) -> Result<bool, JsValue> {
    const TIMED_OUT: &str = "timed out";
    let settled = request_settled(request);
    let timeout = sleep(BLOCKED_GRACE_MS, &JsValue::from_str(TIMED_OUT));
    let first = wasm_bindgen_futures::JsFuture::from(Promise::race(&Array::of2(&settled, &timeout))).await?;
    Ok(first.as_string().as_deref() != Some(TIMED_OUT))
}

/// The event type of a rejected event promise ("error", "blocked", "abort"), if it was an event.
pub fn event_type(value: &JsValue) -> Option<String> {
    value.dyn_ref::<web_sys::Event>().map(web_sys::Event::type_)
}

/// A DOM exception's name and message, or the best text for any other thrown value.
pub fn describe(error: &JsValue) -> (String, String) {
    if let Some(exception) = error.dyn_ref::<DomException>() {
        return (exception.name(), exception.message());
    }
    if let Some(error) = error.dyn_ref::<js_sys::Error>() {
        return (String::from(error.name()), String::from(error.message()));
    }
    ("Error".into(), error.as_string().unwrap_or_else(|| format!("{error:?}")))
}

/// Maps a DOM error to a `StorageError`: `QuotaExceededError` is its own case, everything else keeps the
/// browser's name and message after `context` (what was being done).
pub fn storage_error(context: &str, error: &JsValue) -> StorageError {
    let (name, message) = describe(error);
    match name.as_str() {
        "QuotaExceededError" => StorageError::QuotaExceeded(format!(
            "{context}: the browser's storage quota for this site is used up ({message}). Free space (e.g. reset \
             another cluster) or continue in memory"
        )),
        _ => StorageError::Other(format!("{context}: {name}: {message}")),
    }
}
