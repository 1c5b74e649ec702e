//! Random histories that are linearizable by construction, for property tests and the checker benchmark.
//!
//! Each client runs one operation at a time. Every operation gets a random instant inside its interval at
//! which it takes effect; applying the operations in the order of those instants gives the outputs, so that
//! order is a linearization. Values come from a small set so that many reads are ambiguous, which is what
//! makes checking hard.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use synod::check::History;
use synod::kv::{KvCommand, KvOutput, VALUE_LEN_MAX};
use synod::paxos::ReadLevel;

#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub ops: usize,
    pub clients: usize,
    pub keys: usize,
    /// Chance, in percent, that a write never hears back (it then takes effect or not, at random).
    pub indeterminate_percent: u32,
    /// Longest operation, in ticks; longer operations overlap more.
    pub duration_max: u64,
    /// Chance, in percent, that an operation is a scan over a random range of keys (with a limit half the time).
    pub scan_percent: u32,
}

struct Planned {
    client: u64,
    command: KvCommand,
    invoke: u64,
    response: u64,
    takes_effect_at: u64,
    answered: bool,
    happens: bool,
}

pub fn linearizable_history(seed: u64, shape: Shape) -> History {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut client_free_at = vec![0u64; shape.clients];
    let mut planned = Vec::with_capacity(shape.ops);
    for _ in 0..shape.ops {
        let client = rng.random_range(0..shape.clients);
        let invoke = client_free_at[client] + rng.random_range(0..3);
        let response = invoke + rng.random_range(1..=shape.duration_max);
        client_free_at[client] = response;
        let command = if rng.random_range(0..100) < shape.scan_percent {
            random_scan(&mut rng, shape.keys)
        } else {
            random_command(&mut rng, shape.keys)
        };
        let answered = !command.is_write() || rng.random_range(0..100) >= shape.indeterminate_percent;
        planned.push(Planned {
            client: client as u64,
            command,
            invoke,
            response,
            takes_effect_at: rng.random_range(invoke..=response),
            answered,
            happens: answered || rng.random_bool(0.5),
        });
    }
    let mut effect_order: Vec<usize> = (0..planned.len()).collect();
    effect_order.sort_by_key(|&index| (planned[index].takes_effect_at, index));
    let mut store = BTreeMap::new();
    let mut outputs = vec![KvOutput::Ok; planned.len()];
    for index in effect_order.into_iter().filter(|&index| planned[index].happens) {
        outputs[index] = apply(&mut store, &planned[index].command);
    }
    let mut invoke_order: Vec<usize> = (0..planned.len()).collect();
    invoke_order.sort_by_key(|&index| (planned[index].invoke, index));
    let mut history = History::new();
    for index in invoke_order {
        let op = &planned[index];
        let id = history.invoke(op.client, op.command.clone(), op.invoke);
        if op.answered {
            history.complete(id, outputs[index].clone(), op.response);
        } else {
            history.timeout(id);
        }
    }
    history
}

fn random_command(rng: &mut ChaCha8Rng, keys: usize) -> KvCommand {
    let key = format!("k{}", rng.random_range(0..keys));
    match rng.random_range(0..100) {
        0..40 => KvCommand::Get { key },
        40..65 => KvCommand::Put { key, value: random_value(rng) },
        65..78 => KvCommand::Append { key, value: random_value(rng) },
        78..92 => {
            let expected = if rng.random_bool(0.2) { None } else { Some(random_value(rng)) };
            KvCommand::Cas { key, expected, new: random_value(rng) }
        }
        _ => KvCommand::Delete { key },
    }
}

/// A scan from `k{a}` up to, not including, `k{b}` (`k{keys}` reaches past the last key).
pub fn random_scan(rng: &mut ChaCha8Rng, keys: usize) -> KvCommand {
    let start = rng.random_range(0..keys);
    let end = rng.random_range(start + 1..=keys);
    let limit = rng.random_bool(0.5).then(|| rng.random_range(1..=keys as u32));
    KvCommand::Scan { start: format!("k{start}"), end: format!("k{end}"), limit, level: ReadLevel::Log }
}

pub fn random_value(rng: &mut ChaCha8Rng) -> String {
    rng.random_range(0..6).to_string()
}

/// The key-value store's semantics (as in `KvStore`, without sessions).
pub fn apply(store: &mut BTreeMap<String, String>, command: &KvCommand) -> KvOutput {
    match command {
        KvCommand::Get { key } | KvCommand::Read { key, .. } => KvOutput::Value(store.get(key).cloned()),
        KvCommand::Scan { start, end, limit, .. } => KvOutput::Records(
            store
                .range(start.clone()..end.clone())
                .take(limit.map_or(usize::MAX, |limit| limit as usize))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
        ),
        KvCommand::Put { key, value } => {
            store.insert(key.clone(), value.clone());
            KvOutput::Ok
        }
        KvCommand::Delete { key } => {
            store.remove(key);
            KvOutput::Ok
        }
        KvCommand::Append { key, value } => {
            let current = store.get(key).map_or(0, String::len);
            if current + value.len() > VALUE_LEN_MAX {
                return KvOutput::TooLong;
            }
            store.entry(key.clone()).or_default().push_str(value);
            KvOutput::Ok
        }
        KvCommand::Cas { key, expected, new } => {
            let swaps = store.get(key) == expected.as_ref();
            if swaps {
                store.insert(key.clone(), new.clone());
            }
            KvOutput::Cas(swaps)
        }
    }
}
