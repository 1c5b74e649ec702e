//! The browser entry point. Trunk compiles this binary to WebAssembly (see `index.html` and `Trunk.toml`);
//! natively it only explains where to go instead.

/// Talc instead of Rust's default dlmalloc: less code in the page's first load (BENCHMARKS.md). The pages are
/// single-threaded (no `atomics`), which this allocator assumes.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(target_arch = "wasm32")]
fn main() {
    synod::ui::run();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "synod-web is Synod's browser app and only runs as WebAssembly.\n\
         Run `scripts/play` and open the address it prints, or use the native CLI: `cargo run --bin synod -- --help`."
    );
    std::process::exit(2);
}
