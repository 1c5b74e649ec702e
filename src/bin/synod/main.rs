//! `synod`: the native command line. Fuzz the protocol over many seeds, replay one, shrink a failing one to the
//! faults that matter, list the planted bugs, check an external history for linearizability, and run the core
//! throughput benchmark.

#[cfg(not(target_arch = "wasm32"))]
mod explore;

#[cfg(not(target_arch = "wasm32"))]
mod cli {
    use std::process::ExitCode;
    use std::time::Instant;

    use clap::{Parser, Subcommand};
    use indicatif::{ProgressBar, ProgressStyle};
    use synod::bench::core_throughput::run_many;
    use synod::check::{check_history_file, CheckOutcome, HistoryFormat};
    use synod::paxos::{Bug, BugSet};
    use synod::scenario;
    use synod::sim::fuzz::run_seeds;
    use synod::sim::shrink::{shrink, ShrinkOptions};
    use synod::sim::{FaultConfig, ScheduledAction, Sim, SimConfig, TraceEvent};

    #[derive(Parser)]
    #[command(name = "synod", version, about = "Multi-Paxos you can watch, break and check")]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    #[derive(clap::Args, Clone)]
    struct RunArgs {
        /// Cluster size (1 to 9).
        #[arg(long, default_value_t = 5)]
        nodes: usize,
        /// A planted bug to turn on (see `synod bugs`), with the faults it needs to show itself often; may be given
        /// more than once.
        #[arg(long = "bug")]
        bugs: Vec<Bug>,
        /// Client operations per seed.
        #[arg(long, default_value_t = 200)]
        ops: u64,
        /// The random faults: `wide` (one-way and leader-isolating partitions, one-way and flapping links,
        /// messages hundreds of ticks late, crashes between a write and its acknowledgement, on top of `classic`)
        /// or `classic` (loss, duplicates, reordering, symmetric partitions, crashes, slow disks).
        #[arg(long, value_enum, default_value_t = FaultMix::Wide)]
        faults: FaultMix,
        /// The level of the clients' reads: `log` (through the log), `lease` (the leader answers while it holds a
        /// read lease) or `local` (any node answers from its own store, possibly stale).
        #[arg(long, value_enum, default_value_t = Reads::Log)]
        reads: Reads,
        /// Clock drift bound in parts per million: each node's clock runs within 1 ± drift/10^6 of real time
        /// (seeded). 0 gives the runs of before issue 18.
        #[arg(long, default_value_t = synod::sim::FUZZ_DRIFT_PPM)]
        drift: u32,
        /// Weight of range reads (`scan`) in the clients' mix, beside the other operations' 100 (10: about one
        /// operation in eleven). Off by default: a scan joins the keys it reads into one group for the
        /// linearizability checker, whose search is then much slower and sometimes gives up (BENCHMARKS.md).
        #[arg(long, default_value_t = 0)]
        scans: u32,
        /// Mix random membership changes (add, remove, replace a node, keeping 3 to 5 members) with every fault.
        #[arg(long)]
        reconfig: bool,
    }

    #[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
    enum Reads {
        Log,
        Lease,
        Local,
    }

    impl Reads {
        fn level(self) -> synod::paxos::ReadLevel {
            match self {
                Reads::Log => synod::paxos::ReadLevel::Log,
                Reads::Lease => synod::paxos::ReadLevel::Lease,
                Reads::Local => synod::paxos::ReadLevel::Local,
            }
        }
    }

    #[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
    enum FaultMix {
        Wide,
        Classic,
    }

    impl RunArgs {
        fn config(&self) -> SimConfig {
            let bugs = self.bugs.iter().fold(BugSet::NONE, |set, bug| set.with(*bug));
            let mut config = SimConfig::fuzz_reads(self.nodes, bugs, self.reads.level(), self.drift);
            config.workload.ops = self.ops;
            config.workload.scans = self.scans;
            config.reconfig |= self.reconfig;
            if self.faults == FaultMix::Classic {
                config.faults = FaultConfig::fuzz_classic();
            }
            config
        }

        fn flags(&self) -> String {
            let bugs: String = self.bugs.iter().map(|bug| format!(" --bug {bug}")).collect();
            let faults = if self.faults == FaultMix::Classic { " --faults classic" } else { "" };
            let reads = self.reads.level().name();
            let scans = if self.scans > 0 { format!(" --scans {}", self.scans) } else { String::new() };
            let reconfig = if self.reconfig { " --reconfig" } else { "" };
            format!(
                "--nodes {} --ops {}{bugs}{faults} --reads {reads} --drift {}{scans}{reconfig}",
                self.nodes, self.ops, self.drift
            )
        }
    }

    #[derive(Subcommand)]
    enum Command {
        /// Run many seeds with random faults; exit 1 on the first violation found.
        Fuzz {
            #[arg(long, default_value_t = 1000)]
            seeds: u64,
            #[arg(long, default_value_t = 0)]
            start_seed: u64,
            #[command(flatten)]
            run: RunArgs,
            /// Threads (default: every core).
            #[arg(long)]
            threads: Option<usize>,
            /// Print one JSON summary object instead of text.
            #[arg(long)]
            json: bool,
        },
        /// Run one seed and print its trace and a space-time diagram.
        Replay {
            /// The fuzz seed to replay (with the run options below).
            #[arg(long, required_unless_present = "run_text")]
            seed: Option<u64>,
            /// A whole run as a playground link's `run` text (what `synod explore` prints for a counterexample),
            /// replayed to the tick the link opens at, instead of a fuzz seed: a first-version link's last action,
            /// or the tick a version-2 link was shared at.
            #[arg(long = "run", conflicts_with_all = ["seed", "keep_faults"])]
            run_text: Option<String>,
            #[command(flatten)]
            run: RunArgs,
            /// Print at most this many trace lines (0: all).
            #[arg(long, default_value_t = 400)]
            lines: usize,
            /// Keep only these random faults, by ordinal (what `synod shrink` prints), e.g. `--keep-faults 3,17`.
            #[arg(long, value_delimiter = ',', num_args = 0..)]
            keep_faults: Option<Vec<u64>>,
        },
        /// Shrink a failing seed to a small set of its random faults that still breaks the same invariant, or a
        /// failing run (`--run`, as `synod explore` and the playground's links give it) to fewer actions.
        Shrink {
            #[arg(long, required_unless_present = "run_text")]
            seed: Option<u64>,
            /// A failing run as a playground link's `run` text, shrunk to the actions that still break it.
            #[arg(long = "run", conflicts_with = "seed")]
            run_text: Option<String>,
            #[command(flatten)]
            run: RunArgs,
            /// Stop minimising after this many simulated runs.
            #[arg(long, default_value_t = 2_000)]
            runs_max: u64,
            /// Accept any violation as still failing (default: the original invariant only).
            #[arg(long)]
            any_violation: bool,
            /// Print the result as one JSON object.
            #[arg(long)]
            json: bool,
        },
        /// Model-check the real core: every interleaving of a small cluster's events within bounds; exit 0 when no
        /// violation is found, 1 with the shortest path to one, 2 on bad arguments.
        Explore(super::explore::ExploreArgs),
        /// List the planted bugs.
        Bugs,
        /// Check a history file for linearizability: exit 0 linearizable, 1 not, 2 unreadable.
        CheckHistory {
            #[arg(long)]
            format: HistoryFormat,
            file: std::path::PathBuf,
        },
        /// Scenarios: scripted, narrated runs with checked claims (www/scenarios/).
        Scenario {
            #[command(subcommand)]
            command: ScenarioCommand,
        },
        /// The core throughput benchmark (see BENCHMARKS.md).
        BenchCore {
            #[arg(long, default_value_t = 5)]
            nodes: usize,
            #[arg(long, default_value_t = 100)]
            per_round: u64,
            #[arg(long, default_value_t = 200_000)]
            commands: u64,
            #[arg(long, default_value_t = 5)]
            runs: usize,
            #[arg(long)]
            json: bool,
            /// The read mix (issue 18): this share of the commands, in percent, are reads at `--reads`, and the
            /// replicas tick once per round (0: the put-only workload, without ticks).
            #[arg(long, default_value_t = 0)]
            read_percent: u64,
            /// The level of the read mix's reads: `log` or `lease`.
            #[arg(long, value_enum, default_value_t = Reads::Lease)]
            reads: Reads,
        },
    }

    #[derive(Subcommand)]
    enum ScenarioCommand {
        /// List the shipped scenarios (the names `index.html?scenario=NAME` takes).
        List,
        /// Parse a scenario file, run it to its end and verify its claims: exit 0 when all hold, 1 when one
        /// fails, 2 when the file cannot be read or is malformed.
        Check {
            /// A scenario file, or the name of a shipped scenario.
            file: String,
            /// Print the protocol events and actions tick by tick (for writing captions).
            #[arg(long)]
            events: bool,
        },
        /// Print the one-line <iframe> that embeds a scenario file, its text packed into the frame's address
        /// (`#scenario=…`): exit 0, 1 when a claim fails (the line is printed all the same), 2 when malformed.
        Embed {
            /// A scenario file, or the name of a shipped scenario.
            file: String,
            /// Where the playground is published: the frame's address is this page's.
            #[arg(long, default_value = "../index.html")]
            page: String,
        },
    }

    pub fn main() -> ExitCode {
        end_quietly_on_a_closed_pipe();
        match Cli::parse().command {
            Command::Fuzz { seeds, start_seed, run, threads, json } => fuzz(seeds, start_seed, &run, threads, json),
            Command::Replay { seed, run_text, run, lines, keep_faults } => {
                let sim = match (seed, run_text) {
                    (Some(seed), _) => fuzz_run(seed, &run, keep_faults),
                    (None, Some(text)) => linked_run(&text),
                    (None, None) => Err("give a --seed or a --run".into()),
                };
                match sim {
                    Ok(sim) => print_replay(&sim, lines),
                    Err(error) => {
                        eprintln!("synod replay: {error}");
                        ExitCode::from(2)
                    }
                }
            }
            Command::Shrink { seed, run_text, run, runs_max, any_violation, json } => match (seed, run_text) {
                (Some(seed), _) => shrink_seed(seed, &run, &ShrinkOptions { runs_max, any_violation }, json),
                (None, Some(text)) => shrink_linked_run(&text, runs_max, json),
                (None, None) => unreachable!("clap requires --seed or --run"),
            },
            Command::Explore(args) => super::explore::main(args),
            Command::Bugs => {
                for bug in Bug::ALL {
                    println!("{:<28} {}", bug.name(), bug.description());
                }
                ExitCode::SUCCESS
            }
            Command::CheckHistory { format, file } => check_history(format, &file),
            Command::Scenario { command: ScenarioCommand::List } => {
                for shipped in scenario::SHIPPED {
                    let title = scenario::parse(shipped.text).map_or_else(|e| format!("(malformed: {e})"), |s| s.title);
                    println!("{:<34} {title}", shipped.name);
                }
                ExitCode::SUCCESS
            }
            Command::Scenario { command: ScenarioCommand::Check { file, events } } => check_scenario(&file, events),
            Command::Scenario { command: ScenarioCommand::Embed { file, page } } => embed_scenario(&file, &page),
            Command::BenchCore { nodes, per_round, commands, runs: _, json, read_percent, reads }
                if read_percent > 0 =>
            {
                let start = Instant::now();
                let clock = move || start.elapsed().as_secs_f64();
                let result =
                    synod::bench::read_mix::run(nodes, per_round, commands, read_percent, reads.level(), &clock);
                if json {
                    println!("{}", serde_json::to_string(&result).expect("result serialises"));
                } else {
                    println!("{result}");
                }
                ExitCode::SUCCESS
            }
            Command::BenchCore { nodes, per_round, commands, runs, json, .. } => {
                let start = Instant::now();
                let clock = move || start.elapsed().as_secs_f64();
                let summary = run_many(nodes, per_round, commands, runs, &clock);
                if json {
                    println!("{}", serde_json::to_string(&summary).expect("summary serialises"));
                } else {
                    println!("{summary}");
                }
                ExitCode::SUCCESS
            }
        }
    }

    fn fuzz(seeds: u64, start_seed: u64, run: &RunArgs, threads: Option<usize>, json: bool) -> ExitCode {
        let config = run.config();
        if let Err(error) = config.validate() {
            eprintln!("synod fuzz: {error}");
            return ExitCode::from(2);
        }
        let threads = threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let bar = if json { ProgressBar::hidden() } else { ProgressBar::new(seeds) };
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} seeds, {msg} [{elapsed} / ~{eta}]").expect("template"),
        );
        let violations = std::sync::atomic::AtomicU64::new(0);
        let undecided = std::sync::atomic::AtomicU64::new(0);
        let start = Instant::now();
        let failures = run_seeds(&config, start_seed, seeds, threads, &|outcome| {
            if !outcome.violations.is_empty() {
                violations.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            if outcome.undecided.is_some() {
                undecided.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            bar.inc(1);
            bar.set_message(format!("{} failing", violations.load(std::sync::atomic::Ordering::Relaxed)));
        });
        bar.finish_and_clear();
        let elapsed_s = start.elapsed().as_secs_f64();
        let first = failures.first();
        if json {
            let summary = serde_json::json!({
                "seeds": seeds,
                "start_seed": start_seed,
                "nodes": run.nodes,
                "bugs": run.bugs.iter().map(|bug| bug.name()).collect::<Vec<_>>(),
                "violations": failures.len(),
                "undecided_histories": undecided.load(std::sync::atomic::Ordering::Relaxed),
                "first_failing_seed": first.map(|outcome| outcome.seed),
                "first_violation": first.map(|outcome| outcome.violations[0].to_string()),
                // Every failing seed with its first violation's invariant, so one run tells them all apart.
                "failing_seeds": failures
                    .iter()
                    .map(|outcome| serde_json::json!({
                        "seed": outcome.seed,
                        "invariant": outcome.violations[0].invariant,
                    }))
                    .collect::<Vec<_>>(),
                "faults": if run.faults == FaultMix::Classic { "classic" } else { "wide" },
                "elapsed_s": elapsed_s,
                "seeds_per_core_minute": seeds as f64 / elapsed_s * 60.0 / threads as f64,
            });
            println!("{summary}");
        } else {
            println!(
                "{seeds} seeds from {start_seed}, {} nodes, in {elapsed_s:.1} s on {threads} threads: {} with violations, \
                 {} histories too hard to check within the search budget",
                run.nodes,
                failures.len(),
                undecided.load(std::sync::atomic::Ordering::Relaxed)
            );
        }
        match first {
            None => ExitCode::SUCCESS,
            Some(outcome) => {
                if !json {
                    println!("first failing seed {}:\n  {}", outcome.seed, outcome.violations[0]);
                    println!("replay it with: synod replay --seed {} {}", outcome.seed, run.flags());
                }
                ExitCode::from(1)
            }
        }
    }

    fn shrink_seed(seed: u64, run: &RunArgs, options: &ShrinkOptions, json: bool) -> ExitCode {
        let start = Instant::now();
        let shrunk = match shrink(&run.config(), seed, options) {
            Ok(shrunk) => shrunk,
            Err(error) => {
                eprintln!("synod shrink: {error}");
                return ExitCode::from(2);
            }
        };
        let keep: Vec<String> = shrunk.keep.iter().map(|ordinal| ordinal.to_string()).collect();
        let replay = format!("synod replay --seed {seed} {} --keep-faults {}", run.flags(), keep.join(","));
        if json {
            let mut summary = serde_json::to_value(&shrunk).expect("the result serialises");
            summary["replay"] = replay.into();
            summary["elapsed_s"] = start.elapsed().as_secs_f64().into();
            println!("{summary}");
            return ExitCode::SUCCESS;
        }
        println!("seed {seed} fails: {}", shrunk.original);
        println!(
            "{} of its {} random faults are enough ({} runs, {:.1} s{}):",
            shrunk.faults.len(),
            shrunk.faults_before,
            shrunk.runs,
            start.elapsed().as_secs_f64(),
            if shrunk.minimal {
                "; removing any one of them makes the failure go away"
            } else {
                "; run budget spent, may not be minimal"
            }
        );
        for fault in &shrunk.faults {
            println!("  {fault}");
        }
        println!("the shrunk run fails with: {}", shrunk.violation);
        println!("replay it with: {replay}");
        ExitCode::SUCCESS
    }

    /// What `encodeURIComponent` leaves alone, so the CLI's links read in the browser and back.
    const URI_COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'!')
        .remove(b'~')
        .remove(b'*')
        .remove(b'\'')
        .remove(b'(')
        .remove(b')');

    fn shrink_linked_run(text: &str, runs_max: u64, json: bool) -> ExitCode {
        let shrunk = match read_link(text).and_then(|(record, _)| synod::sim::shrink::shrink_run(&record, runs_max)) {
            Ok(shrunk) => shrunk,
            Err(error) => {
                eprintln!("synod shrink: {error}");
                return ExitCode::from(2);
            }
        };
        let escape = |text: &str| percent_encoding::utf8_percent_encode(text, URI_COMPONENT).to_string();
        let run = synod::sim::link::encode_record(&shrunk.record, &escape);
        let replay = format!("synod replay --run '{run}'");
        if json {
            let summary = serde_json::json!({
                "actions_before": shrunk.actions_before,
                "actions": shrunk.record.actions.len(),
                "invariant": shrunk.violation.invariant,
                "violation": shrunk.violation.to_string(),
                "runs": shrunk.runs,
                "minimal": shrunk.minimal,
                "run": run,
                "replay": replay,
            });
            println!("{summary}");
            return ExitCode::SUCCESS;
        }
        println!("the run fails: {}", shrunk.original);
        println!(
            "{} of its {} actions are enough ({} runs{}):",
            shrunk.record.actions.len(),
            shrunk.actions_before,
            shrunk.runs,
            if shrunk.minimal { "; removing any one of them makes the failure go away" } else { "; run budget spent" }
        );
        for (tick, action) in &shrunk.record.actions {
            println!("  tick {tick}: {action:?}");
        }
        println!("the shrunk run fails with: {}", shrunk.violation);
        println!("replay it with: {replay}");
        ExitCode::SUCCESS
    }

    /// Fuzz seed `seed`, run to its end (with only the random faults in `keep_faults`, if given).
    fn fuzz_run(seed: u64, run: &RunArgs, keep_faults: Option<Vec<u64>>) -> Result<Sim, String> {
        let mut sim = Sim::new(run.config(), seed, Vec::new(), true)?;
        let gated = keep_faults.is_some();
        if let Some(keep) = keep_faults {
            sim = sim.with_fault_gate(Some(keep.into_iter().collect()));
        }
        sim.run_to_end();
        if gated {
            let kept: Vec<_> = sim.random_faults().iter().filter(|fault| fault.kept).collect();
            println!("{} of {} random faults kept:", kept.len(), sim.random_faults().len());
            for fault in kept {
                println!("  {fault}");
            }
        }
        Ok(sim)
    }

    /// A playground run (`run` text, as a link carries it, of either version) and the moment the page opens it at.
    fn read_link(text: &str) -> Result<(synod::sim::link::RunRecord, synod::sim::link::Moment), String> {
        let unescape = |text: &str| percent_encoding::percent_decode_str(text).decode_utf8().ok().map(String::from);
        synod::sim::link::decode_link(text, &unescape)
    }

    /// Output piped into a reader that stops early (`synod replay --seed 3 | head`) ends the process as it ends other
    /// command-line tools, by the signal, instead of a panic and a backtrace in the first `println!` that follows:
    /// Rust's runtime ignores SIGPIPE, which turns the closed pipe into a write error.
    fn end_quietly_on_a_closed_pipe() {
        #[cfg(unix)]
        // SAFETY: called first thing in `main`, before any other thread exists; it restores the default action.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }

    /// A playground run, replayed to the tick the page would open it at.
    fn linked_run(text: &str) -> Result<Sim, String> {
        let (record, moment) = read_link(text)?;
        let actions = record.actions.into_iter().map(|(tick, action)| ScheduledAction { tick, action }).collect();
        let mut sim = Sim::new(record.setup.config(), record.setup.seed, actions, true)?;
        sim.run_until(moment.tick);
        Ok(sim)
    }

    fn print_replay(sim: &Sim, lines: usize) -> ExitCode {
        let nodes = sim.machines().len(); // Nodes added during the run (issue 20) get a column too.
        println!("seed {}: {} trace events, hash {:016x}", sim.seed(), sim.trace().len(), sim.trace().hash());
        println!("space-time diagram: one column per node; → sent, ← delivered, ✕ dropped/lost");
        let header: String = (1..=nodes).map(|node| format!("{:^6}", format!("n{node}"))).collect();
        println!("{:>6} {header}  event", "tick");
        let mut senders = std::collections::BTreeMap::new();
        let entries = sim.trace().entries();
        let shown = if lines == 0 { entries.len() } else { lines.min(entries.len()) };
        for entry in &entries[..shown] {
            let mut columns = vec!["  │   ".to_string(); nodes];
            let mut mark = |node: u8, symbol: &str| columns[node as usize - 1] = format!("{symbol:^6}");
            let text = match &entry.event {
                TraceEvent::Sent { id, from, to, kind, .. } => {
                    senders.insert(*id, (*from, *to));
                    mark(*from, "→");
                    format!("#{id} {} n{from}→n{to}", kind.name())
                }
                TraceEvent::Delivered { id } => {
                    if let Some((_, to)) = senders.get(id) {
                        mark(*to, "←");
                    }
                    format!("#{id} delivered")
                }
                TraceEvent::Dropped { id } | TraceEvent::Lost { id, .. } => {
                    if let Some((_, to)) = senders.get(id) {
                        mark(*to, "✕");
                    }
                    serde_json::to_string(&entry.event).unwrap_or_default()
                }
                TraceEvent::Crashed { node } | TraceEvent::Restarted { node } | TraceEvent::Durable { node, .. } => {
                    mark(*node, "●");
                    serde_json::to_string(&entry.event).unwrap_or_default()
                }
                other => serde_json::to_string(other).unwrap_or_default(),
            };
            println!("{:>6} {}  {text}", entry.tick, columns.concat());
        }
        if shown < entries.len() {
            println!("… {} more events (--lines 0 prints all)", entries.len() - shown);
        }
        let history = synod::check::linearizability_violation(sim.history(), sim.trace().len(), sim.now());
        if sim.violations().is_empty() && history.is_none() {
            println!("no violations");
            return ExitCode::SUCCESS;
        }
        for violation in sim.violations().iter().chain(&history) {
            println!("{violation}");
        }
        ExitCode::from(1)
    }

    /// A scenario file's text, or a shipped scenario's; `None` (said on stderr) when there is neither.
    fn scenario_text(command: &str, file: &str) -> Option<String> {
        match std::fs::read_to_string(file) {
            Ok(text) => Some(text),
            Err(error) => {
                match scenario::shipped(file) {
                    Some(shipped) => Some(shipped.text.to_string()),
                    None => {
                        eprintln!("synod scenario {command}: cannot read {file}: {error} (nor is it a shipped scenario's name)");
                        None
                    }
                }
            }
        }
    }

    fn embed_scenario(file: &str, page: &str) -> ExitCode {
        let Some(text) = scenario_text("embed", file) else { return ExitCode::from(2) };
        let (parsed, outcome) = match scenario::prepare(&text) {
            Ok(prepared) => prepared,
            Err(error) => {
                eprintln!("synod scenario embed: {file}: {error}");
                return ExitCode::from(2);
            }
        };
        let title =
            format!("Live example: {}", parsed.title).replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
        let packed = scenario::link::pack(&text);
        println!(
            "<iframe src=\"{page}?embed=1#scenario={packed}\" title=\"{title}\" width=\"640\" height=\"400\"></iframe>"
        );
        if outcome.failures.is_empty() {
            return ExitCode::SUCCESS;
        }
        for failure in &outcome.failures {
            eprintln!("synod scenario embed: {file}: a claim does not hold: {failure}");
        }
        ExitCode::from(1)
    }

    fn check_scenario(file: &str, events: bool) -> ExitCode {
        let Some(text) = scenario_text("check", file) else { return ExitCode::from(2) };
        let parsed = match scenario::parse(&text) {
            Ok(parsed) => parsed,
            Err(error) => {
                eprintln!("synod scenario check: {file}: {error}");
                return ExitCode::from(2);
            }
        };
        let mut print_events = |sim: &Sim| {
            if events {
                for (tick, node, event) in sim.recent_events().filter(|(tick, _, _)| *tick == sim.now()) {
                    println!("  tick {tick:>5}  node {node}: {event:?}");
                }
            }
        };
        let outcome = match scenario::run_observed(&parsed, &mut print_events) {
            Ok(outcome) => outcome,
            Err(error) => {
                eprintln!("synod scenario check: {file}: {error}");
                return ExitCode::from(2);
            }
        };
        if events {
            for (tick, action) in &outcome.actions {
                println!("  tick {tick:>5}  action: {action:?}");
            }
        }
        let claims = parsed.expectations.len() + 1;
        if outcome.failures.is_empty() {
            let verdict = match &parsed.verdict {
                scenario::Verdict::Green => "checker green".to_string(),
                scenario::Verdict::Violation(name) => format!("checker red: {name}"),
            };
            println!("{file}: {:?} ran to tick {}: {claims} claims hold ({verdict})", parsed.title, parsed.end);
            ExitCode::SUCCESS
        } else {
            eprintln!("{file}: {:?}: {} of {claims} claims failed:", parsed.title, outcome.failures.len());
            for failure in &outcome.failures {
                eprintln!("  {failure}");
            }
            ExitCode::from(1)
        }
    }

    fn check_history(format: HistoryFormat, file: &std::path::Path) -> ExitCode {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(error) => {
                eprintln!("synod check-history: cannot read {}: {error}", file.display());
                return ExitCode::from(2);
            }
        };
        match check_history_file(format, &text) {
            Err(error) => {
                eprintln!("synod check-history: {}: {error}", file.display());
                ExitCode::from(2)
            }
            Ok(CheckOutcome::Linearizable) => {
                println!("linearizable");
                ExitCode::SUCCESS
            }
            Ok(outcome @ CheckOutcome::NotLinearizable { .. }) => {
                println!("not linearizable\n{outcome}");
                ExitCode::from(1)
            }
            Ok(outcome @ CheckOutcome::Unknown { .. }) => {
                println!("unknown\n{outcome}");
                ExitCode::from(2)
            }
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
