//! Embed mode (`index.html?scenario=NAME&embed=1`, `?scenario-url=PATH&embed=1` or `?embed=1#scenario=PACKED`,
//! see `source.rs`): a compact, autoplaying, captioned view of a scenario for an `<iframe>` of 640×400: the
//! ring, the caption of the moment, Play, Pause, Step, and a link that opens the same run in the full
//! playground. A scenario that cannot be shown (an unknown name, a file that is missing or unreachable, a
//! malformed line) shows what is wrong in the frame, with the line or the HTTP status, never a blank frame; a
//! claim that does not hold is shown under the caption, so an author sees it in their own page.
//!
//! # Framed by another site
//!
//! The page sends no `X-Frame-Options` and its meta-tag CSP has no `frame-ancestors` (browsers ignore that
//! directive in a meta tag), so any site may frame an example; a host restricts that with an HTTP header
//! (README). A third-party frame may get partitioned storage (its own IndexedDB, keyed by the top-level site)
//! or none at all: opening the database or the driver lock then fails, and the example plays in memory and
//! says why in its storage line, as below. Nothing is logged.
//!
//! # Storage: an isolated IndexedDB namespace, written afresh
//!
//! An embed keeps its nodes' disks in IndexedDB like the playground (`persist.rs`: ticks are saved in groups,
//! and a group waits for the commit of the one before), but in its own database, `synod-embed-<scenario>` for a
//! shipped one and `synod-embed-custom-<its title>` for an author's ([`Loaded::cluster`]), never the visitor's
//! `synod-playground`: an example cannot touch the visitor's cluster.
//!
//! - **Fresh, not resumed.** An embed is a script that replays from tick 0 on every load, so it opens with
//!   [`Open::Fresh`]: the database is deleted and written again from the start. A stored half-run would only
//!   have to be thrown away (the captions start at tick 0), and nothing in it is the visitor's.
//! - **Restarts read from IndexedDB.** Before the tick at which the script restarts a node, the node is read
//!   back from the database and compared with the simulator's disk
//!   ([`Persistence::ready_for_recorded_restarts`]); the frame says what was read. A difference is shown.
//! - **Several frames or tabs.** The driver lock is per database, and two frames of one scenario (on one page,
//!   or in two tabs) would contend for it. The second neither waits nor goes blank: it takes a spare database,
//!   `synod-embed-<scenario>-2` … `-4` (bounded, so repeated visits do not pile up databases; each is deleted
//!   and rewritten by the next frame that takes it), and beyond those it plays in memory and says so. A
//!   per-frame random name would leave a new database behind on every load.
//! - **No IndexedDB** (a private window that refuses it, a sandboxed frame): the run plays in memory, and the
//!   frame says why. A write that fails later does the same from that tick on (`go_on_in_memory`): the script
//!   replays, so nothing is lost.
//! - **Smooth and in step.** A commit takes milliseconds and an embed plays 2 to 7 ticks a second
//!   (BENCHMARKS.md), so waiting for it never shows; the caption is chosen from the tick the simulator is at,
//!   so it cannot run ahead of (or behind) the cluster it describes, however long a commit takes.
//!
//! "Open in the full playground" carries the run and the tick shown in its URL (`?run=…`), which the playground
//! replays in memory only, so that link opens at the same moment and does not touch the visitor's cluster either.

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use super::app::{Cmd, RUN_PARAM};
use super::components::{logo, Ring};
use super::frames::{each_animation_frame, Clock};
use super::persist::{self, DiskChoice, Host, Open, Pending, Persistence, StorageStatus};
use super::runner::{encode_link, Moment, RunRecord, Runner, DEFAULT_SPEED};
use super::source::{self, Loaded};
use super::view::{from_sim, ClusterView, LogWindows};
use crate::check::{check_with, CheckOptions, CheckOutcome};

/// Whole seconds an embedded run lasts at least (a short scenario plays slower, so captions can be read).
const PLAY_SECONDS: f64 = 40.0;
const SPEED_MIN: f64 = 2.0;
/// Ticks owed at most while a commit is awaited (a slow disk slows the example down rather than bursting).
const OWED_MAX: f64 = 4.0;

/// The full playground's address for a run at a moment: the page's own address with `?run=…`.
pub fn playground_url(record: &RunRecord, moment: &Moment) -> String {
    let location = gloo::utils::window().location();
    let path = location.pathname().unwrap_or_else(|_| "/".into());
    let run = encode_link(record, moment, &|text| String::from(js_sys::encode_uri_component(text)));
    format!("{path}?{RUN_PARAM}={run}")
}

/// Mounts the embed view (or its error) on `root`.
pub fn mount(root: web_sys::Element) {
    root.set_text_content(None);
    let _handle = yew::Renderer::<Embed>::with_root(root).render();
}

/// The embed view's root: the scenario the address names once it is loaded (a file is fetched first), or the
/// reason it cannot be shown.
#[function_component(Embed)]
pub fn embed() -> Html {
    let source = use_memo((), |_| source::source_from_address());
    let loaded = use_state(|| None::<Result<Loaded, String>>);
    {
        let loaded = loaded.clone();
        use_effect_with((), move |_| match (*source).clone() {
            None => loaded.set(Some(Err("No scenario named.".to_string()))),
            Some(source) => {
                wasm_bindgen_futures::spawn_local(async move { loaded.set(Some(source::load(source).await)) })
            }
        });
    }
    match &*loaded {
        Some(Ok(loaded)) => html! { <EmbeddedRun loaded={loaded.clone()} /> },
        Some(Err(error)) => embed_error(error),
        None => html! {
            <div class="embed embed-error">
                <header class="embed-header">{ logo() }<h1>{ "Synod" }</h1></header>
                <p class="loading" aria-live="polite">{ "Loading the scenario…" }</p>
            </div>
        },
    }
}

/// What is wrong with the scenario the address names (as text, never as HTML). (A function, not a component:
/// see `components::logo`.)
fn embed_error(message: &str) -> Html {
    html! {
        <div class="embed embed-error">
            <header class="embed-header">
                { logo() }
                <h1>{ "Synod" }</h1>
            </header>
            <div class="notice" role="alert">
                <strong>{ "This example cannot be shown. " }</strong>
                { message.to_string() }
            </div>
            <a class="embed-open" href="index.html" target="_blank" rel="noopener">{ "Open the playground" }</a>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct EmbeddedRunProps {
    pub loaded: Loaded,
}

struct Player {
    runner: Runner,
    persistence: Persistence,
    playing: bool,
    /// Fraction of the next tick already elapsed.
    carry: f64,
    /// Whole ticks due but not yet taken (storage holds them back until its commit lands).
    owed: f64,
    /// Something changed since the last frame shown.
    dirty: bool,
    last_ts: Option<f64>,
    end: u64,
    speed: f64,
    alive: bool,
    /// Whether the clients' history is linearizable, decided once the run reached its end (the playground's
    /// badge follows the online safety checks; the history is judged as a whole).
    history_ok: Option<bool>,
}

impl Player {
    /// One animation frame: virtual time owed grows with real time × speed; [`Host::pump`] takes it.
    fn advance(&mut self, ts: f64) {
        if !self.playing {
            self.last_ts = None;
            return;
        }
        let elapsed = self.last_ts.map_or(0.0, |last| ((ts - last) / 1000.0).clamp(0.0, 0.25));
        self.last_ts = Some(ts);
        self.carry += elapsed * self.speed;
        self.owed = (self.owed + self.carry.floor()).min(OWED_MAX);
        self.carry = (self.carry - self.carry.floor()).min(0.999);
    }

    /// Virtual time including the fraction of the next tick already elapsed, for the dots.
    fn time(&self) -> f64 {
        self.runner.now() as f64 + if self.playing { self.carry.min(0.999) } else { 0.0 }
    }

    fn at_end(&mut self) {
        if self.runner.now() < self.end {
            return;
        }
        self.playing = false;
        self.carry = 0.0;
        self.owed = 0.0;
        if self.history_ok.is_none() {
            let quick = CheckOptions { shrink_explanation: false, ..CheckOptions::default() };
            let outcome = check_with(self.runner.sim().history(), &quick);
            self.history_ok = Some(!matches!(outcome, CheckOutcome::NotLinearizable { .. }));
        }
    }

    fn handle(&mut self, cmd: &Cmd) {
        match cmd {
            Cmd::Play => {
                if self.runner.now() >= self.end {
                    // Again from the start: IndexedDB is rewritten to tick 0 and follows the replay.
                    self.runner.seek(0);
                    self.persistence.rewrite(&mut self.runner);
                }
                self.playing = true;
                self.last_ts = None;
            }
            Cmd::Pause => {
                self.playing = false;
                self.carry = 0.0;
                self.owed = 0.0;
            }
            Cmd::Step => {
                self.playing = false;
                self.carry = 0.0;
                if self.runner.now() < self.end {
                    self.owed = (self.owed + 1.0).min(OWED_MAX);
                }
            }
            _ => {}
        }
        self.dirty = true;
    }
}

impl Host for Player {
    fn runner(&mut self) -> &mut Runner {
        &mut self.runner
    }

    fn persistence(&mut self) -> &mut Persistence {
        &mut self.persistence
    }

    fn replace_runner(&mut self, runner: Runner) {
        self.runner = runner;
        self.owed = 0.0;
        self.dirty = true;
    }

    /// Takes the owed ticks in groups, each saved by one transaction and each tick after the script's restarts
    /// due in it were read back (`persist::pump_ticks`); stops at the first thing to wait for.
    fn pump(&mut self) -> Option<Pending> {
        let owed = (self.owed.floor() as u64).min(self.end.saturating_sub(self.runner.now()));
        let (pending, taken) = persist::pump_ticks(&mut self.persistence, &mut self.runner, owed, |_| true);
        self.owed -= taken as f64;
        self.dirty |= taken > 0 || pending.is_some();
        if pending.is_none() && self.persistence.is_stopped() {
            // Not the visitor's cluster, and the script replays: go on in memory (never stopped again), saying why.
            self.persistence.go_on_in_memory(&mut self.runner);
            self.dirty = true;
            return self.pump();
        }
        self.at_end();
        pending
    }

    fn changed(&mut self) {
        self.dirty = true;
    }
}

/// What one frame shows.
#[derive(Clone, PartialEq)]
struct Shown {
    view: Rc<ClusterView>,
    playing: bool,
    /// The online safety checks and, at the end, the history's linearizability.
    ok: bool,
    /// Where the nodes' disks are, and the last node read back from IndexedDB.
    storage: StorageStatus,
    read_back: Option<String>,
}

fn show(player: &Player) -> Shown {
    let view = Rc::new(from_sim(player.runner.sim(), &LogWindows::new()));
    let history_ok = player.runner.now() < player.end || player.history_ok != Some(false);
    Shown {
        ok: view.checker.ok && history_ok,
        view,
        playing: player.playing,
        storage: player.persistence.status().clone(),
        read_back: player.persistence.last_read_back().map(str::to_owned),
    }
}

impl Player {
    fn new(loaded: &Loaded) -> Player {
        let runner =
            Runner::new(loaded.scenario.record.clone()).expect("a scenario's setup is a valid playground setup");
        let end = loaded.scenario.end;
        Player {
            runner,
            persistence: Persistence::new(DiskChoice::indexeddb(&loaded.cluster)),
            playing: true,
            carry: 0.0,
            owed: 0.0,
            dirty: true,
            last_ts: None,
            end,
            speed: (end as f64 / PLAY_SECONDS).max(SPEED_MIN),
            alive: true,
            history_ok: None,
        }
    }
}

/// Plays `player` on every animation frame until the embed goes away (the returned function, its effect's
/// cleanup, stops the loop at its next frame).
fn play_each_frame(player: Rc<RefCell<Player>>, shown: UseStateHandle<Shown>, clock: Rc<Clock>) -> impl FnOnce() {
    let loop_player = player.clone();
    each_animation_frame(move |ts: f64| {
        let (next, time) = {
            let mut p = loop_player.borrow_mut();
            if !p.alive {
                return false;
            }
            p.advance(ts);
            drop(p);
            persist::drive(&loop_player);
            let mut p = loop_player.borrow_mut();
            (std::mem::take(&mut p.dirty).then(|| show(&p)), p.time())
        };
        clock.set(time);
        if let Some(next) = next {
            shown.set(next);
        }
        true
    });
    move || player.borrow_mut().alive = false
}

/// The scenario playing: ring, caption, controls.
#[function_component(EmbeddedRun)]
pub fn embedded_run(props: &EmbeddedRunProps) -> Html {
    let player = {
        let loaded = props.loaded.clone();
        use_mut_ref(move || Player::new(&loaded))
    };
    let shown = {
        let player = player.clone();
        use_state(move || show(&player.borrow()))
    };
    let clock = {
        let player = player.clone();
        use_memo((), move |_| Clock::at(player.borrow().time()))
    };
    {
        let player = player.clone();
        use_effect_with((), move |_| persist::open(&player, Open::Fresh));
    }
    {
        let (player, shown, clock) = (player.clone(), shown.clone(), clock.clone());
        use_effect_with((), move |_| play_each_frame(player, shown, clock));
    }
    let dispatch = {
        let (shown, clock) = (shown.clone(), clock.clone());
        Callback::from(move |cmd: Cmd| {
            player.borrow_mut().handle(&cmd);
            persist::drive(&player);
            let (next, time) = {
                let mut p = player.borrow_mut();
                p.dirty = false;
                (show(&p), p.time())
            };
            clock.set(time);
            shown.set(next);
        })
    };
    embed_view(&props.loaded, &shown, &clock, &dispatch)
}

/// What an embed shows: the title and the checker, the ring, the caption of the moment, where the disks are,
/// and the controls. (A function, not a component: a component of its own would add a kilobyte of Yew's code.)
fn embed_view(loaded: &Loaded, shown: &Shown, clock: &Clock, dispatch: &Callback<Cmd>) -> Html {
    let scenario = &loaded.scenario;
    let emit = |cmd: Cmd| dispatch.reform(move |_: MouseEvent| cmd.clone());
    let now = shown.view.now;
    let caption = scenario.captions.iter().rev().find(|(tick, _)| *tick <= now).map_or("", |(_, text)| text);
    // The full playground opens where the example is, paused or playing as it is (at the playground's speed).
    let moment = Moment { tick: now, playing: shown.playing, speed: DEFAULT_SPEED, selected: None };
    let open = playground_url(&scenario.record, &moment);
    html! {
        <div class="embed">
            <header class="embed-header">
                { logo() }
                <h1>{ scenario.title.clone() }</h1>
                <span class={classes!("embed-checker", if shown.ok { "ok" } else { "violated" })}
                    role="status" aria-label="Checker">
                    { if shown.ok { "✓ checker green" } else { "✗ checker red" } }
                </span>
            </header>
            <div class="embed-body">
                <Ring view={shown.view.clone()} clock={clock.clone()} selected={None::<u64>}
                    dispatch={dispatch.clone()} />
                <div class="embed-side">
                    <p class="embed-caption" role="status" aria-label="Caption">{ caption }</p>
                    if let Some(failure) = scenario.failures.first() {
                        <p class="embed-failure" role="note">
                            { format!("A claim of this scenario does not hold: {failure}.") }
                        </p>
                    }
                    <p class="embed-tick">{ format!("tick {now} of {}", scenario.end) }</p>
                    <div class="embed-storage" role="status" aria-label="Storage">
                        <p>{ shown.storage.summary.clone() }</p>
                        if let Some(problem) = &shown.storage.problem {
                            // No storage here is how the browser treats this frame, not a failure.
                            <p class={classes!((!shown.storage.unavailable).then_some("embed-storage-problem"))}>
                                { problem.clone() }
                            </p>
                        }
                        if let Some(read_back) = &shown.read_back {
                            <p>{ read_back.clone() }</p>
                        }
                    </div>
                </div>
            </div>
            <nav class="embed-controls" aria-label="Playback">
                <button type="button" onclick={emit(Cmd::Play)} disabled={shown.playing}>{ "Play" }</button>
                <button type="button" onclick={emit(Cmd::Pause)} disabled={!shown.playing}>{ "Pause" }</button>
                <button type="button" onclick={emit(Cmd::Step)}>{ "Step" }</button>
                <a class="embed-open" href={open} target="_blank" rel="noopener">
                    { "Open in the full playground" }
                </a>
            </nav>
        </div>
    }
}
