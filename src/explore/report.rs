//! What a search found, as the CLI prints it (`--json`: one object on the last line), and how the reports of the
//! shards of one search combine (`synod explore merge`).

use serde::{Deserialize, Serialize};

use crate::check::invariants::Violation;
use crate::sim::ScheduledAction;

use super::{Bounds, Event, ExploreConfig, Shard, Start};
use crate::sim::link::encode_record;

/// How far a search has got, for a progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Progress {
    pub states: u64,
    pub unique_states: u64,
    pub depth: u32,
    pub elapsed_s: f64,
}

/// A path to a violation, as events and as the stepped run that replays it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Counterexample {
    /// The events from the start state, in words.
    pub events: Vec<String>,
    /// How many events.
    pub length: usize,
    /// The violation it ends in.
    pub violation: String,
    /// The whole run: the warm-up's actions, then one event a tick.
    pub actions: Vec<ScheduledAction>,
    /// The command that replays it.
    pub replay: String,
    /// The playground address (relative to the site) that opens it.
    pub link: String,
}

impl Counterexample {
    /// `path` from `start`: its run is the actions that led to the start, then every action the path took (its
    /// events and the acknowledgements taken with them), one a tick.
    pub fn new(start: &Start, path: &[Event], violation: &Violation) -> Self {
        let mut taken = Vec::new();
        let mut world = start.world.clone();
        for event in path {
            world.apply_recording(*event, &mut |action| taken.push(action.clone()));
        }
        let first = start.world.sim().now() + 1;
        let mut record = start.lead_in.clone();
        record.actions.extend((first..).zip(taken));
        // Keys and values of the explorer's own operations are plain words; a run's may need escaping.
        let run = encode_record(&record, &|text| percent_escape(text));
        Counterexample {
            events: path.iter().map(Event::to_string).collect(),
            length: path.len(),
            violation: violation.to_string(),
            replay: format!("synod replay --run '{run}'"),
            link: format!("index.html?run={run}"),
            actions: record.actions.into_iter().map(|(tick, action)| ScheduledAction { tick, action }).collect(),
        }
    }
}

/// `text` as a URI component: what the page's `encodeURIComponent` and the CLI's reader expect (the explorer's
/// warm-up only ever writes plain words, which stay as they are).
fn percent_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub bounds: Bounds,
    pub bugs: Vec<String>,
    pub dfs: bool,
    pub shard: Option<Shard>,
    /// States met, a state met again counted again.
    pub states: u64,
    /// Different states (by fingerprint). Shards merged by `explore merge` (separate processes, counts only) may
    /// count a state once per shard; the threads of one process count each state once.
    pub unique_states: u64,
    /// Violations found (the search stops at the first).
    pub violations: u64,
    /// Unique states per second.
    pub states_per_s: f64,
    pub max_depth: u32,
    /// Whether every state within the bounds was visited.
    pub complete: bool,
    pub elapsed_s: f64,
    pub counterexample: Option<Counterexample>,
}

impl Report {
    pub fn new(config: &ExploreConfig, progress: &Progress, complete: bool, found: Option<Counterexample>) -> Self {
        Report {
            bounds: config.bounds.clone(),
            bugs: config.bugs.iter().map(|bug| bug.name().to_string()).collect(),
            dfs: config.dfs,
            shard: config.shard,
            states: progress.states,
            unique_states: progress.unique_states,
            violations: u64::from(found.is_some()),
            states_per_s: progress.unique_states as f64 / progress.elapsed_s.max(1e-9),
            max_depth: progress.depth,
            complete,
            elapsed_s: progress.elapsed_s,
            counterexample: found,
        }
    }
}

/// One report for the shards of one search: counts add up, the search is complete only if every shard's was,
/// and the shortest counterexample wins. The shards run side by side, so the time is the longest shard's.
pub fn merge(reports: &[Report]) -> Result<Report, String> {
    let first = reports.first().ok_or("nothing to merge")?;
    for report in reports {
        if report.bounds != first.bounds || report.bugs != first.bugs || report.dfs != first.dfs {
            return Err("the reports come from searches with different bounds, bugs or modes".into());
        }
    }
    let mut shards: Vec<u32> = reports.iter().filter_map(|report| report.shard.map(|shard| shard.index)).collect();
    shards.sort_unstable();
    let count = first.shard.map_or(1, |shard| shard.count);
    if shards != (0..count).collect::<Vec<_>>() || reports.iter().any(|r| r.shard.map_or(1, |s| s.count) != count) {
        return Err(format!("expected one report for each of the {count} shards, once each"));
    }
    let elapsed_s = reports.iter().map(|report| report.elapsed_s).fold(0.0, f64::max);
    let unique_states = reports.iter().map(|report| report.unique_states).sum();
    Ok(Report {
        shard: None,
        states: reports.iter().map(|report| report.states).sum(),
        unique_states,
        violations: reports.iter().map(|report| report.violations).sum(),
        states_per_s: unique_states as f64 / elapsed_s.max(1e-9),
        max_depth: reports.iter().map(|report| report.max_depth).max().unwrap_or(0),
        complete: reports.iter().all(|report| report.complete),
        elapsed_s,
        counterexample: reports.iter().filter_map(|report| report.counterexample.clone()).min_by_key(|c| c.length),
        ..first.clone()
    })
}
