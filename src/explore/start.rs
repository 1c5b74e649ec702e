//! Where a search starts: the explorer's own warm-up (`synod explore`), or any moment of a playground run (the
//! page's "Explore from here").
//!
//! **A run's moment as a start state.** The run (`RunRecord`: setup and actions at their ticks) is replayed as
//! the playground replays it (`ui::runner::Runner`): the actions of tick 0 at once, then for each tick one
//! simulator tick followed by that tick's actions, up to the tick on screen. Stepping then starts at that same
//! tick, so the state is exactly the one on screen: its messages in flight (with their ids), its volatile writes,
//! its clients' pending operations, its nodes' timers. From there nothing happens unless an event says so; the
//! background clients add no operation (stepping draws nothing), and the operations the bounds allow come from
//! the step clients' fixed set (`config::OPS`). A path is then one action a tick after the start, and the whole
//! run (the actions up to the start, `Stepping`, then the path's) replays in the playground to the same states.

use crate::paxos::BugSet;
use crate::sim::link::{RunRecord, TICKS_MAX};
use crate::sim::{ScheduledAction, Sim, UserAction};

use super::{ExploreConfig, World};

/// Where a search starts.
#[derive(Clone, Copy, Debug)]
pub enum Origin<'a> {
    /// The explorer's warm-up from a fresh cluster (`ExploreConfig::start`).
    WarmUp,
    /// A playground run at tick `tick`.
    Run { record: &'a RunRecord, tick: u64 },
}

/// A start state and the run that leads to it: its setup, and its actions at their ticks (the last at the start
/// state's tick at most). A path's actions follow, one a tick.
pub struct Start {
    pub world: World,
    pub lead_in: RunRecord,
}

impl Origin<'_> {
    /// The bugs the start's cluster has planted: the run's, or the configuration's for the warm-up.
    pub fn bugs(&self, config: &ExploreConfig) -> BugSet {
        match self {
            Origin::WarmUp => config.bugs,
            Origin::Run { record, .. } => record.setup.bug.map_or(BugSet::NONE, BugSet::from),
        }
    }

    /// The start state.
    pub fn start(&self, config: &ExploreConfig) -> Result<Start, String> {
        match *self {
            Origin::WarmUp => {
                let (sim, actions) = config.start()?;
                let actions = actions.into_iter().map(|ScheduledAction { tick, action }| (tick, action)).collect();
                let lead_in = RunRecord { setup: config.run_setup(), actions };
                Ok(Start { world: World::new(sim, &config.bounds), lead_in })
            }
            Origin::Run { record, tick } => {
                if record.setup.nodes != config.bounds.nodes {
                    return Err(format!(
                        "nodes: the run has {} nodes, the bounds say {}",
                        record.setup.nodes, config.bounds.nodes
                    ));
                }
                let mut sim = replayed(record, tick)?;
                sim.keep_recent_events(0);
                sim.stop_hashing_trace();
                sim.apply_action(UserAction::Stepping { on: true });
                let mut actions: Vec<(u64, UserAction)> =
                    record.actions.iter().filter(|(at, _)| *at <= tick).cloned().collect();
                actions.push((tick, UserAction::Stepping { on: true }));
                let lead_in = RunRecord { setup: record.setup.clone(), actions };
                Ok(Start { world: World::new(sim, &config.bounds), lead_in })
            }
        }
    }
}

/// `record` replayed to `tick` as the playground replays it: tick 0's actions, then each tick and its actions.
pub fn replayed(record: &RunRecord, tick: u64) -> Result<Sim, String> {
    if tick > TICKS_MAX {
        return Err(format!("tick {tick} is past the last tick a run reaches, {TICKS_MAX}"));
    }
    let mut sim = Sim::new(record.setup.config(), record.setup.seed, Vec::new(), false)?;
    let mut actions = record.actions.iter().filter(|(at, _)| *at <= tick).peekable();
    loop {
        while let Some((_, action)) = actions.next_if(|(at, _)| *at <= sim.now()) {
            sim.apply_action(action.clone());
        }
        if sim.now() >= tick {
            return Ok(sim);
        }
        sim.tick();
    }
}
