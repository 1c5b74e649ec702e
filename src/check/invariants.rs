//! Online safety invariants, checked by the simulator after every step it takes.
//!
//! The checker watches from outside the nodes: it sees every write batch a node issues and when it becomes
//! durable, every message a node sends, and every `Ready` a node hands out (applied commands and protocol
//! events). From that it keeps its own account of the truth and compares every node against it:
//!
//! - **One value per slot.** A value is *chosen* in a slot when a majority of its configuration durably accepted the
//!   same (ballot, value) there (counted from the write batches as they become durable, with a real majority
//!   whatever quorum a planted bug makes the nodes use). Two chosen values for one slot break Paxos.
//! - **Learned values agree**, with each other and with the chosen value: what a node *believes* is chosen.
//! - **Chosen values were proposed**: a no-op, or requests some client invoked.
//! - **Applied sequences agree**: every node applies the same requests in the same slot order (a snapshot
//!   install or a restart may skip ahead), and every snapshot a node takes or installs holds the state of the
//!   reference replica at that slot.
//! - **Durable state never goes backwards**, and an acceptor never durably accepts below its durable promise.
//! - **Persist before send**: a promise or an acceptance leaves a node only once its disk backs it.
//! - **Ballots and commit points** (`ballots.rs`): one value per (slot, ballot) across every accept ever sent; a
//!   node's ballots strictly increase across restarts; every commit point sent is sound.
//! - **Entries marked chosen on disk hold the chosen value**, and **every answer a client gets for a request
//!   applied through the log is what the reference replica computed for it** in that slot.
//!
//! Invariants a node checks itself (`Event::InvariantBroken`, reported only when a planted bug is on) count as
//! violations too. The simulator adds liveness, linearizability and panic violations with the same type.

mod ballots;

use std::collections::BTreeMap;
use std::hash::Hasher;

use fnv::FnvHasher;
use serde::{Deserialize, Serialize};

use crate::check::history::client_name;
use crate::kv::{KvCommand, KvOutput, KvStore};
use crate::paxos::{
    Applied, Ballot, ClientId, DurableStateOf, EnvelopeOf, Event, Members, Node, NodeId, ReadLevel, Record, Reply,
    Slot, SlotState, Value, WriteBatch,
};
use crate::shared::Shared;

pub type KvNode = Node<KvStore>;
pub type KvValue = Value<KvCommand>;
pub type KvBatch = WriteBatch<KvCommand, KvStore>;

/// Checking stops recording after this many violations (the first ones are what matter), so a badly broken
/// run cannot grow the list without bound.
pub const VIOLATIONS_MAX: usize = 64;

/// What kind of property broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ViolationClass {
    /// Something bad happened (two values chosen, a node applied the wrong command…).
    Safety,
    /// Something good did not happen in time after the faults healed.
    Liveness,
    /// The clients' history cannot be explained by any sequential order.
    Linearizability,
    /// The core panicked (a local assertion without a planted bug to excuse it).
    Panic,
}

impl ViolationClass {
    pub fn name(self) -> &'static str {
        match self {
            ViolationClass::Safety => "safety",
            ViolationClass::Liveness => "liveness",
            ViolationClass::Linearizability => "linearizability",
            ViolationClass::Panic => "panic",
        }
    }
}

/// The invariants' names, as they appear in violations, the UI and the docs.
pub mod names {
    pub const ONE_VALUE_PER_SLOT: &str = "one-value-chosen-per-slot";
    pub const LEARNED_AGREE: &str = "learned-values-agree";
    pub const CHOSEN_WAS_PROPOSED: &str = "chosen-value-was-proposed";
    pub const APPLIED_AGREE: &str = "applied-sequence-agrees";
    pub const SNAPSHOT_COVERS_APPLIED: &str = "snapshot-covers-applied-prefix";
    pub const SNAPSHOT_STATE: &str = "snapshot-state-matches-reference";
    pub const DURABLE_PROMISE_MONOTONIC: &str = "durable-promise-never-decreases";
    pub const DURABLE_CHOSEN_MONOTONIC: &str = "durable-chosen-point-never-decreases";
    pub const ACCEPT_RESPECTS_PROMISE: &str = "accept-respects-durable-promise";
    pub const PERSIST_BEFORE_SEND: &str = "persist-before-send";
    pub const ONE_VALUE_PER_BALLOT: &str = "one-value-per-slot-and-ballot";
    pub const BALLOTS_INCREASE: &str = "node-ballots-strictly-increase";
    pub const COMMIT_SOUND: &str = "commit-point-is-sound";
    pub const DURABLE_CHOSEN_VALUE: &str = "durable-chosen-entries-hold-chosen-value";
    pub const REPLIES_MATCH: &str = "replies-match-reference";
    pub const CORE_PREFIX: &str = "core:";
    pub const OPS_COMPLETE: &str = "pending-operations-complete-after-heal";
    pub const REPLICAS_CONVERGE: &str = "replicas-converge-after-heal";
    pub const LINEARIZABLE: &str = "history-is-linearizable";
    pub const NO_PANIC: &str = "core-does-not-panic";

    /// Every invariant the checker and the simulator report, `core:NAME` (a node's own assertions) aside.
    pub const ALL: [&str; 19] = [
        ONE_VALUE_PER_SLOT,
        LEARNED_AGREE,
        CHOSEN_WAS_PROPOSED,
        APPLIED_AGREE,
        SNAPSHOT_COVERS_APPLIED,
        SNAPSHOT_STATE,
        DURABLE_PROMISE_MONOTONIC,
        DURABLE_CHOSEN_MONOTONIC,
        ACCEPT_RESPECTS_PROMISE,
        PERSIST_BEFORE_SEND,
        ONE_VALUE_PER_BALLOT,
        BALLOTS_INCREASE,
        COMMIT_SOUND,
        DURABLE_CHOSEN_VALUE,
        REPLIES_MATCH,
        OPS_COMPLETE,
        REPLICAS_CONVERGE,
        LINEARIZABLE,
        NO_PANIC,
    ];
}

/// One broken invariant, with everything needed to find it again in the trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub class: ViolationClass,
    pub invariant: String,
    pub slot: Option<Slot>,
    pub nodes: Vec<NodeId>,
    /// The values in conflict (usually two), rendered for people.
    pub values: Vec<String>,
    pub detail: String,
    /// The simulator step and virtual tick at which the checker noticed.
    pub step: u64,
    pub tick: u64,
}

impl Violation {
    /// A panic in the core, caught while running `seed`, as the violation it is (the fuzzer's and the shrinker's
    /// runs report it like any other, so a crash counts and can be shrunk).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_panic(seed: u64, panic: Box<dyn std::any::Any + Send>) -> Violation {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|text| text.to_string()))
            .unwrap_or_else(|| "a panic without a message".into());
        Violation {
            class: ViolationClass::Panic,
            invariant: names::NO_PANIC.into(),
            slot: None,
            nodes: vec![],
            values: vec![],
            detail: format!("seed {seed}: {message}"),
            step: 0,
            tick: 0,
        }
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} violation `{}` at step {} (tick {})", self.class.name(), self.invariant, self.step, self.tick)?;
        if let Some(slot) = self.slot {
            write!(f, ", slot {slot}")?;
        }
        if !self.nodes.is_empty() {
            let nodes: Vec<String> = self.nodes.iter().map(|node| node.to_string()).collect();
            write!(f, ", node{} {}", if nodes.len() == 1 { "" } else { "s" }, nodes.join(" and "))?;
        }
        write!(f, ": {}", self.detail)?;
        for (index, value) in self.values.iter().enumerate() {
            write!(f, "\n    value {}: {value}", index + 1)?;
        }
        Ok(())
    }
}

/// Where the simulator is, stamped on every violation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub step: u64,
    pub tick: u64,
}

/// A value in words: `noop`, `configuration {1, 2, 4}`, `put x=1 (client 2 #5)`, or a batch of those.
pub fn describe_value(value: &KvValue) -> String {
    match value {
        Value::Noop => "noop".into(),
        Value::Reconfig(members) => format!("configuration {members}"),
        Value::Command(request) => format!("{} ({} #{})", request.command, client_name(request.client), request.seq),
        Value::Batch(requests) => {
            let parts: Vec<String> = requests
                .iter()
                .map(|request| format!("{} ({} #{})", request.command, client_name(request.client), request.seq))
                .collect();
            format!("batch [{}]", parts.join(", "))
        }
    }
}

/// A canonical digest of the key-value store's replicated state (data and sessions; not the bug flag).
/// FNV-1a over explicit little-endian bytes, so it is the same natively and in Wasm.
pub fn state_digest(store: &KvStore) -> u64 {
    fn bytes(hasher: &mut FnvHasher, data: &[u8]) {
        hasher.write(&(data.len() as u64).to_le_bytes());
        hasher.write(data);
    }
    let mut hasher = FnvHasher::default();
    hasher.write(&(store.data.len() as u64).to_le_bytes());
    for (key, value) in store.data.iter() {
        bytes(&mut hasher, key.as_bytes());
        bytes(&mut hasher, value.as_bytes());
    }
    hasher.write(&(store.sessions.len() as u64).to_le_bytes());
    for (client, session) in store.sessions.iter() {
        hasher.write(&client.to_le_bytes());
        hasher.write(&session.seq.to_le_bytes());
        match &session.output {
            KvOutput::Ok => hasher.write(&[0]),
            KvOutput::Value(None) => hasher.write(&[1]),
            KvOutput::Value(Some(value)) => {
                hasher.write(&[2]);
                bytes(&mut hasher, value.as_bytes());
            }
            KvOutput::Cas(swapped) => hasher.write(&[3, *swapped as u8]),
            KvOutput::TooLong => hasher.write(&[4]),
            KvOutput::Stale => hasher.write(&[5]),
            KvOutput::Records(records) => {
                hasher.write(&[6]);
                hasher.write(&(records.len() as u64).to_le_bytes());
                for (key, value) in records {
                    bytes(&mut hasher, key.as_bytes());
                    bytes(&mut hasher, value.as_bytes());
                }
            }
        }
    }
    hasher.finish()
}

/// Acceptors that durably accepted one value in one (slot, ballot).
#[derive(Clone, Debug)]
struct Acceptance {
    value: KvValue,
    /// Bit `id` set: node `id` accepted.
    voters: u64,
}

/// Per node: the entries it wrote (accepted or learned) but has not yet moved its chosen point past, so a
/// `Chosen { first_slot, count, ballot }` event can be resolved to its value even when a snapshot in the same step
/// compacted the slot away.
#[derive(Clone, Debug, Default)]
struct Mirror {
    entries: BTreeMap<Slot, (Ballot, KvValue)>,
}

/// Per node: how far its state machine has applied, as seen from its `Applied` outputs.
#[derive(Clone, Debug, Default)]
struct Replica {
    /// The slot the next applied request belongs to (or the one being applied, see `applied_in_slot`).
    next_slot: Slot,
    /// Requests of `next_slot` already applied (a batch value applies several).
    applied_in_slot: usize,
    durable_promised: Ballot,
    durable_chosen_upto: Slot,
}

/// A node's claim that its state machine, as of `upto`, has state `digest`; checked against the reference
/// replica once it gets that far.
#[derive(Clone, Debug)]
struct Claim {
    node: NodeId,
    digest: u64,
    how: &'static str,
    at: Position,
}

/// A state machine that applies the learned sequence slot by slot, as a correct replica would.
#[derive(Clone, Debug)]
struct Reference {
    machine: KvStore,
    /// `digests[s]`: the state after applying every slot below `s`.
    digests: Vec<u64>,
    /// What each request applied through the log returned, by (slot, client, seq): a node's answer must match.
    outputs: BTreeMap<(Slot, ClientId, u64), KvOutput>,
}

impl Reference {
    fn new(apply_retry_twice: bool) -> Self {
        let machine = KvStore { bug_apply_retry_twice: apply_retry_twice, ..KvStore::default() };
        let digests = vec![state_digest(&machine)];
        Reference { machine, digests, outputs: BTreeMap::new() }
    }

    /// The first slot not yet applied.
    fn next(&self) -> Slot {
        self.digests.len() as Slot - 1
    }
}

/// The online safety checker. The simulator feeds it; `violations()` says what broke.
///
/// Its parts are `Shared`: the model checker copies the checker with every state, and a step changes few of them.
#[derive(Clone, Debug)]
pub struct SafetyChecker {
    nodes: usize,
    /// The configuration that governs each slot from the key on, from the reconfigurations the checker itself saw
    /// chosen (issue 20): a slot is chosen by a real majority of its own configuration.
    configurations: Shared<BTreeMap<Slot, Members>>,
    /// Lamport's α: a reconfiguration chosen in slot `j` governs from `j + alpha` (the nodes' pipeline window).
    alpha: u64,
    at: Position,
    acceptances: Shared<BTreeMap<(Slot, Ballot), Vec<Acceptance>>>,
    /// The truly chosen value per slot and the ballot that first chose it.
    chosen: Shared<BTreeMap<Slot, (Ballot, KvValue)>>,
    /// The value nodes learned per slot, and the first node that learned it.
    learned: Shared<BTreeMap<Slot, (NodeId, KvValue)>>,
    proposed: Shared<BTreeMap<(ClientId, u64), KvCommand>>,
    /// Each node's mirror shared apart: a step writes one node's, and a copied cluster shares the others.
    mirrors: Shared<Vec<Shared<Mirror>>>,
    replicas: Shared<Vec<Replica>>,
    reference: Shared<Reference>,
    claims: Shared<BTreeMap<Slot, Vec<Claim>>>,
    /// Shares its own parts: most steps send a message, and few of those change what it holds.
    ballots: ballots::BallotChecks,
    /// Empty on every path the search goes on from: not `Shared`, as an empty vector costs nothing to copy.
    violations: Vec<Violation>,
}

/// What `durable_now` checks on a node's disk once a batch is applied, besides the entries the batch wrote: the
/// range its new durable chosen point covers. Handed from `batch_durable` to `durable_now` rather than kept in the
/// checker, and the batch's slots read again from the batch: the model checker copies a checker for every state it
/// computes, so a vector kept here was allocated afresh for every batch that became durable.
#[must_use = "durable_now checks the disk once the batch is applied"]
#[derive(Clone, Debug)]
pub struct DiskCheck {
    chosen_range: std::ops::Range<Slot>,
}

impl SafetyChecker {
    /// A checker for nodes `1..=nodes`. `apply_retry_twice` mirrors the planted state-machine bug in the
    /// reference replica, so that bug shows up where it belongs (in the clients' history), not here.
    pub fn new(nodes: usize, apply_retry_twice: bool) -> Self {
        assert!((1..=63).contains(&nodes), "a checked cluster has 1 to 63 nodes, not {nodes}");
        SafetyChecker {
            nodes,
            configurations: Shared::new(BTreeMap::from([(0, Members::of(1..=nodes as NodeId))])),
            alpha: crate::paxos::Config::cluster(1, 1).pipeline_window,
            at: Position::default(),
            acceptances: Shared::default(),
            chosen: Shared::default(),
            learned: Shared::default(),
            proposed: Shared::default(),
            mirrors: Shared::new(vec![Shared::default(); nodes]),
            replicas: Shared::new(vec![Replica::default(); nodes]),
            reference: Shared::new(Reference::new(apply_retry_twice)),
            claims: Shared::default(),
            ballots: ballots::BallotChecks::new(nodes),
            violations: Vec::new(),
        }
    }

    /// The nodes' α: a reconfiguration chosen in slot `j` governs from `j + alpha` (their pipeline window).
    pub fn with_alpha(mut self, alpha: u64) -> Self {
        self.alpha = alpha;
        self
    }

    /// A node joined the cluster: it takes the next id (issue 20).
    pub fn node_added(&mut self, node: NodeId) {
        assert_eq!(node as usize, self.nodes + 1, "nodes join with the next id");
        self.nodes += 1;
        self.mirrors.push(Shared::default());
        self.replicas.push(Replica::default());
        self.ballots.node_added();
    }

    /// The configuration that governs `slot`, as far as the checker has seen reconfigurations chosen.
    pub fn configuration_at(&self, slot: Slot) -> Members {
        *self.configurations.range(..=slot).next_back().expect("the initial configuration governs from 0").1
    }

    pub fn set_position(&mut self, at: Position) {
        self.at = at;
    }

    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    pub fn is_ok(&self) -> bool {
        self.violations.is_empty()
    }

    /// Slots known chosen (a majority durably accepted one value).
    pub fn chosen_slots(&self) -> usize {
        self.chosen.len()
    }

    /// The truly chosen value of `slot`, if a majority durably accepted one.
    pub fn chosen_value(&self, slot: Slot) -> Option<&KvValue> {
        self.chosen.get(&slot).map(|(_, value)| value)
    }

    /// Feeds the history the checker keeps of the run to `state`: what a majority durably chose and what nodes
    /// learned, per slot. The model checker adds it to a state's fingerprint, so that two runs that reach the same
    /// nodes by different paths are told apart when the checker would judge their futures differently.
    pub fn fingerprint<H: Hasher>(&self, state: &mut H) {
        for (slot, (_, value)) in self.chosen.iter() {
            std::hash::Hash::hash(&(slot, value), state);
        }
        state.write_u8(0xff);
        for (slot, (_, value)) in self.learned.iter() {
            std::hash::Hash::hash(&(slot, value), state);
        }
    }

    /// Records a violation found outside the checker (liveness, linearizability, a panic).
    pub fn report(&mut self, violation: Violation) {
        if self.violations.len() < VIOLATIONS_MAX {
            self.violations.push(violation);
        }
    }

    fn violate(
        &mut self,
        invariant: &str,
        slot: Option<Slot>,
        nodes: Vec<NodeId>,
        values: Vec<String>,
        detail: String,
    ) {
        let Position { step, tick } = self.at;
        let invariant = invariant.to_string();
        self.report(Violation { class: ViolationClass::Safety, invariant, slot, nodes, values, detail, step, tick });
    }

    fn report_found(&mut self, found: Vec<ballots::Found>) {
        for ballots::Found { invariant, slot, nodes, values, detail } in found {
            self.violate(invariant, slot, nodes, values, detail);
        }
    }

    /// The value a slot holds: the one a majority durably accepted, else the one nodes learned.
    fn chosen_or_learned(
        chosen: &BTreeMap<Slot, (Ballot, KvValue)>,
        learned: &BTreeMap<Slot, (NodeId, KvValue)>,
        slot: Slot,
    ) -> Option<KvValue> {
        chosen.get(&slot).map(|(_, value)| value).or_else(|| learned.get(&slot).map(|(_, value)| value)).cloned()
    }

    fn index(&self, node: NodeId) -> usize {
        let index = node as usize - 1;
        assert!(index < self.nodes, "node {node} is not in this {}-node cluster", self.nodes);
        index
    }

    // ----- Inputs from the simulator -----

    /// A client invoked (or retried) request (client, seq).
    pub fn client_invoked(&mut self, client: ClientId, seq: u64, command: &KvCommand) {
        self.proposed.insert((client, seq), command.clone());
    }

    /// Node `node` handed out a write batch (not durable yet).
    pub fn write_issued(&mut self, node: NodeId, batch: &KvBatch) {
        let index = self.index(node);
        for record in &batch.records {
            if let Record::Chosen { slot, ballot, value } = record {
                self.mirrors[index].entries.insert(*slot, (*ballot, value.clone()));
            }
            for (slot, ballot, value) in record.acceptances() {
                self.mirrors[index].entries.insert(slot, (ballot, value.clone()));
            }
        }
        let chosen = &self.chosen;
        let mut found = Vec::new();
        for (slot, ballot, value) in batch.records.iter().flat_map(Record::acceptances) {
            found.extend(
                self.ballots
                    .proposed(node, slot, ballot, value, &|slot| chosen.get(&slot).map(|(_, value)| value.clone())),
            );
        }
        self.report_found(found);
    }

    /// `batch` of node `node` is about to become durable on top of `durable`; what to check once it is, for
    /// `durable_now`.
    pub fn batch_durable(&mut self, node: NodeId, durable: &DurableStateOf<KvStore>, batch: &KvBatch) -> DiskCheck {
        let mut promised = durable.promised;
        for record in &batch.records {
            match record {
                Record::Promise(ballot) => promised = promised.max(*ballot),
                Record::Accept { .. } | Record::AcceptRange { .. } => {
                    for (slot, ballot, value) in record.acceptances() {
                        if ballot < promised {
                            self.violate(
                                names::ACCEPT_RESPECTS_PROMISE,
                                Some(slot),
                                vec![node],
                                vec![describe_value(value)],
                                format!(
                                    "node {node} durably accepted ballot {ballot} after durably promising {promised}"
                                ),
                            );
                        }
                        promised = promised.max(ballot);
                        self.count_acceptance(node, slot, ballot, value);
                    }
                }
                Record::Chosen { .. } | Record::ChosenUpTo(_) | Record::Snapshot(_) => {}
            }
        }
        let chosen_upto = batch.records.iter().fold(durable.chosen_upto, |upto, record| match record {
            Record::ChosenUpTo(slot) => upto.max(*slot),
            _ => upto,
        });
        DiskCheck { chosen_range: durable.chosen_upto..chosen_upto }
    }

    /// After `batch` of node `node` is applied: every entry it wrote that the disk marks chosen (or holds below its
    /// durable chosen point), and every entry its new chosen point covers, holds the chosen value.
    fn check_disk_chosen(
        &mut self,
        node: NodeId,
        durable: &DurableStateOf<KvStore>,
        batch: &KvBatch,
        check: DiskCheck,
    ) {
        let written = batch.records.iter().flat_map(|record| {
            let chosen = match record {
                Record::Chosen { slot, .. } => Some(*slot),
                _ => None,
            };
            chosen.into_iter().chain(record.acceptances().map(|(slot, _, _)| slot))
        });
        let covered = durable.entries.range(check.chosen_range).map(|(slot, _)| *slot);
        let marked = written
            .filter(|slot| *slot < durable.chosen_upto || durable.entries.get(slot).is_some_and(|entry| entry.chosen));
        // Each suspect once where it repeats the one before, as a deduplicated list of them would have it, without
        // collecting them.
        let mut last = None;
        for slot in covered.chain(marked) {
            if last.replace(slot) == Some(slot) {
                continue;
            }
            let Some(entry) = durable.entries.get(&slot) else { continue };
            let Some(chosen) = Self::chosen_or_learned(&self.chosen, &self.learned, slot) else { continue };
            if entry.value != chosen {
                let values = vec![describe_value(&chosen), describe_value(&entry.value)];
                let detail =
                    format!("node {node}'s disk marks slot {slot} chosen with a value other than the chosen one");
                self.violate(names::DURABLE_CHOSEN_VALUE, Some(slot), vec![node], values, detail);
            }
        }
    }

    /// Node `node`'s durable state after `batch` (checked by `batch_durable`, which gave `check`): it must not have
    /// gone backwards.
    pub fn durable_now(&mut self, node: NodeId, durable: &DurableStateOf<KvStore>, batch: &KvBatch, check: DiskCheck) {
        let index = self.index(node);
        let replica = &self.replicas[index];
        let (promised_before, chosen_before) = (replica.durable_promised, replica.durable_chosen_upto);
        if durable.promised < promised_before {
            let detail = format!("durable promise fell from {promised_before} to {}", durable.promised);
            self.violate(names::DURABLE_PROMISE_MONOTONIC, None, vec![node], vec![], detail);
        }
        if durable.chosen_upto < chosen_before {
            let detail = format!("durable chosen point fell from {chosen_before} to {}", durable.chosen_upto);
            self.violate(names::DURABLE_CHOSEN_MONOTONIC, None, vec![node], vec![], detail);
        }
        if durable.promised > promised_before || durable.chosen_upto > chosen_before {
            let replica = &mut self.replicas[index];
            replica.durable_promised = replica.durable_promised.max(durable.promised);
            replica.durable_chosen_upto = replica.durable_chosen_upto.max(durable.chosen_upto);
        }
        self.check_disk_chosen(node, durable, batch, check);
    }

    /// Node `node` sends `envelope` while its disk holds `durable`.
    pub fn message_sent(&mut self, node: NodeId, durable: &DurableStateOf<KvStore>, envelope: &EnvelopeOf<KvStore>) {
        if let Err(why) = durable.backs(&envelope.message) {
            let detail = format!("node {node} → node {}: {why}", envelope.to);
            self.violate(names::PERSIST_BEFORE_SEND, None, vec![node], vec![], detail);
        }
        let chosen = &self.chosen;
        let chosen = |slot| chosen.get(&slot).map(|(_, value): &(Ballot, KvValue)| value.clone());
        let mut found = Vec::new();
        if let crate::paxos::Message::Accept { ballot, first_slot, values, .. } = &envelope.message {
            for (slot, value) in (*first_slot..).zip(values.iter()) {
                found.extend(self.ballots.proposed(node, slot, *ballot, value, &chosen));
            }
        }
        let index = node as usize - 1;
        found.extend(self.ballots.message_sent(index, node, &envelope.message, &chosen));
        self.report_found(found);
    }

    /// Node `node` answers a client. An answer for a request applied through the log must be what the reference
    /// replica, applying the chosen slots in order, computed for that request in that slot.
    pub fn reply_sent(&mut self, node: NodeId, reply: &Reply<KvOutput>) {
        let Ok((slot, output)) = &reply.result else { return };
        let (slot, client, seq) = (*slot, reply.client, reply.seq);
        let expected = self.reference.outputs.get(&(slot, client, seq));
        let detail = match expected {
            Some(expected) if expected == output => return,
            Some(expected) => format!(
                "node {node} answered client {client} #{seq} with {output} for slot {slot}, where applying the chosen \
                 slots in order gives {expected}"
            ),
            // A read that skipped the log answers as of `slot` without a slot of its own: linearizability judges it.
            None if self.proposed.get(&(client, seq)).is_some_and(|command| command.read_level() != ReadLevel::Log) => {
                return
            }
            None if slot < self.reference.next() => {
                format!("node {node} answered client {client} #{seq} for slot {slot}, which does not hold that request")
            }
            None => return, // The reference has not got that far: no node learned every slot below it yet.
        };
        self.violate(names::REPLIES_MATCH, Some(slot), vec![node], vec![], detail);
    }

    /// What one `Ready` of node `node` reported. `state` is the node after the step.
    pub fn node_output(&mut self, state: &KvNode, applied: &[Applied<KvCommand, KvOutput>], events: &[Event]) {
        let node = state.id();
        let index = self.index(node);
        let mut installed_at = Vec::new();
        for event in events {
            match event {
                Event::Chosen { first_slot, count, ballot } => {
                    for slot in *first_slot..first_slot + count {
                        self.node_learned(state, slot, *ballot);
                    }
                }
                Event::SnapshotInstalled { upto } => installed_at.push(*upto),
                Event::InvariantBroken { invariant, detail } => {
                    let name = format!("{}{invariant}", names::CORE_PREFIX);
                    self.violate(&name, None, vec![node], vec![], format!("node {node}: {detail}"));
                }
                _ => {}
            }
        }
        for applied in applied {
            self.node_applied(node, applied, &installed_at);
        }
        for event in events {
            match event {
                Event::SnapshotTaken { upto } => {
                    self.skip_noops(index);
                    let next = self.replicas[index].next_slot;
                    let complete = self.replicas[index].applied_in_slot == 0;
                    if *upto > next || (*upto == next && !complete) {
                        self.violate(
                            names::SNAPSHOT_COVERS_APPLIED,
                            Some(next),
                            vec![node],
                            vec![],
                            format!("node {node} took a snapshot up to slot {upto} but has applied only up to {next}"),
                        );
                    }
                    self.claim_snapshot(state, *upto, "took");
                }
                Event::SnapshotInstalled { upto } => self.claim_snapshot(state, *upto, "installed"),
                _ => {}
            }
        }
        // Slots below the chosen point never produce another `Chosen` event: forget their mirror entries. Popped
        // from the front rather than `split_off`, which allocates a new tree on every call (every `Ready`).
        let first_unchosen = state.first_unchosen();
        let stale =
            |entries: &BTreeMap<Slot, _>| entries.first_key_value().is_some_and(|(slot, _)| *slot < first_unchosen);
        if stale(&self.mirrors[index].entries) {
            let entries = &mut self.mirrors[index].entries;
            while stale(entries) {
                entries.pop_first();
            }
        }
    }

    /// Node `node` crashed: its volatile state is gone.
    pub fn node_crashed(&mut self, node: NodeId) {
        let index = self.index(node);
        // Written only when there is something to forget: a write copies the mirrors a copied cluster shares.
        if !self.mirrors[index].entries.is_empty() {
            self.mirrors[index] = Shared::default();
        }
    }

    /// Node `node` restarted from `durable`; `state` is the recovered node before its first `Ready`.
    pub fn node_restarted(&mut self, state: &KvNode, durable: &DurableStateOf<KvStore>) {
        let node = state.id();
        let index = self.index(node);
        self.ballots.restarted(index);
        let base = durable.snapshot.as_ref().map_or(0, |snapshot| snapshot.upto);
        self.replicas[index].next_slot = base;
        self.replicas[index].applied_in_slot = 0;
        // A new mirror rather than a write, which would copy the old one only to clear it.
        let entries = durable.entries.range(base..).map(|(slot, entry)| (*slot, (entry.ballot, entry.value.clone())));
        self.mirrors[index] = Shared::new(Mirror { entries: entries.collect() });
        if let Some(snapshot) = &durable.snapshot {
            self.claim(node, snapshot.upto, state_digest(&snapshot.state), "recovered");
        }
        // Slots the node recovered as chosen (below its durable chosen point) must agree with what was learned.
        for slot in base..state.first_unchosen() {
            if let SlotState::Chosen(entry) = state.get(slot) {
                let value = entry.value.clone();
                self.compare_learned(node, slot, &value);
            }
        }
    }

    /// The run ended. The reference replica stops at the first slot no node learned; a node whose snapshot
    /// covers that slot holds state no chosen sequence explains.
    pub fn finish(&mut self) {
        let next = self.reference.next();
        for (slot, claims) in std::mem::take(&mut *self.claims) {
            for claim in claims.into_iter().filter(|_| slot > next) {
                let detail = format!(
                    "node {} {} a snapshot up to slot {slot} (at tick {}), but no node ever learned slot {next}",
                    claim.node, claim.how, claim.at.tick
                );
                self.violate(names::SNAPSHOT_STATE, Some(next), vec![claim.node], vec![], detail);
            }
        }
    }

    // ----- The checks -----

    fn count_acceptance(&mut self, node: NodeId, slot: Slot, ballot: Ballot, value: &KvValue) {
        let acceptances = self.acceptances.entry((slot, ballot)).or_default();
        let voters = match acceptances.iter_mut().find(|acceptance| acceptance.value == *value) {
            Some(acceptance) => {
                acceptance.voters |= 1 << node;
                acceptance.voters
            }
            None => {
                acceptances.push(Acceptance { value: value.clone(), voters: 1 << node });
                1 << node
            }
        };
        if acceptances.len() > 1 {
            let values = acceptances.iter().map(|acceptance| describe_value(&acceptance.value)).collect();
            let detail = format!("ballot {ballot} carried two different values for slot {slot}");
            self.violate(names::ONE_VALUE_PER_BALLOT, Some(slot), vec![node], values, detail);
        }
        let members = self.configuration_at(slot);
        if !members.contains(node) || members.count(voters) != members.quorum(false) {
            return; // Not chosen yet, chosen already (counted when the majority was reached), or not a voter here.
        }
        let voter_ids: Vec<NodeId> = members.ids().filter(|id| voters & (1 << id) != 0).collect();
        match self.chosen.get(&slot) {
            Some((first_ballot, first)) if first != value => {
                let values = vec![describe_value(first), describe_value(value)];
                let detail = format!(
                    "slot {slot} was chosen in ballot {first_ballot}, then a majority ({voter_ids:?}) durably accepted a \
                     different value in ballot {ballot}"
                );
                self.violate(names::ONE_VALUE_PER_SLOT, Some(slot), voter_ids, values, detail);
            }
            Some(_) => {}
            None => {
                self.check_proposed(slot, voter_ids.clone(), value);
                if let Some((learner, learned)) = self.learned.get(&slot) {
                    if learned != value {
                        let (learner, values) = (*learner, vec![describe_value(learned), describe_value(value)]);
                        let detail =
                            format!("node {learner} learned one value for slot {slot}; a majority accepted another");
                        self.violate(names::LEARNED_AGREE, Some(slot), vec![learner], values, detail);
                    }
                }
                self.chosen.insert(slot, (ballot, value.clone()));
                if let Some(members) = value.reconfig() {
                    self.configurations.insert(slot + self.alpha, members);
                }
            }
        }
    }

    fn check_proposed(&mut self, slot: Slot, nodes: Vec<NodeId>, value: &KvValue) {
        for request in value.requests() {
            let proposed = self.proposed.get(&(request.client, request.seq));
            if proposed != Some(&request.command) {
                let detail = match proposed {
                    Some(command) => format!(
                        "{} #{} invoked {command}, but slot {slot} holds {}",
                        client_name(request.client),
                        request.seq,
                        request.command
                    ),
                    None => format!("no client invoked request {} #{}", client_name(request.client), request.seq),
                };
                self.violate(
                    names::CHOSEN_WAS_PROPOSED,
                    Some(slot),
                    nodes.clone(),
                    vec![describe_value(value)],
                    detail,
                );
            }
        }
    }

    /// Node `state` says `slot` is chosen in `ballot`.
    fn node_learned(&mut self, state: &KvNode, slot: Slot, ballot: Ballot) {
        let node = state.id();
        let index = self.index(node);
        let value = match state.get(slot) {
            SlotState::Chosen(entry) | SlotState::Accepted(entry) => Some(entry.value),
            SlotState::Compacted | SlotState::Empty => None,
        };
        let value = value.or_else(|| {
            let mirrored = self.mirrors[index].entries.get(&slot);
            mirrored.filter(|(mirrored_ballot, _)| *mirrored_ballot == ballot).map(|(_, value)| value.clone())
        });
        // A slot compacted in the same step without a record to mirror: its applied requests are still checked.
        if let Some(value) = value {
            self.compare_learned(node, slot, &value);
        }
    }

    fn compare_learned(&mut self, node: NodeId, slot: Slot, value: &KvValue) {
        if let Some((_, chosen)) = self.chosen.get(&slot) {
            if chosen != value {
                let values = vec![describe_value(chosen), describe_value(value)];
                let detail = format!("node {node} learned a value for slot {slot} other than the one chosen");
                self.violate(names::LEARNED_AGREE, Some(slot), vec![node], values, detail);
                return;
            }
        }
        match self.learned.get(&slot) {
            Some((first, learned)) if learned != value => {
                let (first, values) = (*first, vec![describe_value(learned), describe_value(value)]);
                let detail = format!("nodes {first} and {node} learned different values for slot {slot}");
                self.violate(names::LEARNED_AGREE, Some(slot), vec![first, node], values, detail);
            }
            Some(_) => {}
            None => {
                self.check_proposed(slot, vec![node], value);
                self.learned.insert(slot, (node, value.clone()));
                self.advance_reference();
            }
        }
    }

    /// Moves node `index`'s applied point over slots learned as holding no requests (no-ops apply nothing).
    fn skip_noops(&mut self, index: usize) {
        let learned = &self.learned;
        let at_noop = |replica: &Replica| {
            replica.applied_in_slot == 0
                && learned.get(&replica.next_slot).is_some_and(|(_, value)| value.requests().is_empty())
        };
        if !at_noop(&self.replicas[index]) {
            return;
        }
        let replica = &mut self.replicas[index];
        while at_noop(replica) {
            replica.next_slot += 1;
        }
    }

    fn node_applied(&mut self, node: NodeId, applied: &Applied<KvCommand, KvOutput>, installed_at: &[Slot]) {
        let index = self.index(node);
        self.skip_noops(index);
        let replica = &self.replicas[index];
        let slot = applied.slot;
        let position = if slot == replica.next_slot {
            replica.applied_in_slot
        } else if slot > replica.next_slot {
            // Skipping ahead is fine only after a snapshot install.
            let installed = installed_at.iter().any(|upto| *upto > replica.next_slot && *upto <= slot);
            if !installed {
                let first_missing = replica.next_slot;
                let detail = format!(
                    "node {node} applied slot {slot} without applying slot {first_missing} (and no snapshot covers it)"
                );
                self.violate(names::APPLIED_AGREE, Some(first_missing), vec![node], vec![], detail);
            }
            0
        } else {
            let detail = format!("node {node} applied slot {slot} again after slot {}", replica.next_slot);
            self.violate(names::APPLIED_AGREE, Some(slot), vec![node], vec![], detail);
            0
        };
        let requests = match self.learned.get(&slot) {
            Some((_, value)) => {
                let expected = value.requests().get(position);
                let requests = value.requests().len();
                if expected.map(|request| request.as_ref()) != Some(applied.request.as_ref()) {
                    let values =
                        vec![describe_value(value), format!("{} at position {position}", applied.request.command)];
                    let detail = format!("node {node} applied a request slot {slot} does not hold");
                    self.violate(names::APPLIED_AGREE, Some(slot), vec![node], values, detail);
                }
                requests
            }
            None => {
                let detail = format!("node {node} applied slot {slot} before any node learned it was chosen");
                self.violate(names::APPLIED_AGREE, Some(slot), vec![node], vec![], detail);
                1
            }
        };
        let replica = &mut self.replicas[index];
        if position + 1 >= requests {
            replica.next_slot = slot + 1;
            replica.applied_in_slot = 0;
        } else {
            replica.next_slot = slot;
            replica.applied_in_slot = position + 1;
        }
    }

    fn claim_snapshot(&mut self, state: &KvNode, upto: Slot, how: &'static str) {
        let node = state.id();
        let index = self.index(node);
        if let Some(snapshot) = state.snapshot().filter(|snapshot| snapshot.upto == upto) {
            let digest = state_digest(&snapshot.state);
            self.claim(node, upto, digest, how);
        }
        if how == "installed" {
            let replica = &mut self.replicas[index];
            if upto > replica.next_slot {
                replica.next_slot = upto;
                replica.applied_in_slot = 0;
            }
        }
    }

    fn claim(&mut self, node: NodeId, upto: Slot, digest: u64, how: &'static str) {
        let claim = Claim { node, digest, how, at: self.at };
        match self.reference.digests.get(upto as usize) {
            Some(expected) => {
                let expected = *expected;
                self.check_claim(upto, expected, claim);
            }
            None => self.claims.entry(upto).or_default().push(claim),
        }
    }

    fn check_claim(&mut self, upto: Slot, expected: u64, claim: Claim) {
        if claim.digest != expected {
            let detail = format!(
                "node {} {} a snapshot up to slot {upto} (at tick {}) whose state differs from applying the chosen \
                 slots below {upto} in order",
                claim.node, claim.how, claim.at.tick
            );
            self.violate(names::SNAPSHOT_STATE, Some(upto), vec![claim.node], vec![], detail);
        }
    }

    /// Applies learned slots to the reference replica while they are contiguous, checking pending claims.
    fn advance_reference(&mut self) {
        loop {
            let next = self.reference.next();
            let Some((_, value)) = self.learned.get(&next) else { return };
            for request in value.requests() {
                let output = crate::paxos::StateMachine::apply(&mut self.reference.machine, request);
                self.reference.outputs.insert((next, request.client, request.seq), output);
            }
            let digest = state_digest(&self.reference.machine);
            self.reference.digests.push(digest);
            if let Some(claims) = self.claims.remove(&(next + 1)) {
                for claim in claims {
                    self.check_claim(next + 1, digest, claim);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;
    use crate::paxos::Request;

    fn put(client: ClientId, seq: u64, value: &str) -> KvValue {
        Value::Command(Rc::new(Request {
            client,
            seq,
            command: KvCommand::Put { key: "x".into(), value: value.into() },
        }))
    }

    fn accept(id: u64, slot: Slot, ballot: Ballot, value: KvValue) -> KvBatch {
        WriteBatch { id, records: vec![Record::Promise(ballot), Record::Accept { slot, ballot, value }] }
    }

    #[test]
    fn a_majority_of_durable_acceptances_chooses_and_a_second_value_is_a_violation() {
        let mut checker = SafetyChecker::new(3, false);
        checker.client_invoked(1, 1, &KvCommand::Put { key: "x".into(), value: "a".into() });
        checker.client_invoked(2, 1, &KvCommand::Put { key: "x".into(), value: "b".into() });
        let durable = DurableStateOf::<KvStore>::default();
        let (low, high) = (Ballot::new(1, 3), Ballot::new(2, 2));
        let _ = checker.batch_durable(1, &durable, &accept(1, 0, low, put(1, 1, "a")));
        assert_eq!(checker.chosen_slots(), 0, "one acceptor of three chooses nothing");
        let _ = checker.batch_durable(2, &durable, &accept(1, 0, low, put(1, 1, "a")));
        assert_eq!(checker.chosen_value(0), Some(&put(1, 1, "a")));
        assert!(checker.is_ok(), "{:?}", checker.violations());
        let _ = checker.batch_durable(2, &durable, &accept(2, 0, high, put(2, 1, "b")));
        let _ = checker.batch_durable(3, &durable, &accept(1, 0, high, put(2, 1, "b")));
        let violation = &checker.violations()[0];
        assert_eq!(violation.invariant, names::ONE_VALUE_PER_SLOT);
        assert_eq!(violation.slot, Some(0));
        assert!(violation.values[1].contains("put x=b"), "{violation}");
    }

    #[test]
    fn accepting_below_the_durable_promise_and_unproposed_values_are_violations() {
        let mut checker = SafetyChecker::new(3, false);
        let durable = DurableStateOf::<KvStore> { promised: Ballot::new(5, 1), ..Default::default() };
        let batch = WriteBatch {
            id: 1,
            records: vec![Record::Accept { slot: 3, ballot: Ballot::new(4, 2), value: put(9, 9, "z") }],
        };
        let _ = checker.batch_durable(2, &durable, &batch);
        assert_eq!(checker.violations()[0].invariant, names::ACCEPT_RESPECTS_PROMISE);
        let _ = checker.batch_durable(1, &durable, &batch);
        let _ = checker.batch_durable(3, &durable, &batch);
        assert!(
            checker.violations().iter().any(|violation| violation.invariant == names::CHOSEN_WAS_PROPOSED),
            "{:?}",
            checker.violations()
        );
    }

    #[test]
    fn a_disk_that_marks_a_slot_chosen_with_another_value_is_caught() {
        let mut checker = SafetyChecker::new(3, false);
        checker.client_invoked(1, 1, &KvCommand::Put { key: "x".into(), value: "a".into() });
        checker.client_invoked(2, 1, &KvCommand::Put { key: "x".into(), value: "b".into() });
        let ballot = Ballot::new(1, 3);
        let mut disks = [DurableStateOf::<KvStore>::default(), DurableStateOf::<KvStore>::default()];
        for (node, disk) in [1, 2].into_iter().zip(&mut disks) {
            let batch = accept(1, 0, ballot, put(1, 1, "a"));
            let check = checker.batch_durable(node, disk, &batch);
            disk.apply_batch(&batch);
            checker.durable_now(node, disk, &batch, check);
        }
        assert_eq!(checker.chosen_value(0), Some(&put(1, 1, "a")));
        let mut disk = DurableStateOf::<KvStore>::default();
        let good = WriteBatch { id: 1, records: vec![Record::Chosen { slot: 0, ballot, value: put(1, 1, "a") }] };
        let check = checker.batch_durable(3, &disk, &good);
        disk.apply_batch(&good);
        checker.durable_now(3, &disk, &good, check);
        assert!(checker.is_ok(), "{:?}", checker.violations());
        // A later acceptance overwrites the value of the slot the disk marks chosen.
        let bad = WriteBatch {
            id: 2,
            records: vec![Record::Accept { slot: 0, ballot: Ballot::new(2, 2), value: put(2, 1, "b") }],
        };
        let check = checker.batch_durable(3, &disk, &bad);
        disk.apply_batch(&bad);
        checker.durable_now(3, &disk, &bad, check);
        assert_eq!(checker.violations()[0].invariant, names::DURABLE_CHOSEN_VALUE);
    }

    #[test]
    fn an_answer_other_than_the_reference_replicas_is_caught() {
        use crate::paxos::{Config, Entry, Envelope, Message, Reply};
        let mut checker = SafetyChecker::new(3, false);
        checker.client_invoked(1, 1, &KvCommand::Put { key: "x".into(), value: "a".into() });
        let mut node = KvNode::new(Config::cluster(1, 3)).unwrap();
        let entry = Entry { ballot: Ballot::new(1, 3), value: put(1, 1, "a"), chosen: true };
        let message = Message::Chosen { ballot: Ballot::new(1, 3), entries: vec![(0, entry)] };
        node.receive(Envelope { from: 3, to: 1, message });
        let ready = node.ready();
        checker.node_output(&node, &ready.applied, &ready.events);
        let reply = |output| Reply { client: 1, seq: 1, result: Ok((0, output)) };
        checker.reply_sent(1, &reply(KvOutput::Ok));
        assert!(checker.is_ok(), "{:?}", checker.violations());
        checker.reply_sent(1, &reply(KvOutput::Value(Some("a".into()))));
        assert_eq!(checker.violations()[0].invariant, names::REPLIES_MATCH);
        let elsewhere = Reply { client: 1, seq: 1, result: Ok((1, KvOutput::Ok)) };
        checker.reply_sent(1, &elsewhere);
        assert_eq!(checker.violations().len(), 1, "slot 1 is not learned yet: nothing to compare");
    }

    #[test]
    fn digests_tell_states_apart_and_ignore_the_bug_flag() {
        let mut a = KvStore::default();
        let b = KvStore { bug_apply_retry_twice: true, ..KvStore::default() };
        assert_eq!(state_digest(&a), state_digest(&b));
        crate::paxos::StateMachine::apply(
            &mut a,
            &Request { client: 1, seq: 1, command: KvCommand::Put { key: "k".into(), value: "v".into() } },
        );
        assert_ne!(state_digest(&a), state_digest(&b));
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn a_caught_panic_becomes_a_violation_naming_the_seed_and_the_message() {
        let formatted = std::panic::catch_unwind(|| panic!("slot {} chosen twice", 7)).unwrap_err();
        let violation = Violation::from_panic(42, formatted);
        assert_eq!((violation.class, violation.invariant.as_str()), (ViolationClass::Panic, names::NO_PANIC));
        assert_eq!(violation.detail, "seed 42: slot 7 chosen twice");
        let literal = std::panic::catch_unwind(|| panic!("a literal")).unwrap_err();
        assert_eq!(Violation::from_panic(3, literal).detail, "seed 3: a literal");
        let other = std::panic::catch_unwind(|| std::panic::panic_any(17_u8)).unwrap_err();
        assert_eq!(Violation::from_panic(3, other).detail, "seed 3: a panic without a message");
    }
}
