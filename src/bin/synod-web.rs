//! The browser entry point. Trunk compiles this binary to WebAssembly (see `index.html` and `Trunk.toml`);
//! natively it only explains where to go instead.

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
