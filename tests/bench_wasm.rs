//! The issue-9 core throughput workload compiled to Wasm, in headless Chromium. Ignored by default (it is a
//! benchmark, not a check); run it with
//!
//!     cargo test --release --target wasm32-unknown-unknown --test bench_wasm -- --include-ignored
//!
//! and compare with `cargo bench --bench core_throughput -- NODES P N RUNS` for the same configuration, and
//! `synod fuzz --seeds 300 --threads 1 --json` for the simulator.
#![cfg(target_arch = "wasm32")]

use synod::bench::core_throughput::run_many;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// `performance.now()` in seconds: monotonic, sub-millisecond.
fn now_s() -> f64 {
    let performance = web_sys::window().and_then(|window| window.performance()).expect("performance");
    performance.now() / 1000.0
}

#[wasm_bindgen_test]
#[ignore]
fn core_throughput_in_the_browser() {
    for (nodes, per_round) in [(5, 1), (5, 100), (3, 1), (3, 100)] {
        let summary = run_many(nodes, per_round, 200_000, 5, &now_s);
        console_log!("wasm: {summary}");
    }
}

/// Issue 5: the simulator in Wasm against native. Compare with `synod fuzz --seeds 300 --threads 1 --json`
/// (its `elapsed_s`). Three rounds of the same 300 seeds: the first includes V8 compiling the module's hot
/// functions (it starts them in its baseline compiler), the others show the optimised code alone.
#[wasm_bindgen_test]
#[ignore]
fn simulator_seeds_in_the_browser() {
    let config = synod::sim::SimConfig::fuzz(5);
    for round in 1..=3 {
        let start = now_s();
        for seed in 0..300 {
            let outcome = synod::sim::fuzz::run_seed(&config, seed);
            assert!(outcome.violations.is_empty(), "seed {seed}: {}", outcome.violations[0]);
        }
        console_log!("wasm: 300 five-node fuzz seeds in {:.2} s (round {round})", now_s() - start);
    }
}
