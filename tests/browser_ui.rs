//! The Yew app mounts and renders, and the panic hook's banner appears. Runs in headless Chromium.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use synod::ui;
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    gloo::utils::document()
}

/// A fresh `<div>` attached to the page's body.
fn fresh_div() -> Element {
    let div = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&div).unwrap();
    div
}

/// Yew renders asynchronously: yield to the event loop until `check` holds, for at most about one second.
async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    for _ in 0..100 {
        if check() {
            return true;
        }
        yew::platform::time::sleep(Duration::from_millis(10)).await;
    }
    check()
}

#[wasm_bindgen_test]
async fn app_mounts_and_shows_synod() {
    let root = fresh_div();
    root.set_text_content(Some("placeholder"));
    let handle = ui::mount(root.clone());

    assert!(eventually(|| root.query_selector("h1").unwrap().is_some()).await, "the app rendered no <h1>");
    let heading = root.query_selector("h1").unwrap().unwrap().text_content().unwrap();
    assert_eq!(heading, "Synod");
    let text = root.text_content().unwrap();
    assert!(text.contains("Multi-Paxos"), "the explanation is missing: {text}");
    assert!(!text.contains("placeholder"), "mount must replace the placeholder: {text}");
    assert!(root.query_selector("[role=alert]").unwrap().is_none(), "no error banner on a healthy start");

    handle.destroy();
    root.remove();
}

#[wasm_bindgen_test]
fn panic_report_shows_one_alert_banner() {
    ui::panic_hook::report("panicked at src/example.rs:1:1:\nexample message");
    ui::panic_hook::report("a second panic, caused by the first");

    let banners = document().query_selector_all("[role=alert]").unwrap();
    assert_eq!(banners.length(), 1, "later panics must not stack banners");
    let banner = document().get_element_by_id(ui::panic_hook::BANNER_ID).expect("banner by id");
    assert_eq!(banner.get_attribute("role").as_deref(), Some("alert"));
    let text = banner.text_content().unwrap();
    assert!(text.contains("example message"), "banner shows the first panic: {text}");
    assert!(!text.contains("second panic"), "banner keeps the cause, not the consequence: {text}");
    banner.remove();
}

#[wasm_bindgen_test]
fn a_shared_run_survives_its_url_encoding() {
    use synod::kv::KvCommand;
    use synod::paxos::Bug;
    use synod::sim::{FaultConfig, UserAction};
    use ui::runner::{decode_record, encode_record, RunRecord, RunSetup};

    let escape = |text: &str| String::from(js_sys::encode_uri_component(text));
    let unescape = |text: &str| js_sys::decode_uri_component(text).ok().map(String::from);
    let record = RunRecord {
        setup: RunSetup {
            nodes: 5,
            seed: 42,
            bug: Some(Bug::MinorityQuorum),
            clients: 2,
            snapshot_interval: 8,
            ..RunSetup::default()
        },
        actions: vec![
            (3, UserAction::Crash { node: 2 }),
            (3, UserAction::Partition { groups: vec![vec![1, 2], vec![3, 4, 5]] }),
            (
                9,
                UserAction::ClientOp {
                    target: 4,
                    command: KvCommand::Cas {
                        key: "a:b~c.d".into(),
                        expected: Some("<b>&;".into()),
                        new: "é 🙂|,".into(),
                    },
                },
            ),
            (
                9,
                UserAction::ClientOp {
                    target: 1,
                    command: KvCommand::Cas { key: "k".into(), expected: None, new: "".into() },
                },
            ),
            (
                12,
                UserAction::SetFaults {
                    faults: FaultConfig { drop_ppm: 100_000, delay_max: 4, ..FaultConfig::none() },
                },
            ),
            (15, UserAction::DropMessage { id: 77 }),
            (15, UserAction::CutLink { from: 1, to: 3 }),
            (20, UserAction::Heal),
            (21, UserAction::Restart { node: 2 }),
            (21, UserAction::Reload),
        ],
    };
    let text = encode_record(&record, &escape);
    assert_eq!(decode_record(&text, &unescape), Ok(record));
    assert!(decode_record("1.9.1.-.0", &unescape).is_err(), "too many nodes");
    assert!(decode_record("1.5.1.no-such-bug.0", &unescape).is_err());
    assert!(decode_record("1.5.1.-.0~5:k9", &unescape).is_err(), "no node 9");
    assert!(decode_record("1.5.1.-.0~5:k1~4:k2", &unescape).is_err(), "ticks go forward");
}

#[wasm_bindgen_test]
fn a_link_carries_the_moment_and_links_of_the_first_version_open_at_their_last_action() {
    use synod::sim::UserAction;
    use ui::runner::{decode_link, encode_link, encode_record, Moment, RunRecord, RunSetup};

    let escape = |text: &str| String::from(js_sys::encode_uri_component(text));
    let unescape = |text: &str| js_sys::decode_uri_component(text).ok().map(String::from);
    let record = RunRecord {
        setup: RunSetup { nodes: 5, seed: 1, bug: None, clients: 2, snapshot_interval: 0, ..RunSetup::default() },
        actions: vec![(24, UserAction::Crash { node: 2 })],
    };
    let paused = Moment { tick: 49, playing: false, speed: 400, selected: Some(317) };
    let text = encode_link(&record, &paused, &escape);
    assert_eq!(text, "2.5.1.-.2~24:k2~@49.paused.400.m317");
    assert_eq!(decode_link(&text, &unescape), Ok((record.clone(), paused)));
    let playing = Moment { tick: 0, playing: true, speed: 2_000, selected: None };
    let text = encode_link(&record, &playing, &escape);
    assert_eq!(text, "2.5.1.-.2~24:k2~@0.playing.2000");
    assert_eq!(decode_link(&text, &unescape), Ok((record.clone(), playing)));

    // A link made before links carried a moment opens paused at its last action; one without actions plays.
    let old = encode_record(&record, &escape);
    assert_eq!(old, "1.5.1.-.2~24:k2");
    let at_last_action = Moment { tick: 24, playing: false, speed: 8, selected: None };
    assert_eq!(decode_link(&old, &unescape), Ok((record, at_last_action)));
    let (bare, moment) = decode_link("1.5.7.-.0", &unescape).unwrap();
    assert!(bare.actions.is_empty());
    assert_eq!(moment, Moment { tick: 0, playing: true, speed: 8, selected: None });

    for (bad, why) in [
        ("2.5.1.-.2~24:k2", "a second-version link without its moment"),
        ("2.5.1.-.2~@49.stopped.8", "neither playing nor paused"),
        ("2.5.1.-.2~@49.paused.0", "speed 0"),
        ("2.5.1.-.2~@49.paused.2001", "faster than the menu"),
        ("2.5.1.-.2~@49.paused.50", "a speed the menu does not offer"),
        ("2.5.1.-.2~@x.paused.8", "no tick"),
        ("2.5.1.-.2~@49.paused.8.17", "a message without its m"),
        ("2.5.1.-.2~@49.paused.8.m17.extra", "a field too many"),
        ("2.5.1.-.2~@2000000000.paused.8", "past the playground's last tick"),
        ("3.5.1.-.2~@49.paused.8", "an unknown version"),
    ] {
        assert!(decode_link(bad, &unescape).is_err(), "{why}: {bad}");
    }
}

#[wasm_bindgen_test]
fn seeking_is_exact_with_bounded_checkpoints() {
    use synod::sim::UserAction;
    use ui::runner::{RunRecord, RunSetup, Runner, CHECKPOINTS_MAX, CHECKPOINT_TICKS};

    let mut runner = Runner::new(RunRecord { setup: RunSetup::default(), actions: Vec::new() }).unwrap();
    let end = CHECKPOINT_TICKS * (CHECKPOINTS_MAX as u64 + 20);
    let mut hashes = std::collections::BTreeMap::new();
    while runner.now() < end {
        runner.step();
        if runner.now() == 2 * CHECKPOINT_TICKS {
            // An action at a checkpoint's own tick must survive seeking through that checkpoint.
            runner.act(UserAction::Crash { node: 3 });
        }
        if [150, 200, 250, 4_321, end - 50].contains(&runner.now()) {
            hashes.insert(runner.now(), runner.sim().trace().hash());
        }
    }
    assert!(runner.checkpoint_count() <= CHECKPOINTS_MAX, "{} checkpoints", runner.checkpoint_count());
    for (&tick, &hash) in hashes.iter().rev() {
        runner.seek(tick);
        assert_eq!((runner.now(), runner.sim().trace().hash()), (tick, hash), "seek back to {tick}");
    }
    runner.seek(end - 50);
    assert_eq!(runner.sim().trace().hash(), hashes[&(end - 50)], "seek forward again");
}

#[wasm_bindgen_test]
fn events_planned_ahead_are_not_a_future_to_branch_from_but_a_path_gone_back_on_is() {
    use synod::sim::UserAction;
    use ui::runner::{RunRecord, RunSetup, Runner};

    let mut runner = Runner::new(RunRecord { setup: RunSetup::default(), actions: Vec::new() }).unwrap();
    runner.act(UserAction::Stepping { on: true });
    // Two events chosen before either tick is taken (the page waits for IndexedDB): each its own tick ahead.
    assert_eq!(runner.plan(UserAction::TickNode { node: 1 }), 1);
    assert!(!runner.has_future(), "an event planned ahead is where the run goes, not a path it leaves");
    assert_eq!(runner.plan(UserAction::TickNode { node: 2 }), 2);
    runner.step();
    runner.step();
    assert!(!runner.has_future(), "at the end of the path");
    let changed: Vec<u8> = runner.changes().iter().map(|changes| changes.node).collect();
    assert_eq!(changed, vec![2], "the last tick fired node 2's timer, and changed node 2 only");
    runner.seek(runner.now() - 1);
    assert!(runner.has_future(), "back one event: acting now would leave the path");
    let changed: Vec<u8> = runner.changes().iter().map(|changes| changes.node).collect();
    assert_eq!(changed, vec![1], "a seek shows what the tick it lands on changed");
}

#[wasm_bindgen_test]
fn the_clock_tells_each_new_time_to_its_listeners_until_they_stop() {
    use std::cell::RefCell;
    use std::rc::Rc;
    use ui::frames::Clock;

    let clock = Clock::default();
    let heard = Rc::new(RefCell::new(Vec::new()));
    let listening = {
        let heard = heard.clone();
        clock.listen(move |time| heard.borrow_mut().push(time))
    };
    clock.set(1.5);
    clock.set(1.5);
    clock.set(2.25);
    assert_eq!(*heard.borrow(), [1.5, 2.25], "each new time once; the same time again is not news");
    assert_eq!(clock.now(), 2.25);
    drop(listening);
    clock.set(3.0);
    assert_eq!(*heard.borrow(), [1.5, 2.25], "nothing once the listener's handle is dropped");
    assert!(clock == clock.clone(), "a clone is the same clock");
    assert!(clock != Clock::default(), "another clock is not");
    assert_eq!(Clock::at(7.5).now(), 7.5, "a clock can start at any time");
}

#[wasm_bindgen_test]
fn while_ticks_flow_the_parts_take_the_newest_frame_in_turn_and_what_the_visitor_did_reaches_all_at_once() {
    use ui::stagger::{Part, Stagger, CARD_GROUPS, PARTS};

    let every_part = [Part::Stage, Part::Controls, Part::Side, Part::Diagram];
    let every_part = every_part.into_iter().chain((0..CARD_GROUPS).map(Part::Cards));
    let shown_by = |stagger: &Stagger<u32>| every_part.clone().map(|part| *stagger.shown(part)).collect::<Vec<_>>();
    let mut stagger = Stagger::new(0);
    assert_eq!(stagger.advance(), None, "nothing new, nothing to draw");
    stagger.arrive(1);
    let first = stagger.advance().expect("a part is behind");
    assert_eq!(*stagger.shown(first), 1, "the part drawn shows the new frame");
    assert_eq!(shown_by(&stagger).iter().filter(|frame| **frame == 1).count(), 1, "one part per animation frame");
    // A newer frame while the others are still behind: each part takes the newest one, and the turn goes on
    // from where it was, so the part drawn first is drawn last this time.
    stagger.arrive(2);
    let mut order: Vec<usize> = (0..PARTS).map(|_| stagger.advance().expect("behind").number()).collect();
    assert_eq!(stagger.advance(), None, "every part is up to date after one turn");
    assert_eq!(shown_by(&stagger), vec![2; PARTS]);
    assert_eq!(order.last(), Some(&first.number()), "the part drawn first waits for the others");
    order.sort_unstable();
    assert_eq!(order, (0..PARTS).collect::<Vec<_>>(), "each part once per turn");
    stagger.arrive(3);
    stagger.advance();
    stagger.show_all(4);
    assert_eq!(shown_by(&stagger), vec![4; PARTS], "what the visitor did shows everywhere at once");
    assert_eq!(stagger.advance(), None);
}
