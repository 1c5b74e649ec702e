//! The trace: every random choice and every user action, in order. Replaying the same (config, seed,
//! actions) reproduces it exactly; a hash over each event's canonical encoding proves it, the same natively
//! and in Wasm: integers as 64-bit words (never `usize`, never a `Hash` derive, whose encoding differs between
//! the two), strings as their length then their bytes in little-endian 8-byte words. Encoding by hand rather
//! than through serde_json matters (hashing was a fifth of the fuzzer's time), and so does mixing a word at a
//! time rather than a byte (byte-wise FNV-1a was still a tenth of it in Wasm).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::paxos::{MessageKind, NodeId};

use super::UserAction;

/// One entry's event. `Lost::why` is one of a few fixed phrases, borrowed so that losing a message allocates
/// nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum TraceEvent {
    Action { action: UserAction },
    Sent { id: u64, from: NodeId, to: NodeId, kind: MessageKind, deliver_at: u64 },
    Dropped { id: u64 },
    Duplicated { id: u64, copy: u64 },
    Delivered { id: u64 },
    Lost { id: u64, why: Cow<'static, str> },
    Durable { node: NodeId, batch: u64 },
    Crashed { node: NodeId },
    Restarted { node: NodeId },
    Partitioned { groups: Vec<Vec<NodeId>> },
    Healed,
    Invoked { client: u64, seq: u64, at: NodeId, command: String },
    Answered { client: u64, seq: u64, result: String },
    GaveUp { client: u64, seq: u64 },
    Node { node: NodeId, event: String },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TraceEntry {
    pub tick: u64,
    pub event: TraceEvent,
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
                // Rare and richly shaped: its JSON form (canonical for this type: no maps, no floats).
                hash.str(&serde_json::to_string(action).expect("actions serialise"));
            }
            TraceEvent::Sent { id, from, to, kind, deliver_at } => {
                hash.u8(1);
                hash.u64(*id);
                hash.u8(*from);
                hash.u8(*to);
                hash.str(kind.name());
                hash.u64(*deliver_at);
            }
            TraceEvent::Dropped { id } => {
                hash.u8(2);
                hash.u64(*id);
            }
            TraceEvent::Duplicated { id, copy } => {
                hash.u8(3);
                hash.u64(*id);
                hash.u64(*copy);
            }
            TraceEvent::Delivered { id } => {
                hash.u8(4);
                hash.u64(*id);
            }
            TraceEvent::Lost { id, why } => {
                hash.u8(5);
                hash.u64(*id);
                hash.str(why);
            }
            TraceEvent::Durable { node, batch } => {
                hash.u8(6);
                hash.u8(*node);
                hash.u64(*batch);
            }
            TraceEvent::Crashed { node } => {
                hash.u8(7);
                hash.u8(*node);
            }
            TraceEvent::Restarted { node } => {
                hash.u8(8);
                hash.u8(*node);
            }
            TraceEvent::Partitioned { groups } => {
                hash.u8(9);
                hash.u64(groups.len() as u64);
                for group in groups {
                    hash.u64(group.len() as u64);
                    group.iter().for_each(|node| hash.u8(*node));
                }
            }
            TraceEvent::Healed => hash.u8(10),
            TraceEvent::Invoked { client, seq, at, command } => {
                hash.u8(11);
                hash.u64(*client);
                hash.u64(*seq);
                hash.u8(*at);
                hash.str(command);
            }
            TraceEvent::Answered { client, seq, result } => {
                hash.u8(12);
                hash.u64(*client);
                hash.u64(*seq);
                hash.str(result);
            }
            TraceEvent::GaveUp { client, seq } => {
                hash.u8(13);
                hash.u64(*client);
                hash.u64(*seq);
            }
            TraceEvent::Node { node, event } => {
                hash.u8(14);
                hash.u8(*node);
                hash.str(event);
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct Trace {
    hash: TraceHash,
    /// Kept only when asked for (replay, the UI); the fuzzer needs just the hash.
    entries: Option<Vec<TraceEntry>>,
    len: u64,
}

impl Trace {
    pub fn new(keep_entries: bool) -> Trace {
        Trace { hash: TraceHash(TraceHash::SEED), entries: keep_entries.then(Vec::new), len: 0 }
    }

    #[inline]
    pub fn record(&mut self, tick: u64, event: TraceEvent) {
        // Hashed where it lies; moved into an entry only when entries are kept (a move is a `memory.copy` in Wasm).
        self.hash.u64(tick);
        event.encode(&mut self.hash);
        self.len += 1;
        if let Some(entries) = &mut self.entries {
            entries.push(TraceEntry { tick, event });
        }
    }

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
