//! The trace: every random choice and every user action, in order. Replaying the same (config, seed,
//! actions) reproduces it exactly; the FNV-1a hash over each event's JSON encoding proves it, the same
//! natively and in Wasm (no `usize`, no `Hash` derive, whose encoding differs between the two).

use serde::{Deserialize, Serialize};

use crate::paxos::{MessageKind, NodeId};

use super::UserAction;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum TraceEvent {
    Action { action: UserAction },
    Sent { id: u64, from: NodeId, to: NodeId, kind: MessageKind, deliver_at: u64 },
    Dropped { id: u64 },
    Duplicated { id: u64, copy: u64 },
    Delivered { id: u64 },
    Lost { id: u64, why: String },
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

/// FNV-1a, 64 bit, written out so the hash is defined by this file and nothing else.
#[derive(Clone, Copy, Debug)]
struct Fnv(u64);

impl std::io::Write for Fnv {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        for byte in bytes {
            self.0 ^= *byte as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct Trace {
    hash: Fnv,
    /// Kept only when asked for (replay, the UI); the fuzzer needs just the hash.
    entries: Option<Vec<TraceEntry>>,
    len: u64,
}

impl Trace {
    pub fn new(keep_entries: bool) -> Trace {
        Trace { hash: Fnv(0xcbf2_9ce4_8422_2325), entries: keep_entries.then(Vec::new), len: 0 }
    }

    pub fn record(&mut self, tick: u64, event: TraceEvent) {
        let entry = TraceEntry { tick, event };
        serde_json::to_writer(&mut self.hash, &entry).expect("trace events serialise");
        self.len += 1;
        if let Some(entries) = &mut self.entries {
            entries.push(entry);
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
