# shellcheck shell=bash
# Shared by scripts/setup, scripts/test and scripts/play: paths, environment and small helpers.
# Source it (`source scripts/lib.sh`); running it does nothing.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# npm's binaryen first: Trunk must find wasm-opt 132 there, never a system wasm-opt (Debian's 108 is broken for
# rustc 1.95). Then cargo-installed tools (trunk, wasm-bindgen, wasm-bindgen-test-runner).
export PATH="$ROOT/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# Trunk would otherwise ask the network for a newer version at every start. (0.21 wants true/false, not 1.)
export TRUNK_SKIP_VERSION_CHECK=true
# playwright-core drives Debian's Chromium; it must never download a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
# wasm-bindgen-test-runner would take the first WebDriver on PATH (geckodriver before chromedriver): name it.
# The runner prefers $GECKODRIVER to $CHROMEDRIVER when both are set, so the test-firefox stage sets only that.
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
# Debian's Firefox ESR (its geckodriver is compiled from crates.io by scripts/setup, into ~/.cargo/bin).
export FIREFOX="${FIREFOX:-/usr/bin/firefox-esr}"

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  BOLD=$'\033[1m' BLUE=$'\033[1;34m' GREEN=$'\033[1;32m' RED=$'\033[1;31m' RESET=$'\033[0m'
else
  BOLD='' BLUE='' GREEN='' RED='' RESET=''
fi

# The version of a crate in Cargo.lock, e.g. `locked_version wasm-bindgen` -> 0.2.130.
locked_version() {
  awk -v name="name = \"$1\"" '$0 == name { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

# A quoted value from Trunk.toml, e.g. `trunk_setting wasm_bindgen` -> 0.2.130.
trunk_setting() {
  awk -F'"' -v key="$1" '$1 ~ "^"key" *= *$" { print $2; exit }' "$ROOT/Trunk.toml"
}

# Human-readable duration of a number of seconds: 75 -> 1m15s.
duration() {
  local s=$1
  if [ "$s" -ge 60 ]; then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi
}

die() {
  printf '%s%s%s\n' "$RED" "$*" "$RESET" >&2
  exit 1
}
