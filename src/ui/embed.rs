//! Embed mode (`index.html?scenario=NAME&embed=1`): a compact, autoplaying, captioned view of a shipped
//! scenario for an `<iframe>` of 640×400: the ring, the caption of the moment, Play, Pause, Step, and a link
//! that opens the same run in the full playground. A name that is unknown or malformed shows what is wrong and
//! the known names instead, never a blank frame.
//!
//! # Storage: an isolated IndexedDB namespace, written afresh
//!
//! An embed keeps its nodes' disks in IndexedDB like the playground (`persist.rs`: every tick waits for the
//! commit of what became durable in it), but in its own database, `synod-embed-<scenario>`
//! ([`embed_cluster`]), never the visitor's `synod-playground`: an example cannot touch the visitor's cluster.
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
//! "Open in the full playground" carries the run in its URL (`?run=…`), which the playground replays in
//! memory only, so that link does not touch the visitor's cluster either.

use std::rc::Rc;

use yew::prelude::*;

use super::app::{Cmd, RUN_PARAM};
use super::components::{Logo, Ring};
use super::frames::{each_animation_frame, Clock};
use super::persist::{self, DiskChoice, Host, Open, Pending, Persistence, StorageStatus};
use super::runner::{encode_record, RunRecord, Runner};
use super::view::{from_sim, ClusterView, LogWindows};
use crate::check::{check_with, CheckOptions, CheckOutcome};
use crate::scenario::{self, Compiled};

/// The query parameter naming a shipped scenario.
pub const SCENARIO_PARAM: &str = "scenario";
/// With `embed=1` the scenario opens in the compact embed view instead of the full playground.
pub const EMBED_PARAM: &str = "embed";
/// Whole seconds an embedded run lasts at least (a short scenario plays slower, so captions can be read).
const PLAY_SECONDS: f64 = 40.0;
const SPEED_MIN: f64 = 2.0;
/// Ticks owed at most while a commit is awaited (a slow disk slows the example down rather than bursting).
const OWED_MAX: f64 = 4.0;

/// The IndexedDB cluster of an embedded scenario (database `synod-embed-<name>`), apart from the playground's.
pub fn embed_cluster(name: &str) -> String {
    format!("embed-{name}")
}

/// The value of query parameter `name`, still URI-encoded.
pub fn query_param(name: &str) -> Option<String> {
    let search = gloo::utils::window().location().search().unwrap_or_default();
    search.trim_start_matches('?').split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| value.to_string())
    })
}

/// Whether the address asks for the embed view.
pub fn embed_requested() -> bool {
    query_param(SCENARIO_PARAM).is_some() && query_param(EMBED_PARAM).is_some_and(|v| v == "1" || v == "true")
}

/// A scenario the address names, ready to replay (compiled ahead of time: see `scenario::compiled`).
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    pub name: String,
    pub scenario: Rc<Compiled>,
    pub record: RunRecord,
}

/// Reads `?scenario=NAME`: `None` without the parameter, else the loaded scenario or a sentence saying what is
/// wrong (which scenario, what, and the names that exist).
pub fn scenario_from_address() -> Option<Result<Loaded, String>> {
    let raw = query_param(SCENARIO_PARAM)?;
    Some(load_named(&raw))
}

fn known() -> String {
    scenario::names().join(", ")
}

fn load_named(raw: &str) -> Result<Loaded, String> {
    let name = js_sys::decode_uri_component(raw)
        .ok()
        .map(String::from)
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .ok_or_else(|| {
            format!(
                "The scenario name in the address, {raw:?}, is malformed: a name has only letters, digits and \
                 dashes. Known scenarios: {}.",
                known()
            )
        })?;
    let compiled = scenario::compiled(&name)
        .ok_or_else(|| format!("There is no scenario called {name:?}. Known scenarios: {}.", known()))?;
    let record = RunRecord::of_scenario(&compiled);
    Ok(Loaded { name, record, scenario: Rc::new(compiled) })
}

/// The full playground's address for a run: the page's own address with `?run=…`.
pub fn playground_url(record: &RunRecord) -> String {
    let location = gloo::utils::window().location();
    let path = location.pathname().unwrap_or_else(|_| "/".into());
    let run = encode_record(record, &|text| String::from(js_sys::encode_uri_component(text)));
    format!("{path}?{RUN_PARAM}={run}")
}

/// Mounts the embed view (or its error) on `root`.
pub fn mount(root: web_sys::Element) {
    root.set_text_content(None);
    let _handle = yew::Renderer::<Embed>::with_root(root).render();
}

/// The embed view's root: the scenario named in the address, or the reason it cannot be shown.
#[function_component(Embed)]
pub fn embed() -> Html {
    let loaded = use_memo((), |_| scenario_from_address().unwrap_or_else(|| Err("No scenario named.".into())));
    match &*loaded {
        Ok(loaded) => html! { <EmbeddedRun loaded={loaded.clone()} /> },
        Err(error) => html! { <EmbedError message={error.clone()} /> },
    }
}

#[derive(Properties, PartialEq)]
pub struct EmbedErrorProps {
    pub message: String,
}

/// What is wrong with the scenario the address names (as text, never as HTML).
#[function_component(EmbedError)]
pub fn embed_error(props: &EmbedErrorProps) -> Html {
    html! {
        <div class="embed embed-error">
            <header class="embed-header">
                <Logo />
                <h1>{ "Synod" }</h1>
            </header>
            <div class="notice" role="alert">
                <strong>{ "This example cannot be shown. " }</strong>
                { props.message.clone() }
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

    /// Takes the owed ticks, each after the script's restarts due in it were read back, and each followed by a
    /// commit to wait for; stops at the first thing to wait for.
    fn pump(&mut self) -> Option<Pending> {
        loop {
            if let Some(pending) = self.persistence.sync(&mut self.runner) {
                self.dirty = true;
                return Some(pending);
            }
            if self.persistence.is_stopped() {
                // Not the visitor's cluster, and the script replays: go on in memory, saying why.
                self.persistence.go_on_in_memory(&mut self.runner);
                self.dirty = true;
            }
            if self.owed < 1.0 || self.runner.now() >= self.end || !self.persistence.may_advance() {
                self.at_end();
                return None;
            }
            if !self.persistence.ready_for_recorded_restarts(&self.runner) {
                // A read-back is queued: the next `sync` starts it.
                continue;
            }
            self.runner.step();
            self.owed -= 1.0;
            self.dirty = true;
        }
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

/// The scenario playing: ring, caption, controls.
#[function_component(EmbeddedRun)]
pub fn embedded_run(props: &EmbeddedRunProps) -> Html {
    let loaded = &props.loaded;
    let player = {
        let loaded = loaded.clone();
        use_mut_ref(move || {
            let runner = Runner::new(loaded.record.clone()).expect("a scenario's setup is a valid playground setup");
            let end = loaded.scenario.end;
            Player {
                runner,
                persistence: Persistence::new(DiskChoice::indexeddb(&embed_cluster(&loaded.name))),
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
        })
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
        let player = player.clone();
        let shown = shown.clone();
        let clock = clock.clone();
        use_effect_with((), move |_| {
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
            // The loop ends at its next frame.
            move || player.borrow_mut().alive = false
        });
    }
    let dispatch = {
        let player = player.clone();
        let shown = shown.clone();
        let clock = clock.clone();
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
    let emit = |cmd: Cmd| {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.emit(cmd.clone()))
    };
    let scenario = &loaded.scenario;
    let now = shown.view.now;
    let caption = scenario.captions.iter().rev().find(|(tick, _)| *tick <= now).map_or("", |(_, text)| text);
    let open = playground_url(&loaded.record);
    html! {
        <div class="embed">
            <header class="embed-header">
                <Logo />
                <h1>{ scenario.title }</h1>
                <span class={classes!("embed-checker", if shown.ok { "ok" } else { "violated" })}
                    role="status" aria-label="Checker">
                    { if shown.ok { "✓ checker green" } else { "✗ checker red" } }
                </span>
            </header>
            <div class="embed-body">
                <Ring view={shown.view.clone()} clock={(*clock).clone()} selected={None::<u64>} dispatch={dispatch.clone()} />
                <div class="embed-side">
                    <p class="embed-caption" aria-live="polite" aria-label="Caption">{ caption }</p>
                    <p class="embed-tick">{ format!("tick {now} of {}", scenario.end) }</p>
                    <div class="embed-storage" role="status" aria-label="Storage">
                        <p>{ shown.storage.summary.clone() }</p>
                        if let Some(problem) = &shown.storage.problem {
                            <p class="embed-storage-problem">{ problem.clone() }</p>
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
                <a class="embed-open" href={open} target="_blank" rel="noopener">{ "Open in the full playground" }</a>
            </nav>
        </div>
    }
}
