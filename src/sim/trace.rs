//! The trace: every random choice and every user action, in order. Replaying the same (config, seed,
//! actions) reproduces it exactly; a hash over each event's canonical encoding proves it, the same natively
//! and in Wasm: integers as 64-bit words (never `usize`, never a `Hash` derive, whose encoding differs between
//! the two), strings as their length then their bytes in little-endian 8-byte words. Encoding by hand rather
//! than through serde_json matters (hashing was a fifth of the fuzzer's time), and so does mixing a word at a
//! time rather than a byte (byte-wise FNV-1a was still a tenth of it in Wasm).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::kv::KvCommand;
use crate::paxos::{MessageKind, NodeId};

use super::{LinkFault, LinkShape, UserAction};

/// One entry's event. `Lost::why` is one of a few fixed phrases, borrowed so that losing a message allocates
/// nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum TraceEvent {
    Action {
        action: UserAction,
    },
    Sent {
        id: u64,
        from: NodeId,
        to: NodeId,
        kind: MessageKind,
        deliver_at: u64,
    },
    Dropped {
        id: u64,
    },
    Duplicated {
        id: u64,
        copy: u64,
    },
    Delivered {
        id: u64,
    },
    Lost {
        id: u64,
        why: Cow<'static, str>,
    },
    Durable {
        node: NodeId,
        batch: u64,
    },
    Crashed {
        node: NodeId,
    },
    Restarted {
        node: NodeId,
    },
    Partitioned {
        groups: Vec<Vec<NodeId>>,
    },
    /// A partition that cuts these directed links (one-way, or asymmetric), and no others.
    LinksCut {
        links: Vec<(NodeId, NodeId)>,
    },
    /// A random link fault started.
    LinkFailed {
        fault: LinkFault,
    },
    Healed,
    Invoked {
        client: u64,
        seq: u64,
        at: NodeId,
        command: String,
    },
    Answered {
        client: u64,
        seq: u64,
        result: String,
    },
    GaveUp {
        client: u64,
        seq: u64,
    },
    Node {
        node: NodeId,
        event: String,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TraceEntry {
    pub tick: u64,
    pub event: TraceEvent,
}

/// A user action: a tag per variant, then its fields in order. Every variant is matched with all its fields,
/// and the fault rates go through `FaultConfig::numbers` (which names every field), so a field added to either
/// does not compile until it is hashed too.
fn encode_action(action: &UserAction, hash: &mut TraceHash) {
    match action {
        UserAction::Crash { node } => hash.nodes(0, &[*node]),
        UserAction::Restart { node } => hash.nodes(1, &[*node]),
        UserAction::Pause { node } => hash.nodes(2, &[*node]),
        UserAction::Resume { node } => hash.nodes(3, &[*node]),
        UserAction::Partition { groups } => {
            hash.u8(4);
            hash.groups(groups);
        }
        UserAction::CutLink { from, to } => hash.nodes(5, &[*from, *to]),
        UserAction::HealLink { from, to } => hash.nodes(6, &[*from, *to]),
        UserAction::Heal => hash.u8(7),
        UserAction::DropMessage { id } => hash.words(8, &[*id]),
        UserAction::DuplicateMessage { id } => hash.words(9, &[*id]),
        UserAction::DeliverNow { id } => hash.words(10, &[*id]),
        UserAction::ClientOp { target, command } => {
            hash.nodes(11, &[*target]);
            encode_command(command, hash);
        }
        UserAction::SetFaults { faults } => hash.words(12, &faults.numbers()),
        UserAction::Reload => hash.u8(13),
        UserAction::Stepping { on } => hash.words(14, &[u64::from(*on)]),
        UserAction::TickNode { node } => hash.nodes(15, &[*node]),
        UserAction::AckWrite { node } => hash.nodes(16, &[*node]),
        UserAction::Request { client, target, command } => {
            hash.nodes(17, &[*client, *target]);
            encode_command(command, hash);
        }
        UserAction::Retry { client, target } => hash.nodes(18, &[*client, *target]),
        UserAction::SetRetries { on } => hash.words(19, &[u64::from(*on)]),
        UserAction::AddNode => hash.u8(20),
        UserAction::RemoveNode { node } => hash.nodes(21, &[*node]),
        UserAction::ReplaceNode { node } => hash.nodes(22, &[*node]),
    }
}

fn encode_command(command: &KvCommand, hash: &mut TraceHash) {
    match command {
        KvCommand::Get { key } => hash.strs(0, &[key]),
        KvCommand::Read { key, level } => hash.strs(6, &[key, &level.name().to_string()]),
        KvCommand::Put { key, value } => hash.strs(1, &[key, value]),
        KvCommand::Delete { key } => hash.strs(2, &[key]),
        KvCommand::Append { key, value } => hash.strs(3, &[key, value]),
        KvCommand::Cas { key, expected: None, new } => hash.strs(4, &[key, new]),
        KvCommand::Cas { key, expected: Some(expected), new } => hash.strs(5, &[key, expected, new]),
        KvCommand::Scan { start, end, limit, level } => {
            let limit = limit.map_or(String::new(), |limit| limit.to_string());
            hash.strs(7, &[start, end, &limit, &level.name().to_string()]);
        }
    }
}

/// The Fx word mix (rotate, xor, multiply; rustc's `FxHasher`), written out so the hash is defined by this file
/// and nothing else. Not collision-resistant against an adversary, which a trace does not have.
#[derive(Clone, Copy, Debug)]
struct TraceHash(u64);

impl TraceHash {
    const SEED: u64 = 0xcbf2_9ce4_8422_2325;
    const MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;

    fn u64(&mut self, value: u64) {
        self.0 = (self.0.rotate_left(5) ^ value).wrapping_mul(Self::MULTIPLIER);
    }

    fn u8(&mut self, value: u8) {
        self.u64(value as u64);
    }

    /// A tag, then words.
    fn words(&mut self, tag: u8, words: &[u64]) {
        self.u8(tag);
        words.iter().for_each(|word| self.u64(*word));
    }

    /// A tag, then node ids.
    fn nodes(&mut self, tag: u8, nodes: &[NodeId]) {
        self.u8(tag);
        nodes.iter().for_each(|node| self.u8(*node));
    }

    /// A tag, then strings.
    fn strs(&mut self, tag: u8, texts: &[&String]) {
        self.u8(tag);
        texts.iter().for_each(|text| self.str(text));
    }

    /// The number of groups, then each group's length and nodes.
    fn groups(&mut self, groups: &[Vec<NodeId>]) {
        self.u64(groups.len() as u64);
        for group in groups {
            self.u64(group.len() as u64);
            group.iter().for_each(|node| self.u8(*node));
        }
    }

    /// The length first, so two strings never encode alike; the last word is padded with zeros.
    fn str(&mut self, text: &str) {
        self.u64(text.len() as u64);
        let mut words = text.as_bytes().chunks_exact(8);
        for word in &mut words {
            self.u64(u64::from_le_bytes(word.try_into().expect("8 bytes")));
        }
        let mut last = [0u8; 8];
        last[..words.remainder().len()].copy_from_slice(words.remainder());
        if !words.remainder().is_empty() {
            self.u64(u64::from_le_bytes(last));
        }
    }
}

impl TraceEvent {
    /// Feeds the event's canonical encoding to the hash: a tag byte per variant, then its fields in order.
    #[inline]
    fn encode(&self, hash: &mut TraceHash) {
        match self {
            TraceEvent::Action { action } => {
                hash.u8(0);
                encode_action(action, hash);
            }
            TraceEvent::Sent { id, from, to, kind, deliver_at } => {
                hash.u8(1);
                hash.u64(*id);
                hash.u8(*from);
                hash.u8(*to);
                hash.str(kind.name());
                hash.u64(*deliver_at);
            }
            TraceEvent::Dropped { id } => hash.words(2, &[*id]),
            TraceEvent::Duplicated { id, copy } => hash.words(3, &[*id, *copy]),
            TraceEvent::Delivered { id } => hash.words(4, &[*id]),
            TraceEvent::Lost { id, why } => {
                hash.words(5, &[*id]);
                hash.str(why);
            }
            TraceEvent::Durable { node, batch } => {
                hash.nodes(6, &[*node]);
                hash.u64(*batch);
            }
            TraceEvent::Invoked { client, seq, at, command } => {
                hash.words(11, &[*client, *seq]);
                hash.u8(*at);
                hash.str(command);
            }
            TraceEvent::Answered { client, seq, result } => {
                hash.words(12, &[*client, *seq]);
                hash.str(result);
            }
            TraceEvent::GaveUp { client, seq } => hash.words(13, &[*client, *seq]),
            TraceEvent::Node { node, event } => {
                hash.nodes(14, &[*node]);
                hash.str(event);
            }
            fault => fault.encode_fault(hash),
        }
    }

    /// The crashes, restarts, partitions and link faults: the events the fault injector (or the visitor) causes.
    fn encode_fault(&self, hash: &mut TraceHash) {
        match self {
            TraceEvent::Crashed { node } => hash.nodes(7, &[*node]),
            TraceEvent::Restarted { node } => hash.nodes(8, &[*node]),
            TraceEvent::Partitioned { groups } => {
                hash.u8(9);
                hash.groups(groups);
            }
            TraceEvent::Healed => hash.u8(10),
            TraceEvent::LinksCut { links } => {
                hash.words(15, &[links.len() as u64]);
                links.iter().for_each(|(from, to)| hash.nodes(0, &[*from, *to]));
            }
            TraceEvent::LinkFailed { fault } => {
                hash.words(16, &[fault.since, fault.until]);
                match fault.shape {
                    LinkShape::OneWay { from, to } => hash.nodes(0, &[from, to]),
                    LinkShape::Flapping { a, b, period } => {
                        hash.nodes(1, &[a, b]);
                        hash.u64(period);
                    }
                }
            }
            // Not `{:?}` of the event: that would link every event type's Debug into the browser bundle.
            _ => unreachable!("encode_fault is called for fault events only"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Trace {
    hash: TraceHash,
    /// Whether events still go into the hash (see `stop_hashing`).
    hashing: bool,
    /// Kept only when asked for (replay, the UI); the fuzzer needs just the hash.
    entries: Option<Vec<TraceEntry>>,
    len: u64,
}

impl Trace {
    pub fn new(keep_entries: bool) -> Trace {
        Trace { hash: TraceHash(TraceHash::SEED), hashing: true, entries: keep_entries.then(Vec::new), len: 0 }
    }

    /// Events from now on are counted (and kept, if entries are) but no longer hashed: `hash` stays what it was.
    /// For the model checker's states, whose run fingerprint nothing reads: hashing every event was 2.4% of its
    /// instructions.
    pub fn stop_hashing(&mut self) {
        self.hashing = false;
    }

    #[inline]
    pub fn record(&mut self, tick: u64, event: TraceEvent) {
        // Hashed where it lies; moved into an entry only when entries are kept (a move is a `memory.copy` in Wasm).
        if self.hashing {
            self.hash.u64(tick);
            event.encode(&mut self.hash);
        }
        self.len += 1;
        if let Some(entries) = &mut self.entries {
            entries.push(TraceEntry { tick, event });
        }
    }

    /// `record`, building the event only if the trace reads it (it hashes or keeps events): for the events that
    /// allocate text, which a model checker's state (`stop_hashing`, no entries) would only count.
    #[inline]
    pub fn record_with(&mut self, tick: u64, event: impl FnOnce() -> TraceEvent) {
        if self.hashing || self.entries.is_some() {
            self.record(tick, event());
        } else {
            self.len += 1;
        }
    }

    /// The hash of every event recorded, or of those recorded until `stop_hashing`.
    pub fn hash(&self) -> u64 {
        self.hash.0
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn entries(&self) -> &[TraceEntry] {
        self.entries.as_deref().unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::FaultConfig;

    fn action_hash(action: &UserAction) -> u64 {
        let mut trace = Trace::new(false);
        trace.record(1, TraceEvent::Action { action: action.clone() });
        trace.hash()
    }

    /// Every action, and every field of it, changes the hash: two runs with different actions never share a
    /// fingerprint because the encoding forgot a field.
    #[test]
    fn actions_that_differ_hash_differently() {
        let command = |key: &str, expected: Option<&str>| KvCommand::Cas {
            key: key.into(),
            expected: expected.map(Into::into),
            new: "n".into(),
        };
        let mut faults = FaultConfig::none();
        let mut actions = vec![
            UserAction::Crash { node: 1 },
            UserAction::Crash { node: 2 },
            UserAction::Restart { node: 1 },
            UserAction::Pause { node: 1 },
            UserAction::Resume { node: 1 },
            UserAction::Partition { groups: vec![vec![1, 2], vec![3]] },
            UserAction::Partition { groups: vec![vec![1], vec![2, 3]] },
            UserAction::CutLink { from: 1, to: 2 },
            UserAction::CutLink { from: 2, to: 1 },
            UserAction::HealLink { from: 1, to: 2 },
            UserAction::Heal,
            UserAction::DropMessage { id: 4 },
            UserAction::DuplicateMessage { id: 4 },
            UserAction::DeliverNow { id: 4 },
            UserAction::DeliverNow { id: 5 },
            UserAction::ClientOp { target: 1, command: KvCommand::Get { key: "k".into() } },
            UserAction::ClientOp { target: 2, command: KvCommand::Get { key: "k".into() } },
            UserAction::ClientOp { target: 1, command: KvCommand::Delete { key: "k".into() } },
            UserAction::ClientOp { target: 1, command: KvCommand::Put { key: "k".into(), value: "v".into() } },
            UserAction::ClientOp { target: 1, command: KvCommand::Append { key: "k".into(), value: "v".into() } },
            UserAction::ClientOp { target: 1, command: command("k", None) },
            UserAction::ClientOp { target: 1, command: command("k", Some("")) },
            UserAction::Reload,
            UserAction::SetFaults { faults: faults.clone() },
        ];
        for field in 0..9 {
            let word = match field {
                0 => &mut faults.delay_min,
                1 => &mut faults.delay_max,
                2 => &mut faults.partition_ticks,
                3 => &mut faults.down_ticks,
                4 => &mut faults.storage_delay_max,
                _ => {
                    let rate = [
                        &mut faults.drop_ppm,
                        &mut faults.duplicate_ppm,
                        &mut faults.partition_ppm,
                        &mut faults.crash_ppm,
                    ];
                    *rate.into_iter().nth(field - 5).unwrap() += 1;
                    actions.push(UserAction::SetFaults { faults: faults.clone() });
                    continue;
                }
            };
            *word += 1;
            actions.push(UserAction::SetFaults { faults: faults.clone() });
        }
        let hashes: std::collections::BTreeSet<u64> = actions.iter().map(action_hash).collect();
        assert_eq!(hashes.len(), actions.len(), "{actions:?}");
        assert_eq!(action_hash(&actions[0]), action_hash(&UserAction::Crash { node: 1 }), "and it is a function");
    }
}
