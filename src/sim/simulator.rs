//! The deterministic simulator: n nodes, their storage, a faulty network and clients, driven tick by tick
//! from one seeded RNG. Everything random goes through `SimRng` and everything that happens is recorded in
//! the trace, so the same (config, seed, actions) gives the same run, natively and in Wasm.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use smallvec::SmallVec;

use crate::check::invariants::{names, Position, SafetyChecker, Violation, ViolationClass};
use crate::check::{check_with, CheckOptions, CheckOutcome, History};
use crate::kv::{KvCommand, KvOutput, KvStore};
use crate::paxos::{Bug, Config, EnvelopeOf, Event, Node, NodeId, ReadyOf, Rejection, Reply, Request, RoleKind};
use crate::shared::Shared;
use crate::storage::{MemoryStorage, Storage};

use super::client::{Client, Outstanding};
use super::network::{InFlight, Network};
use super::shrink::{FaultGate, RandomFault};
use super::visitor::VisitorOp;
use super::{ScheduledAction, SimConfig, SimRng, Trace, TraceEvent, UserAction};

pub type KvNode = Node<KvStore>;
pub type KvStorage = MemoryStorage<KvCommand, KvStore>;

/// The client id of the visitor's own operations (`UserAction::ClientOp`).
pub const VISITOR: u64 = 0;
/// Step client N (`UserAction::Request`) has client id `STEP_CLIENTS + N`: far above any background client's.
pub const STEP_CLIENTS: u64 = crate::check::history::STEP_CLIENTS;
/// The delivery or durability time of whatever waits for an action while stepping.
pub const NEVER: u64 = u64::MAX;

/// The number of the step client with id `client`, if it is one.
pub(super) fn step_client_number(client: u64) -> Option<u8> {
    client.checked_sub(STEP_CLIENTS).and_then(|number| u8::try_from(number).ok()).filter(|number| *number > 0)
}
/// How many recent protocol events are kept for narration.
pub const RECENT_EVENTS_MAX: usize = 256;

/// One simulated machine: the node (absent while down), its disk, and when each issued write lands. A `Sim` holds
/// each machine behind an `Rc` and copies it only when it changes (`Rc::make_mut`): a copy of a simulation (time
/// travel, the model checker's states) shares every machine the next step does not touch. Within a machine, the
/// node and the disk are shared apart (`Shared`), so a step that changes one copies only that one: a tick or a
/// delivery that writes nothing leaves the disk shared, and copying a machine is a few counts and a small struct.
#[derive(Clone)]
pub struct Machine {
    pub node: Option<Shared<KvNode>>,
    pub storage: Shared<KvStorage>,
    /// When each issued write lands, oldest first: one or two at a time, held in place (`SmallVec`), as the
    /// model checker copies a machine for every state that writes to it.
    pub(super) durable_at: SmallVec<[u64; 2]>,
    pub paused: bool,
    /// A node the fault injector crashed comes back at this tick (a visitor's crash waits for a restart).
    pub(super) down_until: Option<u64>,
    /// Removed from the configuration and retired (issue 20): never restarted.
    pub retired: bool,
}

impl Machine {
    /// A running node with an empty disk: at the start, or a node that joins (issue 20).
    pub(super) fn fresh(node: KvNode) -> Machine {
        Machine {
            node: Some(Shared::new(node)),
            storage: Shared::new(MemoryStorage::new()),
            durable_at: SmallVec::new(),
            paused: false,
            down_until: None,
            retired: false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Random faults and client operations.
    Faults,
    /// Faults healed at `since`: pending operations must complete and replicas converge.
    Healing {
        since: u64,
    },
    Done,
}

#[derive(Clone)]
pub struct Sim {
    pub(super) config: SimConfig,
    pub(super) seed: u64,
    pub(super) now: u64,
    pub(super) rng: SimRng,
    pub(super) machines: Vec<Rc<Machine>>,
    pub(super) network: Network,
    pub(super) partition_until: Option<u64>,
    /// Random link faults in force (`faults.rs`).
    pub(super) link_faults: Vec<super::faults::LinkFault>,
    /// Each node's clock (`clock.rs`): how many of its ticks a simulator tick holds.
    clocks: Shared<Vec<super::clock::Clock>>,
    clients: Vec<Client>,
    pub(super) visitor: Client,
    /// Whether the visitor's client retries by itself (`UserAction::SetRetries`; off until an action turns it on).
    pub(super) visitor_retries: bool,
    /// While true, nothing happens by itself: every delivery, node tick, write acknowledgement and request is an
    /// action (see `stepping.rs`).
    pub(super) stepping: bool,
    /// The clients whose requests stepping chooses (`UserAction::Request`), by number from 1.
    pub(super) step_clients: Shared<Vec<Client>>,
    /// Every operation the visitor sent, oldest first, with its path and outcome.
    pub(super) visitor_ops: Vec<VisitorOp>,
    invoked: u64,
    pub(super) history: Shared<History>,
    pub(super) checker: SafetyChecker,
    pub(super) trace: Trace,
    scheduled: BTreeMap<u64, Vec<UserAction>>,
    recent: VecDeque<(u64, NodeId, Event)>,
    /// Recent events kept for narration (`RECENT_EVENTS_MAX` unless `keep_recent_events` says otherwise).
    recent_max: usize,
    pub(super) phase: Phase,
    delivered: u64,
    /// Reads answered from a node's store without a slot (lease or local reads).
    reads_answered_locally: u64,
    /// Set when the linearizability search ran out of budget: neither a pass nor evidence of a bug.
    undecided: Option<String>,
    /// Set by the shrinker: numbers every random fault and lets through only the ones it keeps.
    fault_gate: Option<FaultGate>,
    /// The configuration the operator last saw in effect, and the change it drives (`membership.rs`).
    pub(super) members: crate::paxos::Members,
    pub(super) reconfiguration: Option<super::membership::Reconfiguration>,
    /// A node that said it retired while it was collected: stopped once it settles.
    retiring: Option<NodeId>,
    /// When kept (`keep_durable_batches`): every batch that became durable, with its node, oldest first, until
    /// taken. The browser copies them to IndexedDB; the simulator itself never reads them.
    durable_batches: Option<Vec<(NodeId, KvBatch)>>,
    /// What the node being collected from said (`collect`), drained every time: kept only so its buffers are
    /// reused. One for the whole cluster rather than one per machine, so a copied machine is smaller.
    /// Out (`None`) only while `collect` holds it: taking it out leaves nothing to drop when it is put back (a default
    /// `Ready` left in its place was dropped on every collection, a model checker's step making several).
    ready: Option<ReadyOf<KvStore>>,
}

/// A write batch of the playground's nodes.
pub type KvBatch = crate::paxos::WriteBatch<KvCommand, KvStore>;

impl Sim {
    /// A fresh cluster. `keep_trace` keeps every trace entry (for replay and the UI); the hash is kept always.
    pub fn new(config: SimConfig, seed: u64, actions: Vec<ScheduledAction>, keep_trace: bool) -> Result<Sim, String> {
        config.validate()?;
        let mut machines = Vec::new();
        for id in 1..=config.nodes as NodeId {
            let node = Self::boot(&config, id, &crate::paxos::DurableStateOf::<KvStore>::default())?;
            machines.push(Rc::new(Machine::fresh(node)));
        }
        let mut scheduled: BTreeMap<u64, Vec<UserAction>> = BTreeMap::new();
        for ScheduledAction { tick, action } in actions {
            scheduled.entry(tick).or_default().push(action);
        }
        let clients = (1..=config.workload.clients).map(Client::new).collect();
        let checker = SafetyChecker::new(config.nodes, config.bugs.contains(Bug::ApplyRetryTwice))
            .with_alpha(config.pipeline_window);
        Ok(Sim {
            seed,
            now: 0,
            rng: SimRng::new(seed),
            machines,
            network: Network::default(),
            partition_until: None,
            link_faults: Vec::new(),
            clocks: Shared::new(super::clock::Clock::for_nodes(config.nodes, config.drift_ppm, seed)),
            clients,
            visitor: Client::new(VISITOR),
            visitor_retries: false,
            stepping: false,
            step_clients: Shared::default(),
            visitor_ops: Vec::new(),
            invoked: 0,
            history: Shared::new(History::new()),
            checker,
            trace: Trace::new(keep_trace),
            scheduled,
            recent: VecDeque::new(),
            recent_max: RECENT_EVENTS_MAX,
            phase: Phase::Faults,
            delivered: 0,
            reads_answered_locally: 0,
            undecided: None,
            fault_gate: None,
            durable_batches: None,
            ready: Some(ReadyOf::<KvStore>::default()),
            members: crate::paxos::Members::of(1..=config.nodes as NodeId),
            reconfiguration: None,
            retiring: None,
            config,
        })
    }

    fn node_config(config: &SimConfig, id: NodeId) -> Config {
        let mut node = Config::cluster(id, config.nodes);
        node.bugs = config.bugs;
        node.snapshot_interval = config.snapshot_interval;
        node.heartbeat_ticks = config.timing.heartbeat_ticks;
        node.election_timeout_ticks = config.timing.election_timeout_ticks;
        node.retry_ticks = config.timing.retry_ticks;
        node.lease_ticks = config.lease_ticks();
        node.clock_drift_ppm = config.drift_ppm;
        node.pipeline_window = config.pipeline_window;
        node
    }

    pub(super) fn boot(
        config: &SimConfig,
        id: NodeId,
        durable: &crate::paxos::DurableStateOf<KvStore>,
    ) -> Result<KvNode, String> {
        // The planted bug's switch must be on before recovery re-applies the log, as it was when the node
        // first applied it; otherwise the restarted node diverges from the others for a reason of our making.
        let machine =
            KvStore { bug_apply_retry_twice: config.bugs.contains(Bug::ApplyRetryTwice), ..KvStore::default() };
        Node::recover_with(Self::node_config(config, id), durable, machine)
    }

    /// A clock for a node that joined (`membership.rs`).
    pub(super) fn add_clock(&mut self, id: NodeId) {
        let clock = super::clock::Clock::for_node(id as usize, self.config.drift_ppm, self.seed);
        self.clocks.push(clock);
    }

    /// Numbers every random fault this run draws and lets only those in `keep` take effect (`None`: all of
    /// them). The random draws stay exactly as they were, so with every fault kept the run is unchanged; the
    /// shrinker uses this to remove faults one group at a time (see `shrink.rs`).
    pub fn with_fault_gate(mut self, keep: Option<std::collections::BTreeSet<u64>>) -> Sim {
        assert!(self.now == 0, "seed {}: the fault gate is set before the first tick", self.seed);
        self.fault_gate = Some(FaultGate::new(keep));
        self
    }

    /// Keeps at most `count` recent protocol events for narration (the model checker keeps none: they are copied
    /// with every state).
    pub fn keep_recent_events(&mut self, count: usize) {
        self.recent_max = count;
        while self.recent.len() > count {
            self.recent.pop_front();
        }
    }

    /// The trace stops hashing its events (`Trace::stop_hashing`): the model checker reads no run fingerprint of
    /// its states, and keeps none of their events either.
    pub fn stop_hashing_trace(&mut self) {
        self.trace.stop_hashing();
    }

    /// Every random fault drawn so far, kept or not (only with a fault gate).
    pub fn random_faults(&self) -> &[RandomFault] {
        self.fault_gate.as_ref().map_or(&[], |gate| gate.log())
    }

    /// Whether a random fault the RNG just drew takes effect (always, without a gate).
    pub(super) fn fault_allowed(&mut self, fault: impl FnOnce() -> super::shrink::FaultKind) -> bool {
        let now = self.now;
        self.fault_gate.as_mut().is_none_or(|gate| gate.admit(now, fault()))
    }

    /// Keeps every batch that becomes durable from now on until `take_durable_batches` (off by default: the
    /// fuzzer does not pay for it). Changes nothing in the run: the trace is the same either way.
    pub fn keep_durable_batches(&mut self) {
        self.durable_batches.get_or_insert_with(Vec::new);
    }

    /// The batches that became durable since the last call, oldest first, with their node (empty unless
    /// `keep_durable_batches` was called).
    pub fn take_durable_batches(&mut self) -> Vec<(NodeId, KvBatch)> {
        self.durable_batches.as_mut().map(std::mem::take).unwrap_or_default()
    }

    // ----- Observers -----

    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn now(&self) -> u64 {
        self.now
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn machines(&self) -> &[Rc<Machine>] {
        &self.machines
    }

    pub fn node(&self, id: NodeId) -> Option<&KvNode> {
        self.machines.get(id as usize - 1)?.node.as_deref()
    }

    /// The nodes that run now (a crashed or retired machine has none).
    pub(super) fn running_nodes(&self) -> impl Iterator<Item = &KvNode> + '_ {
        self.machines.iter().filter_map(|machine| machine.node.as_deref())
    }

    pub fn network(&self) -> &Network {
        &self.network
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    pub fn violations(&self) -> &[Violation] {
        self.checker.violations()
    }

    pub fn checker(&self) -> &SafetyChecker {
        &self.checker
    }

    /// Recent protocol events, oldest first: (tick, node, event).
    pub fn recent_events(&self) -> impl Iterator<Item = &(u64, NodeId, Event)> {
        self.recent.iter()
    }

    /// Why the history's linearizability could not be decided, if it could not.
    pub fn undecided(&self) -> Option<&str> {
        self.undecided.as_deref()
    }

    pub fn messages_delivered(&self) -> u64 {
        self.delivered
    }

    /// Reads answered from a node's own store, without a slot (lease and local reads).
    pub fn reads_answered_locally(&self) -> u64 {
        self.reads_answered_locally
    }

    /// The visitor's outstanding operation, if any.
    pub fn visitor_busy(&self) -> bool {
        self.visitor.outstanding.is_some()
    }

    /// The visitor's operations, oldest first: target, forwards, outcome.
    pub fn visitor_ops(&self) -> &[VisitorOp] {
        &self.visitor_ops
    }

    // ----- Driving -----

    /// Advances one tick: scheduled actions, random faults, disks, network, node timers, clients.
    pub fn tick(&mut self) {
        assert!(self.phase != Phase::Done, "seed {}: the run is over", self.seed);
        self.now += 1;
        self.checker.set_position(Position { step: self.trace.len(), tick: self.now });
        for action in self.scheduled.remove(&self.now).unwrap_or_default() {
            self.apply_action(action);
        }
        if self.stepping {
            return; // Only the actions happen.
        }
        if self.phase == Phase::Faults && self.now >= self.config.fault_ticks {
            self.heal_everything();
        }
        if self.phase == Phase::Faults {
            self.inject_faults();
        }
        for index in 0..self.machines.len() {
            self.sync_due(index);
        }
        while let Some(message) = self.network.pop_due(self.now) {
            self.deliver(message);
        }
        for index in 0..self.machines.len() {
            // Drawn for paused and crashed nodes too: a clock runs whatever its node does.
            let ticks = self.clocks[index].advance();
            if self.machines[index].paused {
                continue;
            }
            for _ in 0..ticks {
                let Some(node) = Rc::make_mut(&mut self.machines[index]).node.as_deref_mut() else { break };
                node.tick();
                self.settle(index);
            }
        }
        self.step_clients();
        if self.phase == Phase::Faults {
            self.maybe_reconfigure();
        }
        self.drive_reconfiguration();
        if let Phase::Healing { since } = self.phase {
            self.check_healed(since);
        }
    }

    /// Runs to the end: the fault phase, healing, the liveness bound. Then checks the history.
    pub fn run_to_end(&mut self) {
        let limit = self.config.fault_ticks + self.config.heal_ticks + 10;
        while self.phase != Phase::Done {
            assert!(self.now <= limit, "seed {}: the run did not end by tick {limit}", self.seed);
            self.tick();
        }
    }

    pub fn run_until(&mut self, tick: u64) {
        while self.now < tick && self.phase != Phase::Done {
            self.tick();
        }
    }

    // ----- Actions -----

    /// While stepping (or to start stepping), one tick in which exactly `action` happens: what a replay of the
    /// action scheduled at the next tick does.
    pub fn step(&mut self, action: UserAction) {
        let starts = action == UserAction::Stepping { on: true };
        assert!(self.stepping || starts, "seed {}: a step outside stepping", self.seed);
        self.now += 1;
        self.checker.set_position(Position { step: self.trace.len(), tick: self.now });
        self.apply_action(action);
        self.drive_reconfiguration();
    }

    /// Applies a user action now and records it in the trace.
    pub fn apply_action(&mut self, action: UserAction) {
        self.trace.record_with(self.now, || TraceEvent::Action { action: action.clone() });
        match action {
            UserAction::Crash { node } => self.crash(node, None),
            UserAction::Restart { node } => self.restart(node),
            UserAction::Pause { node } => self.set_paused(node, true),
            UserAction::Resume { node } => self.set_paused(node, false),
            UserAction::Partition { groups } => self.partition(&groups),
            UserAction::CutLink { from, to } => self.network.cut(from, to),
            UserAction::HealLink { from, to } => self.network.heal_link(from, to),
            UserAction::Heal => self.network.heal(),
            UserAction::DropMessage { id } => {
                self.network.remove(id);
            }
            UserAction::DuplicateMessage { id } => {
                if let Some(original) = self.network.get(id).cloned() {
                    let copy = self.network.next_id();
                    self.network.push(InFlight { id: copy, ..original });
                }
            }
            UserAction::DeliverNow { id } => {
                if let Some(message) = self.network.remove(id) {
                    self.deliver(message);
                }
            }
            UserAction::ClientOp { target, command } => self.visitor_invoke(target, command),
            UserAction::SetRetries { on } => self.visitor_retries = on,
            UserAction::SetFaults { faults } => self.config.faults = faults,
            UserAction::Reload => self.reload(),
            UserAction::Stepping { on } => self.set_stepping(on),
            UserAction::TickNode { node } => self.tick_node(node),
            UserAction::AckWrite { node } => self.ack_write(node),
            UserAction::Request { client, target, command } => self.step_request(client, target, command),
            UserAction::Retry { client, target } => self.step_retry(client, target),
            UserAction::AddNode => self.add_node(),
            UserAction::RemoveNode { node } => self.remove_node(node),
            UserAction::ReplaceNode { node } => self.replace_node(node),
        }
    }

    /// The page went away and came back: see `UserAction::Reload`. Nodes the visitor or the fault injector
    /// took down stay down; paused nodes stay paused.
    fn reload(&mut self) {
        let running: Vec<NodeId> =
            (1..=self.machines.len() as NodeId).filter(|id| self.machines[*id as usize - 1].node.is_some()).collect();
        for &id in &running {
            self.crash(id, None);
        }
        for message in self.network.take_all() {
            self.trace.record(self.now, TraceEvent::Lost { id: message.id, why: Cow::Borrowed("page reloaded") });
        }
        for id in running {
            self.restart(id);
        }
        // The visitor's client lived in the page: its operation in flight is given up, retrying or not.
        self.visitor_give_up();
    }

    pub(super) fn crash(&mut self, id: NodeId, down_until: Option<u64>) {
        let shared = &self.machines[id as usize - 1];
        if shared.node.is_none() {
            return;
        }
        // A new machine rather than `Rc::make_mut`, which would copy the node only to drop it.
        let mut storage = shared.storage.clone();
        storage.crash();
        let (paused, retired) = (shared.paused, shared.retired);
        self.machines[id as usize - 1] =
            Rc::new(Machine { node: None, storage, durable_at: SmallVec::new(), paused, down_until, retired });
        self.checker.node_crashed(id);
        self.trace.record(self.now, TraceEvent::Crashed { node: id });
    }

    pub(super) fn restart(&mut self, id: NodeId) {
        let index = id as usize - 1;
        if self.machines[index].node.is_some() || self.machines[index].retired {
            return;
        }
        let node = Self::boot(&self.config, id, self.machines[index].storage.durable()).expect("the config was valid");
        self.checker.node_restarted(&node, self.machines[index].storage.durable());
        Rc::make_mut(&mut self.machines[index]).node = Some(Shared::new(node));
        Rc::make_mut(&mut self.machines[index]).down_until = None;
        self.trace.record(self.now, TraceEvent::Restarted { node: id });
        self.settle(index);
    }

    fn set_paused(&mut self, id: NodeId, paused: bool) {
        Rc::make_mut(&mut self.machines[id as usize - 1]).paused = paused;
        if !paused {
            self.settle(id as usize - 1);
        }
    }

    pub(super) fn partition(&mut self, groups: &[Vec<NodeId>]) {
        for (a, group) in groups.iter().enumerate() {
            for other in &groups[a + 1..] {
                for x in group {
                    for y in other {
                        self.network.cut(*x, *y);
                        self.network.cut(*y, *x);
                    }
                }
            }
        }
        self.trace.record(self.now, TraceEvent::Partitioned { groups: groups.to_vec() });
    }

    // ----- Faults (see faults.rs for the random ones) -----

    /// The fault phase is over: heal the network, restart and resume every node, stop dropping messages.
    fn heal_everything(&mut self) {
        self.phase = Phase::Healing { since: self.now };
        self.network.heal();
        self.partition_until = None;
        self.link_faults.clear();
        self.network.set_link_faults(Default::default());
        self.trace.record(self.now, TraceEvent::Healed);
        self.config.faults = self.config.faults.healed();
        for id in 1..=self.machines.len() as NodeId {
            self.set_paused(id, false);
            self.restart(id);
        }
    }

    // ----- Disks and nodes -----

    /// Makes durable every write of machine `index` whose time has come, and tells the node.
    fn sync_due(&mut self, index: usize) -> bool {
        let id = index as NodeId + 1;
        let mut newest = None;
        loop {
            // Looked at before it is written to: a machine shared with a copy (`Sim` is copy-on-write per machine)
            // is copied only when something changes in it.
            let machine = &self.machines[index];
            if machine.paused || machine.durable_at.first().is_none_or(|at| *at > self.now) {
                break;
            }
            let machine = Rc::make_mut(&mut self.machines[index]);
            machine.durable_at.remove(0);
            let batch = machine.storage.pending().next().expect("a pending batch per durable time");
            let check = self.checker.batch_durable(id, machine.storage.durable(), batch);
            // Copied only when kept: the fuzzer does not pay for a clone of every batch.
            if let Some(batches) = self.durable_batches.as_mut() {
                batches.push((id, batch.clone()));
            }
            let batch = machine.storage.sync_oldest().expect("a pending batch");
            self.checker.durable_now(id, machine.storage.durable(), &batch, check);
            let synced = batch.id;
            self.trace.record(self.now, TraceEvent::Durable { node: id, batch: synced });
            if self.crash_after_write(id, synced) {
                return false; // The node never hears of the write, nor of any other.
            }
            newest = Some(synced);
        }
        let Some(batch) = newest else { return false };
        if let Some(node) = Rc::make_mut(&mut self.machines[index]).node.as_deref_mut() {
            node.persisted(batch);
        }
        true
    }

    /// Collects everything machine `index` has to say until it is quiet (writes that land at once are acknowledged
    /// on the spot).
    pub(super) fn settle(&mut self, index: usize) {
        for _ in 0..10_000 {
            self.collect(index);
            if !self.sync_due(index) {
                if let Some(id) = self.retiring.take() {
                    self.retire(id);
                }
                return;
            }
        }
        panic!("seed {}: node {} never settles", self.seed, index + 1);
    }

    fn collect(&mut self, index: usize) {
        let id = index as NodeId + 1;
        let mut ready = self.ready.take().unwrap_or_default();
        while let Some(node) = Rc::make_mut(&mut self.machines[index]).node.as_deref_mut() {
            node.ready_into(&mut ready);
            if ready.is_empty() {
                break;
            }
            if let Some(batch) = ready.write.take().filter(|batch| !batch.records.is_empty()) {
                self.checker.write_issued(id, &batch);
                let at = self.durable_time(index);
                let machine = Rc::make_mut(&mut self.machines[index]);
                machine.durable_at.push(at);
                machine.storage.submit(batch);
            }
            let node = self.machines[index].node.as_ref().expect("checked above");
            self.checker.node_output(node, &ready.applied, &ready.events);
            if self.visitor.outstanding.is_some() {
                for applied in &ready.applied {
                    self.visitor_applied(applied.request.client, applied.request.seq, applied.slot);
                }
            }
            ready.applied.clear();
            for event in ready.events.drain(..) {
                if matches!(event, Event::Retired { .. }) {
                    self.retiring = Some(id);
                }
                if self.recent_max == 0 {
                    continue;
                }
                if self.recent.len() == self.recent_max {
                    self.recent.pop_front();
                }
                self.recent.push_back((self.now, id, event));
            }
            // Drained rather than taken, so `ready_into` reuses the buffers instead of allocating each step.
            for envelope in ready.messages.drain(..) {
                self.checker.message_sent(id, self.machines[index].storage.durable(), &envelope);
                self.route(envelope);
            }
            for reply in ready.replies.drain(..) {
                self.checker.reply_sent(id, &reply);
                self.on_reply(id, reply);
            }
        }
        self.ready = Some(ready);
    }

    // ----- Network -----

    fn route(&mut self, envelope: EnvelopeOf<KvStore>) {
        let faults = &self.config.faults;
        let (drop_ppm, duplicate_ppm) = (faults.drop_ppm, faults.duplicate_ppm);
        let (delay_min, delay_max) = (faults.delay_min, faults.delay_max);
        let id = self.network.next_id();
        let (from, to, kind) = (envelope.from, envelope.to, envelope.message.kind());
        if let crate::paxos::Message::Forward { request, .. } = &envelope.message {
            self.visitor_forwarded(request.client, request.seq, to);
        }
        if self.stepping {
            // Delivered, dropped or duplicated only when an action says so.
            self.trace.record(self.now, TraceEvent::Sent { id, from, to, kind, deliver_at: NEVER });
            self.network.push(InFlight { id, from, to, sent_at: self.now, deliver_at: NEVER, kind, envelope });
            return;
        }
        let delay = self.rng.between(delay_min, delay_max);
        let deliver_at = self.now + delay + self.late_delay(id, from, to, kind);
        self.trace.record(self.now, TraceEvent::Sent { id, from, to, kind, deliver_at });
        if self.rng.chance(drop_ppm) && self.fault_allowed(|| super::shrink::FaultKind::Drop { id, from, to, kind }) {
            self.trace.record(self.now, TraceEvent::Dropped { id });
            return;
        }
        if self.rng.chance(duplicate_ppm)
            && self.fault_allowed(|| super::shrink::FaultKind::Duplicate { id, from, to, kind })
        {
            let copy = self.network.next_id();
            let copy_at = self.now + self.rng.between(delay_min, delay_max);
            self.trace.record(self.now, TraceEvent::Duplicated { id, copy });
            let duplicate = InFlight {
                id: copy,
                from,
                to,
                sent_at: self.now,
                deliver_at: copy_at,
                kind,
                envelope: envelope.clone(),
            };
            self.network.push(duplicate);
        }
        self.network.push(InFlight { id, from, to, sent_at: self.now, deliver_at, kind, envelope });
    }

    fn deliver(&mut self, message: InFlight) {
        let index = message.to as usize - 1;
        if self.network.is_cut(message.from, message.to) {
            self.trace.record(self.now, TraceEvent::Lost { id: message.id, why: Cow::Borrowed("link cut") });
            return;
        }
        if self.machines[index].paused {
            // A paused node's messages wait in its queue.
            self.network.push(InFlight { deliver_at: self.now + 1, ..message });
            return;
        }
        let Some(node) = Rc::make_mut(&mut self.machines[index]).node.as_deref_mut() else {
            self.trace.record(self.now, TraceEvent::Lost { id: message.id, why: Cow::Borrowed("node down") });
            return;
        };
        node.receive(message.envelope);
        self.delivered += 1;
        self.trace.record(self.now, TraceEvent::Delivered { id: message.id });
        self.settle(index);
    }

    // ----- Clients -----

    fn step_clients(&mut self) {
        self.step_visitor();
        self.time_out_step_clients();
        let healing = matches!(self.phase, Phase::Healing { .. });
        for index in 0..self.clients.len() {
            let client = &self.clients[index];
            match &client.outstanding {
                Some(outstanding) if self.now - outstanding.sent_at >= self.config.workload.timeout_ticks => {
                    let client_id = client.id;
                    let outstanding = self.clients[index].outstanding.take().expect("matched above");
                    if !healing && outstanding.attempts >= self.config.workload.attempts_max {
                        self.history.timeout(outstanding.op);
                        self.trace.record(self.now, TraceEvent::GaveUp { client: client_id, seq: outstanding.seq });
                    } else {
                        self.retry(index, outstanding);
                    }
                }
                Some(_) => {}
                None if !healing
                    && self.invoked < self.config.workload.ops
                    && self.rng.chance(self.config.workload.invoke_ppm) =>
                {
                    self.invoke(index);
                }
                None => {}
            }
        }
    }

    fn invoke(&mut self, index: usize) {
        self.invoked += 1;
        let command = self.clients[index].next_command(&self.config.workload, &mut self.rng);
        let client = &mut self.clients[index];
        let seq = client.next_seq;
        client.next_seq += 1;
        let client_id = client.id;
        let op = self.history.invoke(client_id, command.clone(), self.now);
        self.checker.client_invoked(client_id, seq, &command);
        let target = self.random_target(None);
        let outstanding = Outstanding { op, seq, command, target, sent_at: self.now, attempts: 1 };
        let request = outstanding.request(client_id);
        self.clients[index].outstanding = Some(outstanding);
        self.send_request(target, request);
    }

    /// A node for a client to ask: any, or (`other_than`) another than the one it asked last. Only machines that may
    /// still run: a retired node (issue 20) answers no one. With every machine active the draws are those of
    /// before issue 20, so earlier seeds replay the same.
    fn random_target(&mut self, other_than: Option<NodeId>) -> NodeId {
        let active: Vec<NodeId> = self.active_nodes().collect();
        let count = active.len() as u64;
        match other_than {
            None => active[self.rng.between(1, count) as usize - 1],
            Some(last) => {
                let shift = if count > 1 { self.rng.between(1, count - 1) } else { 0 };
                let from = active.iter().position(|id| *id == last).unwrap_or(0) as u64;
                active[((from + shift) % count) as usize]
            }
        }
    }

    /// Sends the same (client, seq) again, to another node.
    fn retry(&mut self, index: usize, mut outstanding: Outstanding) {
        outstanding.target = self.random_target(Some(outstanding.target));
        outstanding.attempts += 1;
        outstanding.sent_at = self.now;
        let request = outstanding.request(self.clients[index].id);
        let target = outstanding.target;
        self.clients[index].outstanding = Some(outstanding);
        self.send_request(target, request);
    }

    pub(super) fn send_request(&mut self, target: NodeId, request: Request<KvCommand>) {
        let Request { client, seq, ref command } = request;
        let event = || TraceEvent::Invoked { client, seq, at: target, command: command.to_string() };
        self.trace.record_with(self.now, event);
        let index = target as usize - 1;
        if self.machines[index].paused {
            return; // Lost: the client will time out.
        }
        let Some(node) = Rc::make_mut(&mut self.machines[index]).node.as_deref_mut() else { return };
        if let crate::paxos::ProposeOutcome::ReadLocally { .. } = node.propose(request) {
            self.reads_answered_locally += 1;
        }
        self.settle(index);
    }

    fn on_reply(&mut self, from: NodeId, reply: Reply<KvOutput>) {
        if let Some(number) = step_client_number(reply.client) {
            self.step_client_reply(number, reply);
            return;
        }
        let client = if reply.client == VISITOR {
            &self.visitor
        } else {
            match self.clients.get(reply.client as usize - 1) {
                Some(client) => client,
                None => return,
            }
        };
        if client.outstanding.as_ref().is_none_or(|outstanding| outstanding.seq != reply.seq) {
            return; // A late answer to an operation the client already finished or gave up on.
        }
        let result = match &reply.result {
            Ok((slot, output)) => format!("slot {slot}: {output}"),
            Err(rejection) => rejection.to_string(),
        };
        self.trace.record(self.now, TraceEvent::Answered { client: reply.client, seq: reply.seq, result });
        if reply.client == VISITOR {
            self.visitor_reply(from, reply);
            return;
        }
        let client = &mut self.clients[reply.client as usize - 1];
        let Some(outstanding) = client.outstanding.as_mut().filter(|outstanding| outstanding.seq == reply.seq) else {
            return; // A late answer to an operation the client already finished or gave up on.
        };
        match reply.result {
            Ok((_, output)) => {
                self.history.complete(outstanding.op, output, self.now);
                client.outstanding = None;
            }
            Err(Rejection::Invalid(_)) => {
                self.history.fail(outstanding.op, self.now);
                client.outstanding = None;
            }
            // Not proposed: retry at the next tick (the timeout check sees an expired wait).
            Err(Rejection::NotLeader { .. } | Rejection::Overloaded) => {
                outstanding.sent_at = self.now.saturating_sub(self.config.workload.timeout_ticks) + 1;
            }
        }
    }

    // ----- The end -----

    /// After healing: done when no operation is pending and every node caught up; a liveness violation when
    /// that takes longer than `heal_ticks`.
    fn check_healed(&mut self, since: u64) {
        let pending: Vec<String> = self
            .clients
            .iter()
            .chain(std::iter::once(&self.visitor))
            .chain(self.step_clients.iter())
            .filter_map(|client| {
                client.outstanding.as_ref().map(|o| format!("client {} #{}: {}", client.id, o.seq, o.command))
            })
            .collect();
        let nodes: Vec<&KvNode> = self.running_nodes().collect();
        let highest = nodes.iter().map(|node| node.applied_upto()).max().unwrap_or(0);
        let leaders = nodes.iter().filter(|node| node.role() == RoleKind::Leader).count();
        let converged = nodes.iter().all(|node| node.applied_upto() == highest) && leaders == 1;
        let pending: Vec<String> = match &self.reconfiguration {
            Some(change) => pending.into_iter().chain([format!("the change to {}", change.target)]).collect(),
            None => pending,
        };
        if pending.is_empty() && converged {
            self.finish();
            return;
        }
        if self.now - since < self.config.heal_ticks {
            return;
        }
        let (invariant, detail) = if pending.is_empty() {
            let applied: Vec<String> =
                nodes.iter().map(|node| format!("node {}: {}", node.id(), node.applied_upto())).collect();
            (names::REPLICAS_CONVERGE, format!("{leaders} leaders; applied slots {}", applied.join(", ")))
        } else {
            (
                names::OPS_COMPLETE,
                format!("still pending {} ticks after healing: {}", self.config.heal_ticks, pending.join("; ")),
            )
        };
        self.report(ViolationClass::Liveness, invariant, detail);
        self.finish();
    }

    fn report(&mut self, class: ViolationClass, invariant: &str, detail: String) {
        let violation = Violation {
            class,
            invariant: invariant.into(),
            slot: None,
            nodes: vec![],
            values: vec![],
            detail,
            step: self.trace.len(),
            tick: self.now,
        };
        self.checker.report(violation);
    }

    /// Ends the run: the checker's final checks and the linearizability of the clients' history.
    fn finish(&mut self) {
        self.phase = Phase::Done;
        self.checker.finish();
        let quick = CheckOptions { shrink_explanation: false, ..CheckOptions::default() };
        match check_with(&self.history, &quick) {
            CheckOutcome::Linearizable => {}
            CheckOutcome::Unknown { key, steps } => {
                // Too hard to decide within the budget: no evidence of a bug, but not a pass either; say so.
                self.undecided = Some(format!("undecided after {steps} search steps on key {key:?}"));
            }
            CheckOutcome::NotLinearizable { .. } => {
                let explained = crate::check::check(&self.history);
                self.report(ViolationClass::Linearizability, names::LINEARIZABLE, explained.to_string());
            }
        }
    }
}
