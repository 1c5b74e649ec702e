//! How long the linearizability checker takes: on generated 1,000-operation histories and on Porcupine's
//! test histories. `cargo bench --bench checker`; set `SYNOD_PORCUPINE_DIR` to a Porcupine checkout to add
//! its 50-client KV histories and its etcd logs, which are not checked in.

#[path = "../tests/common/random_history.rs"]
mod random_history;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use random_history::{linearizable_history, Shape};
use synod::check::{check, check_with, parse_history, CheckOptions, CheckOutcome, History, HistoryFormat};

/// Each measurement repeats a check for this long (and at least three times).
const MEASURE_FOR: Duration = Duration::from_millis(1500);

fn main() {
    // `cargo bench` passes `--bench`; a filter argument, if any, selects cases by name.
    let filter = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
    println!("{:<36} {:>6} {:>12} {:>12}  verdict", "history", "ops", "median", "min");
    let mut cases: Vec<(String, History)> = Vec::new();
    for (name, shape) in [
        (
            "random 1000 ops, 8 clients, 4 keys",
            Shape { ops: 1000, clients: 8, keys: 4, indeterminate_percent: 0, duration_max: 20, scan_percent: 0 },
        ),
        (
            "random 1000 ops, 16 clients, 2 keys",
            Shape { ops: 1000, clients: 16, keys: 2, indeterminate_percent: 0, duration_max: 30, scan_percent: 0 },
        ),
        (
            "  same, 5% writes unanswered",
            Shape { ops: 1000, clients: 16, keys: 2, indeterminate_percent: 5, duration_max: 30, scan_percent: 0 },
        ),
    ] {
        cases.push((name.into(), linearizable_history(1, shape)));
    }
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/histories/porcupine");
    for name in ["c01-ok", "c01-bad", "c10-ok", "c10-bad"] {
        cases.push((format!("porcupine {name}"), read(&data.join(format!("{name}.txt")), HistoryFormat::Edn)));
    }
    if let Some(porcupine) = std::env::var_os("SYNOD_PORCUPINE_DIR").map(PathBuf::from) {
        for name in ["c50-ok", "c50-bad"] {
            let path = porcupine.join(format!("test_data/kv/{name}.txt"));
            cases.push((format!("porcupine {name}"), read(&path, HistoryFormat::Edn)));
        }
        for log in [0, 2, 7, 40, 57, 85, 97, 99] {
            let path = porcupine.join(format!("test_data/jepsen/etcd_{log:03}.log"));
            cases.push((format!("porcupine etcd_{log:03}"), read(&path, HistoryFormat::JepsenLog)));
        }
    }
    for (name, history) in &cases {
        if filter.as_ref().is_some_and(|filter| !name.contains(filter.as_str())) {
            continue;
        }
        measure(name, history);
    }
    if let Some(porcupine) = std::env::var_os("SYNOD_PORCUPINE_DIR").map(PathBuf::from) {
        measure_all_etcd_logs(&porcupine);
    }
}

fn read(path: &Path, format: HistoryFormat) -> History {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    parse_history(format, &text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Times the verdict alone (as Porcupine's `CheckEvents` gives it) and, for a violation, the verdict with a
/// shrunk explanation (what `check` returns by default).
fn measure(name: &str, history: &History) {
    let verdict_only = CheckOptions { shrink_explanation: false, ..CheckOptions::default() };
    let (median, min, outcome) = time(|| check_with(history, &verdict_only));
    let verdict = match outcome {
        CheckOutcome::Linearizable => "linearizable".to_string(),
        CheckOutcome::NotLinearizable { .. } => {
            let (explained, _, outcome) = time(|| check(history));
            let CheckOutcome::NotLinearizable { explanation, .. } = outcome else { unreachable!("same verdict") };
            format!("not linearizable; explained ({} ops) in {explained:?}", explanation.core.len())
        }
        CheckOutcome::Unknown { .. } => "unknown".to_string(),
    };
    println!("{name:<36} {:>6} {:>12?} {:>12?}  {verdict}", history.len(), median, min);
}

/// Repeats `run` for `MEASURE_FOR` (at least three times): median and fastest time, and the last result.
fn time<T>(mut run: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut times = Vec::new();
    let started = Instant::now();
    loop {
        let start = Instant::now();
        let result = std::hint::black_box(run());
        times.push(start.elapsed());
        if times.len() >= 3 && started.elapsed() >= MEASURE_FOR {
            times.sort();
            return (times[times.len() / 2], times[0], result);
        }
    }
}

/// All of Porcupine's etcd logs, one after another (as Porcupine's own test suite runs them).
fn measure_all_etcd_logs(porcupine: &Path) {
    let histories: Vec<History> = (0..=102)
        .filter(|&log| log != 95)
        .map(|log| read(&porcupine.join(format!("test_data/jepsen/etcd_{log:03}.log")), HistoryFormat::JepsenLog))
        .collect();
    let verdict_only = CheckOptions { shrink_explanation: false, ..CheckOptions::default() };
    let start = Instant::now();
    let linearizable = histories.iter().filter(|history| check_with(history, &verdict_only).is_linearizable()).count();
    println!("all 102 etcd logs, once each, verdicts only: {:?} ({linearizable} linearizable)", start.elapsed());
}
