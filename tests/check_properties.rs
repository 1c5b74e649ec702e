//! Randomised properties of the linearizability checker: histories linearizable by construction pass, a
//! read of a value nobody wrote fails, and on small histories the checker agrees with brute force.

mod common;

use std::collections::BTreeMap;

use common::random_history::{apply, linearizable_history, random_scan, random_value, Shape};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use synod::check::{check, CheckOutcome, History, Operation, Outcome};
use synod::kv::{KvCommand, KvOutput};

const SHAPES: [Shape; 4] = [
    Shape { ops: 60, clients: 3, keys: 1, indeterminate_percent: 0, duration_max: 10, scan_percent: 0 },
    Shape { ops: 200, clients: 6, keys: 3, indeterminate_percent: 10, duration_max: 20, scan_percent: 0 },
    Shape { ops: 300, clients: 10, keys: 2, indeterminate_percent: 5, duration_max: 40, scan_percent: 0 },
    Shape { ops: 400, clients: 4, keys: 8, indeterminate_percent: 20, duration_max: 8, scan_percent: 0 },
];

/// Histories with range reads over several keys.
const SCAN_SHAPES: [Shape; 2] = [
    Shape { ops: 150, clients: 5, keys: 3, indeterminate_percent: 10, duration_max: 20, scan_percent: 15 },
    Shape { ops: 300, clients: 4, keys: 6, indeterminate_percent: 5, duration_max: 10, scan_percent: 10 },
];

#[test]
fn histories_linearizable_by_construction_pass() {
    for (shape_index, shape) in SHAPES.into_iter().chain(SCAN_SHAPES).enumerate() {
        for seed in 0..40 {
            let history = linearizable_history(seed, shape);
            let outcome = check(&history);
            assert!(outcome.is_linearizable(), "shape {shape_index}, seed {seed}: {outcome}");
        }
    }
}

/// Rebuilds `history` with each operation's times transformed.
fn retimed(history: &History, mut retime: impl FnMut(u64, Option<u64>) -> (u64, Option<u64>)) -> History {
    let mut operations: Vec<(Operation, u64, Option<u64>)> = history
        .operations()
        .iter()
        .map(|operation| {
            let (invoke, response) = retime(operation.invoke, operation.response_time());
            (operation.clone(), invoke, response)
        })
        .collect();
    operations.sort_by_key(|(_, invoke, _)| *invoke);
    let mut rebuilt = History::new();
    for (operation, invoke, response) in operations {
        let id = rebuilt.invoke(operation.client, operation.command, invoke);
        match (operation.outcome, response) {
            (Outcome::Completed { output, .. }, Some(at)) => rebuilt.complete(id, output, at),
            (Outcome::Failed { .. }, Some(at)) => rebuilt.fail(id, at),
            _ => rebuilt.timeout(id),
        }
    }
    rebuilt
}

#[test]
fn widening_operations_keeps_a_sequential_history_linearizable() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for seed in 0..60 {
        // One client, operations back to back: sequential. Then every interval is stretched at random.
        let sequential = linearizable_history(
            seed,
            Shape { ops: 80, clients: 1, keys: 2, indeterminate_percent: 0, duration_max: 5, scan_percent: 0 },
        );
        assert!(check(&sequential).is_linearizable());
        let widened = retimed(&sequential, |invoke, response| {
            let earlier = rng.random_range(0..=30).min(invoke);
            (invoke - earlier, response.map(|at| at + rng.random_range(0..=30)))
        });
        let outcome = check(&widened);
        assert!(outcome.is_linearizable(), "seed {seed}: {outcome}");
    }
}

#[test]
fn a_read_of_a_value_nobody_wrote_fails_and_is_the_core() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for (shape_index, shape) in SHAPES.into_iter().enumerate() {
        for seed in 0..20 {
            let history = linearizable_history(seed, shape);
            let reads: Vec<usize> = (0..history.len())
                .filter(|&index| {
                    let operation = &history.operations()[index];
                    !operation.command.is_write() && operation.output().is_some()
                })
                .collect();
            let victim = reads[rng.random_range(0..reads.len())];
            let mutated = retimed(&history, |invoke, response| (invoke, response));
            let mut mutated_ops: Vec<Operation> = mutated.operations().to_vec();
            // `retimed` keeps invocation order, so indices still line up.
            let seen = KvOutput::Value(Some("never written".into()));
            mutated_ops[victim].outcome = match &mutated_ops[victim].outcome {
                Outcome::Completed { at, .. } => Outcome::Completed { at: *at, output: seen },
                other => panic!("reads chosen were answered, not {other:?}"),
            };
            let mutated = rebuild(&mutated_ops);
            match check(&mutated) {
                CheckOutcome::NotLinearizable { key, explanation } => {
                    assert_eq!(key, mutated_ops[victim].command.key());
                    let core: Vec<usize> = explanation.core.iter().map(|operation| operation.id.0).collect();
                    assert_eq!(core, [victim], "shape {shape_index}, seed {seed}: {explanation}");
                }
                other => panic!("shape {shape_index}, seed {seed}: expected a violation, got {other}"),
            }
        }
    }
}

fn rebuild(operations: &[Operation]) -> History {
    let mut history = History::new();
    for operation in operations {
        let id = history.invoke(operation.client, operation.command.clone(), operation.invoke);
        match &operation.outcome {
            Outcome::Completed { at, output } => history.complete(id, output.clone(), *at),
            Outcome::Failed { at } => history.fail(id, *at),
            Outcome::Indeterminate => history.timeout(id),
        }
    }
    history
}

/// A small history on one key with random timing and random (often impossible) answers.
fn random_small_history(rng: &mut ChaCha8Rng) -> History {
    let mut history = History::new();
    let mut time = 0;
    for client in 0..rng.random_range(1..=7u64) {
        time += rng.random_range(0..3);
        let command = match rng.random_range(0..5) {
            0 | 1 => KvCommand::Get { key: "k".into() },
            2 => KvCommand::Put { key: "k".into(), value: random_value(rng) },
            3 => KvCommand::Append { key: "k".into(), value: random_value(rng) },
            _ => KvCommand::Cas {
                key: "k".into(),
                expected: rng.random_bool(0.7).then(|| random_value(rng)),
                new: random_value(rng),
            },
        };
        let output = match &command {
            KvCommand::Get { .. } => {
                let options = [None, Some("0"), Some("1"), Some("01"), Some("10"), Some("11")];
                KvOutput::Value(options[rng.random_range(0..options.len())].map(String::from))
            }
            KvCommand::Cas { .. } => KvOutput::Cas(rng.random_bool(0.5)),
            _ => KvOutput::Ok,
        };
        record_randomly(&mut history, rng, (client, command, output), time);
    }
    history
}

/// A small history over keys k0, k1, k2 with scans, random timing and random (often impossible) answers.
fn random_small_scan_history(rng: &mut ChaCha8Rng) -> History {
    let mut history = History::new();
    let mut time = 0;
    let value = |rng: &mut ChaCha8Rng| rng.random_range(0..2).to_string();
    for client in 0..rng.random_range(1..=6u64) {
        time += rng.random_range(0..3);
        let key = format!("k{}", rng.random_range(0..3));
        let command = match rng.random_range(0..6) {
            0 | 1 => random_scan(rng, 3),
            2 => KvCommand::Get { key },
            3 | 4 => KvCommand::Put { key, value: value(rng) },
            _ => KvCommand::Delete { key },
        };
        let output = match &command {
            KvCommand::Get { .. } => KvOutput::Value(rng.random_bool(0.6).then(|| value(rng))),
            KvCommand::Scan { start, end, limit, .. } => {
                let mut found = Vec::new();
                for key in (0..3).map(|at| format!("k{at}")) {
                    if start <= &key && &key < end && rng.random_bool(0.5) {
                        found.push((key, value(rng)));
                    }
                }
                if rng.random_bool(0.8) {
                    found.truncate(limit.map_or(usize::MAX, |limit| limit as usize));
                }
                KvOutput::Records(found)
            }
            _ => KvOutput::Ok,
        };
        record_randomly(&mut history, rng, (client, command, output), time);
    }
    history
}

/// Records `client`'s `command`, invoked at `time`: mostly answered with `output` a little later, sometimes
/// failed, sometimes never answered.
fn record_randomly(
    history: &mut History,
    rng: &mut ChaCha8Rng,
    (client, command, output): (u64, KvCommand, KvOutput),
    time: u64,
) {
    let op = history.invoke(client, command, time);
    match rng.random_range(0..10) {
        0 => history.timeout(op),
        1 => history.fail(op, time + rng.random_range(0..5)),
        _ => history.complete(op, output, time + rng.random_range(0..8)),
    }
}

/// Tries every order, the slow and obvious way: an operation may go next if no other remaining answered
/// operation returned before it was invoked; unanswered writes may also never happen.
fn brute_force_linearizable(history: &History) -> bool {
    let operations: Vec<&Operation> = history
        .operations()
        .iter()
        .filter(|operation| match &operation.outcome {
            Outcome::Failed { .. } => false,
            Outcome::Indeterminate => operation.command.is_write(),
            Outcome::Completed { .. } => true,
        })
        .collect();
    fn search(operations: &[&Operation], remaining: &mut Vec<bool>, store: &BTreeMap<String, String>) -> bool {
        let answered_left = (0..operations.len()).any(|i| remaining[i] && operations[i].output().is_some());
        if !answered_left {
            return true;
        }
        for next in 0..operations.len() {
            if !remaining[next] {
                continue;
            }
            let blocked = (0..operations.len()).any(|other| {
                remaining[other]
                    && other != next
                    && operations[other].response_time().is_some_and(|at| at < operations[next].invoke)
            });
            if blocked {
                continue;
            }
            let mut after = store.clone();
            let output = apply(&mut after, &operations[next].command);
            if operations[next].output().is_some_and(|seen| *seen != output) {
                continue;
            }
            remaining[next] = false;
            let found = search(operations, remaining, &after);
            remaining[next] = true;
            if found {
                return true;
            }
        }
        false
    }
    search(&operations, &mut vec![true; operations.len()], &BTreeMap::new())
}

#[test]
fn the_checker_agrees_with_brute_force_on_small_histories() {
    agrees_with_brute_force(3, random_small_history, 800);
}

#[test]
fn the_checker_agrees_with_brute_force_on_small_histories_with_scans() {
    agrees_with_brute_force(5, random_small_scan_history, 600);
}

/// Checks 4,000 histories from `generate` against brute force; each verdict must be seen at least `least` times.
fn agrees_with_brute_force(seed: u64, generate: fn(&mut ChaCha8Rng) -> History, least: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut linearizable, mut not) = (0, 0);
    for case in 0..4000 {
        let history = generate(&mut rng);
        let expected = brute_force_linearizable(&history);
        let outcome = check(&history);
        assert_eq!(outcome.is_linearizable(), expected, "case {case}: {history:#?}\n{outcome}");
        if let CheckOutcome::NotLinearizable { explanation, .. } = &outcome {
            // The core must itself be unorderable.
            let core = rebuild(&explanation.core);
            assert!(!brute_force_linearizable(&core), "case {case}: core {core:#?} is orderable");
        }
        if expected {
            linearizable += 1;
        } else {
            not += 1;
        }
    }
    assert!(linearizable > least && not > least, "a balanced sample: {linearizable} linearizable, {not} not");
}
