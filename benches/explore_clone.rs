//! What one state of `synod explore` costs to copy, to step and to drop: the allocations, the bytes and the time of
//! `World::clone`, and of a child made the way the search makes one (copy, apply one event, fingerprint, drop).
//! `cargo bench --bench explore_clone`. The states measured are the first ones a breadth-first search of the
//! default bounds meets (no randomness), so the allocation counts move only when the code does; the times are
//! wall-clock means, as noisy as the machine.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashSet;
use std::time::Instant;

use synod::explore::{Bounds, ExploreConfig, Origin, World};
use synod::paxos::BugSet;

/// Counts the allocations and bytes the measured code asks for (frees are not counted: a copy's cost is what it
/// allocates).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; the counters are plain thread-local cells.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn count(bytes: usize) {
    // `try_with`: a thread's own teardown may allocate after its locals are gone.
    let _ = ALLOCATIONS.try_with(|cell| cell.set(cell.get() + 1));
    let _ = BYTES.try_with(|cell| cell.set(cell.get() + bytes as u64));
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations and bytes `work` asked for.
fn allocated(work: impl FnOnce()) -> (u64, u64) {
    let before = (ALLOCATIONS.with(Cell::get), BYTES.with(Cell::get));
    work();
    (ALLOCATIONS.with(Cell::get) - before.0, BYTES.with(Cell::get) - before.1)
}

/// The children of `world` the search keeps: no violation, no more messages in flight than the bounds allow.
fn within_bounds(world: &World, bounds: &Bounds) -> Vec<World> {
    let mut children = Vec::new();
    for event in world.events(bounds) {
        let mut child = world.clone();
        assert!(child.apply(event).is_none(), "the default bounds break no invariant");
        if child.sim().network().len() <= usize::from(bounds.messages) {
            children.push(child);
        }
    }
    children
}

/// States met first by a breadth-first search of the default bounds (this many), every `SAMPLE_EVERY`th measured:
/// a mix of shallow and deeper states, as the search meets them.
const STATES: usize = 20_000;
const SAMPLE_EVERY: usize = 50;
/// Each timing repeats its work this many times per state.
const REPEATS: u32 = 200;

/// The first `STATES` states of a breadth-first search (told apart by fingerprint), in the order met.
fn breadth_first_states(start: World, bounds: &Bounds) -> Vec<World> {
    let mut seen = HashSet::from([start.fingerprint()]);
    let mut states = vec![start];
    let mut next = 0;
    while states.len() < STATES && next < states.len() {
        for child in within_bounds(&states[next], bounds) {
            if seen.insert(child.fingerprint()) {
                states.push(child);
            }
        }
        next += 1;
    }
    states.truncate(STATES);
    states
}

fn main() {
    let config = ExploreConfig::new(Bounds::default(), BugSet::NONE);
    let bounds = &config.bounds;
    let start = Origin::WarmUp.start(&config).expect("the default cluster starts").world;
    let states: Vec<World> = breadth_first_states(start, bounds).into_iter().step_by(SAMPLE_EVERY).collect();
    let (mut clone_allocations, mut clone_bytes, mut clone_ns) = (0, 0, 0.0);
    let (mut child_allocations, mut child_bytes, mut child_ns, mut children) = (0, 0, 0.0, 0u64);
    for state in &states {
        let (allocations, bytes) = allocated(|| drop(state.clone()));
        (clone_allocations, clone_bytes) = (clone_allocations + allocations, clone_bytes + bytes);
        let started = Instant::now();
        for _ in 0..REPEATS {
            std::hint::black_box(state.clone());
        }
        clone_ns += started.elapsed().as_nanos() as f64 / f64::from(REPEATS);
        for event in state.events(bounds) {
            let step = || {
                let mut child = state.clone();
                let _ = std::hint::black_box(child.apply(event));
                std::hint::black_box(child.fingerprint());
            };
            let (allocations, bytes) = allocated(step);
            (child_allocations, child_bytes) = (child_allocations + allocations, child_bytes + bytes);
            let started = Instant::now();
            for _ in 0..REPEATS / 10 {
                step();
            }
            child_ns += started.elapsed().as_nanos() as f64 / f64::from(REPEATS / 10);
            children += 1;
        }
    }
    let per_state = states.len() as u64;
    println!("states measured: {per_state} (every {SAMPLE_EVERY}th of the first {STATES} met); {children} children");
    println!(
        "World::clone: {} allocations, {} bytes, {:.0} ns (mean per state)",
        clone_allocations / per_state,
        clone_bytes / per_state,
        clone_ns / per_state as f64
    );
    println!(
        "child (clone, apply one event, fingerprint, drop): {} allocations, {} bytes, {:.0} ns (mean per child)",
        child_allocations / children,
        child_bytes / children,
        child_ns / children as f64
    );
}
