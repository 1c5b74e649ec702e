//! Exhaustive bounded model checking of the real core: `synod explore`.
//!
//! The fuzzer samples interleavings at random; the explorer visits every one up to its bounds. A state is a whole
//! simulated cluster (`crate::sim::Sim`) in *stepping* mode, where nothing happens unless an event says so, and
//! the events are every choice the world could make next ([`Event`]): deliver, drop or duplicate any message in
//! flight; tick one node's clock; acknowledge a node's oldest volatile write; crash or restart a node; send a
//! client request, or send one again. The nodes are the real `paxos::Node`, the disks the same memory storage
//! as the fuzzer's, and the checker the same online invariants, checked after every event, with the
//! linearizability of the clients' history checked whenever an operation completes.
//!
//! The search ([`search`]) is breadth-first by default, so the first violation found comes with a shortest path
//! to it; depth-first (`--dfs`) reaches deeper bounds in little memory. States are told apart by a 64-bit
//! fingerprint of everything that decides what happens next ([`World::fingerprint`]); the visited set holds
//! fingerprints only, and the path to a violation is rebuilt from each state's parent.
//!
//! Every event is a `UserAction`, and a path is a stepped run: the counterexample replays with `synod replay`,
//! and its link opens the same run in the playground, event by event.
//!
//! Symmetry: node ids are not interchangeable in this protocol (a ballot's order and the election rule both
//! read them), so permuting nodes would merge states that behave differently; the explorer does not. What it
//! does merge is sound: identical messages in flight (delivering either copy leads to the same state).

mod config;
mod event;
mod hasher;
mod linearizable;
mod reduction;
mod report;
pub mod search;
mod start;
mod world;

pub use config::{Bounds, ExploreConfig, Shard, EXPLORE_SEED, HELD_STATES_MAX, OPS, SNAPSHOT_INTERVAL};
pub use event::Event;
pub use report::{merge, Counterexample, Progress, Report};
pub use search::{explore, explore_from, explore_met};
pub use start::{replayed, Origin, Start};
pub use world::World;
