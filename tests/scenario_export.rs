//! "Export as scenario": a run written as scenario text reads back, runs to the same trace, and every claim it
//! wrote holds.
#![cfg(not(target_arch = "wasm32"))]

use synod::kv::KvCommand;
use synod::paxos::Bug;
use synod::scenario::{export, parse, percent, quote, run, Outcome, Recorded, SHIPPED};
use synod::sim::{FaultConfig, Sim, SimConfig, Timing, UserAction};

fn recorded<'a>(actions: &'a [(u64, UserAction)], now: u64) -> Recorded<'a> {
    Recorded {
        title: "",
        nodes: 5,
        seed: 7,
        bug: None,
        clients: 0,
        snapshot_interval: 0,
        timing: Timing::default(),
        actions,
        now,
    }
}

/// Exports `run`, reads the text back and runs it: the outcome, which must have no failed claim.
fn round_trip(recorded: &Recorded) -> (String, Outcome) {
    let text = export(recorded).expect("a valid setup");
    let parsed = parse(&text).unwrap_or_else(|error| panic!("{error}\n{text}"));
    let outcome = run(&parsed).unwrap_or_else(|error| panic!("{error}\n{text}"));
    let failures: Vec<String> = outcome.failures.iter().map(ToString::to_string).collect();
    assert!(failures.is_empty(), "{}\n{text}", failures.join("\n"));
    (text, outcome)
}

/// The trace hash of the playground's replay of `actions` to `now` (actions at tick T once the simulator is at T).
fn replay_hash(recorded: &Recorded) -> u64 {
    let bugs = recorded.bug.map_or(synod::paxos::BugSet::NONE, synod::paxos::BugSet::from);
    let config = SimConfig::playground(recorded.nodes, bugs, recorded.clients, recorded.snapshot_interval);
    let mut sim = Sim::new(config, recorded.seed, Vec::new(), false).unwrap();
    let mut actions = recorded.actions.iter().peekable();
    loop {
        while let Some((_, action)) = actions.next_if(|(tick, _)| *tick == sim.now()) {
            sim.apply_action(action.clone());
        }
        if sim.now() >= recorded.now.max(1) {
            return sim.trace().hash();
        }
        sim.tick();
    }
}

#[test]
fn every_shipped_scenario_exported_from_its_run_replays_the_same_trace() {
    for shipped in SHIPPED {
        let scenario = parse(shipped.text).unwrap();
        if scenario.reads != synod::paxos::ReadLevel::Log || scenario.drift_ppm > 0 {
            // The playground has no read level or clock drift of its own (issue 18's scenarios set them), so
            // nothing it exports carries them.
            continue;
        }
        let original = run(&scenario).unwrap();
        let recorded = Recorded {
            title: &scenario.title,
            nodes: scenario.nodes,
            seed: scenario.seed,
            bug: scenario.bug,
            clients: scenario.clients,
            snapshot_interval: scenario.snapshot_interval,
            timing: Timing::default(),
            actions: &original.actions,
            now: scenario.end,
        };
        let (text, outcome) = round_trip(&recorded);
        assert_eq!(outcome.trace_hash, original.trace_hash, "{}:\n{text}", shipped.name);
        assert_eq!(outcome.actions, original.actions, "{}", shipped.name);
        assert!(text.contains(&format!("title: {}\n", scenario.title)), "{text}");
    }
}

/// A visitor's run with every kind of action, a message that is not the next of its kind (so it is named by
/// id), values that need quotes, a reload, and a cas on an absent key.
#[test]
fn a_visitor_run_with_every_kind_of_action_replays_the_same_trace() {
    let put = |key: &str, value: &str| KvCommand::Put { key: key.into(), value: value.into() };
    let mut actions = vec![
        (20, UserAction::ClientOp { target: 2, command: put("x", "two words") }),
        (40, UserAction::ClientOp { target: 3, command: put("q", "say \"hi\" \\o/") }),
        (
            60,
            UserAction::ClientOp {
                target: 1,
                command: KvCommand::Cas { key: "c".into(), expected: None, new: String::new() },
            },
        ),
        (
            70,
            UserAction::SetFaults {
                faults: FaultConfig { drop_ppm: 2_500, delay_min: 1, delay_max: 5, ..FaultConfig::none() },
            },
        ),
        (
            75,
            UserAction::ClientOp {
                target: 2,
                command: KvCommand::Scan {
                    start: "a..b".into(),
                    end: "x".into(),
                    limit: Some(2),
                    level: synod::paxos::ReadLevel::Local,
                },
            },
        ),
        (80, UserAction::Pause { node: 4 }),
        (90, UserAction::Resume { node: 4 }),
        (100, UserAction::Partition { groups: vec![vec![1, 2], vec![3, 4, 5]] }),
        (120, UserAction::Heal),
        (121, UserAction::CutLink { from: 1, to: 5 }),
        (122, UserAction::HealLink { from: 1, to: 5 }),
        (130, UserAction::Crash { node: 5 }),
        (150, UserAction::Restart { node: 5 }),
        (170, UserAction::Reload),
    ];
    // Messages in flight at tick 200 of this very run: the last of one kind on one link (so not the next to
    // arrive), then the first of another.
    let sim = run_to(&recorded(&actions, 200));
    let mut seen = Vec::new();
    let later = sim
        .network()
        .in_flight()
        .find(|m| {
            let link = (m.kind, m.from, m.to);
            let again = seen.contains(&link);
            seen.push(link);
            again
        })
        .expect("two messages of one kind on one link in flight");
    let (later, later_kind) = (later.id, later.kind.name());
    let first = sim.network().in_flight().next().expect("something in flight").id;
    let other = sim.network().in_flight().find(|m| m.id != later && m.id != first).expect("a third message").id;
    actions.extend([
        (200, UserAction::DropMessage { id: later }),
        (200, UserAction::DuplicateMessage { id: first }),
        (200, UserAction::DeliverNow { id: other }),
        (230, UserAction::ClientOp { target: 2, command: KvCommand::Get { key: "x".into() } }),
    ]);
    let probe = recorded(&actions, 260);
    let (text, outcome) = round_trip(&probe);
    assert_eq!(outcome.trace_hash, replay_hash(&probe), "{text}");
    assert!(text.contains(&format!("at 200: drop #{later} {later_kind} ")), "{text}");
    for line in [
        "at 20: put x \"two words\" via 2",
        "at 40: put q \"say \\\"hi\\\" \\\\o/\" via 3",
        "at 60: cas c - \"\" via 1",
        "at 70: faults drop=0.25% delay=1..5",
        "at 75: scan a..b x 2 @local via 2",
        "at 100: partition 1 2 | 3 4 5",
        "at 170: reload",
        "checker: green",
    ] {
        assert!(text.contains(line), "{line:?} in:\n{text}");
    }
    assert!(text.contains("expect 260: x = \"two words\"\n"), "{text}");
}

fn run_to(recorded: &Recorded) -> Sim {
    let config = SimConfig::playground(recorded.nodes, synod::paxos::BugSet::NONE, 0, 0);
    let mut sim = Sim::new(config, recorded.seed, Vec::new(), false).unwrap();
    let mut actions = recorded.actions.iter().peekable();
    loop {
        while let Some((_, action)) = actions.next_if(|(tick, _)| *tick == sim.now()) {
            sim.apply_action(action.clone());
        }
        if sim.now() >= recorded.now {
            return sim;
        }
        sim.tick();
    }
}

#[test]
fn claims_name_who_leads_who_is_down_and_values_nodes_disagree_on() {
    let actions = [
        (30, UserAction::ClientOp { target: 5, command: KvCommand::Put { key: "k".into(), value: "1".into() } }),
        (31, UserAction::Crash { node: 1 }),
    ];
    let (text, _) = round_trip(&recorded(&actions, 31));
    assert!(text.contains("expect 31: down 1\n"), "{text}");
    assert!(text.contains("expect 31: leader 5\n"), "{text}");
    // Between the leader applying k = 1 and the followers learning it, the nodes disagree, and each side is
    // claimed with the nodes it holds for.
    let split = (32..60).map(|now| round_trip(&recorded(&actions, now)).0).find(|text| text.contains(" k = 1 on "));
    let split = split.expect("a tick where some nodes applied k = 1 and others not yet");
    assert!(split.contains(" k absent on "), "{split}");
    let (text, _) = round_trip(&recorded(&actions, 60));
    assert!(text.contains("expect 60: k = 1\n"), "{text}");
}

#[test]
fn a_planted_bug_exports_its_violation_as_the_verdict() {
    let shipped = SHIPPED.iter().find(|s| s.name == "bug-send-before-persist").unwrap();
    let scenario = parse(shipped.text).unwrap();
    let recorded = Recorded { bug: Some(Bug::SendBeforePersist), ..recorded(&[], scenario.end) };
    let (text, outcome) = round_trip(&recorded);
    assert!(text.contains("bug: send-before-persist\n"), "{text}");
    assert!(text.contains("checker: violation persist-before-send\n"), "{text}");
    assert!(outcome.violations.contains(&"persist-before-send".to_string()));
}

/// A run where every fault moved (the playground's sliders set six of them, a share link may carry all
/// eighteen) is written with a word for each and replays the same.
#[test]
fn a_run_with_every_fault_changed_replays_the_same_trace() {
    let faults = FaultConfig {
        drop_ppm: 10_000,
        duplicate_ppm: 5_000,
        delay_min: 2,
        delay_max: 4,
        partition_ppm: 2_000,
        partition_ticks: 30,
        crash_ppm: 1_000,
        down_ticks: 25,
        storage_delay_max: 2,
        leader_partition_ppm: 500_000,
        asymmetric_partition_ppm: 250_000,
        one_way_partition_ppm: 125_000,
        one_way_link_ppm: 20_000,
        flapping_link_ppm: 10_000,
        link_ticks: 40,
        late_ppm: 30_000,
        late_ticks_max: 300,
        mid_write_crash_ppm: 5_000,
    };
    let actions = [(10, UserAction::SetFaults { faults })];
    let probe = recorded(&actions, 400);
    let (text, outcome) = round_trip(&probe);
    assert_eq!(outcome.trace_hash, replay_hash(&probe), "{text}");
    assert_eq!(outcome.actions, actions, "{text}");
    assert!(text.contains(" late=3% late-ticks=300 ") && text.contains(" mid-write-crash=0.5% delay=2..4\n"), "{text}");
}

/// A model checker's path (stepping mode) and a run at other timing have no scenario text: the export says
/// why rather than write a scenario that would replay something else.
#[test]
fn a_stepped_run_or_one_at_other_timing_is_refused_with_the_reason() {
    let stepped = [(10, UserAction::Stepping { on: true }), (10, UserAction::TickNode { node: 1 })];
    let error = export(&recorded(&stepped, 20)).unwrap_err();
    assert!(error.starts_with("tick 10: ") && error.contains("event by event"), "{error}");
    let timing = Timing { heartbeat_ticks: 2, election_timeout_ticks: 7, retry_ticks: 3 };
    let error = export(&Recorded { timing, ..recorded(&[], 20) }).unwrap_err();
    assert!(error.contains("(heartbeat 2, election timeout 7, retry 3 ticks)"), "{error}");
}

#[test]
fn at_tick_zero_the_scenario_still_has_an_end() {
    let (text, _) = round_trip(&recorded(&[], 0));
    assert!(text.contains("end: 1\n") && text.contains("expect 0: green"), "{text}");
}

#[test]
fn percentages_and_quoted_values_read_back_exactly() {
    for ppm in [0, 1, 9, 10, 2_500, 10_000, 123_456, 999_999, 1_000_000] {
        let text = format!(
            "synod-scenario 1\ntitle: t\nnodes: 3\nseed: 1\nend: 5\nchecker: green\nfaults: drop={}\n",
            percent(ppm)
        );
        assert_eq!(parse(&text).unwrap().faults.unwrap().get("drop_ppm"), Some(ppm.into()), "{}", percent(ppm));
    }
    for value in ["plain", "", "two words", "\"", "\\", "a\"b\\c", "-", "ünïcode"] {
        let text = format!(
            "synod-scenario 1\ntitle: t\nnodes: 3\nseed: 1\nend: 5\nchecker: green\nat 1: put k {} via 1\n",
            quote(value)
        );
        let parsed = parse(&text).unwrap_or_else(|e| panic!("{value:?}: {e}"));
        let expected = synod::scenario::Action::Do(UserAction::ClientOp {
            target: 1,
            command: KvCommand::Put { key: "k".into(), value: value.into() },
        });
        assert_eq!(parsed.timeline[0].item, expected, "{value:?}");
    }
}

#[test]
fn the_retry_switch_is_exported_and_replays_the_same_trace() {
    let put = KvCommand::Put { key: "x".into(), value: "1".into() };
    let actions = [
        (0, UserAction::SetRetries { on: true }),
        (1, UserAction::ClientOp { target: 1, command: put.clone() }),
        (200, UserAction::SetRetries { on: false }),
        (201, UserAction::ClientOp { target: 2, command: put }),
    ];
    let recorded = recorded(&actions, 260);
    let (text, outcome) = round_trip(&recorded);
    assert!(text.contains("at 0: retries on\n") && text.contains("at 200: retries off\n"), "{text}");
    assert_eq!(outcome.trace_hash, replay_hash(&recorded), "{text}");
}
