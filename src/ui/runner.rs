//! Runs the simulated cluster outside Yew: advancing time, applying a visitor's actions, time travel and
//! shareable runs. A run is (config, seed, actions at their ticks): replaying them gives the same trace, so a
//! URL carrying the three reproduces it, and seeking back restores a checkpoint and replays forward.

use std::collections::VecDeque;

use crate::kv::KvCommand;
use crate::paxos::{Bug, BugSet, Event, NodeId};
use crate::scenario::Compiled;
use crate::sim::checkpoints::Checkpoints;
use crate::sim::{FaultConfig, Sim, SimConfig, UserAction};

/// A checkpoint (a clone of the simulator) every this many ticks, so seeking near the present replays at most
/// this many.
pub const CHECKPOINT_TICKS: u64 = 100;
/// Checkpoints kept at most (each holds whole logs): older ones are thinned, so a seek far back replays longer.
pub const CHECKPOINTS_MAX: usize = 64;
/// The newest checkpoints kept every `CHECKPOINT_TICKS` as taken.
pub const CHECKPOINTS_RECENT: usize = 16;
/// Narration lines kept.
pub const NARRATION_MAX: usize = 8;
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
}

impl Default for RunSetup {
    fn default() -> Self {
        RunSetup { nodes: 5, seed: 1, bug: None, clients: 2, snapshot_interval: 0 }
    }
}

impl RunSetup {
    pub fn config(&self) -> SimConfig {
        let bugs = self.bug.map_or(BugSet::NONE, BugSet::from);
        SimConfig::playground(self.nodes, bugs, self.clients, self.snapshot_interval)
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
    /// A shipped scenario's run: its setup and the actions it compiled to.
    pub fn of_scenario(compiled: &Compiled) -> RunRecord {
        let setup = RunSetup {
            nodes: compiled.nodes,
            seed: compiled.seed,
            bug: compiled.bug,
            clients: compiled.clients,
            snapshot_interval: compiled.snapshot_interval,
        };
        RunRecord { setup, actions: compiled.actions.clone() }
    }
}

pub struct Runner {
    pub record: RunRecord,
    sim: Sim,
    /// Each holds the state after every action of its tick.
    checkpoints: Checkpoints<Sim>,
    /// The furthest tick reached (the timeline's end).
    pub horizon: u64,
    pub narration: VecDeque<String>,
    /// How many lines were ever said: the first line in `narration` is number `narrated - narration.len()`, so
    /// a line keeps its number (and the page its DOM node) as older lines scroll out.
    pub narrated: u64,
    /// Events of the current tick already narrated.
    narrated_at: (u64, usize),
    chosen_narrated: u64,
    /// What narration calls the nodes' disks ("disk", or "IndexedDB" when the page keeps them there).
    pub disk_name: &'static str,
}

impl Runner {
    pub fn new(record: RunRecord) -> Result<Runner, String> {
        let sim = Sim::new(record.setup.config(), record.setup.seed, Vec::new(), false)?;
        let checkpoints = Checkpoints::new(0, sim.clone(), CHECKPOINT_TICKS, CHECKPOINTS_MAX, CHECKPOINTS_RECENT);
        let mut runner = Runner {
            record,
            checkpoints,
            sim,
            horizon: 0,
            narration: VecDeque::new(),
            narrated: 0,
            narrated_at: (0, 0),
            chosen_narrated: 0,
            disk_name: "disk",
        };
        runner.apply_recorded();
        let first = runner.checkpoint();
        runner.checkpoints.replace_at(0, || first);
        Ok(runner)
    }

    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    pub fn now(&self) -> u64 {
        self.sim.now()
    }

    /// From now on, keeps every batch the simulator makes durable until `take_durable_batches` (the
    /// browser copies them to IndexedDB). Without it nothing is kept.
    pub fn keep_durable_batches(&mut self) {
        self.sim.keep_durable_batches();
    }

    /// The batches that became durable since the last call, with their node, oldest first.
    pub fn take_durable_batches(&mut self) -> Vec<(NodeId, crate::sim::KvBatch)> {
        self.sim.take_durable_batches()
    }

    /// Replays the recorded run up to `tick` (a page reload restoring a stored run).
    pub fn replay_to(&mut self, tick: u64) {
        while self.sim.now() < tick.min(TICKS_MAX) {
            self.step();
        }
    }

    /// Forgets recorded actions after the current tick (the timeline ends here).
    pub fn forget_future(&mut self) {
        let now = self.sim.now();
        self.record.actions.retain(|(tick, _)| *tick <= now);
        self.horizon = now;
        self.checkpoints.forget_after(now);
    }

    /// A copy of the simulator for time travel (batches are copied to IndexedDB from the live one only).
    fn checkpoint(&self) -> Sim {
        let mut checkpoint = self.sim.clone();
        checkpoint.take_durable_batches();
        checkpoint
    }

    /// How many time-travel checkpoints are held.
    pub fn checkpoint_count(&self) -> usize {
        self.checkpoints.len()
    }

    /// One tick, then the recorded actions of the new tick.
    pub fn step(&mut self) {
        if self.sim.now() >= TICKS_MAX {
            return;
        }
        self.sim.tick();
        self.narrate();
        self.apply_recorded();
        let now = self.sim.now();
        if self.checkpoints.due(now) {
            let checkpoint = self.checkpoint();
            self.checkpoints.push(now, checkpoint);
        }
        self.horizon = self.horizon.max(now);
    }

    fn apply_recorded(&mut self) {
        let now = self.sim.now();
        let due: Vec<UserAction> =
            self.record.actions.iter().filter(|(tick, _)| *tick == now).map(|(_, action)| action.clone()).collect();
        for action in due {
            self.sim.apply_action(action);
        }
        self.narrate();
    }

    /// The nodes down now that the record restarts at `tick` (a scenario's `restart N`): a page keeping disks in
    /// IndexedDB reads each back before the step that applies it.
    pub fn recorded_restarts_at(&self, tick: u64) -> Vec<NodeId> {
        let restart = |(at, action): &(u64, UserAction)| match action {
            UserAction::Restart { node } if *at == tick && self.sim.node(*node).is_none() => Some(*node),
            _ => None,
        };
        self.record.actions.iter().filter_map(restart).collect()
    }

    /// A visitor's action, now. Acting in the past forgets the recorded future (a new branch).
    pub fn act(&mut self, action: UserAction) {
        let now = self.sim.now();
        self.say(describe_action(&action));
        if let UserAction::ClientOp { target, .. } = &action {
            self.say(match self.sim.node(*target) {
                None => format!("node {target} is down: no reply will come"),
                Some(node) if node.role() == crate::paxos::RoleKind::Leader => {
                    format!("node {target} leads: it proposes your command in its next slot")
                }
                Some(node) => match node.leader() {
                    Some(leader) => {
                        format!("node {target} is a follower: it forwards your request to leader node {leader}")
                    }
                    None => format!("node {target} knows no leader yet: it will reject with a hint"),
                },
            });
        }
        if self.horizon > now {
            self.record.actions.retain(|(tick, _)| *tick <= now);
            self.horizon = now;
            self.checkpoints.forget_after(now);
        }
        self.record.actions.push((now, action.clone()));
        let restart = match action {
            UserAction::Restart { node } if self.sim.node(node).is_none() => Some(node),
            _ => None,
        };
        self.sim.apply_action(action);
        // A checkpoint of this very tick was taken before the action: retake it, or seeking would lose it.
        if self.checkpoints.newest_tick() == now {
            let checkpoint = self.checkpoint();
            self.checkpoints.replace_at(now, || checkpoint);
        }
        if let Some(id) = restart {
            let durable = crate::storage::Storage::durable(&self.sim.machines()[id as usize - 1].storage);
            self.say(format!(
                "node {id} reloaded from {}: promise {}, {} log entries, chosen below slot {}",
                self.disk_name,
                durable.promised,
                durable.entries.len(),
                durable.chosen_upto
            ));
        }
        self.narrate();
    }

    /// Time travel: to `tick` (at most the horizon), from the nearest checkpoint at or before it (or straight
    /// on from the present, if that is nearer).
    pub fn seek(&mut self, tick: u64) {
        let tick = tick.min(self.horizon);
        let (at, checkpoint) = self.checkpoints.at_or_before(tick);
        if tick < self.sim.now() || *at > self.sim.now() {
            self.sim = checkpoint.clone();
            self.narrated_at = (self.sim.now(), usize::MAX);
        }
        let horizon = self.horizon;
        while self.sim.now() < tick {
            self.step();
        }
        self.horizon = horizon;
        self.say(format!("Travelled to tick {tick}."));
    }

    /// Adds a line to the narration.
    pub fn say_line(&mut self, line: String) {
        self.say(line);
    }

    fn say(&mut self, line: String) {
        if self.narration.len() == NARRATION_MAX {
            self.narration.pop_front();
        }
        self.narration.push_back(line);
        self.narrated += 1;
    }

    /// Narrates the protocol events of the current tick not yet told.
    fn narrate(&mut self) {
        let now = self.sim.now();
        if self.narrated_at.0 != now {
            self.narrated_at = (now, 0);
        }
        let events: Vec<(NodeId, Event)> = self
            .sim
            .recent_events()
            .filter(|(tick, _, _)| *tick == now)
            .map(|(_, node, event)| (*node, event.clone()))
            .collect();
        let skip = self.narrated_at.1.min(events.len());
        self.narrated_at.1 = events.len();
        for (node, event) in events.into_iter().skip(skip) {
            let line = match event {
                Event::PhaseOneStarted { ballot } => Some(format!("node {node} asks for votes with ballot {ballot}")),
                Event::Promised { ballot, to } => Some(format!("node {node} promised ballot {ballot} to node {to}")),
                Event::BecameLeader { ballot, .. } => Some(format!("node {node} became leader with ballot {ballot}")),
                Event::SteppedDown { reason, .. } => Some(format!("node {node} stepped down: {reason}")),
                Event::Chosen { first_slot, count, .. } if first_slot + count > self.chosen_narrated => {
                    // One line per event: the newest slot, and how many earlier ones came with it.
                    let slot = first_slot + count - 1;
                    let earlier = slot - first_slot.max(self.chosen_narrated);
                    self.chosen_narrated = slot + 1;
                    let value = self.sim.node(node).and_then(|n| match n.get(slot) {
                        crate::paxos::SlotState::Chosen(entry) | crate::paxos::SlotState::Accepted(entry) => {
                            Some(crate::check::invariants::describe_value(&entry.value))
                        }
                        _ => None,
                    });
                    let value = value.unwrap_or_else(|| "?".into());
                    Some(match earlier {
                        0 => format!("slot {slot} chosen: {value}"),
                        1 => format!("slot {slot} chosen: {value} (and slot {} before it)", slot - 1),
                        _ => format!(
                            "slot {slot} chosen: {value} (and slots {} to {} before it)",
                            slot - earlier,
                            slot - 1
                        ),
                    })
                }
                Event::Chosen { .. } => None,
                Event::SnapshotTaken { upto } => Some(format!("node {node} took a snapshot up to slot {upto}")),
                Event::SnapshotInstalled { upto } => Some(format!("node {node} installed a snapshot up to {upto}")),
                Event::InvariantBroken { invariant, detail } => {
                    Some(format!("node {node} broke {invariant}: {detail}"))
                }
            };
            if let Some(line) = line {
                self.say(line);
            }
        }
    }
}

pub fn describe_action(action: &UserAction) -> String {
    match action {
        UserAction::Crash { node } => format!("You killed node {node}: its memory is gone, its disk stays."),
        UserAction::Restart { node } => format!("You restarted node {node}: it reloads its state from disk."),
        UserAction::Pause { node } => format!("You paused node {node}."),
        UserAction::Resume { node } => format!("You resumed node {node}."),
        UserAction::Partition { groups } => format!("You partitioned the network: {groups:?}."),
        UserAction::CutLink { from, to } => format!("You cut the link {from} → {to}."),
        UserAction::HealLink { from, to } => format!("You healed the link {from} → {to}."),
        UserAction::Heal => "You healed the network.".into(),
        UserAction::DropMessage { id } => format!("You dropped message #{id}."),
        UserAction::DuplicateMessage { id } => format!("You duplicated message #{id}."),
        UserAction::DeliverNow { id } => format!("You delivered message #{id} now."),
        UserAction::ClientOp { target, command } => format!("You sent {command} to node {target}."),
        UserAction::SetFaults { faults } => format!(
            "Fault rates: drop {}%, duplicate {}%, delay {}–{} ticks.",
            faults.drop_ppm / 10_000,
            faults.duplicate_ppm / 10_000,
            faults.delay_min,
            faults.delay_max
        ),
        UserAction::Reload => {
            "The page reloaded: every running node restarted from its disk; messages in flight were lost.".into()
        }
    }
}

/// A run as the text of a shared URL's `run` parameter: compact, and without serde_json's deserializer, which
/// would add kilobytes to the bundle. `1.<nodes>.<seed>.<bug or ->.<clients>[.<snapshot interval>]` (the interval
/// only when not 0, so older links still read) then `~<tick>:<action>` per action.
/// Free text (keys, values) is escaped with `escape` (the caller's URI-component encoder), so `:`, `;`, `~` and
/// `.` inside it cannot be confused with separators.
pub fn encode_record(record: &RunRecord, escape: &dyn Fn(&str) -> String) -> String {
    // A URI-component encoder leaves `~` (unreserved) alone, and `~` separates actions.
    let escape = |text: &str| escape(text).replace('~', "%7E");
    let s = &record.setup;
    let mut out = format!("1.{}.{}.{}.{}", s.nodes, s.seed, s.bug.map_or("-", Bug::name), s.clients);
    if s.snapshot_interval != 0 {
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
            UserAction::ClientOp { target, command } => {
                let (op, key, value, expected) = match command {
                    KvCommand::Get { key } => ("get", key, "", None),
                    KvCommand::Put { key, value } => ("put", key, value.as_str(), None),
                    KvCommand::Delete { key } => ("delete", key, "", None),
                    KvCommand::Append { key, value } => ("append", key, value.as_str(), None),
                    KvCommand::Cas { key, expected, new } => ("cas", key, new.as_str(), expected.as_deref()),
                };
                let expected = expected.map_or("-".to_string(), |e| format!("={}", escape(e)));
                format!("o{target}:{op}:{}:{}:{expected}", escape(key), escape(value))
            }
        };
        out.push_str(&format!("~{tick}:{code}"));
    }
    out
}

/// Reads what `encode_record` wrote; `unescape` undoes the caller's `escape`.
pub fn decode_record(text: &str, unescape: &dyn Fn(&str) -> Option<String>) -> Result<RunRecord, String> {
    let bad = |what: &str| format!("cannot read {what}");
    let mut parts = text.split('~');
    let head: Vec<&str> = parts.next().unwrap_or_default().split('.').collect();
    let (version, nodes, seed, bug, clients, snapshot_interval) = match head[..] {
        [version, nodes, seed, bug, clients] => (version, nodes, seed, bug, clients, "0"),
        [version, nodes, seed, bug, clients, interval] => (version, nodes, seed, bug, clients, interval),
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
    let setup = RunSetup {
        nodes,
        seed: seed.parse().map_err(|_| bad("the seed"))?,
        bug,
        clients: clients.parse::<u64>().map_err(|_| bad("the client count"))?.min(8),
        snapshot_interval: snapshot_interval.parse().map_err(|_| bad("the snapshot interval"))?,
    };
    let node = |text: &str| -> Result<NodeId, String> {
        text.parse::<NodeId>().ok().filter(|id| (1..=nodes as NodeId).contains(id)).ok_or_else(|| bad("a node"))
    };
    let pair = |text: &str| -> Result<(NodeId, NodeId), String> {
        let (a, b) = text.split_once(',').ok_or_else(|| bad("a link"))?;
        Ok((node(a)?, node(b)?))
    };
    let number = |text: &str| text.parse::<u64>().map_err(|_| bad("a number"));
    let mut actions = Vec::new();
    let mut last = 0;
    for part in parts {
        let (tick, code) = part.split_once(':').ok_or_else(|| bad("an action"))?;
        let tick = number(tick)?;
        if tick < last || tick > TICKS_MAX {
            return Err(bad("the actions' ticks"));
        }
        last = tick;
        let (letter, rest) = code.split_at(code.chars().next().map_or(0, char::len_utf8));
        let action = match letter {
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
            "f" => {
                // Nine numbers in links made before the widened faults, all of them since (see `from_numbers`).
                let numbers: Vec<u64> = rest.split(',').map(number).collect::<Result<_, _>>()?;
                let faults = FaultConfig::from_numbers(&numbers).ok_or_else(|| bad("fault rates"))?;
                let check = SimConfig { faults: faults.clone(), ..setup.config() };
                check.validate()?;
                UserAction::SetFaults { faults }
            }
            "o" => {
                let fields: Vec<&str> = rest.split(':').collect();
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
                UserAction::ClientOp { target: node(target)?, command }
            }
            _ => return Err(bad("an action")),
        };
        actions.push((tick, action));
    }
    Ok(RunRecord { setup, actions })
}
