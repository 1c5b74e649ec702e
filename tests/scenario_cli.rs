//! `synod scenario`: `list` names the shipped scenarios; `check` exits 0 when every claim holds, 1 when one fails
//! (naming the line), 2 when the file is missing or malformed (naming the line and the field).
#![cfg(not(target_arch = "wasm32"))]

use std::process::Command;

fn synod(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_synod")).args(args).output().expect("synod runs");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("utf-8");
    (output.status.code().expect("an exit code"), text(output.stdout), text(output.stderr))
}

fn scenario_file(name: &str, text: &str) -> String {
    let path = std::env::temp_dir().join(format!("synod-cli-{}-{name}.scenario", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn list_names_every_shipped_scenario_with_its_title() {
    let (code, out, _) = synod(&["scenario", "list"]);
    assert_eq!(code, 0);
    for scenario in synod::scenario::SHIPPED {
        assert!(out.lines().any(|line| line.starts_with(scenario.name)), "{} missing from:\n{out}", scenario.name);
    }
    assert!(out.contains("Normal commit"), "{out}");
}

#[test]
fn check_exits_0_when_the_claims_hold_1_when_one_fails_2_when_malformed() {
    let good = "synod-scenario 1\ntitle: t\nnodes: 5\nseed: 1\nend: 20\nchecker: green\nexpect 14: leader 5\n";
    let (code, out, _) = synod(&["scenario", "check", &scenario_file("good", good)]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("\"t\" ran to tick 20: 2 claims hold (checker green)"), "{out}");

    let failing = good.replace("leader 5", "leader 2");
    let (code, _, err) = synod(&["scenario", "check", &scenario_file("failing", &failing)]);
    assert_eq!(code, 1);
    assert!(err.contains("1 of 2 claims failed:\n  line 7, tick 14: node 2 is follower; leaders now: [5]"), "{err}");

    let malformed = good.replace("nodes: 5", "nodes: 12");
    let (code, _, err) = synod(&["scenario", "check", &scenario_file("malformed", &malformed)]);
    assert_eq!(code, 2);
    assert!(err.contains("line 3, nodes: a scenario's cluster has 3 to 7 nodes, not 12"), "{err}");

    let (code, _, err) = synod(&["scenario", "check", "/no/such/file.scenario"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read /no/such/file.scenario"), "{err}");
}

#[test]
fn check_takes_a_shipped_scenario_by_name() {
    let (code, out, err) = synod(&["scenario", "check", "bug-minority-quorum"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("checker red: learned-values-agree"), "{out}");
}

#[test]
fn embed_prints_a_frame_that_carries_the_text_and_refuses_a_malformed_file() {
    let text = "synod-scenario 1\ntitle: A & B\nnodes: 5\nseed: 1\nend: 20\nchecker: green\nexpect 14: leader 5\n";
    let (code, out, _) =
        synod(&["scenario", "embed", &scenario_file("embed", text), "--page", "https://example.org/synod/"]);
    assert_eq!(code, 0);
    let prefix = "<iframe src=\"https://example.org/synod/?embed=1#scenario=";
    let rest = out.trim_end().strip_prefix(prefix).unwrap_or_else(|| panic!("{out}"));
    let (packed, rest) = rest.split_once('"').unwrap();
    assert_eq!(synod::scenario::link::unpack(packed).unwrap(), text);
    assert_eq!(rest, " title=\"Live example: A &amp; B\" width=\"640\" height=\"400\"></iframe>");
    let failing = text.replace("leader 5", "leader 2");
    let (code, out, err) = synod(&["scenario", "embed", &scenario_file("embed-failing", &failing)]);
    assert_eq!(code, 1);
    assert!(out.starts_with("<iframe src=\"../index.html?embed=1#scenario="), "{out}");
    assert!(err.contains("a claim does not hold: line 7, tick 14: node 2 is follower"), "{err}");
    let (code, out, err) = synod(&["scenario", "embed", &scenario_file("embed-bad", "synod-scenario 1\nnodes 3\n")]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("line 2, nodes: expected `field: value`"), "{err}");
}
