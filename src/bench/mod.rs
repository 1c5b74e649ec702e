//! Benchmarks that run the same code natively and in Wasm.

pub mod core_throughput;
pub mod read_mix;
