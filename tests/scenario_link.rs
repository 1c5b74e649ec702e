//! `#scenario=` links: a scenario packed with raw DEFLATE and base64url unpacks to the same text, whichever tool
//! packed it, and a damaged link says what is wrong instead of yielding a wrong scenario.
#![cfg(not(target_arch = "wasm32"))]

use synod::scenario::link::{pack, unpack, TEXT_MAX};
use synod::scenario::{parse, SHIPPED};

#[test]
fn every_shipped_scenario_unpacks_to_its_own_text() {
    for scenario in SHIPPED {
        let packed = pack(scenario.text);
        assert!(packed.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "URL-safe: {packed}");
        assert!(packed.len() < scenario.text.len(), "{}: {} → {}", scenario.name, scenario.text.len(), packed.len());
        assert_eq!(unpack(&packed).unwrap(), scenario.text, "{}", scenario.name);
    }
}

/// Packed by Python's zlib (raw DEFLATE, level 9) and `base64.urlsafe_b64encode`, padding stripped: the command
/// the module documentation gives.
#[test]
fn a_link_made_by_another_tool_reads() {
    let python = "DYu7DYAwDAV7T-EFkPh0HoCaFaLkiUQEBzkpYHtcXXF3_dOWph6hwUrjhUYZFcK7tZuPb-Sm5AW68EYdSOIN1LHOFDPiBRM-DVDC-yAOF8IVIcF8-QE";
    let text = unpack(python).unwrap();
    assert_eq!(parse(&text).unwrap().title, "From Python");
    // Standard base64, padded and wrapped, as a mail client might leave it.
    let standard = format!("{}==\n", python.replace('-', "+").replace('_', "/"));
    assert_eq!(unpack(&standard).unwrap(), text);
}

#[test]
fn a_damaged_link_says_what_is_wrong() {
    let packed = pack(SHIPPED[0].text);
    let cases = [
        (String::new(), "it is empty"),
        (format!("{}!{}", &packed[..8], &packed[8..]), "it is not base64url: character 9 is '!'"),
        ("AAAAA".to_string(), "it is not base64url: it is cut short"),
        (
            packed[..packed.len() / 8 * 4].to_string(),
            "it is not a packed scenario (its DEFLATE data is damaged or cut short)",
        ),
        ("-_8PAA".to_string(), "it unpacks to something that is not UTF-8 text"),
        (pack(&"a".repeat(TEXT_MAX + 1)), "it unpacks to more than 64 kB, more than any scenario needs"),
    ];
    for (link, expected) in cases {
        let error = unpack(&link).unwrap_err();
        assert!(error.starts_with(expected), "{link:?}: {error}");
    }
    assert_eq!(unpack(&pack(&"a".repeat(TEXT_MAX))).unwrap().len(), TEXT_MAX, "the limit itself is fine");
}
