//! `synod replay --run`: a link's run text replays to the tick the playground opens it at, for links of either
//! version.
#![cfg(not(target_arch = "wasm32"))]

use std::process::Command;

fn replay(run: &str) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_synod")).args(["replay", "--run", run]).output().expect("synod runs");
    (output.status.code().expect("an exit code"), String::from_utf8(output.stdout).expect("utf-8"))
}

/// N of the first line, `seed S: N trace events, hash H`.
fn trace_events(output: &str) -> usize {
    let line = output.lines().next().unwrap_or_default();
    let count = line.split(": ").nth(1).and_then(|rest| rest.split(' ').next());
    count.and_then(|count| count.parse().ok()).unwrap_or_else(|| panic!("no event count in {line:?}"))
}

#[test]
fn a_link_replays_to_the_tick_it_opens_at() {
    // A first-version link opens at its last action (tick 24); a second-version one at the tick it was shared.
    let (code, first_version) = replay("1.5.1.-.2~24:k2");
    assert_eq!(code, 0);
    let (code, shared_at_24) = replay("2.5.1.-.2~24:k2~@24.paused.8");
    assert_eq!(code, 0);
    assert_eq!(first_version, shared_at_24);
    let (code, shared_at_49) = replay("2.5.1.-.2~24:k2~@49.playing.400.m3");
    assert_eq!(code, 0);
    assert!(trace_events(&shared_at_49) > trace_events(&shared_at_24), "25 ticks more of the same run");
}

#[test]
fn a_malformed_link_is_refused_with_the_reason() {
    let output = Command::new(env!("CARGO_BIN_EXE_synod"))
        .args(["replay", "--run", "2.5.1.-.2~24:k2~@49.stopped.8"])
        .output()
        .expect("synod runs");
    assert_eq!(output.status.code(), Some(2));
    let error = String::from_utf8(output.stderr).unwrap();
    assert!(error.contains("playing or paused"), "{error}");
}

#[test]
fn shrink_reads_a_link_of_either_version() {
    // Neither run breaks anything, so both get the same answer: read, replayed, nothing to shrink.
    for run in ["1.5.1.-.2~24:k2", "2.5.1.-.2~24:k2~@49.playing.400.m3"] {
        let output = Command::new(env!("CARGO_BIN_EXE_synod")).args(["shrink", "--run", run]).output().expect("runs");
        let error = String::from_utf8(output.stderr).unwrap();
        assert!(error.contains("shows no violation"), "{run}: {error}");
    }
}

/// A reader that stops early (`synod replay --seed 3 | head`) ends the replay without a panic: the whole trace is
/// megabytes, far more than a pipe holds, so the replay is still writing when the reader goes.
#[cfg(unix)]
#[test]
fn a_reader_that_stops_early_ends_the_replay_quietly() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_synod"))
        .args(["replay", "--seed", "3", "--lines", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("synod runs");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("piped")).read_line(&mut first).expect("a first line");
    assert!(first.starts_with("seed 3: "), "{first}");
    let output = child.wait_with_output().expect("synod ends");
    let error = String::from_utf8(output.stderr).unwrap();
    assert!(!error.contains("panicked"), "{error}");
    assert_eq!(output.status.signal(), Some(libc::SIGPIPE), "{:?}", output.status);
}
