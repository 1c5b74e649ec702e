//! The scenarios shipped with the site (`www/scenarios/`), compiled into the binary so the browser app and the
//! CLI know them by name without fetching anything.

/// A shipped scenario: its name (the file name without `.scenario`, used in `?scenario=NAME`) and its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShippedScenario {
    pub name: &'static str,
    pub text: &'static str,
}

macro_rules! shipped {
    ($($name:literal),* $(,)?) => {
        /// Every shipped scenario, in the order the introduction walks through them.
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
    "bug-forget-promise-on-restart",
    "bug-ignore-accepted-in-phase1",
    "bug-minority-quorum",
    "bug-send-before-persist",
    "bug-accept-below-promise",
    "bug-apply-retry-twice",
    "bug-snapshot-off-by-one",
    "bug-adopt-lowest-ballot",
    "bug-commit-foreign-chosen",
];

/// The shipped scenario called `name`.
pub fn shipped(name: &str) -> Option<&'static ShippedScenario> {
    SHIPPED.iter().find(|scenario| scenario.name == name)
}
