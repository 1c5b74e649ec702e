//! What a simulated run looks like: cluster size, faults, workload. Rates are in parts per million so every
//! random decision is an integer comparison (no floats: the same seed gives the same run in Wasm).

use serde::{Deserialize, Serialize};

use crate::paxos::{Bug, BugSet, ReadLevel};

/// Random faults, drawn from the seeded RNG.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultConfig {
    /// Chance that a message is lost.
    pub drop_ppm: u32,
    /// Chance that a message is delivered twice.
    pub duplicate_ppm: u32,
    /// Network delay in ticks, uniform in `delay_min..=delay_max` (different delays reorder messages).
    pub delay_min: u64,
    pub delay_max: u64,
    /// Chance per tick that a partition starts (when none is active).
    pub partition_ppm: u32,
    /// How long a partition lasts, in ticks.
    pub partition_ticks: u64,
    /// Chance per tick, per live node, that it crashes (at most a minority is down at once).
    pub crash_ppm: u32,
    /// How long a crashed node stays down, in ticks.
    pub down_ticks: u64,
    /// A write becomes durable 0..=storage_delay_max ticks after it was issued.
    pub storage_delay_max: u64,
    /// Of the partitions that start, the share (per million) that cut the current leader off from everyone else
    /// rather than split the nodes in two groups at random.
    pub leader_partition_ppm: u32,
    /// Of the other partitions, the share (per million) that are asymmetric: each directed link fails on its own,
    /// one in three, so A may hear B while B does not hear A, and no two nodes need see the same majority.
    pub asymmetric_partition_ppm: u32,
    /// Of the partitions into two groups (the leader's included), the share (per million) that cut one way only:
    /// one group hears the other but is not heard by it.
    pub one_way_partition_ppm: u32,
    /// Chance per tick that one random directed link fails for `link_ticks` ticks: A hears B, B does not hear A.
    pub one_way_link_ppm: u32,
    /// Chance per tick that one random link starts flapping for `link_ticks` ticks: down and up, both ways, every
    /// `1..=4` ticks (chosen when it starts).
    pub flapping_link_ppm: u32,
    /// How long a one-way link failure or a flapping link lasts, in ticks.
    pub link_ticks: u64,
    /// Chance that a message is held back and delivered 100..=late_ticks_max ticks late, long after every
    /// timeout has fired.
    pub late_ppm: u32,
    pub late_ticks_max: u64,
    /// Chance, per write batch that reaches the disk, that its node crashes right then: the batch is durable but
    /// the node never learns it, so the messages that waited for it never leave.
    pub mid_write_crash_ppm: u32,
}

/// Late messages arrive at least this many ticks late: after every election, retry and client timeout.
pub const LATE_TICKS_MIN: u64 = 100;

impl FaultConfig {
    /// No faults at all, one-tick network delay, instant storage.
    pub fn none() -> FaultConfig {
        FaultConfig {
            drop_ppm: 0,
            duplicate_ppm: 0,
            delay_min: 1,
            delay_max: 1,
            partition_ppm: 0,
            partition_ticks: 0,
            crash_ppm: 0,
            down_ticks: 0,
            storage_delay_max: 0,
            leader_partition_ppm: 0,
            asymmetric_partition_ppm: 0,
            one_way_partition_ppm: 0,
            one_way_link_ppm: 0,
            flapping_link_ppm: 0,
            link_ticks: 0,
            late_ppm: 0,
            late_ticks_max: 0,
            mid_write_crash_ppm: 0,
        }
    }

    /// The fuzzer's mix until issue 15 (`synod fuzz --faults classic`): up to 30% loss, duplicates, reordering,
    /// symmetric partitions of random halves, crashes, slow disks.
    pub fn fuzz_classic() -> FaultConfig {
        FaultConfig {
            drop_ppm: 100_000,
            duplicate_ppm: 30_000,
            delay_min: 1,
            delay_max: 6,
            partition_ppm: 15_000,
            partition_ticks: 40,
            crash_ppm: 6_000,
            down_ticks: 30,
            storage_delay_max: 3,
            ..FaultConfig::none()
        }
    }

    /// The fuzzer's default mix: the classic one, plus partitions that isolate the leader, cut one way or cut
    /// random directed links, one-way and flapping links, messages hundreds of ticks late, and crashes between a
    /// write landing and its acknowledgement. A node that is heard but cannot hear, the root of issue 15's holes,
    /// is common here.
    pub fn fuzz() -> FaultConfig {
        FaultConfig {
            leader_partition_ppm: 250_000,
            asymmetric_partition_ppm: 400_000,
            one_way_partition_ppm: 500_000,
            one_way_link_ppm: 10_000,
            flapping_link_ppm: 5_000,
            link_ticks: 40,
            late_ppm: 2_000,
            late_ticks_max: 300,
            mid_write_crash_ppm: 2_000,
            ..FaultConfig::fuzz_classic()
        }
    }
}

/// Every field of a [`FaultConfig`], by name, in the order [`FaultConfig::numbers`] gives them: the order a share
/// URL writes them in; a scenario's `faults` words name them too (`scenario::FAULT_WORDS`).
pub const FAULT_FIELDS: [&str; 18] = [
    "drop_ppm",
    "duplicate_ppm",
    "delay_min",
    "delay_max",
    "partition_ppm",
    "partition_ticks",
    "crash_ppm",
    "down_ticks",
    "storage_delay_max",
    "leader_partition_ppm",
    "asymmetric_partition_ppm",
    "one_way_partition_ppm",
    "one_way_link_ppm",
    "flapping_link_ppm",
    "link_ticks",
    "late_ppm",
    "late_ticks_max",
    "mid_write_crash_ppm",
];

/// Fields the first share links carried (the first nine of [`FAULT_FIELDS`]); the others default to zero.
pub const FAULT_FIELDS_V1: usize = 9;

impl FaultConfig {
    /// Every field as a number, in the order of [`FAULT_FIELDS`]. Destructured in full, so a field added to
    /// the rates does not compile until share links and the trace hash (both built on this) carry it too.
    pub fn numbers(&self) -> [u64; 18] {
        let FaultConfig {
            drop_ppm,
            duplicate_ppm,
            delay_min,
            delay_max,
            partition_ppm,
            partition_ticks,
            crash_ppm,
            down_ticks,
            storage_delay_max,
            leader_partition_ppm,
            asymmetric_partition_ppm,
            one_way_partition_ppm,
            one_way_link_ppm,
            flapping_link_ppm,
            link_ticks,
            late_ppm,
            late_ticks_max,
            mid_write_crash_ppm,
        } = *self;
        [
            drop_ppm.into(),
            duplicate_ppm.into(),
            delay_min,
            delay_max,
            partition_ppm.into(),
            partition_ticks,
            crash_ppm.into(),
            down_ticks,
            storage_delay_max,
            leader_partition_ppm.into(),
            asymmetric_partition_ppm.into(),
            one_way_partition_ppm.into(),
            one_way_link_ppm.into(),
            flapping_link_ppm.into(),
            link_ticks,
            late_ppm.into(),
            late_ticks_max,
            mid_write_crash_ppm.into(),
        ]
    }

    /// The inverse of [`FaultConfig::numbers`]: the first [`FAULT_FIELDS_V1`] or all of the fields (a link from
    /// before the widened faults leaves the new ones at zero). `None` if the count is neither or a rate does not
    /// fit its field.
    pub fn from_numbers(numbers: &[u64]) -> Option<FaultConfig> {
        if numbers.len() != FAULT_FIELDS_V1 && numbers.len() != FAULT_FIELDS.len() {
            return None;
        }
        let mut all = [0u64; 18];
        all[..numbers.len()].copy_from_slice(numbers);
        let [drop, duplicate, delay_min, delay_max, partition, partition_ticks, crash, down_ticks, storage, leader_partition, asymmetric_partition, one_way_partition, one_way_link, flapping_link, link_ticks, late, late_ticks_max, mid_write_crash] =
            all;
        let rate = |value: u64| u32::try_from(value).ok();
        Some(FaultConfig {
            drop_ppm: rate(drop)?,
            duplicate_ppm: rate(duplicate)?,
            delay_min,
            delay_max,
            partition_ppm: rate(partition)?,
            partition_ticks,
            crash_ppm: rate(crash)?,
            down_ticks,
            storage_delay_max: storage,
            leader_partition_ppm: rate(leader_partition)?,
            asymmetric_partition_ppm: rate(asymmetric_partition)?,
            one_way_partition_ppm: rate(one_way_partition)?,
            one_way_link_ppm: rate(one_way_link)?,
            flapping_link_ppm: rate(flapping_link)?,
            link_ticks,
            late_ppm: rate(late)?,
            late_ticks_max,
            mid_write_crash_ppm: rate(mid_write_crash)?,
        })
    }

    /// The same delays and disk speed with every random fault switched off: what the network becomes once a
    /// fuzz run heals.
    pub fn healed(&self) -> FaultConfig {
        FaultConfig {
            delay_min: self.delay_min,
            delay_max: self.delay_max,
            storage_delay_max: self.storage_delay_max,
            ..FaultConfig::none()
        }
    }
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig::none()
    }
}

/// The clients and what they do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkloadConfig {
    pub clients: u64,
    /// Operations the clients invoke in all.
    pub ops: u64,
    /// Keys `k0..k{keys-1}`.
    pub keys: u64,
    /// Relative weights of get, put, delete, append, cas.
    pub mix: [u32; 5],
    /// Chance per tick that an idle client invokes its next operation.
    pub invoke_ppm: u32,
    /// A client waits this long for a reply before it retries at another node.
    pub timeout_ticks: u64,
    /// After this many attempts a client gives up; the operation is indeterminate.
    pub attempts_max: u32,
    /// The level of the clients' gets and scans (issue 18); `Lease` also turns read leases on in the nodes.
    pub reads: ReadLevel,
    /// Relative weight of scans beside `mix`. At 0 the clients draw exactly as they did before scans existed, so
    /// a seed's run without scans has not changed.
    pub scans: u32,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            clients: 4,
            ops: 200,
            keys: 3,
            mix: [30, 30, 10, 20, 10],
            invoke_ppm: 300_000,
            timeout_ticks: 25,
            attempts_max: 4,
            reads: ReadLevel::Log,
            scans: 0,
        }
    }
}

/// The clock drift `synod fuzz` runs with unless told otherwise: each node's clock within ±10% of real time.
pub const FUZZ_DRIFT_PPM: u32 = 100_000;
/// The drift `--bug lease-ignores-drift` runs with: large enough that a lease which ignores it outlives the
/// followers' promises by a dozen ticks.
pub const LEASE_BUG_DRIFT_PPM: u32 = 450_000;

/// Ticks the playground runs at most (its fault phase never ends on its own).
pub const PLAYGROUND_TICKS_MAX: u64 = 1_000_000_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SimConfig {
    pub nodes: usize,
    pub bugs: BugSet,
    /// Take a snapshot every this many applied slots (0: never).
    pub snapshot_interval: u64,
    pub faults: FaultConfig,
    pub workload: WorkloadConfig,
    /// Ticks with faults; then the network heals, every node restarts, and clients finish.
    pub fault_ticks: u64,
    /// Liveness bound: after healing, every pending operation must complete within this many ticks.
    pub heal_ticks: u64,
    /// The nodes' timers.
    pub timing: Timing,
    /// Clock drift (issue 18): each node's clock runs at a fixed rate, drawn per seed within `1 ± drift_ppm / 10^6`
    /// ticks per simulator tick, and the nodes assume this bound for their read leases. 0: every clock exact.
    pub drift_ppm: u32,
    /// The read lease's length when the clients read at `lease` (see `lease_ticks()`); 0: twice the election
    /// timeout.
    pub lease_ticks: u64,
    /// Random membership changes in the fault phase (`synod fuzz --reconfig`, `sim/membership.rs`).
    pub reconfig: bool,
    /// The nodes' pipeline window, which is also α, how many slots after its own a reconfiguration governs
    /// (`paxos::membership`).
    pub pipeline_window: u64,
}

/// The nodes' timers, in ticks (see `paxos::Config`). The model checker shortens them, so that an election takes
/// a few of its explicit ticks rather than dozens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Timing {
    pub heartbeat_ticks: u64,
    pub election_timeout_ticks: u64,
    pub retry_ticks: u64,
}

impl Default for Timing {
    fn default() -> Self {
        let defaults = crate::paxos::Config::cluster(1, 1);
        Timing {
            heartbeat_ticks: defaults.heartbeat_ticks,
            election_timeout_ticks: defaults.election_timeout_ticks,
            retry_ticks: defaults.retry_ticks,
        }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            nodes: 5,
            bugs: BugSet::NONE,
            snapshot_interval: 0,
            faults: FaultConfig::none(),
            workload: WorkloadConfig::default(),
            fault_ticks: 600,
            heal_ticks: 400,
            timing: Timing::default(),
            drift_ppm: 0,
            lease_ticks: 0,
            reconfig: false,
            pipeline_window: crate::paxos::Config::cluster(1, 1).pipeline_window,
        }
    }
}

impl SimConfig {
    /// The fuzzer's configuration for `nodes` nodes: faults on, small snapshots so compaction is exercised.
    pub fn fuzz(nodes: usize) -> SimConfig {
        SimConfig {
            nodes,
            snapshot_interval: 16,
            faults: FaultConfig::fuzz(),
            // Enough clients and time for all 200 operations to be invoked despite the faults.
            // Five keys keep each key's history small enough to check exhaustively.
            workload: WorkloadConfig { clients: 8, keys: 5, ..WorkloadConfig::default() },
            fault_ticks: 1_200,
            ..SimConfig::default()
        }
    }

    /// The fuzzer's configuration with `bugs` planted: `fuzz`, plus what each planted bug needs to show itself
    /// often (`synod fuzz --bug NAME` turns it on). `commit-foreign-chosen` needs a leader that keeps hearing a
    /// majority while that majority moves on to a higher ballot without it, and then hears of the new ballot only
    /// through catch-up: frequent, long asymmetric partitions (each directed link cut on its own) make that
    /// common. `lease-ignores-drift` needs lease reads, large drift, and a leader cut off for long (see
    /// `lease_bug_mix`). The correct protocol passes these mixes too (`tests/sim_bugs.rs`).
    pub fn fuzz_with_bugs(nodes: usize, bugs: BugSet) -> SimConfig {
        let mut config = SimConfig { bugs, ..SimConfig::fuzz(nodes) };
        if bugs.contains(Bug::CommitForeignChosen) {
            config.faults = FaultConfig {
                partition_ppm: 40_000,
                partition_ticks: 60,
                asymmetric_partition_ppm: 1_000_000,
                ..config.faults
            };
        }
        if bugs.contains(Bug::LeaseIgnoresDrift) {
            config.lease_bug_mix();
        }
        // The bug lives in membership changes: it needs some.
        config.reconfig |= bugs.contains(Bug::ReconfigWithoutOverlap);
        config
    }

    /// What `lease-ignores-drift` needs: lease reads, clocks drifting by up to 45%, and the leader often cut off
    /// (both ways: a one-way cut lets it hear the new ballot and step down) for long. The old leader's lease,
    /// taken for its full length on a slow clock, then outlives the promises the followers made on fast clocks,
    /// and a new leader is elected and writes before the old one stops answering reads. The lease is as long as the
    /// election timeout, which is long (48 ticks) so that these windows are wide compared with message delays.
    /// Crashes are off: a restarted node waits a whole lease before it promises, which would hide the window.
    /// Most operations are reads, on two keys, so that one lands at the old leader in the window.
    fn lease_bug_mix(&mut self) {
        self.workload.reads = ReadLevel::Lease;
        self.drift_ppm = self.drift_ppm.max(LEASE_BUG_DRIFT_PPM);
        self.timing = Timing { heartbeat_ticks: 2, election_timeout_ticks: 48, retry_ticks: 3 };
        self.lease_ticks = 48;
        self.workload.mix = [60, 30, 0, 10, 0];
        self.workload.keys = 2;
        self.faults.leader_partition_ppm = 1_000_000;
        self.faults.partition_ticks = 120;
        self.faults.one_way_partition_ppm = 0;
        self.faults.crash_ppm = 0;
        self.faults.mid_write_crash_ppm = 0;
    }

    /// `synod fuzz`'s configuration: `fuzz_with_bugs`, the clients' reads at `reads` and clocks drifting by up to
    /// `drift_ppm`, unless a planted bug's mix sets them (`lease-ignores-drift` reads at `lease`, and drifts at
    /// least `LEASE_BUG_DRIFT_PPM`).
    pub fn fuzz_reads(nodes: usize, bugs: BugSet, reads: ReadLevel, drift_ppm: u32) -> SimConfig {
        let mut config = SimConfig::fuzz_with_bugs(nodes, bugs);
        if !bugs.contains(Bug::LeaseIgnoresDrift) {
            config.workload.reads = reads;
        }
        config.drift_ppm = config.drift_ppm.max(drift_ppm);
        config
    }

    /// Ticks of a read lease on the nodes when the clients read at `lease` (`lease_ticks`, by default twice the
    /// election timeout: long enough to outlast a heartbeat's round trip under the fuzzer's delays), else 0 (off).
    pub fn lease_ticks(&self) -> u64 {
        if self.workload.reads == ReadLevel::Lease {
            if self.lease_ticks > 0 {
                self.lease_ticks
            } else {
                2 * self.timing.election_timeout_ticks
            }
        } else {
            0
        }
    }

    /// The playground's configuration (the browser app, its share URLs and scenarios): `clients` background
    /// clients issuing random operations forever, messages that take 1 to 3 ticks (long enough to watch them
    /// travel, and they overtake each other), no random faults and a fault phase that never ends.
    pub fn playground(nodes: usize, bugs: BugSet, clients: u64, snapshot_interval: u64) -> SimConfig {
        SimConfig {
            nodes,
            bugs,
            snapshot_interval,
            workload: WorkloadConfig {
                clients,
                ops: PLAYGROUND_TICKS_MAX,
                invoke_ppm: 60_000,
                timeout_ticks: 40,
                ..WorkloadConfig::default()
            },
            faults: FaultConfig { delay_min: 1, delay_max: 3, ..FaultConfig::none() },
            fault_ticks: PLAYGROUND_TICKS_MAX,
            ..SimConfig::default()
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(1..=9).contains(&self.nodes) {
            return Err(format!("nodes: a simulated cluster has 1 to 9 nodes, not {}", self.nodes));
        }
        if self.pipeline_window == 0 {
            return Err("pipeline_window: a leader needs room for at least one slot".into());
        }
        let Timing { heartbeat_ticks, election_timeout_ticks, retry_ticks } = self.timing;
        if heartbeat_ticks == 0 || retry_ticks == 0 || election_timeout_ticks <= heartbeat_ticks {
            return Err(format!(
                "timing: need heartbeat and retry ticks of at least 1 and an election timeout above the heartbeat, \
                 not {heartbeat_ticks}, {retry_ticks} and {election_timeout_ticks}"
            ));
        }
        let faults = &self.faults;
        for (name, ppm) in [
            ("faults.drop_ppm", faults.drop_ppm),
            ("faults.duplicate_ppm", faults.duplicate_ppm),
            ("faults.partition_ppm", faults.partition_ppm),
            ("faults.crash_ppm", faults.crash_ppm),
            ("faults.leader_partition_ppm", faults.leader_partition_ppm),
            ("faults.asymmetric_partition_ppm", faults.asymmetric_partition_ppm),
            ("faults.one_way_partition_ppm", faults.one_way_partition_ppm),
            ("faults.one_way_link_ppm", faults.one_way_link_ppm),
            ("faults.flapping_link_ppm", faults.flapping_link_ppm),
            ("faults.late_ppm", faults.late_ppm),
            ("faults.mid_write_crash_ppm", faults.mid_write_crash_ppm),
            ("workload.invoke_ppm", self.workload.invoke_ppm),
        ] {
            if ppm > 1_000_000 {
                return Err(format!("{name}: a rate is at most 1000000 parts per million, not {ppm}"));
            }
        }
        if faults.delay_min == 0 || faults.delay_min > faults.delay_max {
            return Err(format!(
                "faults.delay_min..delay_max: need 1 <= min <= max, not {}..{}",
                faults.delay_min, faults.delay_max
            ));
        }
        if faults.late_ppm > 0 && faults.late_ticks_max < LATE_TICKS_MIN {
            return Err(format!(
                "faults.late_ticks_max: late messages arrive {LATE_TICKS_MIN} to late_ticks_max ticks late, so it is at \
                 least {LATE_TICKS_MIN}, not {}",
                faults.late_ticks_max
            ));
        }
        if self.drift_ppm >= 500_000 {
            return Err(format!(
                "drift_ppm: clocks drift by less than 500000 parts per million, not {}",
                self.drift_ppm
            ));
        }
        if self.workload.mix.iter().all(|weight| *weight == 0) && self.workload.scans == 0 {
            return Err("workload.mix: at least one operation needs a positive weight".into());
        }
        if self.workload.keys == 0 || self.workload.timeout_ticks == 0 || self.workload.attempts_max == 0 {
            return Err("workload.keys, timeout_ticks and attempts_max must be at least 1".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_numbers_round_trip_and_an_oversized_rate_is_refused() {
        let faults = FaultConfig { storage_delay_max: 7, ..FaultConfig::fuzz() };
        assert_eq!(FaultConfig::from_numbers(&faults.numbers()), Some(faults.clone()));
        let mut numbers = faults.numbers();
        numbers[0] = u64::from(u32::MAX) + 1;
        assert_eq!(FaultConfig::from_numbers(&numbers), None);
        numbers[0] = 1;
        numbers[17] = u64::from(u32::MAX) + 1;
        assert_eq!(FaultConfig::from_numbers(&numbers), None, "the last field is read and checked too");
    }

    #[test]
    fn the_nine_numbers_of_older_links_leave_the_widened_faults_off() {
        let classic = FaultConfig::fuzz_classic();
        let older = &classic.numbers()[..FAULT_FIELDS_V1];
        assert_eq!(FaultConfig::from_numbers(older), Some(classic));
        assert_eq!(FaultConfig::from_numbers(&[1; 10]), None, "neither the old count nor the new one");
    }
}
