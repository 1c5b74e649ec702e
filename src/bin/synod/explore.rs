//! `synod explore`: the bounded model checker's command line, and `synod explore merge` for the reports of a
//! search split into shards.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use synod::explore::{explore, explore_met, merge, Bounds, ExploreConfig, Progress, Report, Shard};
use synod::paxos::{Bug, BugSet};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ExploreArgs {
    #[command(subcommand)]
    command: Option<ExploreCommand>,
    #[command(flatten)]
    search: SearchArgs,
}

#[derive(Subcommand)]
enum ExploreCommand {
    /// Combine the JSON reports of the shards of one search (`--shard i/n --json`, the last line of each).
    Merge {
        files: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct SearchArgs {
    /// Cluster size (3 to 5).
    #[arg(long, default_value_t = Bounds::default().nodes)]
    nodes: usize,
    /// Client requests, each from its own client.
    #[arg(long, default_value_t = Bounds::default().ops)]
    ops: u8,
    /// Node crashes (a crashed node may restart at any point).
    #[arg(long, default_value_t = Bounds::default().crashes)]
    crashes: u8,
    /// Messages dropped.
    #[arg(long, default_value_t = Bounds::default().drops)]
    drops: u8,
    /// Messages duplicated.
    #[arg(long, default_value_t = Bounds::default().dups)]
    dups: u8,
    /// Node clock ticks (timers: heartbeats, elections, retransmissions), all nodes together.
    #[arg(long, default_value_t = Bounds::default().ticks)]
    ticks: u8,
    /// Requests a client sends again.
    #[arg(long, default_value_t = Bounds::default().retries)]
    retries: u8,
    /// Messages in flight at once (states with more are not explored).
    #[arg(long, default_value_t = Bounds::default().messages)]
    messages: u8,
    /// Events on a path.
    #[arg(long, default_value_t = Bounds::default().depth)]
    depth: u32,
    /// Membership changes (add a node, remove an added one, replace an original one), one at a time.
    #[arg(long, default_value_t = Bounds::default().reconfigs)]
    reconfigs: u8,
    /// A planted bug (see `synod bugs`), with the bounds it needs; may be given more than once.
    #[arg(long = "bug")]
    bugs: Vec<Bug>,
    /// Threads (default: every core); each takes its share of the first events.
    #[arg(long)]
    threads: Option<usize>,
    /// Depth-first: deep bounds in little memory (the counterexample may not be the shortest).
    #[arg(long)]
    dfs: bool,
    /// Explore only this share of the first events (INDEX/COUNT), for a search spread over processes.
    #[arg(long)]
    shard: Option<Shard>,
    /// Stop after this many unique states.
    #[arg(long)]
    states_max: Option<u64>,
    /// Snapshot every this many applied slots (0: never).
    #[arg(long, default_value_t = synod::explore::SNAPSHOT_INTERVAL)]
    snapshot_interval: u64,
    /// States the breadth-first queue holds whole (a few kB each); the rest are rebuilt from their paths.
    #[arg(long, default_value_t = synod::explore::HELD_STATES_MAX)]
    held_states: usize,
    /// Take every order of events that commute (no partial-order reduction): the same states, more work; to compare.
    #[arg(long)]
    no_sleep_sets: bool,
    /// Print one JSON object (the last line) instead of text.
    #[arg(long)]
    json: bool,
}

impl SearchArgs {
    fn config(&self) -> ExploreConfig {
        let bounds = Bounds {
            nodes: self.nodes,
            ops: self.ops,
            crashes: self.crashes,
            drops: self.drops,
            dups: self.dups,
            ticks: self.ticks,
            retries: self.retries,
            messages: self.messages,
            depth: self.depth,
            reconfigs: self.reconfigs,
        };
        let bugs = self.bugs.iter().fold(BugSet::NONE, |set, bug| set.with(*bug));
        let mut config = ExploreConfig::new(bounds, bugs);
        config.dfs = self.dfs;
        config.shard = self.shard;
        config.states_max = self.states_max.unwrap_or(u64::MAX);
        config.held_states_max = self.held_states;
        config.sleep_sets = !self.no_sleep_sets;
        if !self.bugs.contains(&Bug::SnapshotOffByOne) {
            config.snapshot_interval = self.snapshot_interval;
        }
        config
    }
}

pub fn main(args: ExploreArgs) -> ExitCode {
    match args.command {
        Some(ExploreCommand::Merge { files, json }) => merge_files(&files, json),
        None => search(&args.search),
    }
}

fn search(args: &SearchArgs) -> ExitCode {
    let config = args.config();
    if let Err(error) = config.validate() {
        eprintln!("synod explore: {error}");
        return ExitCode::from(2);
    }
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let bar = progress_bar(args.json);
    // States, unique states, depth, violations, over every thread.
    let totals = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];
    let start = Instant::now();
    let reports: Vec<Result<(Report, Vec<u64>), String>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                let config = thread_config(&config, thread, threads);
                let (bar, totals) = (&bar, &totals);
                scope.spawn(move || run_thread(&config, threads > 1, bar, totals, start))
            })
            .collect();
        workers.into_iter().map(|worker| worker.join().expect("explore worker")).collect()
    });
    bar.finish_and_clear();
    let reports = match reports.into_iter().collect::<Result<Vec<_>, _>>() {
        Ok(reports) => reports,
        Err(error) => {
            eprintln!("synod explore: {error}");
            return ExitCode::from(2);
        }
    };
    let mut report = merge_threads(reports);
    report.shard = config.shard;
    print_report(&report, args.json)
}

/// Thread `thread` of `threads` takes its share of the first events (of the shard, if one was asked for).
fn thread_config(config: &ExploreConfig, thread: usize, threads: usize) -> ExploreConfig {
    let outer = config.shard.unwrap_or(Shard { index: 0, count: 1 });
    let shard = (threads > 1)
        .then(|| Shard { index: outer.index * threads as u32 + thread as u32, count: outer.count * threads as u32 });
    ExploreConfig { shard: shard.or(config.shard), ..config.clone() }
}

/// Runs one thread's share; stops when another thread found a violation (`totals[3]`). With `several` threads it
/// also returns the fingerprints of the states it met.
fn run_thread(
    config: &ExploreConfig,
    several: bool,
    bar: &ProgressBar,
    totals: &[AtomicU64; 4],
    start: Instant,
) -> Result<(Report, Vec<u64>), String> {
    let mut last = Progress::default();
    let mut on_progress = |progress: &Progress| {
        let states =
            totals[0].fetch_add(progress.states - last.states, Ordering::Relaxed) + progress.states - last.states;
        let unique = totals[1].fetch_add(progress.unique_states - last.unique_states, Ordering::Relaxed)
            + progress.unique_states
            - last.unique_states;
        let depth = totals[2].fetch_max(u64::from(progress.depth), Ordering::Relaxed).max(u64::from(progress.depth));
        last = *progress;
        let rate = unique as f64 / start.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("{states} states, {unique} unique, depth {depth}, {rate:.0} unique states/s"));
        totals[3].load(Ordering::Relaxed) == 0
    };
    let clock = || start.elapsed().as_secs_f64();
    // Only several threads need the states met, to count a state two of them met once.
    let (report, met) = if several {
        explore_met(config, &mut on_progress, &clock)?
    } else {
        (explore(config, &mut on_progress, &clock)?, Vec::new())
    };
    if report.violations > 0 {
        totals[3].fetch_add(1, Ordering::Relaxed);
    }
    Ok((report, met))
}

/// The threads of one process: one search, so their shards merge as the whole search (not as shards), and a
/// state two threads met counts once (unlike `explore merge` of separate processes, which has only counts).
fn merge_threads(results: Vec<(Report, Vec<u64>)>) -> Report {
    let (mut reports, met): (Vec<Report>, Vec<Vec<u64>>) = results.into_iter().unzip();
    if reports.len() == 1 {
        return reports.remove(0);
    }
    let mut merged = merge(&reports).expect("the threads' shards make one search");
    let met: std::collections::HashSet<u64> = met.into_iter().flatten().collect();
    merged.shard = None;
    merged.unique_states = met.len() as u64;
    merged.states_per_s = merged.unique_states as f64 / merged.elapsed_s.max(1e-9);
    merged
}

fn progress_bar(hidden: bool) -> ProgressBar {
    let bar = if hidden { ProgressBar::hidden() } else { ProgressBar::new_spinner() };
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").expect("template"));
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

fn merge_files(files: &[PathBuf], json: bool) -> ExitCode {
    let mut reports = Vec::new();
    for file in files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(error) => {
                eprintln!("synod explore merge: cannot read {}: {error}", file.display());
                return ExitCode::from(2);
            }
        };
        match serde_json::from_str::<Report>(text.lines().last().unwrap_or_default()) {
            Ok(report) => reports.push(report),
            Err(error) => {
                eprintln!("synod explore merge: {}: not a report of `synod explore --json`: {error}", file.display());
                return ExitCode::from(2);
            }
        }
    }
    match merge(&reports) {
        Ok(report) => print_report(&report, json),
        Err(error) => {
            eprintln!("synod explore merge: {error}");
            ExitCode::from(2)
        }
    }
}

fn print_report(report: &Report, json: bool) -> ExitCode {
    if json {
        println!("{}", serde_json::to_string(report).expect("a report serialises"));
    } else {
        let exhausted = if report.complete { "the bounded space is exhausted" } else { "the search stopped early" };
        println!(
            "{} states, {} unique, depth {} in {:.1} s ({:.0} unique states/s): {exhausted}; {} violation{}",
            report.states,
            report.unique_states,
            report.max_depth,
            report.elapsed_s,
            report.states_per_s,
            report.violations,
            if report.violations == 1 { "" } else { "s" }
        );
        if let Some(counterexample) = &report.counterexample {
            println!("shortest path found, {} events:", counterexample.length);
            for (step, event) in counterexample.events.iter().enumerate() {
                println!("  {:>3}. {event}", step + 1);
            }
            println!("{}", counterexample.violation);
            println!("replay it with: {}", counterexample.replay);
            println!("open it in the playground: {}", counterexample.link);
        }
    }
    if report.violations == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
