//! The search: breadth-first (the first violation comes with a shortest path) or depth-first (deep bounds in
//! little memory), over fingerprints. Every state met is counted in `states`; a state whose fingerprint was seen
//! before (at no greater depth, depth-first) is not expanded again.

use std::collections::hash_map::Entry;
use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use crate::check::invariants::Violation;

use super::reduction::{self, Asleep, Footprint, SleepSet};
use super::report::{Counterexample, Progress, Report};
use super::{Event, ExploreConfig, Origin, World};

/// Calls the progress callback about this often, in states.
const PROGRESS_EVERY: u64 = 4_096;

/// What a search has found so far.
struct Tally<'a> {
    progress: Progress,
    clock: &'a dyn Fn() -> f64,
    report_progress: &'a mut dyn FnMut(&Progress) -> bool,
    found: Option<(Vec<Event>, Violation)>,
    /// The progress callback asked to stop.
    cancelled: bool,
}

impl Tally<'_> {
    /// Counts a state; returns whether to go on.
    fn count(&mut self, depth: u32) -> bool {
        self.progress.states += 1;
        self.progress.depth = self.progress.depth.max(depth);
        if self.progress.states.is_multiple_of(PROGRESS_EVERY) {
            self.progress.elapsed_s = (self.clock)();
            self.cancelled = !(self.report_progress)(&self.progress);
        }
        !self.cancelled
    }
}

/// Explores every state within `config`'s bounds from the explorer's warm-up (`ExploreConfig::start`), or until
/// the first violation or `states_max` unique states. `report_progress` hears how far it got every few thousand
/// states, and stops the search by returning false. `clock` gives seconds since some fixed moment (the browser
/// and the native CLI each have their own).
pub fn explore(
    config: &ExploreConfig,
    report_progress: &mut dyn FnMut(&Progress) -> bool,
    clock: &dyn Fn() -> f64,
) -> Result<Report, String> {
    explore_from(config, &Origin::WarmUp, report_progress, clock)
}

/// [`explore`] from `origin`: the warm-up, or a moment of a playground run (`start.rs`). The time taken includes
/// reaching the start state.
pub fn explore_from(
    config: &ExploreConfig,
    origin: &Origin,
    report_progress: &mut dyn FnMut(&Progress) -> bool,
    clock: &dyn Fn() -> f64,
) -> Result<Report, String> {
    search(config, origin, report_progress, clock, false).map(|(report, _)| report)
}

/// [`explore`], and the fingerprint of every state it met. The threads of one process each search a shard, and
/// two shards may meet the same state: the command line counts the union of their fingerprints, so a state is
/// counted once however many threads met it.
pub fn explore_met(
    config: &ExploreConfig,
    report_progress: &mut dyn FnMut(&Progress) -> bool,
    clock: &dyn Fn() -> f64,
) -> Result<(Report, Vec<u64>), String> {
    search(config, &Origin::WarmUp, report_progress, clock, true)
}

fn search(
    config: &ExploreConfig,
    origin: &Origin,
    report_progress: &mut dyn FnMut(&Progress) -> bool,
    clock: &dyn Fn() -> f64,
    keep_met: bool,
) -> Result<(Report, Vec<u64>), String> {
    config.validate()?;
    let started = clock();
    let start = origin.start(config)?;
    let root = start.world.clone();
    let elapsed = || clock() - started;
    let mut tally =
        Tally { progress: Progress::default(), clock: &elapsed, report_progress, found: None, cancelled: false };
    let (complete, met): (bool, Vec<u64>) = if let Some(violation) = root.sim().violations().first() {
        tally.found = Some((Vec::new(), violation.clone()));
        (false, vec![root.fingerprint()])
    } else if config.dfs {
        let (complete, visited) = depth_first(config, root, &mut tally);
        (complete, if keep_met { visited.into_keys().collect() } else { Vec::new() })
    } else {
        let (complete, frontier) = breadth_first_met(config, root, &mut tally);
        (complete, if keep_met { frontier.seen.into_keys().collect() } else { Vec::new() })
    };
    tally.progress.elapsed_s = elapsed();
    (tally.report_progress)(&tally.progress);
    let complete = complete && !tally.cancelled;
    let counterexample = tally.found.map(|(events, violation)| Counterexample::new(&start, &events, &violation));
    let bugs = origin.bugs(config);
    Ok((Report::new(&ExploreConfig { bugs, ..config.clone() }, &tally.progress, complete, counterexample), met))
}

/// The events enabled in `world`, but only this shard's share of the first ones.
fn enabled(config: &ExploreConfig, world: &World, depth: u32) -> Vec<Event> {
    let mut events = Vec::with_capacity(16);
    enabled_into(config, world, depth, &mut events);
    events
}

/// `enabled`, into `events` (cleared first).
fn enabled_into(config: &ExploreConfig, world: &World, depth: u32, events: &mut Vec<Event>) {
    world.events_into(&config.bounds, events);
    if let Some(shard) = config.shard.filter(|_| depth == 0) {
        let mut index = 0;
        events.retain(|_| {
            index += 1;
            (index - 1) % shard.count == shard.index
        });
    }
}

/// A state waiting in the breadth-first queue: the whole cluster while memory allows, else only its fingerprint,
/// and the state is rebuilt when its turn comes by replaying its path from the start state (parents are kept
/// anyway, for counterexamples). A held cluster costs a few kilobytes, a replayed one a few dozen bytes.
enum Waiting {
    Held(Box<World>),
    Replayed,
}

/// What to do with a state when its turn comes.
enum Job {
    /// Take every enabled event but those its sleep set holds.
    Expand,
    /// Take these events (by key) again: the state was met on a path that lets it skip fewer (`reduction`).
    Wake(Vec<u64>),
}

/// A state the breadth-first search has met: 32 bytes with its key in the map (64 with its sleep set inline and its
/// event unpacked), as the map holds every state met and its probes miss the cache (its sleep set lies apart, in
/// `Frontier::sleeping`, and is read only when the state is met again or expanded).
struct Seen {
    /// The state it was first reached from, at its smallest depth (see `parent`).
    parent: u64,
    /// The event taken from there (`Event::pack`), or `START` for the start state.
    event: u64,
    /// Where its sleep set starts in `Frontier::sleeping`, and how long it is: what every path that reached it
    /// allows it to skip (`reduction`).
    sleep_at: u32,
    depth: u16,
    sleep_len: u8,
    expanded: bool,
}

/// `Seen::event` of the start state, which no event packs to.
const START: u64 = u64::MAX;

/// The longest sleep set kept: a longer one is cut short, which is sound (a state that skips fewer events only
/// explores more) and never happens at the bounds measured (a state has a few dozen events at most).
const SLEEP_LEN_MAX: usize = u8::MAX as usize;

impl Seen {
    /// A new state's entry; its sleep set is stored at the end of `sleeping`.
    fn new(parent: Option<(u64, Event)>, depth: u32, sleeping: &mut Vec<Asleep>, sleep: &[Asleep]) -> Seen {
        let sleep = &sleep[..sleep.len().min(SLEEP_LEN_MAX)];
        let sleep_at = u32::try_from(sleeping.len()).expect("fewer than 2^32 sleeping events stored");
        sleeping.extend_from_slice(sleep);
        let mut seen =
            Seen { parent: 0, event: START, sleep_at, depth: 0, sleep_len: sleep.len() as u8, expanded: false };
        seen.reach(parent, depth);
        seen
    }

    /// The state it was first reached from at its smallest depth, and the event taken; none for the start.
    fn parent(&self) -> Option<(u64, Event)> {
        (self.event != START).then(|| (self.parent, Event::unpack(self.event)))
    }

    fn depth(&self) -> u32 {
        u32::from(self.depth)
    }

    /// Records the path it was reached by, and its depth.
    fn reach(&mut self, parent: Option<(u64, Event)>, depth: u32) {
        (self.parent, self.event) = parent.map_or((0, START), |(parent, event)| (parent, event.pack()));
        self.depth = u16::try_from(depth).expect("a breadth-first path of fewer than 65,536 events");
    }

    /// Its sleep set, in `sleeping`.
    fn sleep_mut<'a>(&self, sleeping: &'a mut [Asleep]) -> &'a mut [Asleep] {
        &mut sleeping[self.sleep_at as usize..][..usize::from(self.sleep_len)]
    }
}

/// The breadth-first search's memory: every state met, the queue, and how many queued states are held whole.
struct Frontier {
    seen: FxHashMap<u64, Seen>,
    /// Every met state's sleep set, one after another (`Seen::sleep_at`): one vector rather than one per state, a
    /// million small blocks that lived as long as the search and scattered the allocator's free lists. A sleep set
    /// only ever shrinks (`reduction::wake`), in place.
    sleeping: Vec<Asleep>,
    queue: VecDeque<(Waiting, u64, Job)>,
    held: usize,
    held_max: usize,
    /// A state met was given a new parent since the last rebuild (`ReplayedPath::forget`).
    reparented: bool,
}

impl Frontier {
    fn new(held_max: usize) -> Frontier {
        Frontier {
            seen: FxHashMap::default(),
            sleeping: Vec::new(),
            queue: VecDeque::new(),
            held: 0,
            held_max: held_max.max(1),
            reparented: false,
        }
    }

    /// Records the start state.
    fn meet_root(&mut self, root: &World, fingerprint: u64) {
        self.seen.insert(fingerprint, Seen::new(None, 0, &mut self.sleeping, &[]));
        self.push(root.clone(), fingerprint, Job::Expand);
    }

    fn push(&mut self, world: World, fingerprint: u64, job: Job) {
        let waiting = if self.held < self.held_max {
            self.held += 1;
            Waiting::Held(Box::new(world))
        } else {
            Waiting::Replayed
        };
        self.queue.push_back((waiting, fingerprint, job));
    }

    /// Records a child met from `parent` at `depth`; returns whether it is new.
    fn meet(&mut self, child: World, fingerprint: u64, from: (u64, Event), depth: u32, sleep: &[Asleep]) -> bool {
        // One probe of the map, not a failed lookup and then an insert: its probes are a tenth of the search.
        let seen = match self.seen.entry(fingerprint) {
            Entry::Vacant(vacant) => {
                vacant.insert(Seen::new(Some(from), depth, &mut self.sleeping, sleep));
                self.push(child, fingerprint, Job::Expand);
                return true;
            }
            Entry::Occupied(occupied) => occupied.into_mut(),
        };
        let (woken, kept) = reduction::wake(seen.sleep_mut(&mut self.sleeping), sleep);
        seen.sleep_len = kept as u8;
        if depth < seen.depth() {
            // Met closer to the start (only after a re-expansion): its events get the depth they lacked.
            seen.reach(Some(from), depth);
            self.reparented = true;
            if std::mem::take(&mut seen.expanded) {
                self.push(child, fingerprint, Job::Expand);
            }
        } else if seen.expanded && !woken.is_empty() {
            self.push(child, fingerprint, Job::Wake(woken));
        }
        false
    }
}

/// The breadth-first search, and every state it met.
fn breadth_first_met(config: &ExploreConfig, root: World, tally: &mut Tally) -> (bool, Frontier) {
    let root_fingerprint = root.fingerprint();
    let mut frontier = Frontier::new(config.held_states_max);
    frontier.meet_root(&root, root_fingerprint);
    tally.progress.unique_states = 1;
    let mut replayed = ReplayedPath::default();
    let mut buffers = SleepBuffers::default();
    while let Some((waiting, fingerprint, job)) = frontier.queue.pop_front() {
        let world = match waiting {
            Waiting::Held(world) => {
                frontier.held -= 1;
                *world
            }
            Waiting::Replayed => {
                if std::mem::take(&mut frontier.reparented) {
                    replayed.forget();
                }
                replayed.rebuild(&root, &frontier.seen, fingerprint)
            }
        };
        if !expand(config, &world, fingerprint, job, &mut frontier, &mut buffers, tally) {
            return (false, frontier);
        }
    }
    (true, frontier)
}

/// The vectors `expand` works with (the sleep sets, the events enabled), kept from one state to the next so that
/// they are allocated once, not for every state expanded and every child.
#[derive(Default)]
struct SleepBuffers {
    /// The events enabled in the expanded state.
    events: Vec<Event>,
    /// The expanded state's sleep set.
    sleep: SleepSet,
    /// The events taken from it so far, with their footprints.
    taken: SleepSet,
    /// The sleep set of the child just computed.
    child: SleepSet,
}

/// Takes the events of `job` from `world`; returns whether to go on (no violation, no limit reached).
fn expand(
    config: &ExploreConfig,
    world: &World,
    fingerprint: u64,
    job: Job,
    frontier: &mut Frontier,
    buffers: &mut SleepBuffers,
    tally: &mut Tally,
) -> bool {
    let seen = frontier.seen.get_mut(&fingerprint).expect("a queued state was met");
    seen.expanded = true;
    let depth = seen.depth();
    let SleepBuffers { events, sleep, taken, child: child_sleep } = buffers;
    sleep.clear();
    sleep.extend_from_slice(seen.sleep_mut(&mut frontier.sleeping));
    if depth >= config.bounds.depth {
        return true;
    }
    let roomy = world.roomy_bounds(&config.bounds);
    taken.clear();
    enabled_into(config, world, depth, events);
    for &event in events.iter() {
        let key = reduction::key(world, event);
        let skipped = match &job {
            Job::Wake(keys) => !keys.contains(&key),
            Job::Expand => false,
        };
        if skipped || sleep.iter().any(|asleep| asleep.key == key) {
            continue;
        }
        let mut child = world.clone();
        if !tally.count(depth + 1) {
            return false;
        }
        if let Some(violation) = child.apply(event) {
            let mut path = path_to(&frontier.seen, fingerprint);
            path.push(event);
            tally.found = Some((path, violation));
            return false;
        }
        let messages_left = i64::from(config.bounds.messages) - child.sim().network().len() as i64;
        if messages_left < 0 {
            continue;
        }
        // The plain search (`--no-sleep-sets`) computes no footprints: every child's sleep set is empty.
        child_sleep.clear();
        if config.sleep_sets {
            let footprint = Footprint::of(event, world, &child);
            reduction::inherit_into(child_sleep, sleep, taken, &footprint, roomy, messages_left);
            taken.push(Asleep { key, footprint });
        }
        let child_fingerprint = child.fingerprint();
        if frontier.meet(child, child_fingerprint, (fingerprint, event), depth + 1, child_sleep) {
            tally.progress.unique_states += 1;
            if tally.progress.unique_states >= config.states_max {
                return false;
            }
        }
    }
    true
}

/// The states along the path replayed last. The queue keeps the children of one state together, and those of
/// its siblings next, so consecutive paths share a long prefix: a path is replayed only from where it parts from
/// the last one, not from the start (replaying from the start took a third of the search's time). Where it parts
/// is found by walking up the parents only as far as a state the last path holds, not to the start (the walk to
/// the start, one map lookup per step, took another 7%).
#[derive(Default)]
struct ReplayedPath {
    /// `worlds[i]`: the state at depth `i + 1` on the last path, and its fingerprint.
    worlds: Vec<(u64, World)>,
}

impl ReplayedPath {
    /// The state with `fingerprint`, rebuilt from `root` along its parents (every step was taken before, so none
    /// can fail now). The states before its last step are kept for the next path; the last is not (its siblings
    /// differ only there).
    fn rebuild(&mut self, root: &World, seen: &FxHashMap<u64, Seen>, fingerprint: u64) -> World {
        let mut steps = Vec::new(); // From the target up: (the state a step leads to, the step).
        let (mut at, mut met) = (fingerprint, &seen[&fingerprint]);
        // One lookup per step: the parent's entry, which is the next step's own.
        let kept = loop {
            let Some((parent, event)) = met.parent() else { break 0 };
            steps.push((at, event));
            met = &seen[&parent];
            let depth = met.depth as usize;
            if depth == 0 || self.worlds.get(depth - 1).is_some_and(|(kept, _)| *kept == parent) {
                break depth;
            }
            at = parent;
        };
        self.worlds.truncate(kept);
        let Some(((_, last), before)) = steps.split_first() else { return root.clone() };
        for (fingerprint, event) in before.iter().rev() {
            let world = Self::step(self.worlds.last().map_or(root, |(_, world)| world), *event);
            debug_assert_eq!(world.fingerprint(), *fingerprint, "a replayed step leads where it led before");
            self.worlds.push((*fingerprint, world));
        }
        Self::step(self.worlds.last().map_or(root, |(_, world)| world), *last)
    }

    /// Forgets the last path: a state on it may have been given another parent, and its kept state, built along
    /// the old one, need not match what the new path builds (message ids, say).
    fn forget(&mut self) {
        self.worlds.clear();
    }

    fn step(from: &World, event: Event) -> World {
        let mut world = from.clone();
        let violation = world.apply(event);
        assert!(violation.is_none(), "a replayed path breaks an invariant it did not break before: {violation:?}");
        world
    }
}

/// The events from the start state to the state with `fingerprint`.
fn path_to(seen: &FxHashMap<u64, Seen>, mut fingerprint: u64) -> Vec<Event> {
    let mut path = Vec::new();
    while let Some((parent, event)) = seen.get(&fingerprint).and_then(Seen::parent) {
        path.push(event);
        fingerprint = parent;
    }
    path.reverse();
    path
}

/// One state on the depth-first stack, with the events still to try from it.
struct Frame {
    world: World,
    events: Vec<Event>,
    next: usize,
}

/// Returns whether the bounded space was exhausted, and every state met. A state is expanded again when met at a
/// smaller depth than before: with a depth bound, the deeper visit may have been cut short.
fn depth_first(config: &ExploreConfig, root: World, tally: &mut Tally) -> (bool, FxHashMap<u64, u32>) {
    let mut visited: FxHashMap<u64, u32> = FxHashMap::default();
    visited.insert(root.fingerprint(), 0);
    tally.progress.unique_states = 1;
    let events = enabled(config, &root, 0);
    let mut stack = vec![Frame { world: root, events, next: 0 }];
    while !stack.is_empty() {
        let depth = stack.len() as u32 - 1;
        let frame = stack.last_mut().expect("not empty");
        let Some(event) = frame.events.get(frame.next).copied() else {
            stack.pop();
            continue;
        };
        frame.next += 1;
        let mut child = frame.world.clone();
        if !tally.count(depth + 1) {
            return (false, visited);
        }
        if let Some(violation) = child.apply(event) {
            let mut path: Vec<Event> = stack.iter().map(|frame| frame.events[frame.next - 1]).collect();
            path.truncate(depth as usize + 1);
            tally.found = Some((path, violation));
            return (false, visited);
        }
        if child.sim().network().len() > usize::from(config.bounds.messages) {
            continue;
        }
        let fingerprint = child.fingerprint();
        match visited.get(&fingerprint) {
            Some(seen) if *seen <= depth + 1 => continue,
            Some(_) => {}
            None => tally.progress.unique_states += 1,
        }
        visited.insert(fingerprint, depth + 1);
        if tally.progress.unique_states >= config.states_max {
            return (false, visited);
        }
        if depth + 1 < config.bounds.depth {
            let events = enabled(config, &child, depth + 1);
            stack.push(Frame { world: child, events, next: 0 });
        }
    }
    (true, visited)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::Bounds;
    use crate::paxos::BugSet;

    fn met(config: &ExploreConfig) -> FxHashMap<u64, Seen> {
        let root = Origin::WarmUp.start(config).unwrap().world;
        let clock = || 0.0;
        let mut report = |_: &Progress| true;
        let mut tally = Tally {
            progress: Progress::default(),
            clock: &clock,
            report_progress: &mut report,
            found: None,
            cancelled: false,
        };
        let (complete, frontier) = breadth_first_met(config, root, &mut tally);
        assert!(complete);
        frontier.seen
    }

    fn config_of(sleep_sets: bool) -> ExploreConfig {
        let bounds = Bounds { ticks: 2, crashes: 1, messages: 2, ..Bounds::default() };
        ExploreConfig { sleep_sets, ..ExploreConfig::new(bounds, BugSet::NONE) }
    }

    /// Sleep sets skip orders of events, never states: both searches meet the same states, at the same depths.
    #[test]
    fn sleep_sets_keep_every_state_and_its_depth() {
        let plain = met(&config_of(false));
        let reduced = met(&config_of(true));
        for (fingerprint, seen) in &plain {
            let path = || path_to(&plain, *fingerprint).iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            let found = reduced.get(fingerprint).unwrap_or_else(|| panic!("a state lost: {}", path()));
            assert_eq!(found.depth, seen.depth, "a state met deeper: {}", path());
        }
        assert_eq!(plain.len(), reduced.len());
    }
}
