//! The search: breadth-first (the first violation comes with a shortest path) or depth-first (deep bounds in
//! little memory), over fingerprints. Every state met is counted in `states`; a state whose fingerprint was seen
//! before (at no greater depth, depth-first) is not expanded again.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use crate::check::invariants::Violation;

use super::report::{Counterexample, Report};
use super::{Event, ExploreConfig, World};

/// How far a search has got, for a progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    pub states: u64,
    pub unique_states: u64,
    pub depth: u32,
    pub elapsed_s: f64,
}

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

/// Explores every state within `config`'s bounds, or until the first violation or `states_max` unique states.
/// `report_progress` hears how far it got every few thousand states, and stops the search by returning false.
/// `clock` gives seconds since some fixed moment (the browser and the native CLI each have their own).
pub fn explore(
    config: &ExploreConfig,
    report_progress: &mut dyn FnMut(&Progress) -> bool,
    clock: &dyn Fn() -> f64,
) -> Result<Report, String> {
    config.validate()?;
    let started = clock();
    let (root, warmup) = World::start(config)?;
    let start = root.clone();
    let elapsed = || clock() - started;
    let mut tally =
        Tally { progress: Progress::default(), clock: &elapsed, report_progress, found: None, cancelled: false };
    let complete = if let Some(violation) = root.sim().violations().first() {
        tally.found = Some((Vec::new(), violation.clone()));
        false
    } else if config.dfs {
        depth_first(config, root, &mut tally)
    } else {
        breadth_first(config, root, &mut tally)
    };
    tally.progress.elapsed_s = elapsed();
    (tally.report_progress)(&tally.progress);
    let complete = complete && !tally.cancelled;
    let counterexample =
        tally.found.map(|(events, violation)| Counterexample::new(config, &start, &warmup, &events, &violation));
    Ok(Report::new(config, &tally.progress, complete, counterexample))
}

/// The events enabled in `world`, but only this shard's share of the first ones.
fn enabled(config: &ExploreConfig, world: &World, depth: u32) -> Vec<Event> {
    let events = world.events(&config.bounds);
    match config.shard {
        Some(shard) if depth == 0 => events
            .into_iter()
            .enumerate()
            .filter(|(index, _)| *index as u32 % shard.count == shard.index)
            .map(|(_, event)| event)
            .collect(),
        _ => events,
    }
}

/// A state waiting in the breadth-first queue: the whole cluster while memory allows, else only its fingerprint,
/// and the state is rebuilt when its turn comes by replaying its path from the start state (parents are kept
/// anyway, for counterexamples). A held cluster costs a few kilobytes, a replayed one a few dozen bytes.
enum Waiting {
    Held(Box<World>),
    Replayed,
}

/// Returns whether the bounded space was exhausted.
fn breadth_first(config: &ExploreConfig, root: World, tally: &mut Tally) -> bool {
    // Each state's parent and the event from it, to rebuild the path to a violation.
    let mut parents: FxHashMap<u64, Option<(u64, Event)>> = FxHashMap::default();
    let root_fingerprint = root.fingerprint();
    parents.insert(root_fingerprint, None);
    tally.progress.unique_states = 1;
    let mut held = 1usize;
    let mut queue = VecDeque::from([(Waiting::Held(Box::new(root.clone())), root_fingerprint, 0u32)]);
    while let Some((waiting, fingerprint, depth)) = queue.pop_front() {
        let world = match waiting {
            Waiting::Held(world) => {
                held -= 1;
                *world
            }
            Waiting::Replayed => replay(&root, &path_to(&parents, fingerprint)),
        };
        if depth >= config.bounds.depth {
            continue;
        }
        for event in enabled(config, &world, depth) {
            let mut child = world.clone();
            if !tally.count(depth + 1) {
                return false;
            }
            if let Some(violation) = child.apply(event) {
                let mut path = path_to(&parents, fingerprint);
                path.push(event);
                tally.found = Some((path, violation));
                return false;
            }
            if child.sim().network().len() > usize::from(config.bounds.messages) {
                continue;
            }
            let child_fingerprint = child.fingerprint();
            if parents.contains_key(&child_fingerprint) {
                continue;
            }
            parents.insert(child_fingerprint, Some((fingerprint, event)));
            tally.progress.unique_states += 1;
            if tally.progress.unique_states >= config.states_max {
                return false;
            }
            let waiting = if held < config.held_states_max {
                held += 1;
                Waiting::Held(Box::new(child))
            } else {
                Waiting::Replayed
            };
            queue.push_back((waiting, child_fingerprint, depth + 1));
        }
    }
    true
}

/// The state at the end of `path` from `root` (every step was taken before, so none can fail now).
fn replay(root: &World, path: &[Event]) -> World {
    let mut world = root.clone();
    for event in path {
        let violation = world.apply(*event);
        assert!(violation.is_none(), "a replayed path breaks an invariant it did not break before: {violation:?}");
    }
    world
}

/// The events from the start state to the state with `fingerprint`.
fn path_to(parents: &FxHashMap<u64, Option<(u64, Event)>>, mut fingerprint: u64) -> Vec<Event> {
    let mut path = Vec::new();
    while let Some(Some((parent, event))) = parents.get(&fingerprint) {
        path.push(*event);
        fingerprint = *parent;
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

/// Returns whether the bounded space was exhausted. A state is expanded again when met at a smaller depth than
/// before: with a depth bound, the deeper visit may have been cut short.
fn depth_first(config: &ExploreConfig, root: World, tally: &mut Tally) -> bool {
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
            return false;
        }
        if let Some(violation) = child.apply(event) {
            let mut path: Vec<Event> = stack.iter().map(|frame| frame.events[frame.next - 1]).collect();
            path.truncate(depth as usize + 1);
            tally.found = Some((path, violation));
            return false;
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
            return false;
        }
        if depth + 1 < config.bounds.depth {
            let events = enabled(config, &child, depth + 1);
            stack.push(Frame { world: child, events, next: 0 });
        }
    }
    true
}
