//! The simulator in the browser gives the same runs as natively: the trace hashes recorded by the native
//! test (tests/sim_determinism.rs) are reproduced in headless Chromium.
#![cfg(target_arch = "wasm32")]

use synod::sim::fuzz::run_seed;
use synod::sim::SimConfig;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

mod retry_support;

#[wasm_bindgen_test]
fn a_run_whose_visitor_retries_by_itself_in_wasm_equals_the_native_one() {
    let hash = format!("{:016x}\n", retry_support::run().trace().hash());
    assert_eq!(hash, include_str!("data/sim_retry_hash.txt"), "the retries differ in Wasm");
}

#[wasm_bindgen_test]
fn trace_hashes_in_wasm_equal_the_native_ones() {
    let recorded: Vec<(String, String)> =
        serde_json::from_str(include_str!("data/sim_trace_hashes.json")).expect("the recorded hashes parse");
    assert!(!recorded.is_empty());
    for (name, expected) in recorded {
        let (nodes, seed) = name.strip_prefix("fuzz").and_then(|rest| rest.split_once("-seed")).expect("name format");
        let config = SimConfig::fuzz(nodes.parse().expect("nodes"));
        let hash = run_seed(&config, seed.parse().expect("seed")).trace_hash;
        assert_eq!(format!("{hash:016x}"), expected, "{name}: the Wasm run differs from the native one");
    }
}
