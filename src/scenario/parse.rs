//! Reads a scenario file: this module owns the whole grammar (header, actions, message selectors, fault rates
//! and the claims of `expect` lines); `claim.rs` only judges a parsed claim against the simulator.
//! Line-based on purpose: a hand-written reader for it costs a few kilobytes of Wasm,
//! where a TOML reader with serde spans cost more than the bundle had left (BENCHMARKS.md), and every line names
//! its field first, so an error says which field on which line is wrong.
//!
//! ```text
//! synod-scenario 1
//! title: Normal commit
//! nodes: 5
//! seed: 1
//! end: 60
//! checker: green
//! at 20: put x 1 via 2
//! say 20: A client asks node 2 to store x = 1.
//! expect 30: x = 1
//! ```

use std::fmt;

use crate::check::invariants::names;
use crate::kv::KvCommand;
use crate::paxos::{Bug, BugSet, MessageKind, NodeId, ReadLevel};
use crate::sim::{FaultConfig, SimConfig, UserAction, FAULT_FIELDS};

use super::claim::Claim;
use super::VERSION;

/// Nodes a scenario may have: what the playground shows.
const NODES: std::ops::RangeInclusive<usize> = 3..=7;
/// The longest run a scenario may script, in ticks (so `synod scenario check` always ends quickly).
pub const END_MAX: u64 = 20_000;
const CLIENTS_MAX: u64 = 8;

/// A parsed, validated scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    pub title: String,
    pub description: String,
    pub nodes: usize,
    pub seed: u64,
    /// Background clients issuing random operations (the playground's clients).
    pub clients: u64,
    pub bug: Option<Bug>,
    pub snapshot_interval: u64,
    /// Whether the scenario's client operations retry by themselves (`retries: on`; off unless asked for, so
    /// a scenario written before retries existed keeps its meaning).
    pub retries: bool,
    /// The level of the background clients' reads; `lease` also turns read leases on in the nodes (issue 18).
    pub reads: ReadLevel,
    /// Clock drift bound in parts per million (seeded per node, see `sim::clock`); 0: exact clocks.
    pub drift_ppm: u32,
    /// Fault rates from the start (applied at tick 0), if the scenario sets any.
    pub faults: Option<Faults>,
    /// The run stops at this tick.
    pub end: u64,
    /// What the checker must say at the end.
    pub verdict: Verdict,
    /// Actions, in tick order (file order within a tick).
    pub timeline: Vec<Timed<Action>>,
    pub captions: Vec<Timed<String>>,
    pub expectations: Vec<Timed<Claim>>,
}

/// Something at a tick, with the line it came from (for errors).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timed<T> {
    pub tick: u64,
    pub line: usize,
    pub item: T,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No safety violation and a linearizable history.
    Green,
    /// The checker reports this invariant by the end.
    Violation(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// An action that needs nothing resolved: client operations, kills, restarts, pauses, partitions, heals.
    Do(UserAction),
    Drop(MessageSelector),
    Duplicate(MessageSelector),
    Deliver(MessageSelector),
    /// Changes the named fault rates, keeps the others.
    Faults(Faults),
}

/// Which message in flight an action means: the first to arrive (then the lowest id) that matches, or every
/// match with `all`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageSelector {
    pub all: bool,
    /// `#ID`: the message with this id (as the playground lists them), which must also match the rest. A
    /// playground run exported as a scenario names a message this way when "the next accept from 5 to 3" would
    /// pick another one.
    pub id: Option<u64>,
    pub kind: Option<MessageKind>,
    pub from: LinkEnd,
    pub to: LinkEnd,
}

/// One end of a link: a node or `*`.
pub type LinkEnd = Option<NodeId>;

/// Fault rates to change, each at its place in [`FAULT_FIELDS`]; `None` keeps the current value.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    pub numbers: [Option<u64>; FAULT_FIELDS.len()],
}

impl Faults {
    /// The new value of `field` (as [`FAULT_FIELDS`] names it), if the line changes it.
    pub fn get(&self, field: &str) -> Option<u64> {
        self.numbers[fault_field(field)]
    }

    pub fn apply(&self, base: &FaultConfig) -> FaultConfig {
        let mut numbers = base.numbers();
        for (number, change) in numbers.iter_mut().zip(self.numbers) {
            *number = change.unwrap_or(*number);
        }
        // The reader keeps every rate within 100%, so each fits its field and this never falls back.
        FaultConfig::from_numbers(&numbers).unwrap_or_else(|| base.clone())
    }
}

/// How a `faults` word's value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultUnit {
    /// A chance as a percentage (`5%`, `0.25%`), kept in parts per million.
    Percent,
    Ticks,
}

/// The words of a `faults` line and the field of [`FaultConfig`] each sets (as [`FAULT_FIELDS`] names it), in
/// the order an exported line writes them; `delay=MIN..MAX` sets `delay_min` and `delay_max` together. Every
/// fault the playground or a share link can set has a word, so an exported run replays the same.
pub const FAULT_WORDS: [(&str, &str, FaultUnit); 16] = [
    ("drop", "drop_ppm", FaultUnit::Percent),
    ("duplicate", "duplicate_ppm", FaultUnit::Percent),
    ("storage-delay", "storage_delay_max", FaultUnit::Ticks),
    ("partition", "partition_ppm", FaultUnit::Percent),
    ("partition-ticks", "partition_ticks", FaultUnit::Ticks),
    ("leader-partition", "leader_partition_ppm", FaultUnit::Percent),
    ("asymmetric-partition", "asymmetric_partition_ppm", FaultUnit::Percent),
    ("one-way-partition", "one_way_partition_ppm", FaultUnit::Percent),
    ("one-way-link", "one_way_link_ppm", FaultUnit::Percent),
    ("flapping-link", "flapping_link_ppm", FaultUnit::Percent),
    ("link-ticks", "link_ticks", FaultUnit::Ticks),
    ("late", "late_ppm", FaultUnit::Percent),
    ("late-ticks", "late_ticks_max", FaultUnit::Ticks),
    ("crash", "crash_ppm", FaultUnit::Percent),
    ("down-ticks", "down_ticks", FaultUnit::Ticks),
    ("mid-write-crash", "mid_write_crash_ppm", FaultUnit::Percent),
];

/// The place of `field` in [`FAULT_FIELDS`] (a test checks that every field of [`FAULT_WORDS`] has one).
pub fn fault_field(field: &str) -> usize {
    FAULT_FIELDS.iter().position(|known| *known == field).unwrap_or_else(|| panic!("no fault field {field:?}"))
}

impl Scenario {
    /// The simulator's configuration: the playground's, so a scenario replays the same in the browser.
    pub fn config(&self) -> SimConfig {
        let mut config = SimConfig::playground(
            self.nodes,
            self.bug.map_or(BugSet::NONE, BugSet::from),
            self.clients,
            self.snapshot_interval,
        );
        config.workload.reads = self.reads;
        config.drift_ppm = self.drift_ppm;
        config
    }
}

/// What is wrong with a scenario, and where: the line (when there is one) and the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub line: Option<usize>,
    pub field: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}, {}: {}", self.field, self.message),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

impl std::error::Error for ScenarioError {}

/// The header fields, in the order the documentation lists them.
const HEADER: [&str; 13] = [
    "title",
    "description",
    "nodes",
    "seed",
    "clients",
    "bug",
    "snapshot-interval",
    "retries",
    "reads",
    "drift",
    "faults",
    "end",
    "checker",
];

/// Reads and validates a scenario.
pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    let mut reader = Reader::default();
    let mut version_seen = false;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if !version_seen {
            reader.version(line, content)?;
            version_seen = true;
            continue;
        }
        reader.line(line, content)?;
    }
    if !version_seen {
        return Err(ScenarioError {
            line: None,
            field: "synod-scenario".into(),
            message: format!("the file is empty; a scenario starts with the line `synod-scenario {VERSION}`"),
        });
    }
    reader.finish()
}

#[derive(Default)]
struct Reader {
    header: Vec<(usize, &'static str, String)>,
    timed: Vec<(usize, &'static str, u64, String)>,
}

fn err(line: usize, field: impl Into<String>, message: impl Into<String>) -> ScenarioError {
    ScenarioError { line: Some(line), field: field.into(), message: message.into() }
}

impl Reader {
    fn version(&mut self, line: usize, content: &str) -> Result<(), ScenarioError> {
        let field = "synod-scenario";
        let Some(rest) = content.strip_prefix(field) else {
            return Err(err(line, field, format!("a scenario starts with the line `synod-scenario {VERSION}`")));
        };
        match rest.trim().parse::<u32>() {
            Ok(VERSION) => Ok(()),
            Ok(other) => {
                Err(err(line, field, format!("version {other} is not supported; this build reads version {VERSION}")))
            }
            Err(_) => Err(err(line, field, format!("expected a version number, as in `synod-scenario {VERSION}`"))),
        }
    }

    fn line(&mut self, line: usize, content: &str) -> Result<(), ScenarioError> {
        let (head, rest) = content.split_once(':').ok_or_else(|| {
            err(
                line,
                content.split_whitespace().next().unwrap_or(content),
                "expected `field: value` (a colon is missing)",
            )
        })?;
        let head = head.trim();
        let rest = rest.trim().to_string();
        let mut words = head.split_whitespace();
        let first = words.next().unwrap_or_default();
        if let Some(kind) = ["at", "say", "expect"].into_iter().find(|kind| *kind == first) {
            let tick = words.next().ok_or_else(|| err(line, kind, format!("expected a tick, as in `{kind} 10: …`")))?;
            let tick = tick.parse::<u64>().map_err(|_| {
                err(line, kind, format!("{tick:?} is not a tick (a whole number of ticks from the start)"))
            })?;
            if words.next().is_some() {
                return Err(err(line, kind, format!("expected `{kind} TICK: …`")));
            }
            if rest.is_empty() {
                return Err(err(line, format!("{kind} {tick}"), "nothing after the colon"));
            }
            self.timed.push((line, kind, tick, rest));
            return Ok(());
        }
        let Some(field) = HEADER.into_iter().find(|field| *field == head) else {
            return Err(err(
                line,
                head,
                format!("unknown field; known fields: {}, and `at`, `say`, `expect` lines", HEADER.join(", ")),
            ));
        };
        if field != "description" {
            if let Some((first, _, _)) = self.header.iter().find(|(_, name, _)| *name == field) {
                return Err(err(line, field, format!("given twice (first on line {first})")));
            }
        }
        self.header.push((line, field, rest));
        Ok(())
    }

    fn get(&self, field: &str) -> Option<(usize, &str)> {
        self.header.iter().find(|(_, name, _)| *name == field).map(|(line, _, value)| (*line, value.as_str()))
    }

    fn required(&self, field: &str, example: &str) -> Result<(usize, &str), ScenarioError> {
        self.get(field).ok_or_else(|| ScenarioError {
            line: None,
            field: field.into(),
            message: format!("missing; every scenario has a line such as `{field}: {example}`"),
        })
    }

    fn finish(self) -> Result<Scenario, ScenarioError> {
        let mut scenario = self.header()?;
        self.timeline(&mut scenario)?;
        Ok(scenario)
    }

    /// A required whole number, with its line.
    fn number(&self, field: &str, example: &str) -> Result<(usize, u64), ScenarioError> {
        let (line, value) = self.required(field, example)?;
        let n = value.parse::<u64>().map_err(|_| err(line, field, format!("{value:?} is not a whole number")))?;
        Ok((line, n))
    }

    /// An optional whole number (0 when absent).
    fn optional(&self, field: &str) -> Result<u64, ScenarioError> {
        match self.get(field) {
            None => Ok(0),
            Some((line, value)) => {
                value.parse::<u64>().map_err(|_| err(line, field, format!("{value:?} is not a whole number")))
            }
        }
    }

    /// The scenario the header lines describe, with nothing on its timeline yet.
    fn header(&self) -> Result<Scenario, ScenarioError> {
        let (number, optional) = (|field, example| self.number(field, example), |field| self.optional(field));
        let (title_line, title) = self.required("title", "Normal commit")?;
        if title.is_empty() {
            return Err(err(title_line, "title", "empty"));
        }
        let description: Vec<&str> =
            self.header.iter().filter(|(_, name, _)| *name == "description").map(|(_, _, v)| v.as_str()).collect();
        let (nodes_line, nodes) = number("nodes", "5")?;
        let nodes = nodes as usize;
        if !NODES.contains(&nodes) {
            return Err(err(nodes_line, "nodes", format!("a scenario's cluster has 3 to 7 nodes, not {nodes}")));
        }
        let (_, seed) = number("seed", "1")?;
        let clients = optional("clients")?;
        if clients > CLIENTS_MAX {
            let line = self.get("clients").map(|(line, _)| line).unwrap_or_default();
            return Err(err(line, "clients", format!("at most {CLIENTS_MAX} background clients, not {clients}")));
        }
        let snapshot_interval = optional("snapshot-interval")?;
        let bug = match self.get("bug") {
            None => None,
            Some((line, name)) => Some(name.parse::<Bug>().map_err(|message| err(line, "bug", message))?),
        };
        let retries = match self.get("retries") {
            None => false,
            Some((line, text)) => on_off(text).map_err(|message| err(line, "retries", message))?,
        };
        let reads = match self.get("reads") {
            None => ReadLevel::Log,
            Some((line, name)) => ReadLevel::from_name(name)
                .ok_or_else(|| err(line, "reads", format!("expected log, lease or local, not {name:?}")))?,
        };
        let drift = optional("drift")?;
        let drift_ppm = u32::try_from(drift).ok().filter(|ppm| *ppm < 500_000).ok_or_else(|| {
            let line = self.get("drift").map(|(line, _)| line).unwrap_or_default();
            err(line, "drift", format!("clock drift is below 500000 parts per million, not {drift}"))
        })?;
        let faults = match self.get("faults") {
            None => None,
            Some((line, text)) => Some(parse_faults(line, "faults", text)?),
        };
        let (end_line, end) = number("end", "100")?;
        if end == 0 || end > END_MAX {
            return Err(err(end_line, "end", format!("the run ends between tick 1 and tick {END_MAX}, not {end}")));
        }
        let verdict = self.verdict(bug)?;
        Ok(Scenario {
            title: title.to_string(),
            description: description.join(" "),
            nodes,
            seed,
            clients,
            bug,
            snapshot_interval,
            retries,
            reads,
            drift_ppm,
            faults,
            end,
            verdict,
            timeline: Vec::new(),
            captions: Vec::new(),
            expectations: Vec::new(),
        })
    }

    /// The `checker:` line: `green`, or the violation expected, which needs a planted bug unless it is the
    /// history's linearizability (a stale local read breaks that with no bug at all: that is what it teaches).
    fn verdict(&self, bug: Option<Bug>) -> Result<Verdict, ScenarioError> {
        let (line, text) = self.required("checker", "green")?;
        let verdict = parse_verdict(line, text)?;
        match &verdict {
            Verdict::Violation(name) if bug.is_none() && name != names::LINEARIZABLE => Err(err(
                line,
                "checker",
                format!(
                    "expects violation {name} but plants no bug; add a `bug:` line or expect `green` (only {} needs \
                     no bug: local reads may be stale)",
                    names::LINEARIZABLE
                ),
            )),
            _ => Ok(verdict),
        }
    }

    /// The `at`, `say` and `expect` lines, into `scenario`.
    fn timeline(&self, scenario: &mut Scenario) -> Result<(), ScenarioError> {
        // Nodes added during the run (`add-node`, `replace-node`) take the next ids: lines may name them.
        let added = self.timed.iter().filter(|(_, kind, _, rest)| *kind == "at" && adds_a_node(rest)).count();
        let (end, nodes) = (scenario.end, scenario.nodes + added);
        for (line, kind, tick, rest) in &self.timed {
            let field = format!("{kind} {tick}");
            if *tick > end {
                return Err(err(*line, field, format!("tick {tick} is after the end (tick {end})")));
            }
            let (line, tick) = (*line, *tick);
            match *kind {
                "at" => {
                    let item = parse_action(line, &field, rest, nodes)?;
                    in_tick_order(&mut scenario.timeline, Timed { tick, line, item });
                }
                "say" => in_tick_order(&mut scenario.captions, Timed { tick, line, item: rest.clone() }),
                _ => {
                    let item = parse_claim(rest, nodes).map_err(|message| err(line, &field, message))?;
                    in_tick_order(&mut scenario.expectations, Timed { tick, line, item });
                }
            }
        }
        Ok(())
    }
}

/// Inserts `timed` after everything at its tick or before, so the list stays in tick order and in file order
/// within a tick. (Not a sort: each sort of a new element type costs the browser bundle kilobytes.)
fn in_tick_order<T>(list: &mut Vec<Timed<T>>, timed: Timed<T>) {
    let at = list.partition_point(|earlier| earlier.tick <= timed.tick);
    list.insert(at, timed);
}

fn parse_verdict(line: usize, text: &str) -> Result<Verdict, ScenarioError> {
    let words: Vec<&str> = text.split_whitespace().collect();
    match words[..] {
        ["green"] => Ok(Verdict::Green),
        ["violation", name] => Ok(Verdict::Violation(invariant_name(name).map_err(|m| err(line, "checker", m))?)),
        _ => Err(err(line, "checker", format!("expected `green` or `violation INVARIANT`, not {text:?}"))),
    }
}

/// An `expect` line's claim.
fn parse_claim(text: &str, nodes: usize) -> Result<Claim, String> {
    let usage = "expected `leader N`, `down N`, `KEY = VALUE [on N …]`, `KEY absent [on N …]`, `slot S = VALUE`, \
                 `snapshot-installed N`, `members N …`, `violation INVARIANT` or `green`";
    let words = words(text)?;
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let claim = match w[..] {
        ["leader", id] => Claim::Leader(node(id, nodes)?),
        ["down", id] => Claim::Down(node(id, nodes)?),
        ["snapshot-installed", id] => Claim::SnapshotInstalled(node(id, nodes)?),
        ["violation", name] => Claim::Violation(invariant_name(name)?),
        ["green"] => Claim::Green,
        ["members", ref ids @ ..] if !ids.is_empty() => {
            Claim::Members(ids.iter().map(|id| node(id, nodes)).collect::<Result<_, _>>()?)
        }
        ["slot", slot, "=", ..] => {
            let slot = slot.parse().map_err(|_| format!("{slot:?} is not a slot number"))?;
            let value = text.split_once('=').map(|(_, v)| v.trim().to_string()).unwrap_or_default();
            if value.is_empty() {
                return Err("expected `slot S = noop` or `slot S = COMMAND`, as in `slot 2 = put x=1`".into());
            }
            Claim::Slot { slot, value }
        }
        [key, "=", value, ref rest @ ..] => {
            Claim::Value { key: key.into(), value: Some(value.into()), on: on_nodes(rest, nodes)? }
        }
        [key, "absent", ref rest @ ..] => Claim::Value { key: key.into(), value: None, on: on_nodes(rest, nodes)? },
        _ => return Err(usage.into()),
    };
    Ok(claim)
}

fn on_nodes(words: &[&str], nodes: usize) -> Result<Option<Vec<NodeId>>, String> {
    match words {
        [] => Ok(None),
        ["on", ids @ ..] if !ids.is_empty() => {
            Ok(Some(ids.iter().map(|id| node(id, nodes)).collect::<Result<_, _>>()?))
        }
        _ => Err("expected `on` and node numbers after the value, as in `x = 1 on 1 2 3`".into()),
    }
}

fn invariant_name(name: &str) -> Result<String, String> {
    if names::ALL.contains(&name) || (name.starts_with(names::CORE_PREFIX) && name.len() > names::CORE_PREFIX.len()) {
        Ok(name.to_string())
    } else {
        Err(format!("unknown invariant {name:?}; the checker knows {} and core:NAME", names::ALL.join(", ")))
    }
}

fn node(text: &str, nodes: usize) -> Result<NodeId, String> {
    match text.parse::<NodeId>() {
        Ok(id) if (1..=nodes as NodeId).contains(&id) => Ok(id),
        _ => Err(format!("{text:?} is not a node of this cluster (1 to {nodes})")),
    }
}

/// Splits on white space; `"…"` keeps spaces (with `\"` and `\\` inside).
fn words(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        if c == '"' {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err("a quoted text is not closed (missing \")".into()),
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(escaped @ ('"' | '\\')) => word.push(escaped),
                        _ => return Err("inside quotes, a backslash escapes only \" and \\".into()),
                    },
                    Some(other) => word.push(other),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        out.push(word);
    }
    Ok(out)
}

const ACTIONS: &str = "put, get, delete, append, cas, scan, kill, restart, pause, resume, partition, cut, \
                       heal-link, heal, drop, duplicate, deliver, faults, reload, retries, add-node, remove-node, \
                       replace-node";

/// `on` or `off` (the client's automatic retries).
fn on_off(text: &str) -> Result<bool, String> {
    match text {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("expected `on` or `off` (the client's automatic retries), not {text:?}")),
    }
}

fn adds_a_node(action: &str) -> bool {
    matches!(action.split_whitespace().next(), Some("add-node" | "replace-node"))
}

fn parse_action(line: usize, field: &str, text: &str, nodes: usize) -> Result<Action, ScenarioError> {
    let verb = text.split_whitespace().next().unwrap_or_default();
    let field = format!("{field}: {verb}");
    let fail = |message: String| err(line, &field, message);
    let rest = text[verb.len()..].trim();
    let one_node = || node(rest, nodes).map_err(fail);
    let action = match verb {
        "put" | "get" | "delete" | "append" | "cas" | "scan" => Action::Do(client_op(verb, rest, nodes).map_err(fail)?),
        "kill" => Action::Do(UserAction::Crash { node: one_node()? }),
        "restart" => Action::Do(UserAction::Restart { node: one_node()? }),
        "pause" => Action::Do(UserAction::Pause { node: one_node()? }),
        "resume" => Action::Do(UserAction::Resume { node: one_node()? }),
        "heal" if rest.is_empty() => Action::Do(UserAction::Heal),
        "reload" if rest.is_empty() => Action::Do(UserAction::Reload),
        "add-node" if rest.is_empty() => Action::Do(UserAction::AddNode),
        "add-node" => return Err(fail("`add-node` takes nothing more: the new node takes the next unused id".into())),
        "remove-node" => Action::Do(UserAction::RemoveNode { node: one_node()? }),
        "replace-node" => Action::Do(UserAction::ReplaceNode { node: one_node()? }),
        "reload" => return Err(fail("`reload` takes nothing more: every running node restarts from its disk".into())),
        "heal" => return Err(fail("`heal` heals every link and takes nothing more; see `heal-link A->B`".into())),
        "cut" | "heal-link" => {
            let (from, to) = link(rest, nodes, false).map_err(fail)?;
            let (from, to) = (from.expect("no wildcard"), to.expect("no wildcard"));
            Action::Do(if verb == "cut" { UserAction::CutLink { from, to } } else { UserAction::HealLink { from, to } })
        }
        "partition" => Action::Do(partition(rest, nodes).map_err(fail)?),
        "drop" | "duplicate" | "deliver" => {
            let selector = selector(rest, nodes).map_err(fail)?;
            match verb {
                "drop" => Action::Drop(selector),
                "duplicate" => Action::Duplicate(selector),
                _ => Action::Deliver(selector),
            }
        }
        "faults" => Action::Faults(parse_faults(line, &field, rest)?),
        "retries" => Action::Do(UserAction::SetRetries { on: on_off(rest).map_err(fail)? }),
        "" => return Err(fail(format!("expected an action: {ACTIONS}"))),
        other => return Err(fail(format!("unknown action {other:?}; actions: {ACTIONS}"))),
    };
    Ok(action)
}

/// `put KEY VALUE via NODE` and the other client operations (`verb` and the words after it).
fn client_op(verb: &str, rest: &str, nodes: usize) -> Result<UserAction, String> {
    let words = words(rest)?;
    let (args, target) = match &words[..] {
        [args @ .., via, target] if via == "via" => (args, node(target, nodes)?),
        _ => return Err(format!("expected `{verb} … via NODE` (the node the client sends to)")),
    };
    let command = match (verb, args) {
        ("scan", args) => scan_op(args)?,
        ("put", [key, value]) => KvCommand::Put { key: key.clone(), value: value.clone() },
        ("get", [key]) => KvCommand::Get { key: key.clone() },
        ("get", [key, level]) if level.starts_with('@') => KvCommand::get_at(key.clone(), read_level(level)?),
        ("delete", [key]) => KvCommand::Delete { key: key.clone() },
        ("append", [key, value]) => KvCommand::Append { key: key.clone(), value: value.clone() },
        ("cas", [key, expected, new]) => {
            KvCommand::Cas { key: key.clone(), expected: (expected != "-").then(|| expected.clone()), new: new.clone() }
        }
        _ => {
            let usage = match verb {
                "put" => "put KEY VALUE via NODE",
                "append" => "append KEY VALUE via NODE",
                "cas" => "cas KEY EXPECTED NEW via NODE (EXPECTED `-`: the key is absent)",
                _ => "get KEY [@log|@lease|@local] via NODE",
            };
            return Err(format!("expected `{}`", usage.replace("get", verb)));
        }
    };
    command.validate()?;
    Ok(UserAction::ClientOp { target, command })
}

/// `@log`, `@lease` or `@local`.
fn read_level(word: &str) -> Result<ReadLevel, String> {
    word.strip_prefix('@')
        .and_then(ReadLevel::from_name)
        .ok_or_else(|| format!("expected a read level @log, @lease or @local, not {word:?}"))
}

/// `START END [LIMIT] [@LEVEL]`, the words of a scan before `via NODE`.
fn scan_op(args: &[String]) -> Result<KvCommand, String> {
    const USAGE: &str = "expected `scan START END [LIMIT] [@log|@lease|@local] via NODE`";
    let (args, level) = match args {
        [args @ .., level] if level.starts_with('@') => (args, read_level(level)?),
        _ => (args, ReadLevel::Log),
    };
    let (start, end, limit) = match args {
        [start, end] => (start, end, None),
        [start, end, limit] => {
            let limit = limit.parse::<u32>().map_err(|_| format!("the scan's limit {limit:?} is not a number"))?;
            (start, end, Some(limit))
        }
        _ => return Err(USAGE.into()),
    };
    Ok(KvCommand::Scan { start: start.clone(), end: end.clone(), limit, level })
}

/// `partition 1 2 | 3 4 5` (what follows the verb).
fn partition(rest: &str, nodes: usize) -> Result<UserAction, String> {
    let mut groups = Vec::new();
    let mut seen = Vec::new();
    for group in rest.split('|') {
        let mut ids = Vec::new();
        for word in group.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()) {
            let id = node(word, nodes)?;
            if seen.contains(&id) {
                return Err(format!("node {id} is in two groups"));
            }
            seen.push(id);
            ids.push(id);
        }
        if ids.is_empty() {
            return Err("expected groups of nodes separated by `|`, as in `partition 1 2 | 3 4 5`".into());
        }
        groups.push(ids);
    }
    if groups.len() < 2 {
        return Err("a partition needs at least two groups, as in `partition 1 2 | 3 4 5`".into());
    }
    Ok(UserAction::Partition { groups })
}

/// `A->B`, with `*` for any node when `wildcards`.
fn link(text: &str, nodes: usize, wildcards: bool) -> Result<(LinkEnd, LinkEnd), String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let Some((from, to)) = compact.split_once("->") else {
        return Err(format!("expected a link such as `1->3`, not {text:?}"));
    };
    let end = |text: &str| -> Result<LinkEnd, String> {
        if wildcards && text == "*" {
            Ok(None)
        } else {
            node(text, nodes).map(Some)
        }
    };
    let (from, to) = (end(from)?, end(to)?);
    if from.is_some() && from == to {
        return Err(format!("a link joins two different nodes, not {text:?}"));
    }
    Ok((from, to))
}

/// `[all | #ID] [KIND] [A->B]`, as in `drop accept 5->3`, `drop all *->2` or `drop #17 accept 5->3`.
fn selector(text: &str, nodes: usize) -> Result<MessageSelector, String> {
    let mut rest = text.trim();
    let all = match rest.strip_prefix("all") {
        Some(after) if after.is_empty() || after.starts_with(char::is_whitespace) => {
            rest = after.trim();
            true
        }
        _ => false,
    };
    let mut id = None;
    if let Some(after) = rest.strip_prefix('#') {
        let digits = after.split_whitespace().next().unwrap_or_default();
        let number = digits.parse::<u64>().map_err(|_| format!("expected a message id such as #17, not #{digits}"))?;
        if all {
            return Err("`all` and a message id do not go together: an id names one message".into());
        }
        id = Some(number);
        rest = after[digits.len()..].trim();
    }
    let mut kind = None;
    let first = rest.split_whitespace().next().unwrap_or_default();
    if !first.is_empty() && !first.contains("->") && first != "*" && !first.starts_with(|c: char| c.is_ascii_digit()) {
        kind = Some(MessageKind::ALL.into_iter().find(|k| k.name() == first).ok_or_else(|| {
            let kinds: Vec<&str> = MessageKind::ALL.iter().map(|k| k.name()).collect();
            format!("unknown message kind {first:?}; kinds: {}", kinds.join(", "))
        })?);
        rest = rest[first.len()..].trim();
    }
    let (from, to) = if rest.is_empty() { (None, None) } else { link(rest, nodes, true)? };
    if !all && id.is_none() && kind.is_none() && from.is_none() && to.is_none() {
        return Err(
            "say which message: a kind and/or a link, as in `accept 5->3`, an id (`#17`), or `all` for every one"
                .into(),
        );
    }
    Ok(MessageSelector { all, id, kind, from, to })
}

/// `drop=5% duplicate=1% delay=1..3 late=1% late-ticks=300 …`: `delay` and any of [`FAULT_WORDS`].
fn parse_faults(line: usize, field: &str, text: &str) -> Result<Faults, ScenarioError> {
    let mut faults = Faults::default();
    let fail = |message: String| err(line, field, message);
    if text.trim().is_empty() {
        return Err(fail("expected fault rates, as in `drop=5% delay=1..3`".into()));
    }
    for word in text.split_whitespace() {
        let (name, value) =
            word.split_once('=').ok_or_else(|| fail(format!("expected NAME=VALUE, as in `drop=5%`, not {word:?}")))?;
        if name == "delay" {
            let (min, max) = delay_range(value).map_err(fail)?;
            faults.numbers[fault_field("delay_min")] = Some(min);
            faults.numbers[fault_field("delay_max")] = Some(max);
            continue;
        }
        let Some(&(_, target, unit)) = FAULT_WORDS.iter().find(|(word, _, _)| *word == name) else {
            let words: Vec<&str> = FAULT_WORDS.iter().map(|(word, _, _)| *word).collect();
            return Err(fail(format!("unknown fault {name:?}; faults: delay, {}", words.join(", "))));
        };
        let number = match unit {
            FaultUnit::Percent => percent_ppm(value).map(u64::from).map_err(|m| fail(format!("{name}: {m}")))?,
            FaultUnit::Ticks => {
                value.parse::<u64>().map_err(|_| fail(format!("{name}: {value:?} is not a number of ticks")))?
            }
        };
        faults.numbers[fault_field(target)] = Some(number);
    }
    Ok(faults)
}

/// `MIN..MAX` network delay in ticks.
fn delay_range(value: &str) -> Result<(u64, u64), String> {
    let range = value.split_once("..").and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
    match range {
        Some((min, max)) if (1..=max).contains(&min) && max <= 100 => Ok((min, max)),
        _ => Err(format!("delay: expected MIN..MAX ticks with 1 <= MIN <= MAX <= 100, not {value:?}")),
    }
}

/// "5%", "0.25%" → parts per million, without floats.
fn percent_ppm(text: &str) -> Result<u32, String> {
    let bad = || format!("expected a percentage such as 5% or 0.5%, not {text:?}");
    let number = text.strip_suffix('%').ok_or_else(bad)?;
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || fraction.len() > 4 || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: u32 = whole.parse().map_err(|_| bad())?;
    let fraction: u32 = if fraction.is_empty() { 0 } else { format!("{fraction:0<4}").parse().map_err(|_| bad())? };
    if whole > 100 || (whole == 100 && fraction > 0) {
        return Err(format!("at most 100%, not {text}"));
    }
    Ok(whole * 10_000 + fraction)
}
