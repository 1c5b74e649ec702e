//! The widened fault model (issue 15): each fault does what its name says, and the fuzzer's default mix draws
//! every kind of it.

use std::collections::{BTreeMap, BTreeSet};

use synod::sim::shrink::FaultKind;
use synod::sim::{FaultConfig, LinkShape, Sim, SimConfig, TraceEvent, LATE_TICKS_MIN};
use synod::storage::Storage;

/// A five-node run with only `faults`, clients on, kept trace and a fault gate that keeps every fault.
fn run(faults: FaultConfig, seed: u64, ticks: u64) -> Sim {
    let config = SimConfig { faults, fault_ticks: 100_000, ..SimConfig::fuzz(5) };
    let mut sim = Sim::new(config, seed, Vec::new(), true).unwrap().with_fault_gate(None);
    sim.run_until(ticks);
    assert!(sim.violations().is_empty(), "seed {seed}: {:?}", sim.violations());
    sim
}

/// Message ids by (from, to), with their fate: delivered or lost to a cut link.
fn fates(sim: &Sim) -> BTreeMap<u64, (u8, u8, u64, Option<bool>)> {
    let mut fates = BTreeMap::new();
    for entry in sim.trace().entries() {
        match &entry.event {
            TraceEvent::Sent { id, from, to, .. } => {
                fates.insert(*id, (*from, *to, entry.tick, None));
            }
            TraceEvent::Delivered { id } => fates.get_mut(id).unwrap().3 = Some(true),
            TraceEvent::Lost { id, why } if why == "link cut" => fates.get_mut(id).unwrap().3 = Some(false),
            _ => {}
        }
    }
    fates
}

#[test]
fn the_default_mix_draws_every_kind_of_fault() {
    let mut kinds = BTreeSet::new();
    let mut shapes = BTreeSet::new();
    for seed in 0..12 {
        let config = SimConfig::fuzz(5);
        let mut sim = Sim::new(config, seed, Vec::new(), false).unwrap().with_fault_gate(None);
        sim.run_to_end();
        for fault in sim.random_faults() {
            kinds.insert(fault.kind.name());
            match &fault.kind {
                FaultKind::Partition { one_way, .. } => shapes.insert(if *one_way { "one-way" } else { "both ways" }),
                FaultKind::AsymmetricPartition { .. } => shapes.insert("asymmetric"),
                FaultKind::Link { link } => shapes.insert(match link.shape {
                    LinkShape::OneWay { .. } => "one-way link",
                    LinkShape::Flapping { .. } => "flapping link",
                }),
                _ => false,
            };
        }
    }
    let all = ["crash", "crash-after-write", "partition", "link", "drop", "duplicate", "late"];
    assert_eq!(kinds, all.into_iter().collect(), "fault kinds drawn in 12 seeds");
    let all_shapes = ["one-way", "both ways", "asymmetric", "one-way link", "flapping link"];
    assert_eq!(shapes, all_shapes.into_iter().collect(), "partition and link shapes drawn in 12 seeds");
}

#[test]
fn a_one_way_link_failure_loses_messages_one_way_only() {
    let faults = FaultConfig { one_way_link_ppm: 1_000_000, link_ticks: 30, ..FaultConfig::none() };
    let sim = run(faults, 3, 60);
    let failure = sim
        .trace()
        .entries()
        .iter()
        .find_map(|entry| match &entry.event {
            TraceEvent::LinkFailed { fault } => Some(fault.clone()),
            _ => None,
        })
        .expect("a link failed");
    let LinkShape::OneWay { from, to } = failure.shape else { panic!("{failure:?}") };
    let during = |tick: u64| tick > failure.since && tick + 1 < failure.until;
    let fates = fates(&sim);
    let one_way: Vec<_> = fates.values().filter(|(f, t, sent, _)| (*f, *t) == (from, to) && during(*sent)).collect();
    let back: Vec<_> = fates.values().filter(|(f, t, sent, _)| (*f, *t) == (to, from) && during(*sent)).collect();
    assert!(!one_way.is_empty() && !back.is_empty(), "messages went both ways during the failure");
    assert!(one_way.iter().all(|(.., fate)| *fate == Some(false)), "{from}→{to} is down: {one_way:?}");
    assert!(back.iter().any(|(.., fate)| *fate == Some(true)), "{to}→{from} still works: {back:?}");
}

#[test]
fn a_flapping_link_goes_down_and_up_both_ways() {
    let faults = FaultConfig { flapping_link_ppm: 1_000_000, link_ticks: 40, ..FaultConfig::none() };
    let sim = run(faults, 5, 45);
    let failure = sim
        .trace()
        .entries()
        .iter()
        .find_map(|entry| match &entry.event {
            TraceEvent::LinkFailed { fault } => Some(fault.clone()),
            _ => None,
        })
        .expect("a link started flapping");
    let LinkShape::Flapping { a, b, .. } = failure.shape else { panic!("{failure:?}") };
    let fates: Vec<_> = fates(&sim)
        .into_values()
        .filter(|(f, t, sent, _)| [(a, b), (b, a)].contains(&(*f, *t)) && *sent > failure.since)
        .map(|(.., fate)| fate)
        .collect();
    assert!(fates.contains(&Some(false)), "lost while down: {fates:?}");
    assert!(fates.contains(&Some(true)), "delivered while up: {fates:?}");
}

#[test]
fn late_messages_arrive_after_every_timeout() {
    let faults = FaultConfig { late_ppm: 1_000_000, late_ticks_max: 150, ..FaultConfig::none() };
    let sim = run(faults, 1, 40);
    let mut sent = 0;
    for entry in sim.trace().entries() {
        if let TraceEvent::Sent { deliver_at, .. } = entry.event {
            sent += 1;
            let lateness = deliver_at - entry.tick;
            assert!((LATE_TICKS_MIN..=151).contains(&lateness), "delivered {lateness} ticks after it was sent");
        }
    }
    assert!(sent > 0);
}

#[test]
fn a_crash_after_a_write_leaves_the_write_on_disk_but_unacknowledged() {
    let faults = FaultConfig { mid_write_crash_ppm: 1_000_000, down_ticks: 50, ..FaultConfig::none() };
    let sim = run(faults, 2, 20);
    let entries = sim.trace().entries();
    let crash =
        entries.iter().position(|entry| matches!(entry.event, TraceEvent::Crashed { .. })).expect("a node crashed");
    let TraceEvent::Crashed { node } = entries[crash].event else { unreachable!() };
    assert!(
        matches!(entries[crash - 1].event, TraceEvent::Durable { node: landed, .. } if landed == node),
        "the crash comes right after one of the node's writes landed: {:?}",
        &entries[crash - 1..=crash]
    );
    assert!(sim.node(node).is_none(), "node {node} is down");
    let disk = sim.machines()[node as usize - 1].storage.durable();
    assert_ne!(disk, &Default::default(), "the write that landed is on node {node}'s disk");
}
