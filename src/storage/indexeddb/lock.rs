//! One tab drives a cluster: an exclusive Web Lock per cluster (`navigator.locks`), named [`lock_name`].
//!
//! A tab that opens a cluster first tries the lock without waiting ([`try_lock_cluster`]). If another tab
//! holds it, this one says so and offers to take over ([`take_over_cluster`], `steal: true`): the browser
//! then takes the lock from the other tab, whose [`DriverLock::lost`] resolves with `Stolen` (it should stop
//! driving and say so), or to wait until the other tab closes ([`wait_for_cluster`]). Locks are released
//! when their tab closes or crashes, so a stale holder never blocks anyone.
//!
//! web-sys has `LockManager` only behind `--cfg=web_sys_unstable_apis` (a rustflag every build would need),
//! so `LockManager.request` is bound here.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::js;
use crate::storage::StorageError;

#[wasm_bindgen]
extern "C" {
    type LockManager;

    /// `LockManager.request(name, options, callback)`.
    #[wasm_bindgen(method, catch, js_name = request)]
    fn request(this: &LockManager, name: &str, options: &Object, callback: &Function) -> Result<Promise, JsValue>;
}

/// The Web Lock that marks the tab driving `cluster`.
pub fn lock_name(cluster: &str) -> String {
    format!("synod-driver-{cluster}")
}

/// What [`try_lock_cluster`] found.
pub enum LockAttempt {
    /// This tab drives the cluster while it holds the lock.
    Acquired(DriverLock),
    /// Another tab drives it: show that, and offer to take over.
    HeldElsewhere,
    /// This browser has no Web Locks: this tab drives, but cannot know whether another one does too (say so).
    Unsupported,
}

/// How a [`DriverLock`] ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockLoss {
    /// This tab released it.
    Released,
    /// Another tab took over: stop driving.
    Stolen,
}

/// The driver lock of one cluster, held until released, dropped, or taken over by another tab.
pub struct DriverLock {
    name: String,
    /// Resolves the promise the lock callback returned: the browser then releases the lock.
    release: Rc<RefCell<Option<Function>>>,
    held: Rc<Cell<bool>>,
    /// `LockManager.request`'s promise: settles when the lock is released (resolves) or stolen (rejects).
    request: Promise,
}

impl std::fmt::Debug for DriverLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriverLock").field("name", &self.name).field("held", &self.held.get()).finish()
    }
}

impl DriverLock {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this tab still holds the lock (false once released or taken over; the browser tells this tab
    /// asynchronously, so right after another tab's take-over it may still say true for a moment).
    pub fn is_held(&self) -> bool {
        self.held.get()
    }

    /// Resolves when this tab no longer holds the lock, saying why. The future does not borrow the lock, so a
    /// task can watch it while the lock is kept elsewhere.
    pub fn lost(&self) -> impl std::future::Future<Output = LockLoss> + 'static {
        let request = JsFuture::from(self.request.clone());
        async move {
            match request.await {
                Ok(_) => LockLoss::Released,
                Err(_) => LockLoss::Stolen,
            }
        }
    }

    /// Lets go of the lock and resolves once the browser released it (a tab waiting for it then gets it).
    /// Dropping a `DriverLock` lets go too, without waiting.
    pub async fn release(self) {
        if let Some(release) = self.release.borrow_mut().take() {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
        let _ = JsFuture::from(self.request.clone()).await;
    }
}

impl Drop for DriverLock {
    fn drop(&mut self) {
        if let Some(release) = self.release.borrow_mut().take() {
            let _ = release.call0(&JsValue::UNDEFINED);
        }
    }
}

fn lock_manager() -> Option<LockManager> {
    let navigator = Reflect::get(&js_sys::global(), &JsValue::from_str("navigator")).ok()?;
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    (!locks.is_undefined() && !locks.is_null()).then(|| locks.unchecked_into())
}

/// Requests the lock with `options`; `None` if the browser answered "not available" (only with
/// `ifAvailable`).
async fn request_lock(manager: &LockManager, name: &str, options: &Object) -> Result<Option<DriverLock>, StorageError> {
    let held = Rc::new(Cell::new(false));
    let release = Rc::new(RefCell::new(None::<Function>));
    let mut granted_resolve = None;
    let granted = Promise::new(&mut |resolve, _| granted_resolve = Some(resolve));
    let granted_resolve = granted_resolve.expect("the promise executor runs at once");
    // Called by the browser once: with the lock, or with null when `ifAvailable` found it taken. Holding
    // the lock means returning a promise that settles only when `release` is called.
    let callback = {
        let (held, release) = (held.clone(), release.clone());
        Closure::once_into_js(move |lock: JsValue| -> JsValue {
            if lock.is_null() {
                let _ = granted_resolve.call1(&JsValue::UNDEFINED, &JsValue::FALSE);
                return JsValue::UNDEFINED;
            }
            let hold = Promise::new(&mut |resolve, _| *release.borrow_mut() = Some(resolve));
            held.set(true);
            let _ = granted_resolve.call1(&JsValue::UNDEFINED, &JsValue::TRUE);
            hold.into()
        })
    };
    let request = manager
        .request(name, options, callback.unchecked_ref())
        .map_err(|error| lock_error("cannot request the driver lock", &error))?;
    // The request promise settles only after the callback ran, so it wins the race only when the request
    // failed before (then with that error).
    let first = JsFuture::from(Promise::race(&Array::of2(&granted, &request))).await;
    let first = first.map_err(|error| lock_error("the driver lock request failed", &error))?;
    if first.as_bool() != Some(true) {
        return Ok(None);
    }
    let watch = JsFuture::from(request.clone());
    let flag = held.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = watch.await;
        flag.set(false);
    });
    Ok(Some(DriverLock { name: name.to_owned(), release, held, request }))
}

/// A refused lock request as a `StorageError`. A `SecurityError` means the browser gives this page no storage
/// here at all (Chromium refuses Web Locks to a frame on another site whose storage is blocked, as it refuses
/// IndexedDB to an opaque origin): `Unavailable`, so the page plays in memory and says why, as without IndexedDB.
fn lock_error(context: &str, error: &JsValue) -> StorageError {
    match js::describe(error) {
        (name, message) if name == "SecurityError" => StorageError::Unavailable(format!(
            "the browser gives this page no storage here, as it may for a frame on another site ({name}: {message})"
        )),
        _ => js::storage_error(context, error),
    }
}

fn options(pairs: &[(&str, bool)]) -> Object {
    let options = Object::new();
    for (key, value) in pairs {
        Reflect::set(&options, &JsValue::from_str(key), &JsValue::from_bool(*value))
            .expect("a plain object takes a key");
    }
    options
}

fn unsupported() -> StorageError {
    StorageError::Unavailable("this browser has no Web Locks API, so tabs cannot agree on who drives a cluster".into())
}

/// How long [`try_lock_cluster`] gives a lock that was just let go to become free. Browsers free a released lock
/// a task or more later (measured: 1–2 ms in Chromium 156, 2–8 ms in Firefox 153, more under load), so a request
/// made right after a release (a page that closes its cluster and opens it again, a frame replaced by another)
/// would see the lock still held and wrongly report another tab.
const RELEASE_GRACE_MS: u32 = 100;

/// Takes the driver lock of `cluster` if no tab holds it; waits only [`RELEASE_GRACE_MS`] for one that is
/// being let go.
pub async fn try_lock_cluster(cluster: &str) -> Result<LockAttempt, StorageError> {
    let Some(manager) = lock_manager() else { return Ok(LockAttempt::Unsupported) };
    let name = lock_name(cluster);
    let if_available = options(&[("ifAvailable", true)]);
    let mut lock = request_lock(&manager, &name, &if_available).await?;
    if lock.is_none() {
        let _ = JsFuture::from(js::sleep(RELEASE_GRACE_MS, &JsValue::UNDEFINED)).await;
        lock = request_lock(&manager, &name, &if_available).await?;
    }
    Ok(lock.map_or(LockAttempt::HeldElsewhere, LockAttempt::Acquired))
}

/// Takes the driver lock of `cluster` from whichever tab holds it (that tab's `lost()` resolves `Stolen`).
pub async fn take_over_cluster(cluster: &str) -> Result<DriverLock, StorageError> {
    let manager = lock_manager().ok_or_else(unsupported)?;
    let lock = request_lock(&manager, &lock_name(cluster), &options(&[("steal", true)])).await?;
    lock.ok_or_else(|| StorageError::Other("the browser did not grant a stolen lock".into()))
}

/// Waits until no other tab holds the driver lock of `cluster`, then takes it.
pub async fn wait_for_cluster(cluster: &str) -> Result<DriverLock, StorageError> {
    let manager = lock_manager().ok_or_else(unsupported)?;
    let lock = request_lock(&manager, &lock_name(cluster), &options(&[])).await?;
    lock.ok_or_else(|| StorageError::Other("the browser did not grant an awaited lock".into()))
}
