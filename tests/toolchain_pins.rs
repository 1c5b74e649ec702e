//! The browser toolchain is pinned in several files that must agree; this test fails when they drift apart.
//! (scripts/test also checks the installed `wasm-bindgen` and `wasm-opt` binaries against these pins.)
#![cfg(not(target_arch = "wasm32"))]

const CARGO_TOML: &str = include_str!("../Cargo.toml");
const CARGO_LOCK: &str = include_str!("../Cargo.lock");
const TRUNK_TOML: &str = include_str!("../Trunk.toml");
const PACKAGE_JSON: &str = include_str!("../package.json");

/// The version of `crate` in Cargo.lock.
fn locked_version(krate: &str) -> String {
    let header = format!("name = \"{krate}\"");
    let mut lines = CARGO_LOCK.lines();
    while let Some(line) = lines.next() {
        if line == header {
            let version = lines.next().expect("a version line follows the name");
            return version.trim_start_matches("version = ").trim_matches('"').to_string();
        }
    }
    panic!("{krate} is not in Cargo.lock");
}

/// The quoted value of `key = "…"` in a TOML-ish file (first match).
fn toml_value<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .filter_map(|line| line.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().trim_matches('"'))
        .unwrap_or_else(|| panic!("no `{key} = …` found"))
}

#[test]
fn wasm_bindgen_crate_and_cli_pins_agree() {
    let locked = locked_version("wasm-bindgen");
    let trunk = toml_value(TRUNK_TOML, "wasm_bindgen");
    assert_eq!(trunk, locked, "Trunk.toml [tools] wasm_bindgen must equal wasm-bindgen in Cargo.lock");

    // Cargo.toml pins the crate exactly, so `cargo update` cannot move it away from the installed CLI.
    let declared = CARGO_TOML
        .lines()
        .find(|line| line.starts_with("wasm-bindgen ="))
        .expect("wasm-bindgen is a dependency in Cargo.toml");
    assert!(
        declared.contains(&format!("\"={locked}\"")),
        "Cargo.toml must pin wasm-bindgen = \"={locked}\": {declared}"
    );

    // The crates released together with it must match too, or the test runner rejects the test binaries.
    for krate in ["wasm-bindgen-macro", "wasm-bindgen-shared"] {
        assert_eq!(locked_version(krate), locked, "{krate} in Cargo.lock");
    }
}

#[test]
fn wasm_opt_pin_matches_the_npm_binaryen() {
    let trunk = toml_value(TRUNK_TOML, "wasm_opt");
    let major = trunk.strip_prefix("version_").expect("Trunk.toml wasm_opt looks like version_N");
    let npm = PACKAGE_JSON
        .lines()
        .find(|line| line.trim_start().starts_with("\"binaryen\""))
        .expect("package.json depends on binaryen");
    assert!(npm.contains(&format!("\"{major}.")), "package.json binaryen must be major {major}: {npm}");
}
