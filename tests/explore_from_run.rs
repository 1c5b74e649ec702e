//! "Explore from here": the model checker started from a moment of a playground run (`explore::Origin::Run`), as
//! the page's explorer does. The start is the state on screen, messages in flight included; a counterexample is
//! the run up to there, then its path, and replays to the same violation.

use synod::explore::{explore_from, replayed, Bounds, ExploreConfig, Origin, Report};
use synod::paxos::{Bug, BugSet};
use synod::sim::link::{decode_record, RunRecord, RunSetup};
use synod::sim::UserAction;

/// A playground run as the page starts one: `nodes` nodes, seed 7, `clients` background clients.
fn fresh_run(nodes: usize, bug: Option<Bug>, clients: u64) -> RunRecord {
    RunRecord::fresh(RunSetup { nodes, seed: 7, bug, clients, ..RunSetup::default() })
}

/// The page's bounds: the run's nodes, and `extra` messages in flight beyond those at the start.
fn bounds_at(record: &RunRecord, tick: u64, extra: u8, crashes: u8, ticks: u8) -> Bounds {
    let in_flight = replayed(record, tick).unwrap().network().len() as u8;
    let nodes = record.setup.nodes;
    Bounds {
        nodes,
        ops: 1,
        crashes,
        drops: 0,
        dups: 0,
        ticks,
        retries: 0,
        messages: in_flight + extra,
        depth: 40,
        reconfigs: 0,
    }
}

fn search(bounds: Bounds, record: &RunRecord, tick: u64) -> Report {
    let clock = std::cell::Cell::new(0.0);
    let tick_clock = || {
        clock.set(clock.get() + 1e-6);
        clock.get()
    };
    let config = ExploreConfig::new(bounds, BugSet::NONE);
    explore_from(&config, &Origin::Run { record, tick }, &mut |_| true, &tick_clock).expect("a valid search")
}

#[test]
fn a_run_replayed_to_a_tick_with_messages_in_flight_explores_from_there() {
    let record = fresh_run(3, None, 2);
    let tick = 30;
    let on_screen = replayed(&record, tick).unwrap();
    assert!(on_screen.network().len() >= 2, "the test wants messages in flight at tick {tick}");
    assert!(!on_screen.history().operations().is_empty(), "and the background clients' operations");
    // No new message, no tick, no crash: the space is the orders in which the messages on screen arrive, with one
    // request. Each delivery is a different state, so the space holds more than one state per message.
    let report = search(bounds_at(&record, tick, 1, 0, 0), &record, tick);
    assert!(report.complete, "{report:?}");
    assert_eq!(report.violations, 0);
    assert!(report.unique_states > on_screen.network().len() as u64, "{} states", report.unique_states);
    // Without room for the messages on screen nothing but the start state is explored: they count.
    let cramped = Bounds { messages: 0, ..bounds_at(&record, tick, 0, 0, 0) };
    assert_eq!(search(cramped, &record, tick).unique_states, 1);
    // The same search again gives the same count: the start is the run's, not a random one.
    assert_eq!(search(bounds_at(&record, tick, 1, 0, 0), &record, tick).unique_states, report.unique_states);
}

#[test]
fn minority_quorum_from_a_fresh_playground_run_is_found_and_its_run_replays() {
    // No background client: with one, the run breaks the bug's invariant by itself within a few ticks.
    let record = fresh_run(3, Some(Bug::MinorityQuorum), 0);
    let tick = 30;
    assert!(replayed(&record, tick).unwrap().violations().is_empty(), "the run alone has not broken anything yet");
    let report = search(bounds_at(&record, tick, 2, 1, 4), &record, tick);
    assert_eq!(report.bugs, vec!["minority-quorum".to_string()], "the report names the run's bug");
    let counterexample = report.counterexample.expect("minority-quorum found");
    assert!(counterexample.length <= 6, "{} events", counterexample.length);
    // Its run: the run's actions up to the start, stepping from the start's tick, then one action a tick.
    let text = counterexample.link.strip_prefix("index.html?run=").unwrap();
    let whole = decode_record(text, &|text| Some(text.to_string())).unwrap();
    assert_eq!(whole.setup, record.setup);
    let (lead_in, path): (Vec<_>, Vec<_>) = whole.actions.iter().cloned().partition(|(at, _)| *at <= tick);
    let mut expected = record.actions.clone();
    expected.push((tick, UserAction::Stepping { on: true }));
    assert_eq!(lead_in, expected);
    let ticks: Vec<u64> = path.iter().map(|(at, _)| *at).collect();
    assert_eq!(ticks, (tick + 1..=tick + path.len() as u64).collect::<Vec<_>>(), "one action a tick");
    // Replayed as the playground replays it, the run ends in the same violation, at its last tick and not before.
    let end = ticks.last().copied().unwrap();
    assert!(replayed(&whole, end - 1).unwrap().violations().is_empty());
    let violation = replayed(&whole, end).unwrap().violations().first().map(ToString::to_string);
    assert_eq!(violation.as_deref(), Some(counterexample.violation.as_str()));
}

#[test]
fn the_bounds_must_name_the_runs_nodes() {
    let record = fresh_run(3, None, 0);
    let config = ExploreConfig::new(Bounds { nodes: 5, ..Bounds::default() }, BugSet::NONE);
    let error = explore_from(&config, &Origin::Run { record: &record, tick: 0 }, &mut |_| true, &|| 0.0).unwrap_err();
    assert!(error.contains("the run has 3 nodes"), "{error}");
}
