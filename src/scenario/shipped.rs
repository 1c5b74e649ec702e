//! The scenarios shipped with the site (`www/scenarios/`, copied to `dist/scenarios/`). Both the CLI and the
//! browser parse them at run time. The CLI has their texts compiled in ([`SHIPPED`]); the browser knows only
//! their names ([`NAMES`], to refuse an unknown one with the list of known ones) and fetches the file, as it
//! fetches an author's: the 17 texts would cost its first load 3.8 kB brotli (BENCHMARKS.md), and a frame
//! fetches only the one it shows.
//!
//! To ship a scenario, put the file in `www/scenarios/` and its name in the list below, where the introduction
//! would walk through it: nothing is generated. `tests/scenarios.rs` fails when the list and the directory
//! differ, and runs every listed file and checks its claims.

/// A shipped scenario: its name (the file name without `.scenario`, used in `?scenario=NAME`) and its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShippedScenario {
    pub name: &'static str,
    pub text: &'static str,
}

macro_rules! shipped {
    ($($name:literal),* $(,)?) => {
        /// The names of the shipped scenarios, in the order the introduction walks through them.
        pub const NAMES: &[&str] = &[$($name),*];

        /// Every shipped scenario, in the order the introduction walks through them.
        #[cfg(not(target_arch = "wasm32"))]
        pub const SHIPPED: &[ShippedScenario] = &[
            $(ShippedScenario { name: $name, text: include_str!(concat!("../../www/scenarios/", $name, ".scenario")) }),*
        ];
    };
}

shipped![
    "normal-commit",
    "leader-crash",
    "dueling-proposers",
    "message-loss",
    "minority-partition",
    "majority-partition",
    "restart-recovery",
    "noop-hole",
    "snapshot-catch-up",
    "stale-leader",
    "stale-local-read",
    "lease-read-leader-change",
    "range-scan",
    "grow-3-to-5",
    "replace-crashed-node",
    "remove-leader",
    "bug-forget-promise-on-restart",
    "bug-ignore-accepted-in-phase1",
    "bug-minority-quorum",
    "bug-send-before-persist",
    "bug-accept-below-promise",
    "bug-apply-retry-twice",
    "bug-snapshot-off-by-one",
    "bug-adopt-lowest-ballot",
    "bug-commit-foreign-chosen",
    "bug-lease-ignores-drift",
    "bug-reconfig-without-overlap",
];

/// The shipped scenario called `name`.
#[cfg(not(target_arch = "wasm32"))]
pub fn shipped(name: &str) -> Option<&'static ShippedScenario> {
    SHIPPED.iter().find(|scenario| scenario.name == name)
}
