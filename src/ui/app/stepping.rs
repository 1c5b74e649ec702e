//! Stepping event by event in the playground: the visitor chooses each event from the list of those enabled,
//! moves back and forward along the path one event at a time, and going back and choosing differently starts a
//! branch; the branches form the history tree (`crate::sim::branches`), in which a click jumps to any point.
//!
//! Each chosen event is recorded in a tick of its own (`Runner::plan`), so the path is the run's recorded
//! actions, Back and Forward are time travel by one tick, and a share link (the current branch's run) replays
//! exactly the events chosen. The tree lives in the page's memory only: a reload keeps the current branch (the
//! stored run) and forgets the others.

use std::rc::Rc;

use super::Shared;
use crate::sim::branches::{Branch, Branches};
use crate::sim::UserAction;
use crate::ui::persist::Host;
use crate::ui::runner::{describe_action, RunRecord, Runner};

impl Shared {
    /// Before anything is done now: if the run has recorded events after now, acting would forget them, so the
    /// history keeps them as a branch.
    pub(super) fn keep_branch(&mut self) {
        if self.runner.has_future() {
            self.branches.fork(self.runner.now(), self.runner.branch());
        }
    }

    /// Starts stepping (paused: nothing happens unless the visitor chooses it) or stops it (time runs again).
    pub(super) fn step_by_event(&mut self, on: bool) {
        if self.runner.sim().stepping() == on {
            return;
        }
        self.pause();
        self.keep_branch();
        self.runner.act(UserAction::Stepping { on });
        if !on {
            self.playing = true;
            self.last_ts = None;
        }
    }

    /// Whether `action`, done while stepping, is one event of the path: a message's, a node's, or a client
    /// request the visitor sends (each then gets a tick of its own, so Back undoes exactly it).
    pub(super) fn takes_a_step(&self, action: &UserAction) -> bool {
        let sim = self.runner.sim();
        sim.stepping() && (sim.describe_event(action).is_some() || matches!(action, UserAction::ClientOp { .. }))
    }

    /// The visitor chose `event`: it happens in the next tick of its own.
    pub(super) fn choose(&mut self, event: UserAction) {
        self.pause();
        self.keep_branch();
        let said = match self.runner.sim().describe_event(&event) {
            Some(name) => format!("You chose: {name}."),
            None => describe_action(&event),
        };
        let ticks = self.runner.plan(event);
        self.runner.say_line(said);
        self.owed = ticks as f64;
        self.share_url = None;
    }

    /// One event forward along the recorded path (nothing past its end).
    pub(super) fn forward(&mut self) {
        self.pause();
        if self.runner.now() < self.runner.horizon {
            self.owed = 1.0;
        }
    }

    /// To `tick` of branch `branch`: time travel on the current branch, else the other branch's run, replayed.
    pub(super) fn jump(&mut self, branch: usize, tick: u64) {
        if branch == self.branches.current() {
            return self.seek(tick);
        }
        self.pause();
        let live = self.runner.branch();
        let Some(target) = self.branches.switch(branch, live).cloned() else { return };
        match Runner::of_branch(self.runner.record.setup.clone(), &target, tick) {
            Ok(runner) => {
                self.runner = runner;
                self.persistence.rewrite(&mut self.runner);
                self.runner.say_line(format!("Jumped to branch {} at tick {}.", branch + 1, self.runner.now()));
            }
            Err(error) => self.error = Some(format!("That branch cannot be replayed: {error}")),
        }
        self.share_url = None;
    }

    /// While stepping and paused, every event the visitor may choose, with its name.
    pub(super) fn next_events(&self) -> Rc<[(UserAction, String)]> {
        let sim = self.runner.sim();
        if !sim.stepping() {
            return Rc::from(Vec::new());
        }
        let named = |event: UserAction| {
            let name = sim.describe_event(&event).expect("an enabled event has a name");
            (event, name)
        };
        sim.enabled_events().into_iter().map(named).collect()
    }

    /// The history tree, while stepping or once the visitor has left a path.
    pub(super) fn branches_shown(&self) -> Option<Rc<Branches>> {
        (self.runner.sim().stepping() || self.branches.len() > 1)
            .then(|| Rc::new(self.branches.with_current(self.runner.branch())))
    }
}

impl Shared {
    /// The explorer's counterexample `record` becomes the run, paused where the search started, its timeline
    /// reaching the path's end (`ui::explorer::path_start`): a branch of the history that leaves the run on
    /// screen at that tick, so the visitor can step through it and jump back to where they were.
    pub(super) fn load_path(&mut self, record: &RunRecord) {
        let start = crate::ui::explorer::path_start(record).unwrap_or(0);
        let end = record.actions.last().map_or(start, |(tick, _)| *tick);
        let labels = record.actions.iter().map(|(_, action)| describe_action(action)).collect();
        let path = Branch { parent: None, actions: record.actions.clone(), labels, end };
        let runner = match Runner::of_branch(record.setup.clone(), &path, start) {
            Ok(runner) => runner,
            Err(error) => return self.error = Some(format!("The counterexample could not be loaded: {error}.")),
        };
        // The path shares the run's actions before the tick it starts at; at that tick, its stepping begins.
        let live = self.runner.branch();
        let before_start = |actions: &[(u64, UserAction)]| actions.iter().take_while(|(tick, _)| *tick < start).count();
        let shared = record.setup == self.runner.record.setup
            && live.actions[..before_start(&live.actions)] == record.actions[..before_start(&record.actions)];
        if shared {
            self.branches.fork(start.saturating_sub(1), live);
        } else {
            // Explored from a run that is no longer on screen (a new run since): the path starts a history of its own.
            self.branches = Branches::default();
        }
        self.faults = runner.sim().config().faults.clone();
        self.runner = runner;
        self.runner.say_line(format!(
            "Loaded the explorer's counterexample: {} steps, from tick {start} to tick {end}, where it breaks. Step through it.",
            end - start
        ));
        self.persistence.rewrite(&mut self.runner);
        (self.selected, self.share_url) = (None, None);
        self.pause();
        self.changed();
    }
}
