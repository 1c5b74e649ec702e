//! Hand-built histories with known verdicts, one semantic point each.

use synod::check::{check, check_with, CheckOptions, CheckOutcome, History, OpId};
use synod::kv::{KvCommand, KvOutput, VALUE_LEN_MAX};

/// Builds histories tersely: each call records one operation with its interval.
#[derive(Default)]
struct Script {
    history: History,
}

impl Script {
    fn done(&mut self, client: u64, command: KvCommand, invoke: u64, response: u64, output: KvOutput) -> OpId {
        let op = self.history.invoke(client, command, invoke);
        self.history.complete(op, output, response);
        op
    }

    fn put(&mut self, client: u64, key: &str, value: &str, invoke: u64, response: u64) -> OpId {
        self.done(client, put(key, value), invoke, response, KvOutput::Ok)
    }

    fn get(&mut self, client: u64, key: &str, seen: Option<&str>, invoke: u64, response: u64) -> OpId {
        self.done(client, get(key), invoke, response, KvOutput::Value(seen.map(String::from)))
    }

    fn unanswered(&mut self, client: u64, command: KvCommand, invoke: u64) -> OpId {
        let op = self.history.invoke(client, command, invoke);
        self.history.timeout(op);
        op
    }

    fn failed(&mut self, client: u64, command: KvCommand, invoke: u64, response: u64) -> OpId {
        let op = self.history.invoke(client, command, invoke);
        self.history.fail(op, response);
        op
    }

    fn check(&self) -> CheckOutcome {
        check(&self.history)
    }
}

fn get(key: &str) -> KvCommand {
    KvCommand::Get { key: key.into() }
}

fn put(key: &str, value: &str) -> KvCommand {
    KvCommand::Put { key: key.into(), value: value.into() }
}

fn append(key: &str, value: &str) -> KvCommand {
    KvCommand::Append { key: key.into(), value: value.into() }
}

fn cas(key: &str, expected: Option<&str>, new: &str) -> KvCommand {
    KvCommand::Cas { key: key.into(), expected: expected.map(String::from), new: new.into() }
}

#[track_caller]
fn assert_linearizable(script: &Script) {
    let outcome = script.check();
    assert!(outcome.is_linearizable(), "expected linearizable, got {outcome}");
}

/// Asserts the history is not linearizable on `key` and returns the explanation's text.
#[track_caller]
fn assert_not_linearizable(script: &Script, key: &str) -> String {
    match script.check() {
        CheckOutcome::NotLinearizable { key: found, explanation } => {
            assert_eq!(found, key);
            explanation.to_string()
        }
        other => panic!("expected a violation on {key:?}, got {other}"),
    }
}

#[test]
fn an_empty_history_is_linearizable() {
    assert_linearizable(&Script::default());
}

#[test]
fn a_read_after_a_write_sees_it() {
    let mut script = Script::default();
    script.put(1, "x", "1", 0, 2);
    script.get(2, "x", Some("1"), 3, 4);
    assert_linearizable(&script);
}

#[test]
fn a_stale_read_is_caught_and_explained() {
    let mut script = Script::default();
    script.put(1, "x", "1", 0, 2);
    let read = script.get(2, "x", None, 3, 4);
    let text = assert_not_linearizable(&script, "x");
    let expected = [
        "2 of the key's 2 operations already cannot be ordered:",
        "  #0 client 1: put x=1 → ok (t=0..2)",
        "  #1 client 2: get x → absent (t=3..4)",
        "Some order of them gives every answer, but none in which each takes effect between its invocation and \
         its answer.",
        "The longest order found is #0, leaving the value \"1\".",
        &format!("Then {read} must take effect by t=4, but nothing that could go next fits:"),
        "  #1: it returned absent but the value was \"1\"",
        "#1 is a stale read: it missed #0 (put x=1), answered at t=2, before the read was invoked at t=3.",
    ];
    assert_eq!(text.lines().collect::<Vec<_>>(), expected);
}

/// A read that saw a value an unanswered write could have restored is not called stale: another order is open.
#[test]
fn a_read_is_named_stale_only_when_no_other_write_could_explain_it() {
    let mut script = Script::default();
    script.put(1, "x", "1", 0, 2);
    script.put(2, "x", "2", 3, 5);
    script.get(3, "x", Some("1"), 6, 7);
    let text = assert_not_linearizable(&script, "x");
    assert!(text.contains("#2 is a stale read: it missed #1 (put x=2)"), "{text}");

    let mut script = Script::default();
    script.put(1, "x", "2", 3, 5);
    script.get(2, "x", Some("1"), 6, 7);
    script.get(2, "x", Some("2"), 8, 9);
    script.put(3, "x", "1", 1, 4);
    let text = assert_not_linearizable(&script, "x");
    assert!(!text.contains("stale read"), "put x=1 overlaps put x=2, so the first get is not surely stale: {text}");
}

#[test]
fn a_read_concurrent_with_a_write_may_see_either_value() {
    let mut script = Script::default();
    script.put(1, "x", "1", 0, 10);
    script.get(2, "x", None, 1, 2);
    script.get(3, "x", Some("1"), 3, 4);
    assert_linearizable(&script);
}

#[test]
fn operations_that_touch_in_time_count_as_concurrent() {
    let mut script = Script::default();
    script.put(1, "x", "1", 0, 5);
    script.get(2, "x", None, 5, 6);
    assert_linearizable(&script);
}

#[test]
fn a_lost_write_is_caught() {
    let mut script = Script::default();
    script.put(1, "x", "1", 0, 1);
    script.put(1, "x", "2", 2, 3);
    script.get(2, "x", Some("1"), 4, 5);
    let text = assert_not_linearizable(&script, "x");
    assert!(text.contains("it returned \"1\" but the value was \"2\""), "{text}");
}

#[test]
fn reads_cannot_see_concurrent_writes_in_two_orders() {
    // Two overlapping puts take effect in some order; once both are done the value is fixed.
    let mut script = Script::default();
    script.put(1, "x", "a", 0, 10);
    script.put(2, "x", "b", 0, 10);
    script.get(3, "x", Some("b"), 2, 3);
    script.get(3, "x", Some("a"), 4, 5);
    assert_linearizable(&script);
    script.get(4, "x", Some("b"), 11, 12);
    assert_not_linearizable(&script, "x");
}

#[test]
fn the_last_of_two_concurrent_writes_may_be_either() {
    // The search first tries one order of the puts; the memo must not mistake the other order (same
    // operations, other value) for one it already refuted.
    let mut script = Script::default();
    script.put(1, "x", "a", 0, 10);
    script.put(2, "x", "b", 0, 10);
    script.get(3, "x", Some("a"), 11, 12);
    assert_linearizable(&script);
}

#[test]
fn a_flip_flop_needs_a_third_write() {
    let mut script = Script::default();
    script.put(1, "x", "a", 0, 10);
    script.put(2, "x", "b", 0, 10);
    script.get(3, "x", Some("a"), 1, 2);
    script.get(3, "x", Some("b"), 3, 4);
    script.get(3, "x", Some("a"), 5, 6);
    assert_not_linearizable(&script, "x");
}

#[test]
fn cas_swaps_only_on_the_expected_value() {
    let mut script = Script::default();
    script.done(1, cas("x", None, "1"), 0, 1, KvOutput::Cas(true));
    script.done(1, cas("x", Some("0"), "2"), 2, 3, KvOutput::Cas(false));
    script.done(1, cas("x", Some("1"), "3"), 4, 5, KvOutput::Cas(true));
    script.get(2, "x", Some("3"), 6, 7);
    assert_linearizable(&script);
}

#[test]
fn a_cas_that_swapped_on_the_wrong_value_is_caught() {
    let mut script = Script::default();
    script.put(1, "x", "1", 0, 1);
    script.put(1, "x", "2", 2, 3);
    script.done(1, cas("x", Some("1"), "3"), 4, 5, KvOutput::Cas(true));
    let text = assert_not_linearizable(&script, "x");
    assert!(text.contains("it swapped, so the value was \"1\", but it was \"2\""), "{text}");
    assert!(text.starts_with("3 of the key's 3 operations"), "the write of \"1\" stays in the core: {text}");
}

#[test]
fn a_value_nobody_wrote_shrinks_to_the_one_operation_that_saw_it() {
    let mut script = Script::default();
    for value in ["1", "2", "3"] {
        script.put(1, "x", value, 0, 10);
    }
    let read = script.get(2, "x", Some("9"), 11, 12);
    match script.check() {
        CheckOutcome::NotLinearizable { explanation, .. } => {
            assert_eq!(explanation.core.iter().map(|operation| operation.id).collect::<Vec<_>>(), [read]);
            assert_eq!(explanation.considered, 4);
            assert_eq!(explanation.timing_matters, Some(false));
            assert!(explanation.to_string().contains("No order of them at all gives these answers."));
        }
        other => panic!("expected a violation, got {other}"),
    }
}

#[test]
fn the_core_leaves_out_operations_that_do_not_matter() {
    let mut script = Script::default();
    let write = script.put(1, "x", "1", 0, 2);
    for client in 10..20 {
        script.get(client, "x", Some("1"), 3, 4);
        script.done(client, append("x", "z"), 5, 100, KvOutput::Ok);
    }
    let stale = script.get(2, "x", None, 3, 4);
    match script.check() {
        CheckOutcome::NotLinearizable { explanation, .. } => {
            assert_eq!(explanation.core.iter().map(|operation| operation.id).collect::<Vec<_>>(), [write, stale]);
            assert_eq!(explanation.timing_matters, Some(true));
            assert_eq!(explanation.stuck.id, stale);
        }
        other => panic!("expected a violation, got {other}"),
    }
}

#[test]
fn a_cas_that_refused_the_expected_value_is_caught() {
    let mut script = Script::default();
    script.put(1, "x", "1", 0, 1);
    script.done(1, cas("x", Some("1"), "3"), 2, 3, KvOutput::Cas(false));
    let text = assert_not_linearizable(&script, "x");
    assert!(text.contains("it did not swap, but the value was \"1\""), "{text}");
}

#[test]
fn a_cas_on_an_absent_key_expects_absence() {
    let mut script = Script::default();
    script.put(1, "x", "1", 0, 1);
    script.done(1, cas("x", None, "2"), 2, 3, KvOutput::Cas(true));
    assert_not_linearizable(&script, "x");
}

#[test]
fn an_unanswered_write_may_have_happened() {
    let mut script = Script::default();
    script.unanswered(1, put("x", "1"), 0);
    script.get(2, "x", Some("1"), 5, 6);
    assert_linearizable(&script);
}

#[test]
fn an_unanswered_write_may_not_have_happened() {
    let mut script = Script::default();
    script.unanswered(1, put("x", "1"), 0);
    script.get(2, "x", None, 5, 6);
    script.get(2, "x", None, 100, 101);
    assert_linearizable(&script);
}

#[test]
fn an_unanswered_write_may_take_effect_long_after_it_was_sent() {
    let mut script = Script::default();
    script.put(1, "x", "1", 0, 1);
    script.unanswered(1, put("x", "2"), 2);
    script.get(2, "x", Some("1"), 3, 4);
    script.get(2, "x", Some("2"), 50, 51);
    assert_linearizable(&script);
}

#[test]
fn an_unanswered_write_cannot_take_effect_before_it_was_sent() {
    let mut script = Script::default();
    script.get(2, "x", Some("2"), 0, 1);
    script.unanswered(1, put("x", "2"), 5);
    assert_not_linearizable(&script, "x");
}

#[test]
fn an_unanswered_write_takes_effect_at_most_once() {
    let mut script = Script::default();
    script.unanswered(1, put("x", "2"), 0);
    script.get(2, "x", Some("2"), 3, 4);
    script.put(2, "x", "3", 5, 6);
    script.get(2, "x", Some("2"), 7, 8);
    assert_not_linearizable(&script, "x");
}

#[test]
fn an_unanswered_cas_swaps_if_the_value_matches_when_it_takes_effect() {
    let mut script = Script::default();
    script.put(1, "x", "1", 0, 1);
    script.unanswered(2, cas("x", Some("1"), "2"), 2);
    script.put(1, "x", "5", 3, 4);
    script.get(1, "x", Some("5"), 5, 6);
    script.get(1, "x", Some("2"), 7, 8);
    // After "5" the cas expecting "1" can no longer swap, and before it "2" would be overwritten.
    assert_not_linearizable(&script, "x");
}

#[test]
fn failed_operations_did_not_happen() {
    let mut script = Script::default();
    script.failed(1, put("x", "1"), 0, 1);
    script.get(2, "x", None, 2, 3);
    assert_linearizable(&script);
    script.get(2, "x", Some("1"), 4, 5);
    assert_not_linearizable(&script, "x");
}

#[test]
fn stale_answers_constrain_nothing() {
    let mut script = Script::default();
    script.put(1, "x", "1", 0, 1);
    script.done(1, put("x", "old"), 2, 3, KvOutput::Stale);
    script.get(2, "x", Some("1"), 4, 5);
    assert_linearizable(&script);
}

#[test]
fn an_output_the_command_cannot_produce_is_a_violation() {
    let mut script = Script::default();
    script.done(1, put("x", "1"), 0, 1, KvOutput::Cas(true));
    let text = assert_not_linearizable(&script, "x");
    assert!(text.contains("never returns that output"), "{text}");
}

#[test]
fn delete_makes_the_key_absent() {
    let mut script = Script::default();
    script.put(1, "x", "1", 0, 1);
    script.done(1, KvCommand::Delete { key: "x".into() }, 2, 3, KvOutput::Ok);
    script.get(2, "x", None, 4, 5);
    assert_linearizable(&script);
    script.get(2, "x", Some("1"), 6, 7);
    assert_not_linearizable(&script, "x");
}

#[test]
fn concurrent_appends_land_in_one_order() {
    let mut script = Script::default();
    script.done(1, append("x", "a"), 0, 10, KvOutput::Ok);
    script.done(2, append("x", "b"), 0, 10, KvOutput::Ok);
    script.get(3, "x", Some("b"), 1, 2);
    script.get(3, "x", Some("ba"), 11, 12);
    assert_linearizable(&script);
    script.get(3, "x", Some("ab"), 13, 14);
    assert_not_linearizable(&script, "x");
}

#[test]
fn an_append_past_the_limit_is_refused_and_changes_nothing() {
    let full = "v".repeat(VALUE_LEN_MAX);
    let mut script = Script::default();
    script.put(1, "x", &full, 0, 1);
    script.done(1, append("x", "w"), 2, 3, KvOutput::TooLong);
    script.get(1, "x", Some(&full), 4, 5);
    assert_linearizable(&script);

    let mut wrong = Script::default();
    wrong.put(1, "x", &full, 0, 1);
    wrong.done(1, append("x", "w"), 2, 3, KvOutput::Ok);
    let text = assert_not_linearizable(&wrong, "x");
    assert!(text.contains(&format!("would exceed {VALUE_LEN_MAX} bytes")), "{text}");

    let mut exactly_full = Script::default();
    exactly_full.put(1, "x", &full[1..], 0, 1);
    exactly_full.done(1, append("x", "w"), 2, 3, KvOutput::Ok);
    assert_linearizable(&exactly_full);

    let mut refused_but_fits = Script::default();
    refused_but_fits.done(1, append("x", "w"), 0, 1, KvOutput::TooLong);
    assert_not_linearizable(&refused_but_fits, "x");
}

#[test]
fn keys_are_checked_independently() {
    let mut script = Script::default();
    script.put(1, "a", "1", 0, 1);
    script.put(1, "b", "1", 2, 3);
    script.get(2, "a", Some("1"), 4, 5);
    script.get(2, "b", None, 6, 7);
    assert_not_linearizable(&script, "b");
}

#[test]
fn without_shrinking_the_explanation_lists_every_operation() {
    let mut script = Script::default();
    script.put(1, "x", "1", 0, 2);
    script.put(1, "x", "2", 3, 4);
    script.get(2, "x", None, 5, 6);
    let options = CheckOptions { shrink_explanation: false, ..CheckOptions::default() };
    let CheckOutcome::NotLinearizable { explanation, .. } = check_with(&script.history, &options) else {
        panic!("the read is stale");
    };
    assert_eq!(explanation.core.len(), 3);
    assert_eq!(explanation.timing_matters, None);
    let CheckOutcome::NotLinearizable { explanation, .. } = script.check() else { panic!("the read is stale") };
    assert_eq!(explanation.core.len(), 2, "shrunk: the second put and the read");
}

#[test]
fn a_search_over_budget_is_unknown_not_wrong() {
    // Many concurrent writes and a read nothing wrote: refuting it means trying every order of the writes.
    let mut script = Script::default();
    for client in 0..12 {
        script.put(client, "x", &client.to_string(), 0, 100);
    }
    script.get(99, "x", Some("never written"), 101, 102);
    let outcome = check_with(&script.history, &CheckOptions { steps_max: 50, ..CheckOptions::default() });
    assert_eq!(outcome, CheckOutcome::Unknown { key: "x".into(), steps: 50 });
    assert_not_linearizable(&script, "x");
}

fn scan(start: &str, end: &str, limit: Option<u32>) -> KvCommand {
    KvCommand::Scan { start: start.into(), end: end.into(), limit, level: synod::paxos::ReadLevel::Log }
}

fn records(pairs: &[(&str, &str)]) -> KvOutput {
    KvOutput::Records(pairs.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect())
}

#[test]
fn a_scan_sees_every_write_before_it_in_key_order() {
    let mut script = Script::default();
    script.put(1, "b", "2", 0, 1);
    script.put(1, "a", "1", 2, 3);
    script.put(1, "z", "outside", 4, 5);
    script.done(2, scan("a", "c", None), 6, 7, records(&[("a", "1"), ("b", "2")]));
    script.done(2, scan("a", "c", Some(1)), 8, 9, records(&[("a", "1")]));
    script.done(2, scan("c", "y", None), 10, 11, records(&[]));
    assert_linearizable(&script);
}

#[test]
fn a_scan_concurrent_with_writes_may_see_either_side_but_not_a_mix_out_of_order() {
    // Client 1 writes a then b; a scan overlapping both may see neither, a alone, or both, never b alone.
    let seen_by_scan = |pairs: &[(&str, &str)]| {
        let mut script = Script::default();
        script.put(1, "a", "1", 0, 3);
        script.put(1, "b", "2", 4, 7);
        script.done(2, scan("a", "c", None), 1, 8, records(pairs));
        script.check()
    };
    for pairs in [&[][..], &[("a", "1")], &[("a", "1"), ("b", "2")]] {
        assert!(seen_by_scan(pairs).is_linearizable(), "{pairs:?}");
    }
    let outcome = seen_by_scan(&[("b", "2")]);
    let CheckOutcome::NotLinearizable { key, explanation } = &outcome else { panic!("b without a: {outcome}") };
    assert_eq!(key, "a, b", "the keys the scan joined");
    let text = outcome.to_string();
    assert!(text.contains("read together by a scan"), "{text}");
    assert!(text.contains("it returned [b=\"2\"] but the store held"), "{text}");
    assert!(explanation.key_values.is_some(), "a group's values are listed per key");
}

#[test]
fn a_stale_scan_names_the_write_it_missed() {
    let mut script = Script::default();
    script.put(1, "a", "1", 0, 1);
    let missed = script.put(1, "b", "2", 2, 3);
    let read = script.done(2, scan("a", "c", None), 4, 5, records(&[("a", "1")]));
    let outcome = script.check();
    let CheckOutcome::NotLinearizable { explanation, .. } = &outcome else { panic!("the scan is stale: {outcome}") };
    let (stale, write) = explanation.stale_read.as_ref().expect("the missed write is certain");
    assert_eq!((stale.id, write.id), (read, missed));
    assert!(outcome.to_string().contains(&format!("{read} is a stale read: it missed {missed} (put b=2)")));
}

#[test]
fn a_scan_past_its_limit_or_out_of_range_is_impossible() {
    let mut script = Script::default();
    script.put(1, "a", "1", 0, 1);
    script.put(1, "b", "2", 2, 3);
    script.done(2, scan("a", "c", Some(1)), 4, 5, records(&[("a", "1"), ("b", "2")]));
    assert_not_linearizable(&script, "a, b");
    let mut script = Script::default();
    script.put(1, "a", "1", 0, 1);
    script.done(2, scan("b", "c", None), 2, 3, records(&[("a", "1")]));
    assert!(!script.check().is_linearizable(), "a record outside the range");
    let mut script = Script::default();
    script.done(2, scan("b", "c", None), 0, 1, records(&[]));
    assert_linearizable(&script);
}

#[test]
fn keys_no_scan_joins_stay_apart() {
    let mut script = Script::default();
    script.put(1, "a", "1", 0, 1);
    script.put(1, "m", "1", 2, 3);
    script.done(2, scan("a", "b", None), 4, 5, records(&[("a", "1")]));
    script.get(2, "m", None, 6, 7);
    assert_not_linearizable(&script, "m");
}

#[test]
fn a_stale_scan_in_a_long_history_shrinks_to_the_few_operations_that_show_it() {
    let mut script = Script::default();
    let write = script.put(1, "a", "1", 0, 1);
    let stale = script.done(2, scan("a", "c", None), 2, 3, records(&[]));
    // Later traffic on every key the scan covers, all of it consistent.
    for round in 0..20u64 {
        let (time, value) = (10 + 4 * round, round.to_string());
        script.put(1, "b", &value, time, time + 1);
        script.get(2, "b", Some(&value), time + 2, time + 3);
        script.done(3, scan("a", "z", None), time + 2, time + 3, records(&[("a", "1"), ("b", &value)]));
    }
    let CheckOutcome::NotLinearizable { explanation, .. } = script.check() else { panic!("the first scan is stale") };
    let core: Vec<OpId> = explanation.core.iter().map(|operation| operation.id).collect();
    assert_eq!(core, [write, stale], "{explanation}");
}

#[test]
fn an_unanswered_write_takes_effect_just_where_a_later_operation_needs_it() {
    // Before an append that builds on it.
    let mut script = Script::default();
    script.unanswered(1, put("x", "1"), 0);
    script.done(2, append("x", "b"), 10, 11, KvOutput::Ok);
    script.get(2, "x", Some("1b"), 12, 13);
    assert_linearizable(&script);
    // Before a cas it makes fail, and then for good.
    let refused = |seen_after: &str| {
        let mut script = Script::default();
        script.put(1, "x", "1", 0, 1);
        script.unanswered(1, put("x", "3"), 2);
        script.done(2, cas("x", Some("1"), "2"), 10, 11, KvOutput::Cas(false));
        script.get(2, "x", Some(seen_after), 12, 13);
        script.check()
    };
    assert!(refused("3").is_linearizable());
    assert!(!refused("1").is_linearizable(), "the cas refused 1, and nothing wrote 1 after it");
    // Two of them, on two keys, before one scan; and they stay.
    let scanned_twice = |later: &[(&str, &str)]| {
        let mut script = Script::default();
        script.unanswered(1, put("a", "1"), 0);
        script.unanswered(2, put("b", "2"), 0);
        script.done(3, scan("a", "c", None), 10, 11, records(&[("a", "1"), ("b", "2")]));
        script.done(3, scan("a", "c", None), 12, 13, records(later));
        script.check()
    };
    assert!(scanned_twice(&[("a", "1"), ("b", "2")]).is_linearizable());
    assert!(!scanned_twice(&[("a", "1")]).is_linearizable(), "b, once written, stays");
}
