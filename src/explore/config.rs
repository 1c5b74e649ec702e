//! What the explorer explores: the cluster it starts from and the bounds on each kind of event.

use serde::{Deserialize, Serialize};

use crate::kv::KvCommand;
use crate::paxos::{Bug, BugSet, RoleKind};
use crate::sim::link::RunSetup;
use crate::sim::{ScheduledAction, Sim, SimConfig, Timing, UserAction};

/// The explored cluster's pipeline window, which is also the α of membership changes.
pub const ALPHA: u64 = 4;

/// The seed of the warm-up run (the only randomness: once stepping starts, nothing is drawn).
pub const EXPLORE_SEED: u64 = 1;

/// The operations the step clients send, client N the Nth (cycling): appends, so that applying one twice shows,
/// and reads, so that a stale or lost write shows in the history.
pub const OPS: [(&str, &str); 4] = [("append", "a"), ("get", ""), ("append", "b"), ("get", "")];

/// How many events of each kind a path may hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounds {
    pub nodes: usize,
    /// Client requests (each from its own step client).
    pub ops: u8,
    /// Crashes (a restart is free, once its node is down).
    pub crashes: u8,
    pub drops: u8,
    pub dups: u8,
    /// Node ticks, all nodes together.
    pub ticks: u8,
    /// Requests sent again (the same client and sequence number, to any node).
    pub retries: u8,
    /// Messages in flight at once: a state with more is not explored (as TLC's state constraints do). Every
    /// tick sends a heartbeat to each peer, so without it the messages of a few ticks multiply the states.
    pub messages: u8,
    /// Events on a path.
    pub depth: u32,
    /// Membership changes (issue 20): a node added, an added node removed, or an original node replaced by a new
    /// one. Each waits for the last to take effect.
    #[serde(default)]
    pub reconfigs: u8,
}

/// The default bounds: three nodes, one client request, one crash, four node ticks (enough for a follower to time
/// out and campaign), two messages in flight, paths of up to 40 events, with a snapshot after every slot. The
/// space (255,268 states) is exhausted in about 10 s on one core, and it holds the paths that
/// minority-quorum, snapshot-off-by-one, send-before-persist, ignore-accepted-in-phase1 and accept-below-promise
/// need. A retry is not in it: with one, the space grows past five million states; `--bug apply-retry-twice`
/// adds a second request and a retry, `--bug forget-promise-on-restart` a third message in flight
/// (BENCHMARKS.md has what each bug needs).
impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            nodes: 3,
            ops: 1,
            crashes: 1,
            drops: 0,
            dups: 0,
            ticks: 4,
            retries: 0,
            messages: 2,
            depth: 40,
            reconfigs: 0,
        }
    }
}

/// One part of a search split by its first events (`--shard i/n`): shard `index` of `count` takes the first
/// events whose position in the start state's event list is `index` modulo `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Shard, String> {
        let bad = || format!("expected a shard as INDEX/COUNT with 0 <= INDEX < COUNT, such as 0/4, not {text:?}");
        let (index, count) = text.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) = (index.parse().map_err(|_| bad())?, count.parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExploreConfig {
    pub bounds: Bounds,
    pub bugs: BugSet,
    /// Snapshot every this many applied slots (0: never).
    pub snapshot_interval: u64,
    /// Depth-first instead of breadth-first.
    pub dfs: bool,
    pub shard: Option<Shard>,
    /// Stop after this many unique states (the report then says the space was not exhausted).
    pub states_max: u64,
    /// States the breadth-first queue holds whole; beyond it, a state waits as its fingerprint and is rebuilt
    /// from its path when its turn comes (slower, but a few dozen bytes instead of a few kilobytes).
    pub held_states_max: usize,
    /// Skip orders of events that commute (the partial-order reduction of `reduction`, breadth-first only): the
    /// same states, far fewer events computed. Off only to compare.
    #[serde(default = "sleep_sets_by_default")]
    pub sleep_sets: bool,
}

fn sleep_sets_by_default() -> bool {
    true
}

/// Snapshot after every applied slot by default: snapshots, compaction and catch-up by snapshot are then on
/// every path, and a snapshot compares the node's store with the reference replica's, which catches a request
/// applied twice without a later read.
pub const SNAPSHOT_INTERVAL: u64 = 1;

/// States held whole by default: about 11 MB at the 11 kB a held 3-node cluster takes. Rebuilding the others
/// costs little (a path is a few dozen steps) and was no slower than holding ten times as many: the default
/// bounds' 255,268 states then take about 90 MB.
pub const HELD_STATES_MAX: usize = 1_000;

impl ExploreConfig {
    /// The bounds and modes `bugs` need to show themselves: a second request and a retry for a request applied
    /// twice, a third message in flight for a forgotten promise, a snapshot every slot for a snapshot that claims
    /// a slot too many.
    pub fn new(bounds: Bounds, bugs: BugSet) -> ExploreConfig {
        let mut config = ExploreConfig {
            bounds,
            bugs,
            snapshot_interval: SNAPSHOT_INTERVAL,
            dfs: false,
            shard: None,
            states_max: u64::MAX,
            held_states_max: HELD_STATES_MAX,
            sleep_sets: true,
        };
        if bugs.contains(Bug::ApplyRetryTwice) {
            // A request applied twice shows only to a later read: the append, its retry, then a get.
            config.bounds.ops = config.bounds.ops.max(2);
            config.bounds.retries = config.bounds.retries.max(1);
        }
        if bugs.contains(Bug::ForgetPromiseOnRestart) {
            // A forgotten promise shows when a candidate's prepares and the old leader's accepts are in flight
            // together: three messages.
            config.bounds.messages = config.bounds.messages.max(3);
        }
        if bugs.contains(Bug::SnapshotOffByOne) {
            config.snapshot_interval = 1;
        }
        if bugs.contains(Bug::ReconfigWithoutOverlap) {
            // A node replaced by a new one: old and new quorums can then be disjoint. The new node's heartbeat
            // and the leader's accepts go to three nodes at once, so four messages in flight.
            config.bounds.reconfigs = config.bounds.reconfigs.max(1);
            config.bounds.messages = config.bounds.messages.max(4);
        }
        config
    }

    pub fn validate(&self) -> Result<(), String> {
        let bounds = &self.bounds;
        if !(1..=5).contains(&bounds.nodes) {
            return Err(format!("nodes: the explorer checks clusters of 1 to 5 nodes, not {}", bounds.nodes));
        }
        if usize::from(bounds.ops) > 8 {
            return Err(format!("ops: at most 8 client requests, not {}", bounds.ops));
        }
        if bounds.depth == 0 {
            return Err("depth: a path needs at least one event".into());
        }
        self.sim_config().validate()
    }

    /// The simulated cluster: the playground's, without background clients, with timers short enough that an
    /// election takes a few ticks (a heartbeat every tick, a peer presumed down after three silent ones).
    pub fn sim_config(&self) -> SimConfig {
        let mut config = SimConfig::playground(self.bounds.nodes, self.bugs, 0, self.snapshot_interval);
        config.timing = Timing { heartbeat_ticks: 1, election_timeout_ticks: 3, retry_ticks: 2 };
        // α (`paxos::membership`): a change takes effect four slots after its own, so the leader pads three no-ops
        // rather than sixty-three. The explorer's paths hold two client requests at most.
        config.pipeline_window = ALPHA;
        config
    }

    /// The setup of the warm-up's run, as a playground link carries it (one planted bug: the first).
    pub fn run_setup(&self) -> RunSetup {
        let sim = self.sim_config();
        RunSetup {
            nodes: sim.nodes,
            seed: EXPLORE_SEED,
            bug: self.bugs.iter().next(),
            clients: 0,
            snapshot_interval: sim.snapshot_interval,
            timing: sim.timing,
        }
    }

    /// The command step client `number` (from 1) sends.
    pub fn command(number: u8) -> KvCommand {
        let (op, value) = OPS[(usize::from(number) + OPS.len() - 1) % OPS.len()];
        match op {
            "append" => KvCommand::Append { key: "x".into(), value: value.into() },
            _ => KvCommand::Get { key: "x".into() },
        }
    }

    /// The start state and the actions that led to it: the cluster runs until every node follows one leader,
    /// then stepping starts, and what was still in flight or volatile is delivered and made durable, in order.
    /// The explorer's paths begin from there, one event a tick.
    pub fn start(&self) -> Result<(Sim, Vec<ScheduledAction>), String> {
        let mut sim = Sim::new(self.sim_config(), EXPLORE_SEED, Vec::new(), false)?;
        while !settled(&sim) {
            if sim.now() > 200 {
                return Err(format!("the {}-node cluster elected no leader in 200 ticks", self.bounds.nodes));
            }
            sim.tick();
        }
        sim.keep_recent_events(0);
        sim.stop_hashing_trace();
        let mut actions = vec![ScheduledAction { tick: sim.now() + 1, action: UserAction::Stepping { on: true } }];
        sim.step(UserAction::Stepping { on: true });
        loop {
            let action = match sim.network().in_flight().next() {
                Some(message) => UserAction::DeliverNow { id: message.id },
                None => match (1..=self.bounds.nodes as u8).find(|node| sim.volatile_writes(*node) > 0) {
                    Some(node) => UserAction::AckWrite { node },
                    None => break,
                },
            };
            actions.push(ScheduledAction { tick: sim.now() + 1, action: action.clone() });
            sim.step(action);
        }
        // What was in flight must not have unsettled the cluster: the bounds are spent on paths from one leader.
        if !settled(&sim) {
            return Err(format!("the {}-node cluster lost its leader while the warm-up settled", self.bounds.nodes));
        }
        Ok((sim, actions))
    }
}

/// Whether exactly one node leads and every node follows it.
fn settled(sim: &Sim) -> bool {
    let nodes: Vec<_> = sim.machines().iter().filter_map(|machine| machine.node.as_ref()).collect();
    let leaders: Vec<_> = nodes.iter().filter(|node| node.role() == RoleKind::Leader).collect();
    leaders.len() == 1 && nodes.iter().all(|node| node.leader() == Some(leaders[0].id()))
}
