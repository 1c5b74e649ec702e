//! The playground's persistence glue (`ui::persist`) in headless Chromium: a run driven for some ticks, dropped
//! (the page went away), and opened again comes back at the same tick with every node's disk equal to what
//! IndexedDB holds, a reload recorded; a second host on the same cluster waits; a reset starts afresh; a script
//! opened fresh (an embed) is not resumed, reads its recorded restarts back from IndexedDB, and a second copy of
//! it takes a spare cluster instead of waiting.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use synod::kv::{KvCommand, KvStore};
use synod::paxos::DurableState;
use synod::sim::UserAction;
use synod::storage::codec;
use synod::storage::indexeddb::{clear_cluster, ClusterDb};
use synod::storage::json::Json;
use synod::storage::Storage;
use synod::ui::persist::{self, DiskChoice, Host, Open, Pending, Persistence, GROUP_TICKS_MAX, RUN_DOCUMENT};
use synod::ui::runner::{RunRecord, RunSetup, Runner};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A minimal page: a runner, its persistence, and ticks owed.
struct Page {
    runner: Runner,
    persistence: Persistence,
    owed: u64,
}

impl Host for Page {
    fn runner(&mut self) -> &mut Runner {
        &mut self.runner
    }

    fn persistence(&mut self) -> &mut Persistence {
        &mut self.persistence
    }

    fn replace_runner(&mut self, runner: Runner) {
        self.runner = runner;
    }

    /// As the pages do: the owed ticks in groups, through `persist::pump_ticks`.
    fn pump(&mut self) -> Option<Pending> {
        let (pending, taken) = persist::pump_ticks(&mut self.persistence, &mut self.runner, self.owed, |_| true);
        self.owed -= taken;
        pending
    }

    fn changed(&mut self) {}
}

fn page(cluster: &str) -> Rc<RefCell<Page>> {
    let record = RunRecord {
        setup: RunSetup { nodes: 5, seed: 4, bug: None, clients: 2, ..RunSetup::default() },
        actions: Vec::new(),
    };
    page_with(cluster, record)
}

fn page_with(cluster: &str, record: RunRecord) -> Rc<RefCell<Page>> {
    Rc::new(RefCell::new(Page {
        runner: Runner::new(record).unwrap(),
        persistence: Persistence::new(DiskChoice::indexeddb(cluster)),
        owed: 0,
    }))
}

/// Yields to the event loop until `check` holds (at most about ten seconds).
async fn until(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..1_000 {
        if check() {
            return;
        }
        yew::platform::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Opens `page`'s cluster and waits until it drives it.
async fn open(page: &Rc<RefCell<Page>>, how: Open) {
    persist::open(page, how);
    until("the cluster to open", || page.borrow().persistence.is_driving()).await;
}

/// Lets `page` take `ticks` ticks, in groups each committed before the next, and waits until the last committed.
async fn run(page: &Rc<RefCell<Page>>, ticks: u64) {
    let target = page.borrow().runner.now() + ticks;
    page.borrow_mut().owed = ticks;
    persist::drive(page);
    until("the ticks to commit", || {
        let p = page.borrow();
        p.runner.now() == target && p.persistence.may_advance()
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_dropped_run_comes_back_from_indexeddb_at_the_same_tick() {
    const CLUSTER: &str = "test-persist-reload";
    clear_cluster(CLUSTER).await.unwrap();
    let first = page(CLUSTER);
    open(&first, Open::Normal).await;
    run(&first, 40).await;
    first.borrow_mut().runner.act(UserAction::Crash { node: 3 });
    run(&first, 40).await;
    let before: Vec<_> = first.borrow().runner.sim().machines().iter().map(|m| m.storage.durable().clone()).collect();
    let history = first.borrow().runner.sim().history().operations().len();
    assert!(before.iter().any(|state| !state.entries.is_empty()), "the cluster wrote something");
    drop(first); // The page went away (its lock goes with it).

    let second = page(CLUSTER);
    open(&second, Open::Normal).await;
    {
        let p = second.borrow();
        assert_eq!(p.runner.now(), 80, "the run resumes at the stored tick");
        assert_eq!(
            p.runner.record.actions.last().map(|(tick, action)| (*tick, action.clone())),
            Some((80, UserAction::Reload))
        );
        assert!(p.runner.sim().node(3).is_none(), "the node killed before the reload stays down");
        assert!(p.runner.sim().history().operations().len() >= history, "the history replays");
        for (index, machine) in p.runner.sim().machines().iter().enumerate() {
            assert_eq!(machine.storage.durable(), &before[index], "node {}: the disk survived the reload", index + 1);
        }
    }
    // What the page shows as disk is what IndexedDB holds, and keeps up as the run goes on.
    run(&second, 30).await;
    let db = ClusterDb::open(CLUSTER).await.unwrap();
    let stored = db.load::<synod::kv::KvCommand, synod::kv::KvStore>(&[1, 2, 3, 4, 5]).await.unwrap();
    for (index, machine) in second.borrow().runner.sim().machines().iter().enumerate() {
        assert_eq!(&stored[index], machine.storage.durable(), "node {}: IndexedDB is in step", index + 1);
    }
}

fn durable_states(page: &Rc<RefCell<Page>>) -> Vec<DurableState<KvCommand, KvStore>> {
    page.borrow().runner.sim().machines().iter().map(|machine| machine.storage.durable().clone()).collect()
}

fn saved_tick(page: &Rc<RefCell<Page>>) -> Option<u64> {
    page.borrow().persistence.saved().map(|saved| saved.tick)
}

#[wasm_bindgen_test]
async fn fast_forward_saves_ticks_in_groups_and_a_reload_comes_back_to_the_last_committed_group() {
    const CLUSTER: &str = "test-persist-groups";
    clear_cluster(CLUSTER).await.unwrap();
    let first = page(CLUSTER);
    open(&first, Open::Normal).await;
    run(&first, 10).await;
    assert_eq!(saved_tick(&first), Some(10));
    // Fast-forward: more than two groups owed at once. A group is taken and handed to IndexedDB as one
    // transaction, and nothing more is taken until it committed.
    let end = 10 + 2 * GROUP_TICKS_MAX + 20;
    first.borrow_mut().owed = end - 10;
    persist::drive(&first);
    assert_eq!(first.borrow().runner.now(), 10 + GROUP_TICKS_MAX, "a group is taken at once");
    assert!(!first.borrow().persistence.may_advance(), "its transaction is under way");
    persist::drive(&first);
    assert_eq!(first.borrow().runner.now(), 10 + GROUP_TICKS_MAX, "no more before it commits");
    assert_eq!(saved_tick(&first), Some(10), "nothing of it is committed yet");
    // Every commit saves a whole group: the saved tick only ever lands on the end of one.
    let ends = [10, 10 + GROUP_TICKS_MAX, 10 + 2 * GROUP_TICKS_MAX, end];
    let mut seen = Vec::new();
    until("the groups to commit", || {
        let tick = saved_tick(&first).unwrap();
        if seen.last() != Some(&tick) {
            seen.push(tick);
        }
        tick == end && first.borrow().persistence.may_advance()
    })
    .await;
    assert!(seen.iter().all(|tick| ends.contains(tick)), "saved ticks {seen:?}, group ends {ends:?}");
    let committed = durable_states(&first);
    // Ticks whose transaction never committed (the tab died first) do not come back: a reload restores the
    // last committed tick, and every node as it was then.
    for _ in 0..20 {
        first.borrow_mut().runner.step();
    }
    assert_ne!(durable_states(&first), committed, "the uncommitted ticks changed some node's disk");
    drop(first);
    let second = page(CLUSTER);
    open(&second, Open::Normal).await;
    assert_eq!(second.borrow().runner.now(), end, "back at the last committed tick");
    assert_eq!(durable_states(&second), committed, "every node as IndexedDB committed it");
}

#[wasm_bindgen_test]
async fn a_visitors_action_is_committed_before_any_later_tick() {
    const CLUSTER: &str = "test-persist-action-first";
    clear_cluster(CLUSTER).await.unwrap();
    let host = page(CLUSTER);
    open(&host, Open::Normal).await;
    run(&host, 10).await;
    // Fast-forward: a group's transaction is under way.
    host.borrow_mut().owed = 2 * GROUP_TICKS_MAX;
    persist::drive(&host);
    let acted_at = host.borrow().runner.now();
    assert_eq!(acted_at, 10 + GROUP_TICKS_MAX);
    assert!(!host.borrow().persistence.may_advance());
    // The visitor kills node 2 meanwhile, as the playground's dispatch does it: act, then drive.
    host.borrow_mut().runner.act(UserAction::Crash { node: 2 });
    persist::drive(&host);
    assert_eq!(host.borrow().runner.now(), acted_at, "no tick before the action is committed");
    // Frames keep coming (each drives the page); the first tick after the action comes once it is committed.
    until("the run to go on", || {
        persist::drive(&host);
        let p = host.borrow();
        if p.runner.now() == acted_at {
            return false;
        }
        let saved = p.persistence.saved().unwrap();
        assert!(
            saved.tick >= acted_at && saved.acts == p.runner.acts(),
            "tick {} before the action committed",
            p.runner.now()
        );
        true
    })
    .await;
    // By the time a later tick is taken, IndexedDB holds the action at its tick.
    let db = ClusterDb::open(CLUSTER).await.unwrap();
    let stored = db.get_trace::<Json>(RUN_DOCUMENT).await.unwrap().expect("the run document");
    let run = stored.read_field("run", Json::string).unwrap();
    assert!(run.ends_with(&format!("~{acted_at}:k2")), "the stored run {run:?} holds the kill at tick {acted_at}");
    assert!(stored.read_field("tick", Json::u64).unwrap() >= acted_at);
    run_on(&host).await;
}

/// Waits until the ticks owed are taken and committed.
async fn run_on(page: &Rc<RefCell<Page>>) {
    until("the ticks to commit", || {
        let p = page.borrow();
        p.owed == 0 && p.persistence.may_advance()
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_restart_waits_for_its_node_to_be_read_back() {
    const CLUSTER: &str = "test-persist-restart";
    clear_cluster(CLUSTER).await.unwrap();
    let host = page(CLUSTER);
    open(&host, Open::Normal).await;
    run(&host, 30).await;
    host.borrow_mut().runner.act(UserAction::Crash { node: 2 });
    run(&host, 10).await;
    let restart = UserAction::Restart { node: 2 };
    let taken = {
        let mut p = host.borrow_mut();
        let Page { runner, persistence, .. } = &mut *p;
        persistence.intercept(runner, &restart)
    };
    assert!(taken, "a restart of a down node waits for the read-back");
    assert!(!host.borrow().persistence.may_advance(), "nothing advances meanwhile");
    persist::drive(&host);
    until("the node to restart", || host.borrow().runner.sim().node(2).is_some()).await;
    let narration: Vec<String> = host.borrow().runner.narration.iter().cloned().collect();
    assert!(narration.iter().any(|line| line.starts_with("node 2 reloaded from IndexedDB: promise")), "{narration:?}");
}

#[wasm_bindgen_test]
async fn a_second_host_waits_and_a_reset_starts_afresh() {
    const CLUSTER: &str = "test-persist-tabs";
    clear_cluster(CLUSTER).await.unwrap();
    let first = page(CLUSTER);
    open(&first, Open::Normal).await;
    run(&first, 20).await;
    let second = page(CLUSTER);
    persist::open(&second, Open::Normal);
    until("the second host to see the first", || second.borrow().persistence.status().offer_take_over).await;
    assert!(!second.borrow().persistence.may_advance());
    open(&second, Open::TakeOver).await;
    assert_eq!(second.borrow().runner.now(), 20, "taking over restores the stored run");
    until("the first host to stop", || first.borrow().persistence.status().offer_take_over).await;
    open(&second, Open::Reset).await;
    assert_eq!(second.borrow().runner.now(), 0, "a reset starts afresh");
    run(&second, 5).await;
    drop(second);
    drop(first);
    let third = page(CLUSTER);
    open(&third, Open::Normal).await;
    assert_eq!(third.borrow().runner.now(), 5, "what was stored after the reset is what comes back");
}

/// The shipped scenario "restart-recovery" as a run record: node 3 is killed at tick 45 and restarted at 70.
fn restart_script() -> RunRecord {
    // What the scenario engine answers for it (the protocol, without loading the engine's module).
    let answer = synod::ui::engine::serve::prepare(include_str!("../www/scenarios/restart-recovery.scenario"));
    let record = synod::ui::engine::read_prepared(&answer).unwrap().record;
    assert!(record.actions.contains(&(70, UserAction::Restart { node: 3 })), "the script restarts node 3 at 70");
    record
}

#[wasm_bindgen_test]
async fn a_fresh_script_is_not_resumed_reads_its_restarts_back_and_a_second_copy_takes_a_spare() {
    const CLUSTER: &str = "test-persist-fresh";
    const SPARE: &str = "test-persist-fresh-2";
    clear_cluster(CLUSTER).await.unwrap();
    clear_cluster(SPARE).await.unwrap();
    // Something stored from an earlier visit, at tick 20.
    let earlier = page_with(CLUSTER, restart_script());
    open(&earlier, Open::Normal).await;
    run(&earlier, 20).await;
    drop(earlier);

    let first = page_with(CLUSTER, restart_script());
    open(&first, Open::Fresh).await;
    assert_eq!(first.borrow().runner.now(), 0, "a script opened fresh starts at tick 0, not where it was left");
    assert_eq!(first.borrow().runner.record.actions, restart_script().actions, "its recorded actions are kept");
    assert_eq!(first.borrow().persistence.choice(), &DiskChoice::indexeddb(CLUSTER));
    run(&first, 69).await;
    assert!(first.borrow().runner.sim().node(3).is_none(), "node 3 is down before its restart");
    assert_eq!(first.borrow().persistence.last_read_back(), None);
    run(&first, 1).await;
    {
        let p = first.borrow();
        assert!(p.runner.sim().node(3).is_some(), "the recorded restart was applied at tick 70");
        let said = p.persistence.last_read_back().unwrap_or_default();
        assert!(said.starts_with("Node 3 read back from IndexedDB for its restart at tick 70: promise"), "{said}");
        assert!(said.ends_with("equal to the simulator's disk."), "{said}");
    }
    run(&first, 10).await;
    let db = ClusterDb::open(CLUSTER).await.unwrap();
    let stored = db.load::<synod::kv::KvCommand, synod::kv::KvStore>(&[1, 2, 3, 4, 5]).await.unwrap();
    for (index, machine) in first.borrow().runner.sim().machines().iter().enumerate() {
        assert_eq!(&stored[index], machine.storage.durable(), "node {}: IndexedDB is in step", index + 1);
    }
    assert!(!stored[2].entries.is_empty(), "node 3's log is in IndexedDB");

    // A second frame of the same script, while the first plays: it neither waits nor fails.
    let second = page_with(CLUSTER, restart_script());
    open(&second, Open::Fresh).await;
    assert_eq!(second.borrow().persistence.choice(), &DiskChoice::indexeddb(SPARE));
    assert!(second.borrow().persistence.status().summary.contains("\"synod-test-persist-fresh-2\""));
    run(&second, 5).await;
    assert_eq!(first.borrow().persistence.choice(), &DiskChoice::indexeddb(CLUSTER), "the first keeps its own");
    assert!(first.borrow().persistence.is_driving());
}

#[wasm_bindgen_test]
async fn a_recorded_restart_whose_node_differs_in_indexeddb_is_refused_and_said() {
    const CLUSTER: &str = "test-persist-fresh-differs";
    clear_cluster(CLUSTER).await.unwrap();
    let host = page_with(CLUSTER, restart_script());
    open(&host, Open::Fresh).await;
    run(&host, 60).await;
    assert!(host.borrow().runner.sim().node(3).is_none(), "node 3 is down (killed at 45)");
    // Node 3's records in IndexedDB are wiped behind the page's back: they no longer match its disk.
    let db = ClusterDb::open(CLUSTER).await.unwrap();
    let empty: DurableState<KvCommand, KvStore> = DurableState::default();
    db.write_cluster(&[(3, codec::plan_rewrite(&empty))], &[]).unwrap().await.unwrap();
    host.borrow_mut().owed = 10;
    persist::drive(&host);
    until("the read-back to be refused", || host.borrow().persistence.is_stopped()).await;
    {
        let p = host.borrow();
        assert_eq!(p.runner.now(), 69, "the tick of the restart is not taken");
        assert!(p.runner.sim().node(3).is_none(), "node 3 is not restarted");
        let problem = p.persistence.status().problem.clone().unwrap_or_default();
        assert!(problem.starts_with("node 3 was not restarted: IndexedDB holds promise"), "{problem}");
    }
    // An embed goes on in memory from there, the reason still on show.
    {
        let mut p = host.borrow_mut();
        let Page { runner, persistence, .. } = &mut *p;
        persistence.go_on_in_memory(runner);
        p.owed = 10;
    }
    persist::drive(&host);
    until("the run to go on", || host.borrow().runner.now() == 79).await;
    let p = host.borrow();
    assert!(p.runner.sim().node(3).is_some(), "the recorded restart is applied from the simulator's disk");
    assert!(p.persistence.status().summary.starts_with("In memory only from tick 69"), "{:?}", p.persistence.status());
    assert!(p.persistence.status().problem.as_deref().unwrap_or_default().starts_with("node 3 was not restarted"));
}
