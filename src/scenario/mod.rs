//! Scenarios: small, versioned, human-editable files that script a run of the simulated cluster (its setup, a
//! timeline of actions, narration captions) and state what must be true at given ticks. The same file drives
//! the browser's embedded examples and `synod scenario check`, which runs it natively and verifies every claim,
//! so a caption such as "node 5 becomes leader" is backed by a check.
//!
//! The format is line-based (see `www/docs/authors.html` and [`parse`]): every line names its field first, so
//! an error names the field and the line. [`run`] executes a scenario on the simulator, resolving the message a
//! `drop`/`duplicate`/`deliver` means, and records the resulting concrete actions for the playground to replay.
//! [`export`] writes a run back as scenario text, and [`link`] packs a text into a URL. No UI dependency: this
//! runs natively and in Wasm.
//!
//! # One reader, at run time, everywhere
//!
//! The browser parses and runs a scenario when it loads it, with the same code as `synod scenario check`: a
//! shipped one (fetched from `scenarios/NAME.scenario`, see `shipped.rs`), a file fetched from
//! `?scenario-url=`, or the text carried by `#scenario=`. Until issue 19 the browser replayed actions compiled
//! natively into generated Rust (`generated.rs`, gone), because the reader and the runner did not fit the
//! bundle then. An author's own scenario needs them in the browser anyway, so they are there now, and the
//! generated code is not: one reader, no second path to keep in step. What that costs the first load is
//! measured in BENCHMARKS.md (issue 19).

mod claim;
mod export;
pub mod link;
mod parse;
mod run;
mod shipped;

pub use claim::Claim;
pub use export::{export, percent, quote, Recorded};
pub use parse::{
    fault_field, parse, Action, FaultUnit, Faults, LinkEnd, MessageSelector, Scenario, ScenarioError, Timed, Verdict,
    FAULT_WORDS,
};
pub use run::{run, run_observed, Failure, Outcome};
#[cfg(not(target_arch = "wasm32"))]
pub use shipped::{shipped, SHIPPED};
pub use shipped::{ShippedScenario, NAMES};

/// The format version this build reads (the first line of a scenario: `synod-scenario 1`).
pub const VERSION: u32 = 1;

/// Reads `text` and runs it to its end: the scenario and what the run gave (its concrete actions, and any claim
/// that did not hold). An error names the line: a malformed line, or an action that cannot happen.
pub fn prepare(text: &str) -> Result<(Scenario, Outcome), ScenarioError> {
    let scenario = parse(text)?;
    let outcome = run(&scenario)?;
    Ok((scenario, outcome))
}

/// `title` as part of a database name (the browser's `embed-custom-…` clusters): lower-case letters, digits and dashes, at most 40 characters.
pub fn slug(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(lowercase_for_slug) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug: String = slug.trim_end_matches('-').chars().take(40).collect();
    if slug.is_empty() {
        "untitled".into()
    } else {
        slug
    }
}

/// `c` in lower case as `char::to_lowercase` gives it, wherever the slug can tell: the same ASCII letter or digit,
/// or the same number of other characters (each only a separator). Not `char::to_lowercase` itself: its Unicode
/// table alone is 3.3 kB of the page's first load, brotli (BENCHMARKS.md, "First load under 250 kB"). The only
/// characters outside ASCII whose lower case holds an ASCII letter are the Kelvin sign and the dotted capital I.
fn lowercase_for_slug(c: char) -> impl Iterator<Item = char> {
    let (first, second) = match c {
        '\u{212A}' => ('k', None),
        '\u{130}' => ('i', Some('\u{307}')),
        c => (c.to_ascii_lowercase(), None),
    };
    std::iter::once(first).chain(second)
}

#[cfg(test)]
mod slug_tests {
    use super::{lowercase_for_slug, slug};

    /// What a slug keeps of a lower-cased character: ASCII letters and digits, anything else as a separator.
    fn kept(lower: impl Iterator<Item = char>) -> Vec<Option<char>> {
        lower.map(|c| c.is_ascii_alphanumeric().then_some(c)).collect()
    }

    #[test]
    fn slug_lower_case_agrees_with_unicode_for_every_character() {
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            assert_eq!(kept(lowercase_for_slug(c)), kept(c.to_lowercase()), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn slug_keeps_letters_and_digits_and_joins_the_rest_with_one_dash() {
        assert_eq!(slug("  Dueling Proposers, 2 of them!"), "dueling-proposers-2-of-them");
        assert_eq!(slug("\u{212A}ELVIN \u{130}stanbul"), "kelvin-i-stanbul");
        assert_eq!(slug("Ünïcödé"), "n-c-d");
        assert_eq!(slug("!!!"), "untitled");
        assert_eq!(slug(&"a".repeat(50)).len(), 40);
    }
}
