//! A run as text: what a shared link's `run` parameter, IndexedDB's stored run and `synod replay --run` carry.
//! A run is (setup, actions at their ticks); replaying it gives the same trace. The text is compact, and read
//! without serde_json's deserializer, which would add kilobytes to the browser bundle. A shared link (version 2)
//! also carries the [`Moment`] it was shared at, so it opens where the sender was.

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

impl RunRecord {
    /// A new playground run of `setup`, as the visitor starts one: their client retries by itself from tick 0
    /// (an action, not a setup field, so links and stored runs from before retries read as they were: off).
    pub fn fresh(setup: RunSetup) -> RunRecord {
        RunRecord { setup, actions: vec![(0, UserAction::SetRetries { on: true })] }
    }
}

/// Where a shared link opens: what the sender saw when they pressed Share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moment {
    /// The tick shown (the recipient can still travel back to tick 0 and forward to the end of the record).
    pub tick: u64,
    /// Whether the run plays on from there, or waits paused.
    pub playing: bool,
    /// Ticks per second, one of [`SPEEDS`].
    pub speed: u32,
    /// The message picked on the ring or in the list, if any.
    pub selected: Option<u64>,
}

/// The speeds, in ticks per second, the playground offers (its speed menu) and a link may carry.
pub const SPEEDS: [u32; 7] = [1, 3, 8, 25, 100, 400, 2_000];
/// The speed a run plays at unless told otherwise.
pub const DEFAULT_SPEED: u32 = 8;

impl Moment {
    /// Where a link of the first version (no moment in it) opens: at its last action, paused, so the recipient
    /// sees what that action did; a link with no action at all plays its setup from tick 0, as it always did.
    pub fn of_first_version(record: &RunRecord) -> Moment {
        let last = record.actions.last().map(|(tick, _)| *tick);
        Moment { tick: last.unwrap_or(0), playing: last.is_none(), speed: DEFAULT_SPEED, selected: None }
    }
}

/// A shared link's `run` parameter: the run and the moment it opens at (version 2):
/// `2.<nodes>.<seed>.<bug>.<clients>[.<interval>[.<timing>]]~<tick>:<action>…` then
/// `~@<tick>.<playing|paused>.<speed>[.m<message>]`: the run as `encode_record` writes it but for the version,
/// then the moment as the last `~` part.
pub fn encode_link(record: &RunRecord, moment: &Moment, escape: &dyn Fn(&str) -> String) -> String {
    let run = encode_record(record, escape);
    let body = run.strip_prefix("1.").expect("encode_record writes version 1");
    let state = if moment.playing { "playing" } else { "paused" };
    let mut out = format!("2.{body}~@{}.{state}.{}", moment.tick, moment.speed);
    if let Some(id) = moment.selected {
        out.push_str(&format!(".m{id}"));
    }
    out
}

/// `body` split around its last `~@`, as `rsplit_once("~@")` does, but found by characters: a substring search
/// links 2 kB of searcher code into the browser bundle (BENCHMARKS.md, "First load under 250 kB").
fn split_at_last_moment(body: &str) -> Option<(&str, &str)> {
    let (at, _) = body.char_indices().rev().find(|&(at, c)| c == '@' && body[..at].ends_with('~'))?;
    Some((&body[..at - 1], &body[at + 1..]))
}

/// Reads a link of either version: what `encode_link` wrote, or a run of the first version (`encode_record`,
/// the only kind before links carried a moment), which opens as [`Moment::of_first_version`] says.
pub fn decode_link(text: &str, unescape: &dyn Fn(&str) -> Option<String>) -> Result<(RunRecord, Moment), String> {
    let Some(body) = text.strip_prefix("2.") else {
        let record = decode_record(text, unescape)?;
        let moment = Moment::of_first_version(&record);
        return Ok((record, moment));
    };
    let (run, moment) = split_at_last_moment(body).ok_or("a link of version 2 names the moment it opens at (~@…)")?;
    let record = decode_record(&format!("1.{run}"), unescape)?;
    let bad = |what: &str| format!("cannot read the moment's {what}");
    let fields: Vec<&str> = moment.split('.').collect();
    let (tick, state, speed, selected) = match fields[..] {
        [tick, state, speed] => (tick, state, speed, None),
        [tick, state, speed, selected] => (tick, state, speed, Some(selected)),
        _ => return Err(bad("fields")),
    };
    let tick = tick.parse::<u64>().ok().filter(|tick| *tick <= TICKS_MAX).ok_or_else(|| bad("tick"))?;
    let playing = match state {
        "playing" => true,
        "paused" => false,
        _ => return Err(bad("state (playing or paused)")),
    };
    let speed = speed.parse::<u32>().ok().filter(|speed| SPEEDS.contains(speed)).ok_or_else(|| bad("speed"))?;
    let selected = match selected.map(|id| id.strip_prefix('m').and_then(|id| id.parse::<u64>().ok())) {
        None => None,
        Some(Some(id)) => Some(id),
        Some(None) => return Err(bad("message")),
    };
    Ok((record, Moment { tick, playing, speed, selected }))
}

/// A run as the text of the `run` document IndexedDB keeps, and the run part of a shared link (`encode_link`):
/// compact, and without serde_json's deserializer, which would add kilobytes to the bundle.
/// `1.<nodes>.<seed>.<bug or ->.<clients>[.<snapshot interval>[.<timing>]]` (the interval only when not 0, and
/// the timing, `h<heartbeat>e<election timeout>r<retry>`, only when not the playground's, so older links still
/// read) then `~<tick>:<action>` per action.
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
            UserAction::SetRetries { on } => format!("c{}", u8::from(*on)),
            UserAction::AddNode => "j".into(),
            UserAction::RemoveNode { node } => format!("l{node}"),
            UserAction::ReplaceNode { node } => format!("w{node}"),
        };
        out.push_str(&format!("~{tick}:{code}"));
    }
    out
}

/// `TARGET:OP:KEY:VALUE:EXPECTED` of a client operation (`-` for no expected value, `=TEXT` for one).
/// A scan is `TARGET:scan[@LEVEL]:START:END:-` or `…:=LIMIT`.
fn encode_command(target: NodeId, command: &KvCommand, escape: &dyn Fn(&str) -> String) -> String {
    let limit;
    let (op, key, value, expected) = match command {
        KvCommand::Scan { start, end, limit: scan_limit, level } => {
            limit = scan_limit.map(|limit| limit.to_string());
            let op = match level {
                crate::paxos::ReadLevel::Log => "scan",
                crate::paxos::ReadLevel::Lease => "scan@lease",
                crate::paxos::ReadLevel::Local => "scan@local",
            };
            (op, start, end.as_str(), limit.as_deref())
        }
        KvCommand::Get { key } => ("get", key, "", None),
        KvCommand::Read { key, level: crate::paxos::ReadLevel::Local } => ("get@local", key, "", None),
        KvCommand::Read { key, .. } => ("get@lease", key, "", None),
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
        // A node added earlier in the run (`j`, `w`) may be named from then on.
        let added = actions.iter().filter(|(_, action)| adds_a_node(action)).count();
        actions.push((tick, decode_action(code, &setup, added, unescape)?));
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
fn adds_a_node(action: &UserAction) -> bool {
    matches!(action, UserAction::AddNode | UserAction::ReplaceNode { .. })
}

fn decode_action(
    code: &str,
    setup: &RunSetup,
    added: usize,
    unescape: &dyn Fn(&str) -> Option<String>,
) -> Result<UserAction, String> {
    let nodes = setup.nodes + added;
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
        "j" if rest.is_empty() => UserAction::AddNode,
        "l" => UserAction::RemoveNode { node: node(rest)? },
        "w" => UserAction::ReplaceNode { node: node(rest)? },
        "c" if rest == "0" || rest == "1" => UserAction::SetRetries { on: rest == "1" },
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
        "scan" | "scan@lease" | "scan@local" => {
            let level = op
                .split_once('@')
                .map_or(Some(crate::paxos::ReadLevel::Log), |(_, level)| crate::paxos::ReadLevel::from_name(level));
            let limit = expected.map(|limit| limit.parse::<u32>()).transpose().map_err(|_| bad("a scan's limit"))?;
            KvCommand::Scan { start: key, end: value, limit, level: level.ok_or_else(|| bad("a read level"))? }
        }
        "get" => KvCommand::Get { key },
        "get@lease" => KvCommand::Read { key, level: crate::paxos::ReadLevel::Lease },
        "get@local" => KvCommand::Read { key, level: crate::paxos::ReadLevel::Local },
        "put" => KvCommand::Put { key, value },
        "delete" => KvCommand::Delete { key },
        "append" => KvCommand::Append { key, value },
        "cas" => KvCommand::Cas { key, expected, new: value },
        _ => return Err(bad("an operation")),
    };
    command.validate()?;
    Ok((target.to_string(), command))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unescape(text: &str) -> Option<String> {
        Some(text.to_string())
    }

    #[test]
    fn the_moment_is_split_off_where_rsplit_once_would() {
        for body in ["a~@b", "a~@b~@c", "~@", "a~b@c", "a~~@@b", "é~@ü~", "no moment", "~", "@", "a@~b", ""] {
            assert_eq!(split_at_last_moment(body), body.rsplit_once("~@"), "{body}");
        }
    }

    fn timed() -> RunRecord {
        let timing = Timing { heartbeat_ticks: 2, election_timeout_ticks: 6, retry_ticks: 4 };
        let setup = RunSetup { nodes: 3, clients: 0, timing, ..RunSetup::default() };
        RunRecord {
            setup,
            actions: vec![(0, UserAction::Stepping { on: true }), (3, UserAction::TickNode { node: 1 })],
        }
    }

    #[test]
    fn links_of_the_first_version_open_paused_at_their_last_action_with_or_without_timing() {
        let (record, moment) = decode_link("1.5.1.-.2~24:k2", &unescape).unwrap();
        assert_eq!(record.setup, RunSetup::default());
        assert_eq!(moment, Moment { tick: 24, playing: false, speed: DEFAULT_SPEED, selected: None });

        let text = encode_record(&timed(), &|text| text.to_string());
        assert_eq!(text, "1.3.1.-.0.0.h2e6r4~0:s1~3:t1");
        let (record, moment) = decode_link(&text, &unescape).unwrap();
        assert_eq!(record, timed());
        assert_eq!(moment, Moment { tick: 3, playing: false, speed: DEFAULT_SPEED, selected: None });
    }

    #[test]
    fn a_link_of_the_second_version_carries_the_timing_and_the_moment() {
        let moment = Moment { tick: 40, playing: true, speed: 2_000, selected: Some(9) };
        let text = encode_link(&timed(), &moment, &|text| text.to_string());
        assert_eq!(text, "2.3.1.-.0.0.h2e6r4~0:s1~3:t1~@40.playing.2000.m9");
        assert_eq!(decode_link(&text, &unescape), Ok((timed(), moment)));
        for bad in [
            "2.3.1.-.0.0.h2e6r4~0:s1",
            "2.3.1.-.0.0.h0e6r4~@4.paused.8",
            "2.3.1.-.0~@4.paused.3000",
            "2.3.1.-.0~@4.paused.7",
        ] {
            assert!(decode_link(bad, &unescape).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_scan_at_every_level_survives_a_link() {
        for level in crate::paxos::ReadLevel::ALL {
            for limit in [None, Some(3)] {
                let command = KvCommand::Scan { start: "a".into(), end: "k9".into(), limit, level };
                let text = encode_command(2, &command, &|text| text.to_string());
                assert_eq!(decode_command(&text, &unescape), Ok(("2".to_string(), command)), "{text}");
            }
        }
        assert!(decode_command("2:scan:b:a:-", &unescape).unwrap_err().contains("range is empty"));
        assert!(decode_command("2:scan:a:b:=x", &unescape).is_err());
    }
}
