//! Runs the simulated cluster outside Yew: advancing time, applying a visitor's actions, time travel and
//! shareable runs. A run is (config, seed, actions at their ticks): replaying them gives the same trace, so a
//! URL carrying the three reproduces it, and seeking back restores a checkpoint and replays forward. A shared
//! link also carries the [`Moment`] it was shared at, so it opens where the sender was.

use std::collections::VecDeque;
use std::rc::Rc;

use crate::paxos::{Event, NodeId};
use crate::scenario::Scenario;
use crate::sim::branches::Branch;
use crate::sim::checkpoints::Checkpoints;
use crate::sim::link::TICKS_MAX;
use crate::sim::{Machine, NodeChanges, Sim, Timing, UserAction};

pub use crate::sim::link::{
    decode_link, decode_record, encode_link, encode_record, Moment, RunRecord, RunSetup, DEFAULT_SPEED, SPEEDS,
};

/// A checkpoint (a clone of the simulator) every this many ticks, so seeking near the present replays at most
/// this many.
pub const CHECKPOINT_TICKS: u64 = 100;
/// Checkpoints kept at most (each holds whole logs): older ones are thinned, so a seek far back replays longer.
pub const CHECKPOINTS_MAX: usize = 64;
/// The newest checkpoints kept every `CHECKPOINT_TICKS` as taken.
pub const CHECKPOINTS_RECENT: usize = 16;
/// Narration lines kept.
pub const NARRATION_MAX: usize = 8;
/// The furthest tick a link replays to while the page opens (a few seconds of the page's time: about 8 s at
/// 100,000 on a busy 2-core machine, and each tick more costs the same). A link shared later opens here, paused.
pub const LINK_OPEN_TICKS_MAX: u64 = 100_000;

impl RunRecord {
    /// A scenario's run: its setup and the concrete actions its run applied (`scenario::run`).
    pub fn of_scenario(scenario: &Scenario, actions: Vec<(u64, UserAction)>) -> RunRecord {
        let setup = RunSetup {
            nodes: scenario.nodes,
            seed: scenario.seed,
            bug: scenario.bug,
            clients: scenario.clients,
            snapshot_interval: scenario.snapshot_interval,
            timing: Timing::default(),
        };
        RunRecord { setup, actions }
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
    /// The slot after the newest reconfiguration narrated.
    reconfig_narrated: u64,
    /// What narration calls the nodes' disks ("disk", or "IndexedDB" when the page keeps them there).
    pub disk_name: &'static str,
    /// How many actions `act` took, ever (the record may forget some when the visitor acts in the past).
    acts: u64,
    /// What each recorded action is called (`labels[i]` names `record.actions[i]`), named when it is applied:
    /// a message's kind and ends are known only while it is in flight.
    labels: Vec<Option<String>>,
    /// The machines as they were before the last tick, when it was taken while stepping: what [`Runner::changes`]
    /// compares with. Kept rather than compared at each tick, so a replay of many stepped ticks (a seek, a link,
    /// a branch) compares only the one on screen.
    before_last_tick: Option<Vec<Rc<Machine>>>,
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
            reconfig_narrated: 0,
            disk_name: "disk",
            acts: 0,
            labels: Vec::new(),
            before_last_tick: None,
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
        self.labels.truncate(self.record.actions.len());
        self.horizon = now;
        self.checkpoints.forget_after(now);
    }

    /// Acting in the past forgets the recorded future (a new branch: the page keeps the old one, see
    /// [`Runner::has_future`]).
    fn forget_future_actions(&mut self) {
        if self.horizon > self.sim.now() {
            self.forget_future();
        }
    }

    /// Whether acting now would forget recorded actions (a branch left): the visitor went back in time, and
    /// actions are recorded after now. An event planned but not yet reached (`plan`) is not such a future: the
    /// run has not been there yet.
    pub fn has_future(&self) -> bool {
        let now = self.sim.now();
        self.horizon > now && self.record.actions.iter().any(|(tick, _)| *tick > now)
    }

    /// What the last tick changed in each node, when it was taken while stepping (the page shows it on the
    /// node's card); nothing otherwise.
    pub fn changes(&self) -> Vec<NodeChanges> {
        self.before_last_tick.as_ref().map(|before| self.sim.changes_since(before)).unwrap_or_default()
    }

    /// While stepping, the visitor chose `event`: it is recorded as the run's next tick, the tick after the
    /// last one chosen (each event has a tick of its own, so Back and Forward move one event at a time);
    /// returns how many ticks to take to reach it. The recorded future is forgotten first, as by any action.
    pub fn plan(&mut self, event: UserAction) -> u64 {
        self.forget_future_actions();
        let now = self.sim.now();
        let last = self.record.actions.last().map_or(0, |(tick, _)| *tick);
        let tick = now.max(last) + 1;
        self.acts += 1;
        self.record.actions.push((tick, event));
        self.labels.resize(self.record.actions.len(), None);
        tick - now
    }

    /// The run as a branch of its history: its actions with their names, and the furthest tick reached.
    pub fn branch(&self) -> Branch {
        let labels = self.record.actions.iter().zip(self.labels.iter().chain(std::iter::repeat(&None)));
        Branch {
            parent: None,
            labels: labels
                .map(|((_, action), label)| label.clone().unwrap_or_else(|| describe_action(action)))
                .collect(),
            actions: self.record.actions.clone(),
            end: self.horizon,
        }
    }

    /// A run of `branch` (with `setup`), at `tick`, its timeline reaching the branch's end.
    pub fn of_branch(setup: RunSetup, branch: &Branch, tick: u64) -> Result<Runner, String> {
        let mut runner = Runner::new(RunRecord { setup, actions: branch.actions.clone() })?;
        runner.labels = branch.labels.iter().cloned().map(Some).collect();
        runner.replay_to(tick.min(branch.end));
        runner.horizon = runner.horizon.max(branch.end);
        Ok(runner)
    }

    /// A copy of the simulator for time travel (batches are copied to IndexedDB from the live one only).
    fn checkpoint(&self) -> Sim {
        let mut checkpoint = self.sim.clone();
        checkpoint.take_durable_batches();
        checkpoint
    }

    /// How many actions [`act`](Runner::act) took since this runner was made: storage compares it with what it
    /// saved to tell whether an action still waits to be saved.
    pub fn acts(&self) -> u64 {
        self.acts
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
        // Dropped first: a machine still held here would be copied by the tick's first write to it.
        self.before_last_tick = None;
        self.before_last_tick = self.sim.stepping().then(|| self.sim.machines().to_vec());
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
        let due: Vec<usize> = (0..self.record.actions.len()).filter(|i| self.record.actions[*i].0 == now).collect();
        self.labels.resize(self.record.actions.len(), None);
        for index in due {
            let action = self.record.actions[index].1.clone();
            self.labels[index] = Some(label(&self.sim, &action));
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
        self.acts += 1;
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
        self.forget_future_actions();
        self.labels.resize(self.record.actions.len(), None);
        self.labels.push(Some(label(&self.sim, &action)));
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
            let durable = crate::storage::Storage::durable(&*self.sim.machines()[id as usize - 1].storage);
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
        // From before the tick, so that the tick itself is stepped and its changes are shown.
        let (at, checkpoint) = self.checkpoints.at_or_before(tick.saturating_sub(1));
        if tick < self.sim.now() || *at > self.sim.now() {
            self.before_last_tick = None;
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
                // Every node learns it; narrate it once, from the first.
                Event::Reconfigured { slot, from_slot, members } if slot >= self.reconfig_narrated => {
                    self.reconfig_narrated = slot + 1;
                    Some(format!("configuration {members} chosen in slot {slot}: they vote from slot {from_slot} on"))
                }
                Event::Reconfigured { .. } => None,
                Event::Retired { from_slot } => {
                    Some(format!("node {node} retired: it votes no more from slot {from_slot}"))
                }
            };
            if let Some(line) = line {
                self.say(line);
            }
        }
    }
}

/// What an action is called in the history: the event's name while it can be told (`Sim::describe_event`),
/// else what narration says of it.
fn label(sim: &Sim, action: &UserAction) -> String {
    sim.describe_event(action).unwrap_or_else(|| describe_action(action))
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
        UserAction::Stepping { on: true } => "Stepping: nothing happens now unless you choose it.".into(),
        UserAction::Stepping { on: false } => "Time runs again.".into(),
        UserAction::TickNode { node } => format!("Node {node}'s clock ticked."),
        UserAction::AckWrite { node } => format!("Node {node}'s oldest write reached its disk."),
        UserAction::Request { client, target, command } => format!("Client {client} sent {command} to node {target}."),
        UserAction::Retry { client, target } => format!("Client {client} sent its request again, to node {target}."),
        UserAction::SetRetries { on: true } => "Your client now retries by itself, with backoff.".into(),
        UserAction::SetRetries { on: false } => "Your client no longer retries: you decide after each reply.".into(),
        UserAction::AddNode => {
            "You added a node: it catches up, then the leader proposes a configuration with it.".into()
        }
        UserAction::RemoveNode { node } => format!("You asked the leader for a configuration without node {node}."),
        UserAction::ReplaceNode { node } => format!("You asked for a new node in place of node {node}, in one change."),
    }
}
