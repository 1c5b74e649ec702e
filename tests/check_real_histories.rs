//! Histories from other checkers' test suites, with their known verdicts.
//!
//! Porcupine's KV histories are checked in under `tests/data/histories/porcupine/` (MIT, see the README
//! there). Porcupine's etcd logs come from a repository without a licence, so they are not checked in: set
//! `SYNOD_PORCUPINE_DIR` to a Porcupine checkout to check all of them against Porcupine's verdicts.

use std::path::{Path, PathBuf};

use synod::check::{check_history_file, CheckOutcome, HistoryFormat};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/histories").join(name)
}

fn check_file(path: &Path, format: HistoryFormat) -> CheckOutcome {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    check_history_file(format, &text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn assert_verdict(path: &Path, format: HistoryFormat, linearizable: bool) {
    let outcome = check_file(path, format);
    assert!(!matches!(outcome, CheckOutcome::Unknown { .. }), "{}: {outcome}", path.display());
    assert_eq!(outcome.is_linearizable(), linearizable, "{}: {outcome}", path.display());
}

#[test]
fn porcupine_kv_histories_get_porcupines_verdicts() {
    for (name, linearizable) in [("c01-ok", true), ("c01-bad", false), ("c10-ok", true), ("c10-bad", false)] {
        assert_verdict(&data(&format!("porcupine/{name}.txt")), HistoryFormat::Edn, linearizable);
    }
}

/// Porcupine's `porcupine_test.go` (`TestEtcdJepsenNNN`): the etcd logs it finds linearizable. Log 95 is
/// empty (etcd did not start); every other log is not linearizable.
const ETCD_LINEARIZABLE: [u32; 23] =
    [2, 5, 7, 18, 25, 31, 38, 45, 48, 49, 51, 53, 56, 67, 75, 76, 80, 87, 92, 98, 100, 101, 102];

#[test]
fn porcupine_etcd_logs_get_porcupines_verdicts_when_available() {
    let Some(porcupine) = std::env::var_os("SYNOD_PORCUPINE_DIR") else {
        eprintln!("SYNOD_PORCUPINE_DIR is not set: skipping Porcupine's etcd logs");
        return;
    };
    let porcupine = PathBuf::from(porcupine);
    for log in (0..=102).filter(|&log| log != 95) {
        let path = porcupine.join(format!("test_data/jepsen/etcd_{log:03}.log"));
        assert_verdict(&path, HistoryFormat::JepsenLog, ETCD_LINEARIZABLE.contains(&log));
    }
    for size in ["c50-ok", "c50-bad"] {
        let path = porcupine.join(format!("test_data/kv/{size}.txt"));
        assert_verdict(&path, HistoryFormat::Edn, size.ends_with("ok"));
    }
}
