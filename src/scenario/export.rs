//! Writes a run as scenario text, the reverse of [`parse`](super::parse): the playground's "Export as scenario".
//! The text holds the run's setup, every action applied up to now at its tick, and claims that hold now (who
//! leads, which nodes are down, the applied store, the checker's verdict), so reading it back and running it
//! ([`run`](super::run)) replays the same trace and every claim holds.
//!
//! Most actions have a line of their own. A dropped, duplicated or delivered message is written the way an
//! author would (`drop accept 5->3`: the next such message to arrive) when that picks the same message, and by
//! its id otherwise (`drop #17 accept 5->3`); to know which, the run is replayed here up to now.

use std::fmt::Write as _;

use crate::check::{check_with, CheckOptions, CheckOutcome};
use crate::kv::KvCommand;
use crate::paxos::{Bug, BugSet, NodeId, RoleKind};
use crate::sim::{FaultConfig, InFlight, Sim, SimConfig, Timing, UserAction};

use super::claim::LINEARIZABLE;
use super::parse::{fault_field, FaultUnit, FAULT_WORDS};
use super::VERSION;

/// Keys of the applied store written as claims at most (a long run's store would drown the text).
const KEYS_MAX: usize = 12;

/// A run to write: its setup (as a scenario's header has it) and the actions applied, at their ticks.
#[derive(Clone, Debug)]
pub struct Recorded<'a> {
    pub title: &'a str,
    pub nodes: usize,
    pub seed: u64,
    pub bug: Option<Bug>,
    pub clients: u64,
    pub snapshot_interval: u64,
    /// The nodes' timers: a scenario runs at the playground's, so a run at other timing (a link written by
    /// `synod explore` may carry one) cannot be exported.
    pub timing: Timing,
    /// (tick, action), in the order they were applied; those after `now` are left out.
    pub actions: &'a [(u64, UserAction)],
    /// The tick the run is at: the scenario ends here, and its claims are checked here.
    pub now: u64,
}

impl Recorded<'_> {
    fn config(&self) -> SimConfig {
        SimConfig::playground(
            self.nodes,
            self.bug.map_or(BugSet::NONE, BugSet::from),
            self.clients,
            self.snapshot_interval,
        )
    }
}

/// The scenario text of `run`, or why a scenario cannot replay it (an invalid setup, timing other than the
/// playground's, an event chosen by hand in stepping mode).
pub fn export(run: &Recorded) -> Result<String, String> {
    if run.timing != Timing::default() {
        let Timing { heartbeat_ticks, election_timeout_ticks, retry_ticks } = run.timing;
        return Err(format!(
            "this run's nodes keep their own timing (heartbeat {heartbeat_ticks}, election timeout \
             {election_timeout_ticks}, retry {retry_ticks} ticks) and a scenario runs at the playground's, so it \
             cannot be exported"
        ));
    }
    let mut sim = Sim::new(run.config(), run.seed, Vec::new(), false)?;
    let mut timeline = String::new();
    let mut actions = run.actions.iter().filter(|(tick, _)| *tick <= run.now).peekable();
    loop {
        while let Some((tick, action)) = actions.next_if(|(tick, _)| *tick == sim.now()) {
            let line = action_line(&sim, action).map_err(|why| format!("tick {tick}: {why}"))?;
            let _ = writeln!(timeline, "at {tick}: {line}");
            sim.apply_action(action.clone());
        }
        if sim.now() >= run.now {
            break;
        }
        sim.tick();
    }
    let end = run.now.max(1);
    let mut text = header(run, end, &verdict(&sim));
    if !timeline.is_empty() {
        text.push('\n');
        text.push_str(&timeline);
    }
    text.push('\n');
    for claim in claims(&sim) {
        let _ = writeln!(text, "expect {}: {claim}", run.now);
    }
    Ok(text)
}

fn header(run: &Recorded, end: u64, verdict: &str) -> String {
    let mut text = format!("synod-scenario {VERSION}\n");
    let _ = writeln!(
        text,
        "# Exported from the Synod playground at tick {}. Add captions (`say TICK: …`) and claims \
         (`expect TICK: …`), then play it.",
        run.now
    );
    let title = run.title.trim();
    let _ = writeln!(text, "title: {}", if title.is_empty() { "A playground run" } else { title });
    let _ = writeln!(text, "nodes: {}\nseed: {}", run.nodes, run.seed);
    if run.clients > 0 {
        let _ = writeln!(text, "clients: {}", run.clients);
    }
    if let Some(bug) = run.bug {
        let _ = writeln!(text, "bug: {}", bug.name());
    }
    if run.snapshot_interval > 0 {
        let _ = writeln!(text, "snapshot-interval: {}", run.snapshot_interval);
    }
    let _ = writeln!(text, "end: {end}\nchecker: {verdict}");
    text
}

/// `green`, or the first invariant the checker reported (the history's linearizability included, as `run`
/// judges it at the end).
fn verdict(sim: &Sim) -> String {
    if let Some(violation) = sim.violations().first() {
        return format!("violation {}", violation.invariant);
    }
    let quick = CheckOptions { shrink_explanation: false, ..CheckOptions::default() };
    match check_with(sim.history(), &quick) {
        CheckOutcome::NotLinearizable { .. } => format!("violation {LINEARIZABLE}"),
        CheckOutcome::Linearizable | CheckOutcome::Unknown { .. } => "green".into(),
    }
}

/// The line for `action`, applied to `sim` as it is now, or why a scenario has none: the events of stepping
/// mode (`synod explore` chooses each one; a scenario lets time run and picks messages only as they arrive).
fn action_line(sim: &Sim, action: &UserAction) -> Result<String, String> {
    let line = match action {
        UserAction::Crash { node } => format!("kill {node}"),
        UserAction::Restart { node } => format!("restart {node}"),
        UserAction::Pause { node } => format!("pause {node}"),
        UserAction::Resume { node } => format!("resume {node}"),
        UserAction::Partition { groups } => {
            let groups: Vec<String> = groups.iter().map(|group| join(group)).collect();
            format!("partition {}", groups.join(" | "))
        }
        UserAction::CutLink { from, to } => format!("cut {from}->{to}"),
        UserAction::HealLink { from, to } => format!("heal-link {from}->{to}"),
        UserAction::Heal => "heal".into(),
        UserAction::Reload => "reload".into(),
        UserAction::DropMessage { id } => format!("drop {}", message(sim, *id)),
        UserAction::DuplicateMessage { id } => format!("duplicate {}", message(sim, *id)),
        UserAction::DeliverNow { id } => format!("deliver {}", message(sim, *id)),
        UserAction::SetFaults { faults } => format!("faults {}", fault_changes(&sim.config().faults, faults)),
        UserAction::ClientOp { target, command } => format!("{} via {target}", client_op(command)),
        UserAction::SetRetries { on } => format!("retries {}", if *on { "on" } else { "off" }),
        UserAction::AddNode => "add-node".into(),
        UserAction::RemoveNode { node } => format!("remove-node {node}"),
        UserAction::ReplaceNode { node } => format!("replace-node {node}"),
        UserAction::Stepping { .. }
        | UserAction::TickNode { .. }
        | UserAction::AckWrite { .. }
        | UserAction::Request { .. }
        | UserAction::Retry { .. } => {
            return Err("the run steps event by event (a model checker's path), which a scenario cannot write, so \
                        it cannot be exported"
                .into())
        }
    };
    Ok(line)
}

fn join(nodes: &[NodeId]) -> String {
    nodes.iter().map(NodeId::to_string).collect::<Vec<_>>().join(" ")
}

/// `accept 5->3` when the next accept from 5 to 3 to arrive is message `id`, else `#ID accept 5->3`; just `#ID`
/// when it is not in flight (the action then did nothing, and reading it back says so).
fn message(sim: &Sim, id: u64) -> String {
    let Some(target) = sim.network().in_flight().find(|m| m.id == id) else { return format!("#{id}") };
    let like = |m: &&InFlight| m.kind == target.kind && m.from == target.from && m.to == target.to;
    let named = format!("{} {}->{}", target.kind.name(), target.from, target.to);
    // `in_flight` is in arrival order, which is the order a selector picks from.
    match sim.network().in_flight().filter(like).map(|m| m.id).next() {
        Some(first) if first == id => named,
        _ => format!("#{id} {named}"),
    }
}

/// The fault rates that differ from `current`, as a `faults` line's words; a line that changes nothing names
/// the drop rate, so it still reads.
fn fault_changes(current: &FaultConfig, next: &FaultConfig) -> String {
    let (was, now) = (current.numbers(), next.numbers());
    let mut words = Vec::new();
    for (word, field, unit) in FAULT_WORDS {
        let at = fault_field(field);
        if was[at] != now[at] {
            words.push(match unit {
                // Rates are u32 fields of FaultConfig, so the number fits.
                FaultUnit::Percent => format!("{word}={}", percent(now[at] as u32)),
                FaultUnit::Ticks => format!("{word}={}", now[at]),
            });
        }
    }
    let (min, max) = (fault_field("delay_min"), fault_field("delay_max"));
    if (was[min], was[max]) != (now[min], now[max]) {
        words.push(format!("delay={}..{}", now[min], now[max]));
    }
    if words.is_empty() {
        words.push(format!("drop={}", percent(next.drop_ppm)));
    }
    words.join(" ")
}

/// Parts per million as a percentage the reader takes back exactly: 50000 → `5%`, 2500 → `0.25%`.
pub fn percent(ppm: u32) -> String {
    let (whole, fraction) = (ppm / 10_000, ppm % 10_000);
    if fraction == 0 {
        return format!("{whole}%");
    }
    let digits = format!("{fraction:04}");
    format!("{whole}.{}%", digits.trim_end_matches('0'))
}

fn client_op(command: &KvCommand) -> String {
    match command {
        KvCommand::Get { key } => format!("get {key}"),
        KvCommand::Read { key, level } => format!("get {key} @{}", level.name()),
        KvCommand::Scan { start, end, limit, level } => {
            let limit = limit.map_or(String::new(), |limit| format!(" {limit}"));
            format!("scan {start} {end}{limit} @{}", level.name())
        }
        KvCommand::Delete { key } => format!("delete {key}"),
        KvCommand::Put { key, value } => format!("put {key} {}", quote(value)),
        KvCommand::Append { key, value } => format!("append {key} {}", quote(value)),
        KvCommand::Cas { key, expected, new } => {
            format!("cas {key} {} {}", expected.as_deref().map_or("-".into(), quote), quote(new))
        }
    }
}

/// A value as one word of the scenario format: quoted when it is empty or holds white space, a quote or a
/// backslash (keys never do: the store refuses them).
pub fn quote(value: &str) -> String {
    let plain = !value.is_empty() && !value.chars().any(|c| c.is_whitespace() || c == '"' || c == '\\');
    if plain {
        return value.to_string();
    }
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Claims that hold in `sim` now: who leads, who is down, the applied store of the nodes that are up.
fn claims(sim: &Sim) -> Vec<String> {
    let ids = 1..=sim.config().nodes as NodeId;
    let mut claims = Vec::new();
    for id in ids.clone() {
        match sim.node(id) {
            None => claims.push(format!("down {id}")),
            Some(node) if node.role() == RoleKind::Leader => claims.push(format!("leader {id}")),
            Some(_) => {}
        }
    }
    let up: Vec<NodeId> = ids.filter(|id| sim.node(*id).is_some()).collect();
    let store = |id: NodeId| &sim.node(id).expect("up").machine().data;
    // Every key a node that is up holds, in order. (A map of the store's own type: a new map or a sort of a
    // new element type would cost the browser bundle kilobytes.)
    let mut keys = std::collections::BTreeMap::<String, String>::new();
    for id in &up {
        keys.extend(store(*id).keys().map(|key| (key.clone(), String::new())));
    }
    for key in keys.keys().take(KEYS_MAX) {
        // Each value held (None: absent), with the nodes that hold it, in the order first seen.
        let mut values: Vec<(Option<&String>, Vec<NodeId>)> = Vec::new();
        for id in &up {
            let value = store(*id).get(key);
            match values.iter_mut().find(|(held, _)| *held == value) {
                Some((_, nodes)) => nodes.push(*id),
                None => values.push((value, vec![*id])),
            }
        }
        let agreed = values.len() == 1;
        for (value, on) in &values {
            let value = value.map_or("absent".to_string(), |value| format!("= {}", quote(value)));
            let on = if agreed { String::new() } else { format!(" on {}", join(on)) };
            claims.push(format!("{key} {value}{on}"));
        }
    }
    claims.push(match sim.violations().first() {
        None => "green".into(),
        Some(violation) => format!("violation {}", violation.invariant),
    });
    claims
}
