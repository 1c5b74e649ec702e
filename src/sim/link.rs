//! A run as text: what a shared link's `run` parameter, IndexedDB's stored run and `synod replay --run` carry.
//! A run is (setup, actions at their ticks); replaying it gives the same trace. The text is compact, and read
//! without serde_json's deserializer, which would add kilobytes to the browser bundle.

use crate::kv::KvCommand;
use crate::paxos::{Bug, BugSet, NodeId};

use super::{FaultConfig, SimConfig, Timing, UserAction};

/// Ticks the playground runs at most (its fault phase never ends on its own).
pub const TICKS_MAX: u64 = crate::sim::PLAYGROUND_TICKS_MAX;

/// What the visitor chose before the run started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSetup {
    pub nodes: usize,
    pub seed: u64,
    pub bug: Option<Bug>,
    /// Background clients issuing random operations.
    pub clients: u64,
    /// Snapshot every this many applied slots (0: never); scenarios set it, a share URL carries it.
    pub snapshot_interval: u64,
    /// The nodes' timers: the playground's unless a run came from the model checker, whose are shorter.
    pub timing: Timing,
}

impl Default for RunSetup {
    fn default() -> Self {
        RunSetup { nodes: 5, seed: 1, bug: None, clients: 2, snapshot_interval: 0, timing: Timing::default() }
    }
}

impl RunSetup {
    pub fn config(&self) -> SimConfig {
        let bugs = self.bug.map_or(BugSet::NONE, BugSet::from);
        SimConfig {
            timing: self.timing,
            ..SimConfig::playground(self.nodes, bugs, self.clients, self.snapshot_interval)
        }
    }
}

/// Everything needed to reproduce a run: what a shared URL carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRecord {
    pub setup: RunSetup,
    /// (tick, action): the action was applied once the simulator reached `tick`.
    pub actions: Vec<(u64, UserAction)>,
}

/// A run as the text of a shared URL's `run` parameter: compact, and without serde_json's deserializer, which
/// would add kilobytes to the bundle. `1.<nodes>.<seed>.<bug or ->.<clients>[.<snapshot interval>[.<timing>]]`
/// (the interval only when not 0, and the timing, `h<heartbeat>e<election timeout>r<retry>`, only when not the
/// playground's, so older links still read) then `~<tick>:<action>` per action.
/// Free text (keys, values) is escaped with `escape` (the caller's URI-component encoder), so `:`, `;`, `~` and
/// `.` inside it cannot be confused with separators.
pub fn encode_record(record: &RunRecord, escape: &dyn Fn(&str) -> String) -> String {
    // A URI-component encoder leaves `~` (unreserved) alone, and `~` separates actions.
    let escape = |text: &str| escape(text).replace('~', "%7E");
    let s = &record.setup;
    let mut out = format!("1.{}.{}.{}.{}", s.nodes, s.seed, s.bug.map_or("-", Bug::name), s.clients);
    if s.timing != Timing::default() {
        let Timing { heartbeat_ticks, election_timeout_ticks, retry_ticks } = s.timing;
        out.push_str(&format!(".{}.h{heartbeat_ticks}e{election_timeout_ticks}r{retry_ticks}", s.snapshot_interval));
    } else if s.snapshot_interval != 0 {
        out.push_str(&format!(".{}", s.snapshot_interval));
    }
    for (tick, action) in &record.actions {
        let code = match action {
            UserAction::Crash { node } => format!("k{node}"),
            UserAction::Restart { node } => format!("r{node}"),
            UserAction::Pause { node } => format!("p{node}"),
            UserAction::Resume { node } => format!("u{node}"),
            UserAction::Partition { groups } => {
                let groups: Vec<String> =
                    groups.iter().map(|g| g.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",")).collect();
                format!("P{}", groups.join("|"))
            }
            UserAction::CutLink { from, to } => format!("x{from},{to}"),
            UserAction::HealLink { from, to } => format!("h{from},{to}"),
            UserAction::Heal => "H".into(),
            UserAction::DropMessage { id } => format!("d{id}"),
            UserAction::DuplicateMessage { id } => format!("D{id}"),
            UserAction::DeliverNow { id } => format!("n{id}"),
            UserAction::Reload => "R".into(),
            UserAction::SetFaults { faults } => {
                let numbers: Vec<String> = faults.numbers().iter().map(u64::to_string).collect();
                format!("f{}", numbers.join(","))
            }
            UserAction::ClientOp { target, command } => format!("o{}", encode_command(*target, command, &escape)),
            UserAction::Stepping { on } => format!("s{}", u8::from(*on)),
            UserAction::TickNode { node } => format!("t{node}"),
            UserAction::AckWrite { node } => format!("a{node}"),
            UserAction::Request { client, target, command } => {
                format!("q{client},{}", encode_command(*target, command, &escape))
            }
            UserAction::Retry { client, target } => format!("y{client},{target}"),
        };
        out.push_str(&format!("~{tick}:{code}"));
    }
    out
}

/// `TARGET:OP:KEY:VALUE:EXPECTED` of a client operation (`-` for no expected value, `=TEXT` for one).
fn encode_command(target: NodeId, command: &KvCommand, escape: &dyn Fn(&str) -> String) -> String {
    let (op, key, value, expected) = match command {
        KvCommand::Get { key } => ("get", key, "", None),
        KvCommand::Put { key, value } => ("put", key, value.as_str(), None),
        KvCommand::Delete { key } => ("delete", key, "", None),
        KvCommand::Append { key, value } => ("append", key, value.as_str(), None),
        KvCommand::Cas { key, expected, new } => ("cas", key, new.as_str(), expected.as_deref()),
    };
    let expected = expected.map_or("-".to_string(), |e| format!("={}", escape(e)));
    format!("{target}:{op}:{}:{}:{expected}", escape(key), escape(value))
}

/// Reads what `encode_record` wrote; `unescape` undoes the caller's `escape`.
pub fn decode_record(text: &str, unescape: &dyn Fn(&str) -> Option<String>) -> Result<RunRecord, String> {
    let mut parts = text.split('~');
    let setup = decode_setup(parts.next().unwrap_or_default())?;
    let mut actions = Vec::new();
    let mut last = 0;
    for part in parts {
        let (tick, code) = part.split_once(':').ok_or_else(|| bad("an action"))?;
        let tick = tick.parse::<u64>().map_err(|_| bad("a number"))?;
        if tick < last || tick > TICKS_MAX {
            return Err(bad("the actions' ticks"));
        }
        last = tick;
        actions.push((tick, decode_action(code, &setup, unescape)?));
    }
    Ok(RunRecord { setup, actions })
}

fn bad(what: &str) -> String {
    format!("cannot read {what}")
}

/// `1.<nodes>.<seed>.<bug>.<clients>[.<interval>[.<timing>]]`.
fn decode_setup(head: &str) -> Result<RunSetup, String> {
    let head: Vec<&str> = head.split('.').collect();
    let (version, nodes, seed, bug, clients, rest) = match head[..] {
        [version, nodes, seed, bug, clients, ref rest @ ..] if rest.len() <= 2 => {
            (version, nodes, seed, bug, clients, rest)
        }
        _ => return Err(bad("the run's setup")),
    };
    if version != "1" {
        return Err(format!("unknown run format {version:?}"));
    }
    let nodes: usize = nodes.parse().map_err(|_| bad("the node count"))?;
    if !(3..=7).contains(&nodes) {
        return Err(format!("a playground cluster has 3 to 7 nodes, not {nodes}"));
    }
    let bug = match bug {
        "-" => None,
        name => Some(Bug::from_name(name).ok_or_else(|| bad("the planted bug"))?),
    };
    let timing = match rest.get(1) {
        None => Timing::default(),
        Some(text) => decode_timing(text)?,
    };
    let setup = RunSetup {
        nodes,
        seed: seed.parse().map_err(|_| bad("the seed"))?,
        bug,
        clients: clients.parse::<u64>().map_err(|_| bad("the client count"))?.min(8),
        snapshot_interval: rest.first().unwrap_or(&"0").parse().map_err(|_| bad("the snapshot interval"))?,
        timing,
    };
    setup.config().validate()?;
    Ok(setup)
}

/// `h<heartbeat>e<election timeout>r<retry>`.
fn decode_timing(text: &str) -> Result<Timing, String> {
    let numbers = || -> Option<Timing> {
        let (heartbeat, rest) = text.strip_prefix('h')?.split_once('e')?;
        let (election, retry) = rest.split_once('r')?;
        let number = |text: &str| text.parse::<u64>().ok().filter(|ticks| (1..=1_000).contains(ticks));
        Some(Timing {
            heartbeat_ticks: number(heartbeat)?,
            election_timeout_ticks: number(election)?,
            retry_ticks: number(retry)?,
        })
    };
    numbers().ok_or_else(|| bad("the timers"))
}

/// One action's code, as `encode_record` writes it.
fn decode_action(
    code: &str,
    setup: &RunSetup,
    unescape: &dyn Fn(&str) -> Option<String>,
) -> Result<UserAction, String> {
    let nodes = setup.nodes;
    let node = |text: &str| -> Result<NodeId, String> {
        text.parse::<NodeId>().ok().filter(|id| (1..=nodes as NodeId).contains(id)).ok_or_else(|| bad("a node"))
    };
    let pair = |text: &str| -> Result<(NodeId, NodeId), String> {
        let (a, b) = text.split_once(',').ok_or_else(|| bad("a link"))?;
        Ok((node(a)?, node(b)?))
    };
    let number = |text: &str| text.parse::<u64>().map_err(|_| bad("a number"));
    let (letter, rest) = code.split_at(code.chars().next().map_or(0, char::len_utf8));
    Ok(match letter {
        "k" => UserAction::Crash { node: node(rest)? },
        "r" => UserAction::Restart { node: node(rest)? },
        "p" => UserAction::Pause { node: node(rest)? },
        "u" => UserAction::Resume { node: node(rest)? },
        "P" => UserAction::Partition {
            groups: rest
                .split('|')
                .map(|g| g.split(',').map(node).collect::<Result<Vec<_>, _>>())
                .collect::<Result<_, _>>()?,
        },
        "x" => pair(rest).map(|(from, to)| UserAction::CutLink { from, to })?,
        "h" => pair(rest).map(|(from, to)| UserAction::HealLink { from, to })?,
        "H" => UserAction::Heal,
        "d" => UserAction::DropMessage { id: number(rest)? },
        "D" => UserAction::DuplicateMessage { id: number(rest)? },
        "n" => UserAction::DeliverNow { id: number(rest)? },
        "R" if rest.is_empty() => UserAction::Reload,
        "f" => decode_faults(rest, setup)?,
        "o" => {
            let (target, command) = decode_command(rest, unescape)?;
            UserAction::ClientOp { target: node(&target)?, command }
        }
        _ => decode_stepping_action(letter, rest, &node, unescape)?,
    })
}

/// Nine numbers in links made before the widened faults, all of them since (see `FaultConfig::from_numbers`).
fn decode_faults(text: &str, setup: &RunSetup) -> Result<UserAction, String> {
    let numbers: Vec<u64> =
        text.split(',').map(|n| n.parse::<u64>().map_err(|_| bad("a number"))).collect::<Result<_, _>>()?;
    let faults = FaultConfig::from_numbers(&numbers).ok_or_else(|| bad("fault rates"))?;
    SimConfig { faults: faults.clone(), ..setup.config() }.validate()?;
    Ok(UserAction::SetFaults { faults })
}

/// The actions of a stepped run (`stepping.rs`).
fn decode_stepping_action(
    letter: &str,
    rest: &str,
    node: &dyn Fn(&str) -> Result<NodeId, String>,
    unescape: &dyn Fn(&str) -> Option<String>,
) -> Result<UserAction, String> {
    let client = |text: &str| text.parse::<u8>().ok().filter(|client| *client > 0).ok_or_else(|| bad("a client"));
    Ok(match letter {
        "s" if rest == "0" || rest == "1" => UserAction::Stepping { on: rest == "1" },
        "t" => UserAction::TickNode { node: node(rest)? },
        "a" => UserAction::AckWrite { node: node(rest)? },
        "q" => {
            let (number, rest) = rest.split_once(',').ok_or_else(|| bad("a request"))?;
            let (target, command) = decode_command(rest, unescape)?;
            UserAction::Request { client: client(number)?, target: node(&target)?, command }
        }
        "y" => {
            let (number, target) = rest.split_once(',').ok_or_else(|| bad("a retry"))?;
            UserAction::Retry { client: client(number)?, target: node(target)? }
        }
        _ => return Err(bad("an action")),
    })
}

/// Reads what `encode_command` wrote: the target (as written, checked by the caller) and the command.
fn decode_command(text: &str, unescape: &dyn Fn(&str) -> Option<String>) -> Result<(String, KvCommand), String> {
    let fields: Vec<&str> = text.split(':').collect();
    let [target, op, key, value, expected] = fields[..] else { return Err(bad("a client operation")) };
    let text = |t: &str| unescape(t).ok_or_else(|| bad("a key or value"));
    let (key, value) = (text(key)?, text(value)?);
    let expected = match expected.strip_prefix('=') {
        Some(e) => Some(text(e)?),
        None => None,
    };
    let command = match op {
        "get" => KvCommand::Get { key },
        "put" => KvCommand::Put { key, value },
        "delete" => KvCommand::Delete { key },
        "append" => KvCommand::Append { key, value },
        "cas" => KvCommand::Cas { key, expected, new: value },
        _ => return Err(bad("an operation")),
    };
    command.validate()?;
    Ok((target.to_string(), command))
}
