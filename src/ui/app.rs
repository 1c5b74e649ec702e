use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use super::components::{
    checker_badge, help, logo, narration, storage_status, ClientPanel, Controls, ExplorerPanel, MessagePanel, NodeCard,
    Ring, ScenarioPane, ScenarioPanel, SequenceDiagram, StepPanel,
};
use super::frames::{each_animation_frame, Clock};
use super::persist::{self, DiskChoice, Host, Open, Pending, Persistence, StorageStatus, PLAYGROUND_CLUSTER};
use super::runner::{
    decode_link, encode_link, Moment, RunRecord, RunSetup, Runner, DEFAULT_SPEED, LINK_OPEN_TICKS_MAX, SPEEDS,
};
use super::source::{self, query_param, Loaded, Source};
use super::stagger::{Part, Stagger, CARD_GROUPS};
use super::view::{from_sim, ClusterView, LogWindows};
use crate::paxos::NodeId;
use crate::sim::branches::Branches;
use crate::sim::{FaultConfig, UserAction};

mod stepping;

/// Adding `?panic-test` to the page's address makes the app panic right after it mounts, so the end-to-end
/// tests can check that a panic in the release build shows the error banner.
const PANIC_TEST_PARAM: &str = "panic-test";
/// The query parameter carrying a shared run.
pub const RUN_PARAM: &str = "run";
/// Frame times kept on `window.__synodFrameMs` (and its two companions) for the benchmark.
const FRAME_SAMPLES_MAX: u32 = 2_000;
/// Ticks a frame adds to what is owed at most, whatever the speed (keeps a frame short). At 2,000 ticks/s the run
/// keeps its speed down to 25 frames a second: on a busy 2-core machine the page draws 25 to 40 a second at that
/// speed (BENCHMARKS.md), and a tick costs far less than drawing a frame.
const TICKS_PER_FRAME_MAX: f64 = 80.0;
/// Main-thread time a frame spends taking ticks, at most: with the render that follows, a fast-forward frame then
/// stays near the 10 ms frame budget. At least one tick is taken per frame; ticks not taken stay owed (up to
/// `OWED_MAX`), so on a slow or busy machine fast-forward runs slower than asked instead of dropping frames.
const TICK_BUDGET_MS: f64 = 3.0;
/// Ticks owed at most: a frame's ticks that storage held back (a commit still under way) are taken with the next
/// frame's, so a commit that takes up to two frames does not slow the run; beyond that the run slows to what the
/// disk takes. In memory nothing is held back, so a frame takes at most `TICKS_PER_FRAME_MAX`.
const OWED_MAX: f64 = 2.0 * TICKS_PER_FRAME_MAX;

/// What the visitor asks the app to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Cmd {
    Play,
    Pause,
    Step,
    Speed(f64),
    Seek(u64),
    Act(UserAction),
    Select(Option<u64>),
    Scroll(NodeId, Option<u64>),
    Restart(RunSetup),
    Faults(FaultConfig),
    Share,
    /// Delete the stored cluster and start the current setup afresh.
    ResetCluster,
    /// Drive the cluster another tab drives.
    TakeOver,
    /// Write the run so far as scenario text, into the scenario editor (the engine does it, `engine.rs`).
    ExportScenario,
    /// The scenario editor's text, read and run: play it, or say why not in the editor.
    PlayScenario(Rc<Result<Loaded, String>>),
    /// A scenario the address names, read and run: play it (and show its text), or show why not.
    OpenScenario(Rc<Result<Loaded, String>>),
    /// The explorer's counterexample: its whole run (the run's actions up to the start, then the path's, one a
    /// tick), to step through from where the search started.
    LoadPath(Rc<RunRecord>),
    /// Start (`true`) or stop stepping event by event (`stepping.rs`).
    StepByEvent(bool),
    /// While stepping: this event happens next, in a tick of its own.
    Choose(UserAction),
    /// One event back or forward along the path.
    Back,
    Forward,
    /// To tick `tick` of branch `branch` of the history.
    Jump {
        branch: usize,
        tick: u64,
    },
}

/// Everything one frame renders: the cluster's view plus the controls' state.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub view: Rc<ClusterView>,
    pub playing: bool,
    pub speed: f64,
    pub horizon: u64,
    pub narration: Rc<[String]>,
    /// The number of the first narration line (see `Runner::narrated`).
    pub narration_first: u64,
    pub selected: Option<u64>,
    pub setup: RunSetup,
    pub faults: FaultConfig,
    pub share_url: Option<String>,
    pub error: Option<String>,
    pub storage: StorageStatus,
    /// The last tick IndexedDB committed, while the page writes it.
    pub saved_tick: Option<u64>,
    /// Whether the cluster is kept in IndexedDB (not a shared run, which lives in memory).
    pub persistent: bool,
    pub scenario: Rc<ScenarioPane>,
    /// The run on screen, where "Explore from here" starts.
    pub record: Rc<RunRecord>,
    /// Whether the run is stepping event by event.
    pub stepping: bool,
    /// While stepping, every event the visitor may choose next, with its name.
    pub next_events: Rc<[(UserAction, String)]>,
    /// The history's branches, with the current one as the run has it now, while stepping or once there are two.
    pub branches: Option<Rc<Branches>>,
}

/// A frame to draw, and whether ticks made it (see [`Shared::draw`]).
type Drawn = (Rc<Frame>, bool);

struct Shared {
    runner: Runner,
    playing: bool,
    speed: f64,
    /// Fraction of the next tick already elapsed.
    carry: f64,
    /// Whole ticks due but not yet taken (storage may hold them back until its commit lands).
    owed: f64,
    persistence: Persistence,
    last_ts: Option<f64>,
    windows: LogWindows,
    selected: Option<u64>,
    faults: FaultConfig,
    share_url: Option<String>,
    error: Option<String>,
    /// Something the page shows changed since the last frame was published.
    dirty: bool,
    /// The last frame built, reused while nothing changed, so components get equal props and skip rendering.
    frame: Option<Rc<Frame>>,
    /// The tick of the last frame built: what is on screen.
    shown_now: u64,
    /// Ticks were taken since the last frame was drawn.
    ticked: bool,
    /// An animation frame is taking ticks: with IndexedDB only a frame takes them (see [`Shared::draw`]).
    in_frame: bool,
    /// While an animation frame takes ticks, the time (`now_ms`) by which it stops ([`TICK_BUDGET_MS`]).
    ticks_until: Option<f64>,
    alive: bool,
    /// The scenario editor's text and news.
    pane: Rc<ScenarioPane>,
    /// The title of the scenario this run came from (an export keeps it).
    title: Option<String>,
    /// The paths the visitor left by going back and choosing differently (`stepping.rs`).
    branches: Branches,
}

impl Shared {
    fn new(record: RunRecord, error: Option<String>, persistence: Persistence) -> Shared {
        let runner =
            Runner::new(record).unwrap_or_else(|e| Runner::new(RunRecord::fresh(RunSetup::default())).expect(&e));
        Shared {
            faults: runner.sim().config().faults.clone(),
            runner,
            playing: true,
            speed: f64::from(DEFAULT_SPEED),
            carry: 0.0,
            owed: 0.0,
            persistence,
            last_ts: None,
            windows: LogWindows::new(),
            selected: None,
            share_url: None,
            error,
            dirty: true,
            frame: None,
            shown_now: 0,
            ticked: false,
            in_frame: false,
            ticks_until: None,
            alive: true,
            pane: Rc::default(),
            title: None,
            branches: Branches::default(),
        }
    }

    /// Opens a shared link at its moment: the run replayed to the tick shared (checkpoints on the way, so the
    /// timeline still reaches back to tick 0), paused or playing, at the speed and with the message picked. A
    /// tick past [`LINK_OPEN_TICKS_MAX`] is not replayed while the page opens: the link opens there, paused, and
    /// says so.
    fn open_at(&mut self, moment: &Moment) {
        let tick = moment.tick.min(LINK_OPEN_TICKS_MAX);
        self.runner.replay_to(tick);
        self.faults = self.runner.sim().config().faults.clone();
        self.playing = moment.playing && tick == moment.tick;
        self.speed = f64::from(moment.speed);
        self.selected = moment.selected;
        if tick < moment.tick {
            self.error = Some(format!(
                "This link was shared at tick {}; it opens at tick {tick}, the furthest a link replays while the page \
                 opens. Press Play to go on: it is the same run.",
                moment.tick
            ));
        }
        let state = if self.playing { "playing on" } else { "paused" };
        self.runner.say_line(format!("Opened a shared run at tick {}, {state}.", self.runner.now()));
        self.changed();
    }

    /// The moment a share link opens at: this one.
    fn moment(&self) -> Moment {
        let sim = self.runner.sim();
        Moment {
            tick: self.runner.now(),
            playing: self.playing,
            // The menu's speed nearest to this one (the page only ever sets the menu's).
            speed: SPEEDS
                .into_iter()
                .min_by_key(|speed| (f64::from(*speed) - self.speed).abs() as u64)
                .unwrap_or(DEFAULT_SPEED),
            selected: self.selected.filter(|id| sim.network().get(*id).is_some()),
        }
    }

    /// What to render now (the cached frame while nothing changed).
    fn publish(&mut self) -> Rc<Frame> {
        if self.frame.is_none() {
            self.frame = Some(Rc::new(self.build_frame()));
            self.shown_now = self.runner.now();
        }
        self.frame.clone().expect("built above")
    }

    /// What an animation frame draws, if anything changed, and whether ticks changed it (the node cards then follow
    /// a frame later). With IndexedDB, only once everything taken is committed, so the page never draws a tick
    /// IndexedDB does not hold yet: a reply the visitor saw survives a reload right after it. A frame therefore
    /// draws first and then takes the next ticks, and only frames take ticks, so a commit landing in between
    /// cannot start the next transaction before its ticks were drawn.
    fn draw(&mut self) -> Option<Drawn> {
        let committing = self.persistence.is_driving() && !self.persistence.may_advance();
        if !self.dirty || committing {
            return None;
        }
        self.dirty = false;
        Some((self.publish(), std::mem::take(&mut self.ticked)))
    }

    /// Virtual time of what is on screen, including the fraction of the next tick already elapsed, for what moves
    /// between ticks.
    fn time(&self) -> f64 {
        self.shown_now as f64 + if self.playing { self.carry } else { 0.0 }
    }

    fn build_frame(&self) -> Frame {
        let mut view = from_sim(self.runner.sim(), &self.windows);
        for changes in self.runner.changes() {
            view.nodes[usize::from(changes.node) - 1].changes = Rc::from(changes.fields);
        }
        // The disk panes show what IndexedDB holds, not the simulator's copy.
        if let Some(disks) = self.persistence.disk_views(view.nodes.len()) {
            for (node, disk) in view.nodes.iter_mut().zip(disks) {
                node.disk = disk;
            }
        }
        let view = Rc::new(view);
        let sim = self.runner.sim();
        let selected = self.selected.filter(|id| sim.network().get(*id).is_some());
        Frame {
            view,
            playing: self.playing,
            speed: self.speed,
            horizon: self.runner.horizon,
            narration: self.runner.narration.iter().cloned().collect(),
            narration_first: self.runner.narrated - self.runner.narration.len() as u64,
            selected,
            setup: self.runner.record.setup.clone(),
            faults: self.faults.clone(),
            share_url: self.share_url.clone(),
            error: self.error.clone(),
            storage: self.persistence.status().clone(),
            saved_tick: self.persistence.saved().map(|saved| saved.tick),
            persistent: self.persistence.choice().cluster().is_some(),
            scenario: self.pane.clone(),
            record: Rc::new(self.runner.record.clone()),
            stepping: sim.stepping(),
            next_events: self.next_events(),
            branches: self.branches_shown(),
        }
    }

    fn handle(&mut self, cmd: Cmd) {
        self.dirty = true;
        self.frame = None;
        match cmd {
            Cmd::Play => {
                self.playing = true;
                self.last_ts = None;
            }
            Cmd::Pause => self.pause(),
            Cmd::Step => {
                self.playing = false;
                self.carry = 0.0;
                self.owed = (self.owed + 1.0).min(TICKS_PER_FRAME_MAX);
            }
            Cmd::Speed(speed) => self.speed = speed.clamp(0.25, 2_000.0),
            Cmd::Seek(tick) => self.seek(tick),
            Cmd::Act(action) if self.takes_a_step(&action) => self.choose(action),
            Cmd::Act(action) => {
                self.keep_branch();
                if let UserAction::SetFaults { faults } = &action {
                    self.faults = faults.clone();
                }
                if self.persistence.intercept(&self.runner, &action) {
                    if let UserAction::Restart { node } = action {
                        self.runner.say_line(format!("Restarting node {node}: reading its disk back from IndexedDB…"));
                    }
                } else {
                    self.runner.act(action);
                }
                self.share_url = None;
            }
            Cmd::Select(id) => self.selected = id,
            Cmd::Scroll(node, top) => {
                match top {
                    Some(top) => self.windows.insert(node, top),
                    None => self.windows.remove(&node),
                };
            }
            Cmd::Restart(setup) => self.restart(RunRecord::fresh(setup), None),
            Cmd::Faults(faults) => self.handle(Cmd::Act(UserAction::SetFaults { faults })),
            Cmd::Share => self.share_url = Some(share_url(&self.runner.record, &self.moment())),
            // The dispatcher takes them: asynchronous (`persist::open`), or a whole new run (`load_path`).
            Cmd::ResetCluster | Cmd::TakeOver | Cmd::LoadPath(_) => {}
            Cmd::ExportScenario => {
                // The text will describe what is shown: the run waits while the engine writes it.
                self.playing = false;
                self.carry = 0.0;
                self.owed = 0.0;
            }
            Cmd::PlayScenario(loaded) => match &*loaded {
                Ok(loaded) => self.play_scenario(loaded),
                Err(error) => Rc::make_mut(&mut self.pane).outcome = Some((false, error.clone())),
            },
            Cmd::OpenScenario(loaded) => match &*loaded {
                Ok(loaded) => {
                    self.play_scenario(loaded);
                    Rc::make_mut(&mut self.pane).show(loaded.text.clone());
                }
                Err(error) => self.error = Some(error.clone()),
            },
            Cmd::StepByEvent(on) => self.step_by_event(on),
            Cmd::Choose(event) => self.choose(event),
            Cmd::Back => self.seek(self.runner.now().saturating_sub(1)),
            Cmd::Forward => self.forward(),
            Cmd::Jump { branch, tick } => self.jump(branch, tick),
        }
    }

    /// Stops the clock: nothing owed, nothing carried.
    fn pause(&mut self) {
        self.playing = false;
        self.carry = 0.0;
        self.owed = 0.0;
    }

    /// Time travel to `tick`, paused.
    fn seek(&mut self, tick: u64) {
        self.runner.seek(tick);
        self.persistence.rewrite(&mut self.runner);
        self.pause();
    }

    /// A new run of `record` in the same storage (the visitor's cluster is rewritten, as "New run" does); the
    /// scenario editor keeps its text.
    fn restart(&mut self, record: RunRecord, title: Option<String>) {
        let persistence = std::mem::replace(&mut self.persistence, Persistence::new(DiskChoice::Memory));
        let pane = std::mem::take(&mut self.pane);
        *self = Shared::new(record, None, persistence);
        self.pane = pane;
        self.title = title;
        self.persistence.rewrite(&mut self.runner);
    }

    fn play_scenario(&mut self, loaded: &Loaded) {
        let scenario = &loaded.scenario;
        self.restart(scenario.record.clone(), Some(scenario.title.clone()));
        let actions = scenario.record.actions.len();
        self.runner.say_line(format!(
            "Playing the scenario \"{}\": {actions} scripted actions up to tick {}.",
            scenario.title, scenario.end
        ));
        let news = if scenario.failures.is_empty() {
            (true, format!("Playing \"{}\" (to tick {}): every claim holds.", scenario.title, scenario.end))
        } else {
            let failures = scenario.failures.join("; ");
            (false, format!("Playing \"{}\", but claims do not hold: {failures}.", scenario.title))
        };
        Rc::make_mut(&mut self.pane).outcome = Some(news);
    }

    /// What the engine wrote for "Export as scenario", into the editor.
    fn exported(&mut self, now: u64, text: Result<String, String>) {
        let pane = Rc::make_mut(&mut self.pane);
        match text {
            Ok(text) => {
                pane.show(Rc::from(text));
                pane.outcome = Some((true, format!("Exported the run up to tick {now}.")));
            }
            Err(error) => pane.outcome = Some((false, format!("The run cannot be exported: {error}."))),
        }
        self.changed();
    }
}

/// "Export as scenario": the engine writes the run so far, then the editor shows it.
fn export_scenario(shared: &Rc<std::cell::RefCell<Shared>>) {
    let (record, title, now) = {
        let s = shared.borrow();
        (s.runner.record.clone(), s.title.clone().unwrap_or_default(), s.runner.now())
    };
    let shared = shared.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let text = match super::engine::export(&record, &title, now).await {
            Ok(Ok(text)) => Ok(text),
            Ok(Err(error)) => Err(error.message),
            Err(why) => Err(why),
        };
        shared.borrow_mut().exported(now, text);
    });
}

impl Shared {
    /// One animation frame: advance virtual time by the elapsed real time × speed.
    fn advance(&mut self, ts: f64) {
        if !self.playing {
            self.last_ts = None;
            return;
        }
        let elapsed_s = self.last_ts.map_or(0.0, |last| ((ts - last) / 1000.0).clamp(0.0, 0.25));
        self.last_ts = Some(ts);
        self.carry += elapsed_s * self.speed;
        self.owed = (self.owed + self.carry.floor().min(TICKS_PER_FRAME_MAX)).min(OWED_MAX);
        self.carry = (self.carry - self.carry.floor()).min(0.999);
    }
}

impl Host for Shared {
    fn runner(&mut self) -> &mut Runner {
        &mut self.runner
    }

    fn persistence(&mut self) -> &mut Persistence {
        &mut self.persistence
    }

    fn replace_runner(&mut self, runner: Runner) {
        self.faults = runner.sim().config().faults.clone();
        self.runner = runner;
        self.branches = Branches::default();
        self.owed = 0.0;
        self.share_url = None;
        self.changed();
    }

    /// Takes the owed ticks in groups, each saved by one transaction (`persist::pump_ticks`); stops at the
    /// first commit to wait for.
    fn pump(&mut self) -> Option<Pending> {
        let may_take = self.in_frame || !self.persistence.is_driving();
        let owed = if may_take { self.owed.floor() as u64 } else { 0 };
        let until = self.ticks_until;
        let (pending, taken) = persist::pump_ticks(&mut self.persistence, &mut self.runner, owed, |runner| {
            runner.sim().violations().is_empty() && until.is_none_or(|until| now_ms() < until)
        });
        self.owed -= taken as f64;
        if !self.runner.sim().violations().is_empty() {
            // The checker caught something: stop so the visitor can look.
            self.playing = false;
            self.carry = 0.0;
            self.owed = 0.0;
        }
        if taken > 0 || pending.is_some() {
            self.ticked |= taken > 0;
            self.changed();
        }
        pending
    }

    fn changed(&mut self) {
        self.frame = None;
        self.dirty = true;
    }
}

/// One animation frame of the playground: advances virtual time, takes the ticks owed (drawing first, with
/// IndexedDB: see [`Shared::draw`]), and returns what to draw, if anything, and the clock's time; `None` once the
/// app is gone.
fn animation_frame(shared: &Rc<RefCell<Shared>>, ts: f64) -> Option<(Option<Drawn>, f64)> {
    let mut s = shared.borrow_mut();
    if !s.alive {
        return None;
    }
    s.advance(ts);
    let drawn_first = if s.persistence.is_driving() { s.draw() } else { None };
    s.in_frame = true;
    s.ticks_until = Some(now_ms() + TICK_BUDGET_MS);
    drop(s);
    persist::drive(shared);
    let mut s = shared.borrow_mut();
    s.in_frame = false;
    s.ticks_until = None;
    let drawn = drawn_first.or_else(|| s.draw());
    Some((drawn, s.time()))
}

fn share_url(record: &RunRecord, moment: &Moment) -> String {
    let location = gloo::utils::window().location();
    let base =
        format!("{}{}", location.origin().unwrap_or_default(), location.pathname().unwrap_or_else(|_| "/".into()));
    let run = encode_link(record, moment, &|text| String::from(js_sys::encode_uri_component(text)));
    format!("{base}?{RUN_PARAM}={run}")
}

/// The page's state to start with: the playground's own cluster in IndexedDB, or, for a shared run or a scenario
/// the address names, memory only (opening a link never overwrites the visitor's cluster). A scenario in the
/// address is loaded once the page is mounted (`Cmd::OpenScenario`), and the page waits for it paused.
fn initial_state() -> (Shared, Option<Source>) {
    match source::source_from_address() {
        None => (initial_run(), None),
        Some(source) => {
            let record = RunRecord { setup: RunSetup::default(), actions: Vec::new() };
            let mut shared = Shared::new(record, None, Persistence::new(DiskChoice::Memory).shared_run());
            shared.playing = false;
            (shared, Some(source))
        }
    }
}

/// The page without a scenario in its address (see [`initial_state`]): a shared run opens at the moment shared.
fn initial_run() -> Shared {
    let default = RunRecord::fresh(RunSetup::default());
    let own = || Persistence::new(DiskChoice::indexeddb(PLAYGROUND_CLUSTER));
    let Some(text) = query_param(RUN_PARAM) else { return Shared::new(default, None, own()) };
    match decode_link(&text, &|t| js_sys::decode_uri_component(t).ok().map(String::from)) {
        Ok((record, moment)) => {
            let mut shared = Shared::new(record, None, Persistence::new(DiskChoice::Memory).shared_run());
            shared.open_at(&moment);
            shared
        }
        Err(error) => {
            Shared::new(default, Some(format!("The shared run could not be read ({error}); starting afresh.")), own())
        }
    }
}

/// The benchmark's sample arrays, when it has put them on `window` (timing a frame costs a timer and a microtask
/// per frame, so the page times itself only when asked): `__synodFrameMs` the whole frame's main-thread work,
/// `__synodSimMs` advancing the simulator and building the view, `__synodRenderMs` that plus Yew's render
/// (without the browser's style, layout and paint).
struct FrameSamples {
    frame: js_sys::Array,
    sim: js_sys::Array,
    render: js_sys::Array,
    /// `__synodPartOf`, if asked for too: which part of the page the frame rendered ([`Part::number`], -1 for
    /// none, or all of them at once), so the benchmark can say which part is the heaviest.
    part: Option<js_sys::Array>,
}

impl FrameSamples {
    fn requested() -> Option<FrameSamples> {
        let window = gloo::utils::window();
        let get = |name: &str| js_sys::Reflect::get(&window, &JsValue::from_str(name)).ok()?.dyn_into().ok();
        let part = get("__synodPartOf");
        Some(FrameSamples {
            frame: get("__synodFrameMs")?,
            sim: get("__synodSimMs")?,
            render: get("__synodRenderMs")?,
            part,
        })
    }
}

fn push_sample(samples: &js_sys::Array, ms: f64) {
    if samples.length() >= FRAME_SAMPLES_MAX {
        samples.shift();
    }
    samples.push(&JsValue::from_f64(ms));
}

fn now_ms() -> f64 {
    gloo::utils::window().performance().map_or(0.0, |p| p.now())
}

/// What the app's effects and callbacks share: the run, what each part of the page shows, and the clock.
#[derive(Clone)]
struct Handles {
    shared: Rc<std::cell::RefCell<Shared>>,
    /// What each part of the page shows (see [`Stagger`]): rendered from `stagger` after each change.
    shown: UseStateHandle<Stagger<Rc<Frame>>>,
    stagger: Rc<std::cell::RefCell<Stagger<Rc<Frame>>>>,
    clock: Rc<Clock>,
}

impl Handles {
    /// Renders what the parts show now.
    fn show(&self) {
        self.shown.set(self.stagger.borrow().clone());
    }
}

/// The root component: the playground.
#[function_component(App)]
pub fn app() -> Html {
    let opening = use_mut_ref(|| None::<Source>);
    let shared = {
        let opening = opening.clone();
        use_mut_ref(move || {
            let (shared, source) = initial_state();
            *opening.borrow_mut() = source;
            shared
        })
    };
    let stagger = use_mut_ref(|| Stagger::new(shared.borrow_mut().publish()));
    let shown = use_state(|| stagger.borrow().clone());
    let clock = {
        let shared = shared.clone();
        use_memo((), move |_| Clock::at(shared.borrow().time()))
    };
    let handles = Handles { shared: shared.clone(), shown: shown.clone(), stagger, clock };
    use_effect_with((), |_| {
        if panic_test_requested() {
            panic!("deliberate panic requested with ?{PANIC_TEST_PARAM}");
        }
    });
    use_effect_with((), move |_| persist::open(&shared, Open::Normal));
    {
        let handles = handles.clone();
        use_effect_with((), move |_| frame_loop(handles));
    }
    // One callback for the app's lifetime, so children's props stay equal between frames and they skip rendering.
    let dispatch = {
        let handles = handles.clone();
        (*use_memo((), move |_| dispatcher(handles))).clone()
    };
    {
        let dispatch = dispatch.clone();
        use_effect_with((), move |_| {
            if let Some(source) = opening.borrow_mut().take() {
                wasm_bindgen_futures::spawn_local(async move {
                    dispatch.emit(Cmd::OpenScenario(Rc::new(source::load(source).await)));
                });
            }
        });
    }
    page(&shown, &handles.clock, &dispatch)
}

/// Advances the run on every animation frame and publishes what changed; the returned function (the effect's
/// cleanup) ends the loop at its next frame.
fn frame_loop(handles: Handles) -> impl FnOnce() {
    let shared = handles.shared.clone();
    each_animation_frame(move |ts: f64| {
        let start = now_ms();
        let Some((next, time)) = animation_frame(&handles.shared, ts) else { return false };
        // The clock first: it moves what is drawn now, before Yew draws the next frame (at this time).
        handles.clock.set(time);
        let mut stagger = handles.stagger.borrow_mut();
        let shown_all = match next {
            // Ticks made it: the parts take it one per animation frame (see `Stagger`).
            Some((next, true)) => {
                stagger.arrive(next);
                false
            }
            Some((next, false)) => {
                stagger.show_all(next);
                true
            }
            None => false,
        };
        let part = stagger.advance();
        let changed = part.is_some() || shown_all;
        drop(stagger);
        if changed {
            handles.show();
        }
        if let Some(FrameSamples { frame, sim, render, part: part_of }) = FrameSamples::requested() {
            push_sample(&sim, now_ms() - start);
            // Yew renders in a microtask after this callback: one more microtask later, it is done.
            wasm_bindgen_futures::spawn_local(async move { push_sample(&render, now_ms() - start) });
            // The browser lays out and paints after that: a zero-delay timeout runs once all of it is done, so
            // it measures the frame's whole main-thread work (the part with it, so the two stay in step).
            let part = part.filter(|_| !shown_all).map_or(-1.0, |part| part.number() as f64);
            gloo::timers::callback::Timeout::new(0, move || {
                push_sample(&frame, now_ms() - start);
                if let Some(part_of) = part_of {
                    push_sample(&part_of, part);
                }
            })
            .forget();
        }
        true
    });
    move || shared.borrow_mut().alive = false
}

/// What the visitor's commands go through: the run handles them, and the page shows the result at once.
fn dispatcher(handles: Handles) -> Callback<Cmd> {
    Callback::from(move |cmd: Cmd| {
        let shared = &handles.shared;
        let copy = matches!(cmd, Cmd::Share);
        match cmd {
            Cmd::ResetCluster => persist::open(shared, Open::Reset),
            Cmd::TakeOver => persist::open(shared, Open::TakeOver),
            Cmd::ExportScenario => export_scenario(shared),
            Cmd::LoadPath(ref record) => shared.borrow_mut().load_path(record),
            _ => {}
        }
        shared.borrow_mut().handle(cmd);
        persist::drive(shared);
        let (next, time) = {
            let mut s = shared.borrow_mut();
            s.dirty = false;
            s.ticked = false;
            (s.publish(), s.time())
        };
        handles.clock.set(time);
        if copy {
            if let Some(url) = &next.share_url {
                // Refusal is fine: the link is shown in the page too.
                super::copy_text(url, |_| {});
            }
        }
        // What the visitor did shows everywhere at once (only ticks reach the parts in turn).
        handles.stagger.borrow_mut().show_all(next);
        handles.show();
    })
}

/// The playground's page, each part from the frame it shows (see [`Stagger`]).
fn page(shown: &Stagger<Rc<Frame>>, clock: &Clock, dispatch: &Callback<Cmd>) -> Html {
    let stage = shown.shown(Part::Stage);
    let view = stage.view.clone();
    html! {
        <div class="page playground">
            <header class="site-header">
                <div class="brand">
                    { logo() }
                    <h1>{ "Synod" }</h1>
                </div>
                <p class="tagline">
                    { "A Multi-Paxos replicated key-value store, simulated in this page. Watch it, break it, check it." }
                </p>
                { checker_badge(&view.checker) }
            </header>
            if let Some(error) = &stage.error {
                <p class="notice">{ error.clone() }</p>
            }
            { storage_status(&stage.storage, stage.persistent, stage.saved_tick, dispatch) }
            <main class="layout">
                <section class="stage" aria-label="Cluster">
                    <Ring view={view} clock={clock.clone()} selected={stage.selected} dispatch={dispatch.clone()} />
                    <Controls frame={shown.shown(Part::Controls).clone()} dispatch={dispatch.clone()} />
                </section>
                { side(shown, dispatch) }
                { node_cards(shown, dispatch) }
                <SequenceDiagram view={shown.shown(Part::Diagram).view.clone()} clock={clock.clone()} />
                <ScenarioPanel pane={shown.shown(Part::Controls).scenario.clone()} dispatch={dispatch.clone()} />
                { help() }
            </main>
            <footer class="site-footer">
                <span>{ concat!("Synod ", env!("CARGO_PKG_VERSION")) }</span>
                <span>{ "Rust · WebAssembly · Yew" }</span>
            </footer>
        </div>
    }
}

/// The node cards, each from the frame its group shows.
fn node_cards(shown: &Stagger<Rc<Frame>>, dispatch: &Callback<Cmd>) -> Html {
    let stage = &shown.shown(Part::Stage).view.nodes;
    let nodes =
        (0..stage.len()).filter_map(|index| shown.shown(Part::Cards(index % CARD_GROUPS)).view.nodes.get(index));
    // A new node takes the next unused id; the simulator keeps a cluster at seven members at most.
    let room = stage.iter().filter(|node| node.member).count() < crate::sim::membership::CLUSTER_SIZE_MAX;
    let add = dispatch.reform(|_: MouseEvent| Cmd::Act(UserAction::AddNode));
    html! {
        <section class="nodes" aria-label="Nodes">
            { for nodes.map(|node| html! {
                <NodeCard key={node.id} node={node.clone()} dispatch={dispatch.clone()} />
            }) }
            <button class="add-node" disabled={!room} onclick={add}>{ "Add node" }</button>
        </section>
    }
}

/// The side column: stepping and exploring (with the controls), the visitor's client, the messages in flight
/// and the narration.
fn side(shown: &Stagger<Rc<Frame>>, dispatch: &Callback<Cmd>) -> Html {
    let (controls, f) = (shown.shown(Part::Controls), shown.shown(Part::Side));
    let view = f.view.clone();
    let unreachable: Vec<NodeId> = view
        .nodes
        .iter()
        .filter(|node| node.paused || node.role == super::view::RoleView::Down)
        .map(|node| node.id)
        .collect();
    html! {
        <aside class="side">
            <StepPanel frame={controls.clone()} dispatch={dispatch.clone()} />
            <ClientPanel nodes={view.nodes.len()} ops={view.visitor_ops.clone()} busy={view.visitor_busy}
                retries={view.visitor_retries} read_leases={view.read_leases} unreachable={unreachable}
                dispatch={dispatch.clone()} />
            <MessagePanel view={view.clone()} selected={f.selected} dispatch={dispatch.clone()} />
            <ExplorerPanel record={controls.record.clone()} tick={controls.view.now}
                in_flight={controls.view.messages_in_flight} dispatch={dispatch.clone()} />
            { narration(&f.narration, f.narration_first, !f.playing || f.speed <= 8.0) }
        </aside>
    }
}

fn panic_test_requested() -> bool {
    query_param(PANIC_TEST_PARAM).is_some()
}
