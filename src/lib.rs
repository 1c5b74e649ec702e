//! Synod: a Multi-Paxos replicated key-value store that runs in a web page.
//!
//! Arrows point inward: `ui` → `explore` → `sim`/`storage` → `paxos`/`kv`. The protocol core (`paxos`) is a pure,
//! deterministic state machine with no clock, randomness or I/O, so the same code runs in the native fuzzer
//! and in the browser.

pub mod bench;
pub mod check;
pub mod explore;
pub mod kv;
pub mod paxos;
pub mod scenario;
pub mod shared;
pub mod sim;
pub mod storage;

#[cfg(target_arch = "wasm32")]
pub mod ui;
