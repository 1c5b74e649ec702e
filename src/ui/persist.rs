//! The playground's cluster in IndexedDB: every node's disk survives a kill, a restart and a page reload.
//!
//! # Design: the simulator decides, IndexedDB follows a group of ticks at a time
//!
//! The simulator stays the authority on durability *in virtual time* (`MemoryStorage`): a node's write batch is
//! acknowledged by its simulated disk at a tick the seeded RNG chose, and that acknowledgement, with every
//! message it releases, is part of the deterministic trace. IndexedDB's timing never enters it, so a seed and a
//! list of actions (a shared URL) replay the same trace whatever the browser's disk does. The page keeps
//! IndexedDB a copy of the run as of some tick: the batches that became durable (`Sim::take_durable_batches`) go
//! to IndexedDB in **one strict transaction** together with the run's record and the tick reached (the `trace`
//! document [`RUN_DOCUMENT`]), and no tick is taken while a transaction is under way.
//!
//! ## Ticks in groups
//!
//! A transaction carries a group of ticks, not one: a host takes the ticks it owes, at most
//! [`Persistence::group_ticks`] ([`GROUP_TICKS_MAX`]), and hands them over at once: [`pump_ticks`] calls
//! [`Persistence::sync`] before the first tick and after the last. At 8 ticks/s an animation frame owes one
//! tick, so every tick is its own transaction, as before; at 2,000 ticks/s a frame owes about 33 and they share
//! one (up to 80 when frames are slow). A transaction costs 1–6 ms of the disk's time whatever it holds (more on
//! a busy machine), so one per tick held fast-forward to a few hundred ticks/s (BENCHMARKS.md). A frame that
//! finds the previous transaction still under way takes nothing; the playground then takes that frame's ticks
//! with the next frame's (`OWED_MAX` in `app.rs`), so a commit that takes up to two frames does not slow the
//! run. Groups break:
//!
//! - **at a visitor's action**: a host calls `sync` before it takes any tick, so an action waits for the
//!   transaction under way, if any, and is then committed on its own; only then is the next tick taken, let
//!   alone shown;
//! - **before a restart that reads its node back** (a visitor's, or a script's `restart N`): the read-back
//!   waits for everything before it to commit;
//! - **where the host stops taking ticks** (nothing more owed this frame, paused, a violation, the end of a
//!   script): the group taken so far is handed over at once, never held back for the next frame.
//!
//! ## Why grouping is safe
//!
//! - **Only committed moments come back.** A transaction is atomic: every node's records and the tick land
//!   together or not at all, so IndexedDB only ever holds the run as of the end of a committed group, a tick the
//!   simulator really passed through, with every node's durable state of that tick complete. A reload replays
//!   the stored run to the stored tick and checks every node against IndexedDB; a group whose transaction had
//!   not committed is simply not there, and the reload comes back to the group before it.
//! - **Persist-before-send, for every state that can come back.** Inside a group a node may receive a message
//!   resting on a write that is not in IndexedDB yet (delivery is one tick after sending at the earliest, and
//!   the write's group has not committed). Nothing outside the page sees that message, and the write and the
//!   delivery are committed by the same transaction or lost together: a reload comes back to the tick before
//!   the group, where neither happened, and drops every message in flight. The core itself releases no message
//!   before its simulated disk acknowledged the write behind it (`DurableState::backs`).
//! - **Nothing is drawn before it is committed.** The playground draws a tick only once the transaction holding
//!   it committed: an animation frame first draws what IndexedDB holds, then takes the next ticks, and only
//!   frames take them (`Shared::draw` in `app.rs`). So a reply the visitor saw survives a reload right after it.
//!   The screen trails the simulator by the group being written (a frame, while commits keep up); the page says
//!   how far it has saved ([`Persistence::saved`]: "Saved up to tick N"). Only the visitor's own action shows at
//!   once (with the group being written, if a commit is under way), and it is committed before any later tick.
//! - **A failed write stops the cluster** before the next group, so nothing taken after it is shown as saved;
//!   the node states planned for IndexedDB may then be ahead of the disk, so the next write rewrites every node.
//!
//! A restart ("Restart node N") first reads the node back from IndexedDB and compares it with the state the
//! simulator recovers from; a page reload replays the stored run to the stored tick, compares every node the
//! same way, and records a [`UserAction::Reload`] there (every running node crashes and restarts from disk,
//! messages in flight are lost), so a shared URL of a reloaded run still replays exactly. A difference is
//! shown, never silently papered over.
//!
//! Only one tab drives a cluster (a Web Lock, `storage::indexeddb::lock`); another tab on the same cluster
//! waits and offers to take over. A shared run (a `?run=` URL) lives in memory only, so opening one never
//! overwrites the visitor's own cluster.
//!
//! # API for other pages (embeds)
//!
//! A page picks a [`DiskChoice`] (memory, or IndexedDB under a cluster name such as `"embed-<scenario>"`),
//! makes a [`Persistence`] from it, implements [`Host`] for its state, calls [`open`] once, and then in its
//! loop takes its ticks through [`pump_ticks`] (which advances only when [`Persistence::may_advance`]) and
//! drives commits with [`drive`]. Kept stable.
//!
//! A page whose run is a script replayed from tick 0 on every load (an embedded scenario, `embed.rs`) opens
//! with [`Open::Fresh`]: the database is deleted and written again from the start, never resumed, and when
//! another frame or tab already drives that cluster the next free spare name is used (`<cluster>-2` …, at
//! most [`FRESH_CLUSTERS`] names), then memory, said in the status. Before each tick it calls
//! [`Persistence::ready_for_recorded_restarts`], so the script's own `restart N` reads node N back from
//! IndexedDB and compares it, as a visitor's restart does in the playground.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use super::runner::{decode_record, encode_record, RunRecord, Runner};
use super::view::DiskView;
use crate::check::invariants::describe_value;
use crate::kv::{KvCommand, KvStore};
use crate::paxos::{DurableState, NodeId};
use crate::sim::{KvBatch, UserAction};
use crate::storage::codec::{self, Write};
use crate::storage::indexeddb::{
    clear_cluster, take_over_cluster, try_lock_cluster, ClusterDb, DriverLock, LockAttempt, LockLoss,
};
use crate::storage::json::{Json, Stored, Writer};
use crate::storage::{Storage, StorageError};

/// One node's durable state.
pub type KvDurable = DurableState<KvCommand, KvStore>;

/// The playground's own cluster (IndexedDB database `synod-playground`).
pub const PLAYGROUND_CLUSTER: &str = "playground";
/// The `trace` document holding the run (setup and actions, as in a shared URL) and its current tick.
pub const RUN_DOCUMENT: &str = "run";
/// A playground cluster has at most this many nodes: a new run rewrites the records of all of them.
const NODES_MAX: usize = 7;
/// Ticks one transaction carries at most (see the module docs, "Ticks in groups"): the playground owes at most
/// 160 at once, so this bounds only hosts that owe more, and what a crash can take back: an eighth of a second of
/// the run at 2,000 ticks/s.
pub const GROUP_TICKS_MAX: u64 = 256;
/// [`Open::Fresh`] tries the cluster and its spares `<cluster>-2` … `<cluster>-4`: so many frames or tabs can
/// play the same script from IndexedDB at once (a bounded number of databases per script; beyond that, memory).
pub const FRESH_CLUSTERS: u32 = 4;

/// Where a page keeps its nodes' disks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiskChoice {
    /// In the simulator's memory only: nothing survives a page reload.
    Memory,
    /// In IndexedDB, in the database of this cluster (`synod-<cluster>`). Pages that must not share a cluster
    /// use different names: the playground uses [`PLAYGROUND_CLUSTER`], an embedded scenario `embed-<name>`.
    IndexedDb { cluster: String },
}

impl DiskChoice {
    pub fn indexeddb(cluster: &str) -> DiskChoice {
        DiskChoice::IndexedDb { cluster: cluster.to_owned() }
    }

    pub fn cluster(&self) -> Option<&str> {
        match self {
            DiskChoice::Memory => None,
            DiskChoice::IndexedDb { cluster } => Some(cluster),
        }
    }
}

/// What the status region says about storage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StorageStatus {
    /// Where the cluster lives now, in one line.
    pub summary: String,
    /// Something the visitor must know (the cluster stopped, or is not saved), if anything.
    pub problem: Option<String>,
    /// Offer "Reset cluster".
    pub offer_reset: bool,
    /// Offer "Take over" (another tab drives the cluster).
    pub offer_take_over: bool,
    /// The browser gives this page no storage here (turned off, a private window, a frame on another site): the
    /// run is in memory, which is worth knowing, but nothing failed.
    pub unavailable: bool,
}

/// A position of the run as a transaction stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Saved {
    /// The tick a reload comes back to.
    pub tick: u64,
    /// The visitor's actions taken up to it, counted by [`Runner::acts`].
    pub acts: u64,
}

/// The run's position, stored with every commit: `{"run":…,"tick":…}`.
struct StoredRun {
    run: String,
    tick: u64,
}

impl Stored for StoredRun {
    fn write(&self, out: &mut Writer) {
        out.open('{');
        out.key("run");
        out.str(&self.run);
        out.key("tick");
        out.u64(self.tick);
        out.close('}');
    }

    fn read(json: &Json) -> Result<StoredRun, String> {
        Ok(StoredRun { run: json.read_field("run", Json::string)?, tick: json.read_field("tick", Json::u64)? })
    }
}

/// Work the driver waits for before it advances (a commit, or reading a node back).
pub type Pending = Pin<Box<dyn Future<Output = ()>>>;

/// How [`open`] opens the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Open {
    /// Take the cluster if no other tab drives it, and restore what it holds.
    Normal,
    /// Take the cluster from the tab that drives it, and restore what it holds.
    TakeOver,
    /// Delete everything stored and start the current setup afresh.
    Reset,
    /// For a script that replays from tick 0 on every load (an embed): delete everything stored and write the
    /// current run, recorded actions and all, from its start; never restore. If another frame or tab drives
    /// the cluster, take the first free spare (`<cluster>-2` … `<cluster>-<FRESH_CLUSTERS>`) instead of
    /// waiting; if every one is taken, run in memory and say so.
    Fresh,
}

/// Who asked for a restart that waits for its node to be read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RestartBy {
    /// The visitor, now: applied once the node was read back.
    Visitor,
    /// The run's own record, at this tick: the runner applies it; the read-back only has to agree first.
    Recorded(u64),
}

/// What a page that runs a persistent cluster lends [`open`] and [`drive`].
pub trait Host: 'static {
    fn runner(&mut self) -> &mut Runner;
    fn persistence(&mut self) -> &mut Persistence;
    /// Puts a restored or fresh run in place of the current one.
    fn replace_runner(&mut self, runner: Runner);
    /// Advances what is owed (ticks, actions) as far as storage allows, through [`pump_ticks`]; returns the work
    /// to wait for before advancing further, if any.
    fn pump(&mut self) -> Option<Pending>;
    /// Something changed outside a frame: render again.
    fn changed(&mut self);
}

enum State {
    /// Opening the database; nothing advances.
    Opening,
    /// No IndexedDB (by choice or not): the simulator's memory only.
    Memory,
    /// This tab drives the cluster and keeps it in IndexedDB.
    Driving(Disk),
    /// Another tab drives the cluster, or IndexedDB failed: nothing advances.
    Stopped,
}

/// A page's storage: the choice, the driver lock, the disk while driving, and what to tell the visitor.
pub struct Persistence {
    choice: DiskChoice,
    state: State,
    lock: Option<DriverLock>,
    status: StorageStatus,
    /// Restarts asked for, each waiting to read its node back first.
    restarts: VecDeque<(NodeId, RestartBy)>,
    /// Recorded restarts (tick, node) whose node was read back and agreed: the tick may be taken.
    checked: Vec<(u64, NodeId)>,
    /// The last node read back from IndexedDB for a restart, in words.
    read_back: Option<String>,
    /// Bumped on every change of `status`, so a page can tell when to render it again.
    pub generation: u64,
}

impl Persistence {
    pub fn new(choice: DiskChoice) -> Persistence {
        let (state, summary) = match &choice {
            DiskChoice::Memory => (State::Memory, "In memory only: a page reload starts afresh.".to_owned()),
            DiskChoice::IndexedDb { cluster } => (State::Opening, format!("Opening cluster {cluster:?}…")),
        };
        Persistence {
            choice,
            state,
            lock: None,
            status: StorageStatus { summary, ..StorageStatus::default() },
            restarts: VecDeque::new(),
            checked: Vec::new(),
            read_back: None,
            generation: 0,
        }
    }

    /// A shared run (a `?run=` link): in memory, and the status says why.
    pub fn shared_run(mut self) -> Persistence {
        self.status.summary =
            "A shared run: replayed in memory only, so your own saved cluster is left as it was.".into();
        self
    }

    pub fn choice(&self) -> &DiskChoice {
        &self.choice
    }

    pub fn status(&self) -> &StorageStatus {
        &self.status
    }

    /// Whether this page writes the cluster to IndexedDB.
    pub fn is_driving(&self) -> bool {
        matches!(self.state, State::Driving(_))
    }

    /// Whether storage stopped the run (another tab took over, a write failed, a read-back disagreed).
    pub fn is_stopped(&self) -> bool {
        matches!(self.state, State::Stopped)
    }

    /// The last node read back from IndexedDB for a restart, and what it held, in words.
    pub fn last_read_back(&self) -> Option<&str> {
        self.read_back.as_deref()
    }

    /// After a stop, a page whose run is a script it can replay (an embed) goes on in memory: nothing it holds
    /// is the visitor's, so nothing is lost. Why it stopped stays on show.
    pub fn go_on_in_memory(&mut self, runner: &mut Runner) {
        if !self.is_stopped() {
            return;
        }
        self.leave_for_memory(runner);
        let status = StorageStatus {
            summary: format!("In memory only from tick {}: IndexedDB is no longer written.", runner.now()),
            problem: self.status.problem.clone(),
            ..StorageStatus::default()
        };
        self.set_status(status);
    }

    /// Whether the simulation may take its next tick now: not while opening, not while another tab drives,
    /// not while a commit or a read-back is under way or a write failed.
    pub fn may_advance(&self) -> bool {
        match &self.state {
            State::Memory => true,
            State::Driving(disk) => !disk.busy() && self.restarts.is_empty(),
            State::Opening | State::Stopped => false,
        }
    }

    /// How many ticks the host may take before it calls [`sync`](Persistence::sync) again: none while it may not
    /// advance, [`GROUP_TICKS_MAX`] while a transaction carries them, any number in memory.
    pub fn group_ticks(&self) -> u64 {
        match &self.state {
            _ if !self.may_advance() => 0,
            State::Driving(_) => GROUP_TICKS_MAX,
            _ => u64::MAX,
        }
    }

    /// How far the last transaction that committed saved the run, while this page writes IndexedDB: a reload
    /// comes back there.
    pub fn saved(&self) -> Option<Saved> {
        let State::Driving(disk) = &self.state else { return None };
        let saved = disk.shared.borrow().saved;
        saved
    }

    fn set_status(&mut self, status: StorageStatus) {
        self.status = status;
        self.generation += 1;
    }

    fn driving_summary(&self, cluster: &str, how: Open) -> String {
        let tabs =
            if self.lock.is_some() { "" } else { " (this browser cannot tell whether another tab drives it too)" };
        if how == Open::Fresh {
            let database = codec::database_name(cluster);
            return format!(
                "Disks in IndexedDB {database:?}: this example's own, rewritten on every load; your playground's \
                 cluster is not touched{tabs}."
            );
        }
        format!("Saved in this browser (IndexedDB, cluster {cluster:?}): survives kill, restart and reload{tabs}.")
    }

    /// A visitor's action. Returns `false` if the caller should apply it now, `true` if it was taken: a
    /// restart of a down node waits until the node was read back from IndexedDB.
    pub fn intercept(&mut self, runner: &Runner, action: &UserAction) -> bool {
        match action {
            UserAction::Restart { node } if self.is_driving() && runner.sim().node(*node).is_none() => {
                if !self.restarts.iter().any(|(queued, _)| queued == node) {
                    self.restarts.push_back((*node, RestartBy::Visitor));
                }
                true
            }
            _ => false,
        }
    }

    /// Whether the next tick may be taken as far as the run's own recorded restarts go (a scenario's
    /// `restart N`, applied by [`Runner::step`]): like a visitor's restart, each such node is read back from
    /// IndexedDB and compared with the simulator's disk first. `false`: the read-backs are queued, [`sync`]
    /// (Persistence::sync) starts them, and the tick waits for them. Always `true` when not driving. The node is
    /// down until its restart, so its disk cannot change between the read-back and the tick.
    pub fn ready_for_recorded_restarts(&mut self, runner: &Runner) -> bool {
        if !self.is_driving() {
            return true;
        }
        let next = runner.now() + 1;
        self.checked.retain(|(tick, _)| *tick >= next);
        let mut ready = true;
        for node in runner.recorded_restarts_at(next) {
            if self.checked.contains(&(next, node)) {
                continue;
            }
            ready = false;
            if !self.restarts.iter().any(|(queued, _)| *queued == node) {
                self.restarts.push_back((node, RestartBy::Recorded(next)));
            }
        }
        ready
    }

    /// Hands what became durable since the last call to IndexedDB (one transaction), or reads back a node
    /// whose restart waits, or applies a restart whose read-back came. Returns the work to wait for.
    pub fn sync(&mut self, runner: &mut Runner) -> Option<Pending> {
        let State::Driving(disk) = &mut self.state else { return None };
        if let Some(failure) = disk.failure() {
            let error = failure.to_string();
            self.stop(&error, matches!(failure, StorageError::QuotaExceeded(_) | StorageError::Corrupt(_)));
            return None;
        }
        if disk.busy() {
            return None;
        }
        if self.lock.as_ref().is_some_and(|lock| !lock.is_held()) {
            self.stop_for_another_tab();
            return None;
        }
        if let Some((node, by, loaded)) = disk.take_read_back() {
            if !self.finish_restart(runner, node, by, loaded) {
                return None;
            }
        }
        let State::Driving(disk) = &mut self.state else { return None };
        match disk.sync(runner) {
            Ok(Some(pending)) => return Some(pending),
            Ok(None) => {}
            Err(error) => {
                let error = error.to_string();
                self.stop(&error, true);
                return None;
            }
        }
        let (node, by) = self.restarts.pop_front()?;
        let State::Driving(disk) = &mut self.state else { return None };
        Some(disk.read_back(node, by))
    }

    /// A node's records read back from IndexedDB for its restart: if they equal the simulator's disk, the
    /// restart goes ahead (or, replayed, is checked); otherwise persistence stops, saying why. False if it
    /// stopped.
    fn finish_restart(
        &mut self,
        runner: &mut Runner,
        node: NodeId,
        by: RestartBy,
        loaded: Result<KvDurable, StorageError>,
    ) -> bool {
        let expected = runner.sim().machines()[node as usize - 1].storage.durable();
        match loaded {
            Ok(state) if &state == expected => {
                let tick = match by {
                    RestartBy::Visitor => runner.now(),
                    RestartBy::Recorded(tick) => tick,
                };
                self.read_back = Some(format!(
                    "Node {node} read back from IndexedDB for its restart at tick {tick}: promise {}, {} log \
                     {}, chosen below slot {}; equal to the simulator's disk.",
                    if state.promised.is_zero() { "none".to_owned() } else { state.promised.to_string() },
                    state.entries.len(),
                    if state.entries.len() == 1 { "entry" } else { "entries" },
                    state.chosen_upto
                ));
                self.generation += 1;
                match by {
                    RestartBy::Visitor => runner.act(UserAction::Restart { node }),
                    RestartBy::Recorded(tick) => self.checked.push((tick, node)),
                }
            }
            Ok(state) => {
                let why = format!(
                    "node {node} was not restarted: IndexedDB holds promise {}, {} entries, chosen below {}, \
                     but the simulator's disk holds promise {}, {} entries, chosen below {}",
                    state.promised,
                    state.entries.len(),
                    state.chosen_upto,
                    expected.promised,
                    expected.entries.len(),
                    expected.chosen_upto
                );
                self.stop(&why, true);
                return false;
            }
            Err(error) => {
                let error = error.to_string();
                self.stop(&format!("node {node} was not restarted: {error}"), true);
                return false;
            }
        }
        true
    }

    /// After time travel or a new run: rewrite every node's records from the simulator at the next sync.
    pub fn rewrite(&mut self, runner: &mut Runner) {
        self.restarts.clear();
        self.checked.clear();
        if let State::Driving(disk) = &mut self.state {
            disk.rewrite = true;
            runner.keep_durable_batches();
            runner.disk_name = "IndexedDB";
        }
    }

    /// Per node (index = id − 1), what IndexedDB holds, for the disk panes; `None` when not driving.
    pub fn disk_views(&self, nodes: usize) -> Option<Vec<DiskView>> {
        let State::Driving(disk) = &self.state else { return None };
        let shared = disk.shared.borrow();
        Some(
            shared
                .committed
                .iter()
                .take(nodes)
                .map(|state| DiskView {
                    promised: if state.promised.is_zero() { "—".into() } else { state.promised.to_string() },
                    entries: state.entries.len(),
                    chosen_upto: state.chosen_upto,
                    snapshot_upto: state.snapshot.as_ref().map(|snapshot| snapshot.upto),
                    unsynced_batches: usize::from(shared.in_flight),
                    source: "IndexedDB",
                    last_entry: state
                        .entries
                        .iter()
                        .next_back()
                        .map(|(slot, entry)| format!("slot {slot}: {}", describe_value(&entry.value))),
                })
                .collect(),
        )
    }

    /// Stops driving (a write failed, or the stored state and the simulator disagree): nothing advances, the
    /// visitor is told why.
    fn stop(&mut self, why: &str, offer_reset: bool) {
        self.state = State::Stopped;
        self.restarts.clear();
        let summary = "The cluster is stopped: nothing is lost that was acknowledged.".to_owned();
        self.set_status(StorageStatus {
            summary,
            problem: Some(format!("{}.", why.trim_end_matches('.'))),
            offer_reset,
            ..StorageStatus::default()
        });
    }

    fn stop_for_another_tab(&mut self) {
        self.state = State::Stopped;
        self.restarts.clear();
        self.lock = None;
        self.set_status(StorageStatus {
            summary: "This cluster is open in another tab: that tab drives it, this one waits.".into(),
            offer_take_over: true,
            ..StorageStatus::default()
        });
    }

    /// From here on the run's disks are the simulator's memory: no IndexedDB writes, no read-backs pending, and
    /// the driver lock released (another tab or frame may have the cluster).
    fn leave_for_memory(&mut self, runner: &mut Runner) {
        self.state = State::Memory;
        self.restarts.clear();
        self.checked.clear();
        self.lock = None;
        runner.disk_name = "disk";
    }

    /// IndexedDB cannot be used: the run continues in memory and the visitor is told.
    fn fall_back_to_memory(&mut self, runner: &mut Runner, error: &StorageError) {
        self.leave_for_memory(runner);
        let offer_reset = matches!(error, StorageError::Corrupt(_) | StorageError::QuotaExceeded(_));
        let summary = "In memory only: this run is not saved, a page reload starts afresh.".to_owned();
        self.set_status(StorageStatus {
            summary,
            // The browser's own messages end with a full stop already.
            problem: Some(format!("{}.", error.to_string().trim_end_matches('.'))),
            offer_reset,
            offer_take_over: false,
            unavailable: matches!(error, StorageError::Unavailable(_)),
        });
    }
}

/// Opens the host's cluster (see [`Open`]) in the background: takes the driver lock, restores the stored run
/// (or adopts the current one), and from then on keeps IndexedDB in step. Does nothing for
/// [`DiskChoice::Memory`].
pub fn open<H: Host>(host: &Rc<RefCell<H>>, how: Open) {
    // At once, not in the task: nothing advances from here until the cluster is open.
    let cluster = {
        let mut h = host.borrow_mut();
        let Some(cluster) = h.persistence().choice.cluster().map(str::to_owned) else { return };
        let persistence = h.persistence();
        persistence.state = State::Opening;
        persistence.restarts.clear();
        let summary = format!("Opening cluster {cluster:?}…");
        persistence.set_status(StorageStatus { summary, ..StorageStatus::default() });
        h.changed();
        cluster
    };
    let host = host.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let outcome = open_cluster(&host, &cluster, how).await;
        {
            let mut h = host.borrow_mut();
            if let Err(error) = outcome {
                let mut runner = std::mem::replace(h.runner(), placeholder_runner());
                h.persistence().fall_back_to_memory(&mut runner, &error);
                *h.runner() = runner;
            }
            h.changed();
        }
        drive(&host);
    });
}

/// A runner that is replaced at once (`std::mem::replace` needs something in its place).
fn placeholder_runner() -> Runner {
    Runner::new(RunRecord { setup: Default::default(), actions: Vec::new() }).expect("the default setup is valid")
}

async fn open_cluster<H: Host>(host: &Rc<RefCell<H>>, cluster: &str, how: Open) -> Result<(), StorageError> {
    let mut cluster = cluster.to_owned();
    if !claim_cluster(host, &mut cluster, how).await? {
        return Ok(());
    }
    // A reset (or a fresh start) deletes the database first.
    let fresh_start = matches!(how, Open::Reset | Open::Fresh);
    if fresh_start {
        clear_cluster(&cluster).await?;
    }
    let db = ClusterDb::open(&cluster).await?;
    let stored: Option<StoredRun> = if fresh_start { None } else { db.get_trace(RUN_DOCUMENT).await? };
    let restored = match stored {
        Some(stored) => Some(restore(&db, &stored).await?),
        None => None,
    };
    start_driving(&mut *host.borrow_mut(), &cluster, how, db, restored)
}

/// The driver lock, since only one tab drives a cluster: kept if this tab holds it, else taken, and watched.
/// False when another tab holds it (persistence then stops, saying so). For [`Open::Fresh`], `cluster` becomes
/// the name of the free spare it locked.
async fn claim_cluster<H: Host>(host: &Rc<RefCell<H>>, cluster: &mut String, how: Open) -> Result<bool, StorageError> {
    let held = host.borrow_mut().persistence().lock.take();
    let lock = match (held, how) {
        (Some(lock), _) if lock.is_held() => Some(lock),
        (_, Open::TakeOver) => Some(take_over_cluster(cluster).await?),
        (_, Open::Fresh) => {
            let (free, lock) = lock_free_spare(cluster).await?;
            *cluster = free;
            host.borrow_mut().persistence().choice = DiskChoice::indexeddb(cluster);
            lock
        }
        _ => match try_lock_cluster(cluster).await? {
            LockAttempt::Acquired(lock) => Some(lock),
            LockAttempt::Unsupported => None,
            LockAttempt::HeldElsewhere => {
                host.borrow_mut().persistence().stop_for_another_tab();
                return Ok(false);
            }
        },
    };
    if let Some(lock) = &lock {
        watch_lock(host, lock);
    }
    host.borrow_mut().persistence().lock = lock;
    Ok(true)
}

/// Drives `db` from now on: with the run restored from it, or with the current run (fresh, or one that ran in
/// memory while the database opened), written in full.
fn start_driving<H: Host>(
    h: &mut H,
    cluster: &str,
    how: Open,
    db: ClusterDb,
    restored: Option<(Runner, Vec<KvDurable>)>,
) -> Result<(), StorageError> {
    let fresh = restored.is_none();
    match restored {
        Some((runner, states)) => {
            let saved = Saved { tick: runner.now(), acts: runner.acts() };
            h.replace_runner(runner);
            h.persistence().state = State::Driving(Disk::new(db, states, Some(saved)));
        }
        None => {
            if how == Open::Reset {
                let setup = h.runner().record.setup.clone();
                let runner = Runner::new(RunRecord::fresh(setup)).map_err(StorageError::Other)?;
                h.replace_runner(runner);
            }
            h.persistence().state = State::Driving(Disk::new(db, vec![KvDurable::default(); NODES_MAX], None));
        }
    }
    let summary = h.persistence().driving_summary(cluster, how);
    h.persistence().set_status(StorageStatus { summary, ..StorageStatus::default() });
    let mut runner = std::mem::replace(h.runner(), placeholder_runner());
    if fresh {
        h.persistence().rewrite(&mut runner);
        if how == Open::Reset {
            runner.say_line(format!("Cluster {cluster:?} was reset: everything stored was deleted."));
        }
    } else {
        runner.keep_durable_batches();
        runner.disk_name = "IndexedDB";
        let nodes = runner.sim().machines().iter().filter(|machine| machine.node.is_some()).count();
        runner.act(UserAction::Reload);
        runner.say_line(format!(
            "Page reloaded at tick {}: the cluster was rebuilt from IndexedDB and checked equal to its replay; \
             {nodes} running nodes restarted from disk.",
            runner.now()
        ));
    }
    *h.runner() = runner;
    Ok(())
}

/// For [`Open::Fresh`]: the driver lock of `cluster`, or else of the first free spare (`<cluster>-2` …), and
/// that cluster's name. The lock is `None` where the browser has no Web Locks (then `cluster` itself).
async fn lock_free_spare(cluster: &str) -> Result<(String, Option<DriverLock>), StorageError> {
    for copy in 1..=FRESH_CLUSTERS {
        let name = if copy == 1 { cluster.to_owned() } else { format!("{cluster}-{copy}") };
        match try_lock_cluster(&name).await? {
            LockAttempt::Acquired(lock) => return Ok((name, Some(lock))),
            LockAttempt::Unsupported => return Ok((name, None)),
            LockAttempt::HeldElsewhere => {}
        }
    }
    Err(StorageError::Blocked(format!(
        "{FRESH_CLUSTERS} other frames or tabs already play this example from IndexedDB (clusters {cluster:?} to \
         \"{cluster}-{FRESH_CLUSTERS}\"), so this one plays in memory"
    )))
}

/// Rebuilds a stored run: replays its record to the stored tick, reads every node back, and checks the two
/// agree. Returns the runner (its timeline ends at the stored tick) and the stored states.
async fn restore(db: &ClusterDb, stored: &StoredRun) -> Result<(Runner, Vec<KvDurable>), StorageError> {
    let unescape = |text: &str| js_sys::decode_uri_component(text).ok().map(String::from);
    let record = decode_record(&stored.run, &unescape)
        .map_err(|error| StorageError::Corrupt(format!("the stored run cannot be read: {error}")))?;
    let mut runner = Runner::new(record).map_err(|error| StorageError::Corrupt(format!("the stored run: {error}")))?;
    runner.replay_to(stored.tick);
    runner.forget_future();
    let ids: Vec<NodeId> = (1..=NODES_MAX as NodeId).collect();
    let states: Vec<KvDurable> = db.load(&ids).await?;
    for (index, machine) in runner.sim().machines().iter().enumerate() {
        let (stored_state, replayed) = (&states[index], machine.storage.durable());
        if stored_state != replayed {
            return Err(StorageError::Corrupt(format!(
                "node {} in IndexedDB (promise {}, {} entries) differs from the stored run replayed to tick {} \
                 (promise {}, {} entries)",
                index + 1,
                stored_state.promised,
                stored_state.entries.len(),
                stored.tick,
                replayed.promised,
                replayed.entries.len()
            )));
        }
    }
    Ok((runner, states))
}

/// When another tab takes the cluster over, this one stops driving and says so.
fn watch_lock<H: Host>(host: &Rc<RefCell<H>>, lock: &DriverLock) {
    let lost = lock.lost();
    let host = Rc::downgrade(host);
    wasm_bindgen_futures::spawn_local(async move {
        if lost.await == LockLoss::Stolen {
            if let Some(host) = host.upgrade() {
                let mut h = host.borrow_mut();
                h.persistence().stop_for_another_tab();
                h.changed();
            }
        }
    });
}

/// The loop of every host's [`Host::pump`] ("Ticks in groups" above): a sync first, so whatever waits to be
/// saved (a visitor's action) is committed before any tick; then up to [`Persistence::group_ticks`] ticks, each
/// once the run's recorded restarts due in it were read back, and a sync after them; again, until there is
/// work to wait for, storage allows no more ticks, or `owed` ticks were taken. `go_on` is asked after
/// every tick whether to take more (a violation stops the playground). Returns the work to wait for, if any,
/// and the ticks taken.
pub fn pump_ticks(
    persistence: &mut Persistence,
    runner: &mut Runner,
    mut owed: u64,
    mut go_on: impl FnMut(&Runner) -> bool,
) -> (Option<Pending>, u64) {
    let mut taken = 0;
    loop {
        if let Some(pending) = persistence.sync(runner) {
            return (Some(pending), taken);
        }
        let (mut group, mut read_back_due) = (0, false);
        while taken < owed && group < persistence.group_ticks() {
            if !persistence.ready_for_recorded_restarts(runner) {
                read_back_due = true;
                break;
            }
            debug_assert!(
                persistence.saved().is_none_or(|saved| saved.acts == runner.acts()),
                "a tick is taken before every action was committed"
            );
            runner.step();
            (group, taken) = (group + 1, taken + 1);
            if !go_on(runner) {
                owed = taken;
            }
        }
        if group == 0 && !read_back_due {
            return (None, taken);
        }
    }
}

/// Lets the host advance, and whenever that leaves work to wait for (a commit), waits and goes on. One chain
/// at a time: while work is under way, `pump` returns nothing new.
pub fn drive<H: Host>(host: &Rc<RefCell<H>>) {
    let pending = host.borrow_mut().pump();
    if let Some(pending) = pending {
        let host = host.clone();
        wasm_bindgen_futures::spawn_local(async move {
            pending.await;
            host.borrow_mut().changed();
            drive(&host);
        });
    }
}

/// The cluster's database while this tab drives it.
struct Disk {
    db: ClusterDb,
    /// Per node (index = id − 1): its state once everything handed to IndexedDB commits.
    planned: Vec<KvDurable>,
    shared: Rc<RefCell<DiskShared>>,
    /// Rewrite every node's records at the next sync (a new run, time travel, or after a failed write).
    rewrite: bool,
    /// The run and tick last handed over.
    written: Option<(String, u64)>,
}

/// What the task waiting for a transaction updates.
struct DiskShared {
    /// Per node: what IndexedDB acknowledged.
    committed: Vec<KvDurable>,
    /// The position stored by the last transaction that committed (what a reload restores).
    saved: Option<Saved>,
    in_flight: bool,
    failure: Option<StorageError>,
    read_back: Option<(NodeId, RestartBy, Result<KvDurable, StorageError>)>,
}

enum Change {
    Batches(Vec<(NodeId, KvBatch)>),
    Replace(Vec<KvDurable>),
}

impl Disk {
    fn new(db: ClusterDb, states: Vec<KvDurable>, saved: Option<Saved>) -> Disk {
        let shared = DiskShared { committed: states.clone(), saved, in_flight: false, failure: None, read_back: None };
        Disk { db, planned: states, shared: Rc::new(RefCell::new(shared)), rewrite: false, written: None }
    }

    fn busy(&self) -> bool {
        let shared = self.shared.borrow();
        shared.in_flight || shared.failure.is_some()
    }

    fn failure(&self) -> Option<StorageError> {
        self.shared.borrow().failure.clone()
    }

    fn take_read_back(&mut self) -> Option<(NodeId, RestartBy, Result<KvDurable, StorageError>)> {
        self.shared.borrow_mut().read_back.take()
    }

    /// One transaction with what became durable since the last sync, and the run's position; `None` if
    /// nothing changed.
    fn sync(&mut self, runner: &mut Runner) -> Result<Option<Pending>, StorageError> {
        let escape = |text: &str| String::from(js_sys::encode_uri_component(text));
        let position = (encode_record(&runner.record, &escape), runner.now());
        let (writes, change): (Vec<(NodeId, Vec<Write>)>, Change) = if self.rewrite {
            runner.take_durable_batches();
            let machines = runner.sim().machines();
            let states: Vec<KvDurable> = (0..NODES_MAX)
                .map(|index| machines.get(index).map_or_else(KvDurable::default, |m| m.storage.durable().clone()))
                .collect();
            let writes = states.iter().zip(1..).map(|(state, id)| (id, codec::plan_rewrite(state))).collect();
            (writes, Change::Replace(states))
        } else {
            let batches = runner.take_durable_batches();
            if batches.is_empty() && self.written.as_ref() == Some(&position) {
                return Ok(None);
            }
            let mut writes: BTreeMap<NodeId, Vec<Write>> = BTreeMap::new();
            for (node, batch) in &batches {
                let planned = &mut self.planned[*node as usize - 1];
                writes.entry(*node).or_default().extend(codec::plan_batch(planned, batch));
            }
            (writes.into_iter().collect(), Change::Batches(batches))
        };
        let position_now = Saved { tick: position.1, acts: runner.acts() };
        // Whatever happens next, a failure means the planned states may be ahead of the disk: rewrite then.
        self.rewrite = true;
        let document = codec::encode_document(&StoredRun { run: position.0.clone(), tick: position.1 });
        let commit = self.db.write_cluster(&writes, &[(RUN_DOCUMENT, document)])?;
        if let Change::Replace(states) = &change {
            self.planned = states.clone();
        }
        self.rewrite = false;
        self.written = Some(position);
        self.shared.borrow_mut().in_flight = true;
        let shared = self.shared.clone();
        Ok(Some(Box::pin(async move {
            let outcome = commit.await;
            let mut shared = shared.borrow_mut();
            shared.in_flight = false;
            if outcome.is_ok() {
                shared.saved = Some(position_now);
            }
            match (outcome, change) {
                (Ok(()), Change::Batches(batches)) => {
                    for (node, batch) in &batches {
                        shared.committed[*node as usize - 1].apply_batch(batch);
                    }
                }
                (Ok(()), Change::Replace(states)) => shared.committed = states,
                (Err(error), _) => shared.failure = Some(error),
            }
        })))
    }

    /// Reads `node` back (after every earlier write committed); the next sync applies or refuses its restart.
    fn read_back(&mut self, node: NodeId, by: RestartBy) -> Pending {
        self.shared.borrow_mut().in_flight = true;
        let (db, shared) = (self.db.clone(), self.shared.clone());
        Box::pin(async move {
            let loaded = db.load(&[node]).await.map(|mut states| states.pop().expect("one state per node"));
            let mut shared = shared.borrow_mut();
            shared.in_flight = false;
            shared.read_back = Some((node, by, loaded));
        })
    }
}
