//! The scenario engine's protocol, in the browser (Chromium and Firefox): what the `synod-scenario` module
//! answers (`ui::engine::serve`) and how the page reads it (`ui::engine::read_*`), without loading the module
//! itself (the end-to-end tests do that). `#scenario=` links packed with the browser's own DEFLATE read as the
//! native `miniz_oxide` ones do: the same test vector, made by Python's zlib, and the same sentences for a
//! damaged link.
#![cfg(target_arch = "wasm32")]

use synod::scenario::link::TEXT_MAX;
use synod::ui::engine::{read_checked, read_embed_codes, read_prepared, read_text, serve};
use synod::ui::runner::RunRecord;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const TEXTS: [&str; 3] = [
    include_str!("../www/scenarios/normal-commit.scenario"),
    include_str!("../www/scenarios/message-loss.scenario"),
    include_str!("../www/scenarios/bug-adopt-lowest-ballot.scenario"),
];

/// The vector `tests/scenario_link.rs` reads natively: Python's zlib, raw DEFLATE at level 9, base64url.
const PYTHON: &str =
    "DYu7DYAwDAV7T-EFkPh0HoCaFaLkiUQEBzkpYHtcXXF3_dOWph6hwUrjhUYZFcK7tZuPb-Sm5AW68EYdSOIN1LHOFDPiBRM-DVDC-yAOF8IVIcF8-QE";

#[wasm_bindgen_test]
async fn links_packed_by_the_browser_unpack_to_the_same_text() {
    for text in TEXTS {
        let packed = read_text(&serve::pack(text).await).unwrap();
        assert!(packed.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "URL-safe: {packed}");
        assert!(packed.len() < text.len());
        assert_eq!(read_text(&serve::unpack(&packed).await).unwrap(), text);
    }
    let python = read_text(&serve::unpack(PYTHON).await).unwrap();
    assert!(python.contains("title: From Python\n"), "{python}");
}

#[wasm_bindgen_test]
async fn a_damaged_link_gets_the_sentence_it_gets_natively() {
    let packed = read_text(&serve::pack(TEXTS[0]).await).unwrap();
    let cases = [
        (String::new(), "it is empty"),
        (format!("{}!{}", &packed[..8], &packed[8..]), "it is not base64url: character 9 is '!'"),
        ("AAAAA".to_string(), "it is not base64url: it is cut short"),
        (packed[..packed.len() / 8 * 4].to_string(), "it is not a packed scenario (its DEFLATE data is damaged"),
        ("-_8PAA".to_string(), "it unpacks to something that is not UTF-8 text"),
    ];
    for (link, expected) in cases {
        let error = read_text(&serve::unpack(&link).await).unwrap_err();
        assert!(error.message.starts_with(expected), "{link:?}: {}", error.message);
        assert_eq!(error.field, "#scenario");
    }
    let bomb = read_text(&serve::pack(&"a".repeat(TEXT_MAX + 1)).await).unwrap();
    let error = read_text(&serve::unpack(&bomb).await).unwrap_err();
    assert_eq!(error.message, "it unpacks to more than 64 kB, more than any scenario needs");
}

#[wasm_bindgen_test]
fn a_prepared_scenario_carries_its_run_captions_and_failed_claims() {
    let prepared = read_prepared(&serve::prepare(TEXTS[0])).unwrap();
    assert_eq!((prepared.title.as_str(), prepared.end), ("Normal commit", 60));
    assert_eq!(prepared.captions.first().map(|(tick, _)| *tick), Some(0));
    assert!(prepared.failures.is_empty());
    assert_eq!(prepared.record.setup.nodes, 5);
    assert_eq!(prepared.record.actions.len(), 1, "one put, at tick 30");
    let wrong = TEXTS[0].replace("expect 14: leader 5", "expect 14: leader 3");
    let failures = read_prepared(&serve::prepare(&wrong)).unwrap().failures;
    assert_eq!(failures.len(), 1);
    assert!(failures[0].starts_with("line ") && failures[0].contains("tick 14: node 3 is follower"), "{failures:?}");
}

#[wasm_bindgen_test]
fn a_malformed_scenario_is_an_error_naming_its_line_and_field() {
    let text = "synod-scenario 1\ntitle: t\nnodes: 3\nseed: 1\nend: 5\nchecker: green\nat 2: kill 4\n";
    for error in [read_prepared(&serve::prepare(text)).unwrap_err(), read_checked(&serve::check(text)).unwrap_err()] {
        assert_eq!(error.line, Some(7));
        assert_eq!(error.field, "at 2: kill");
        assert_eq!(error.message, "\"4\" is not a node of this cluster (1 to 3)");
    }
    let checked = read_checked(&serve::check(TEXTS[1])).unwrap();
    assert_eq!(checked.title, "Message loss and retry");
    assert!(checked.summary.starts_with("✓ Reads: \"Message loss and retry\", 5 nodes,"), "{}", checked.summary);
}

#[wasm_bindgen_test]
fn an_exported_run_reads_back_as_the_same_run() {
    let prepared = read_prepared(&serve::prepare(TEXTS[1])).unwrap();
    let escape = |text: &str| String::from(js_sys::encode_uri_component(text));
    let run = synod::ui::runner::encode_record(&prepared.record, &escape);
    let text = read_text(&serve::export(&run, "Again", prepared.end)).unwrap();
    assert!(text.contains("title: Again\n"), "{text}");
    let again: RunRecord = read_prepared(&serve::prepare(&text)).unwrap().record;
    assert_eq!(again, prepared.record);
    let error = read_text(&serve::export("not a run", "t", 5)).unwrap_err();
    assert_eq!((error.field.as_str(), error.line), ("run", None));
}

#[wasm_bindgen_test]
async fn embed_codes_carry_the_text_and_name_a_hosted_file() {
    let text = TEXTS[0].replace("title: Normal commit", "title: Tom & \"Jerry\"");
    let (inline, hosted) = read_embed_codes(&serve::embed_codes(&text, "https://example.org/synod/").await).unwrap();
    let size = "\" title=\"Live example: Tom &amp; &quot;Jerry&quot;\" width=\"640\" height=\"400\"></iframe>";
    let packed = inline
        .strip_prefix("<iframe src=\"https://example.org/synod/?embed=1#scenario=")
        .and_then(|rest| rest.strip_suffix(size))
        .unwrap_or_else(|| panic!("{inline}"));
    assert_eq!(read_text(&serve::unpack(packed).await).unwrap(), text);
    assert_eq!(
        hosted,
        format!("<iframe src=\"https://example.org/synod/?scenario-url={}&amp;embed=1{size}", serve::HOSTED_EXAMPLE)
    );
    let error = read_embed_codes(&serve::embed_codes("synod-scenario 1\nnodes 3\n", "p").await).unwrap_err();
    assert_eq!((error.line, error.field.as_str()), (Some(2), "nodes"));
}

/// "Explore from here" asks the engine to start its worker and hears the worker's news through it, as text
/// (`ui::explorer::text`): every field crosses unchanged, the optional ones present and absent, and a request
/// from a page of another build is refused.
#[wasm_bindgen_test]
fn an_explorer_request_and_its_news_cross_between_the_page_and_the_engine_unchanged() {
    use synod::explore::Bounds;
    use synod::ui::explorer::text::{read_news, read_request, write_news, write_request};
    use synod::ui::explorer::{News, Request, PROTOCOL};

    let bounds = Bounds {
        nodes: 5,
        ops: 2,
        crashes: 1,
        drops: 3,
        dups: 4,
        ticks: 6,
        retries: 7,
        messages: 30,
        depth: 40,
        reconfigs: 1,
    };
    let request = Request { protocol: PROTOCOL, run: "2.5.7.-.0~%22quoted%22".into(), tick: 30, bounds };
    assert_eq!(read_request(&write_request(&request)).unwrap(), request);
    let other_build = Request { protocol: PROTOCOL + 1, ..request };
    assert!(read_request(&write_request(&other_build)).unwrap_err().contains("another version of this page"));

    let progress = News { states: 123_456, depth: 17, elapsed_ms: 2_500, ..News::default() };
    let found = News {
        done: true,
        violation: Some("commit-point-is-sound: \"k\" broke\non two lines".into()),
        events: vec!["Deliver #3 accept 1 → 2".into(), "Crash node 2".into()],
        run: Some("2.3.7.minority-quorum.0~…".into()),
        ..progress.clone()
    };
    let exhausted = News { done: true, exhausted: true, ..progress.clone() };
    for news in [progress, found, exhausted, News::failed("the worker failed (\\ at line 1)".into())] {
        assert_eq!(read_news(&write_news(&news)).unwrap(), news);
    }
}
