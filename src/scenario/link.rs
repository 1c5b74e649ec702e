//! A scenario carried in a URL, so an example can be embedded without hosting a file:
//! `index.html?embed=1#scenario=PACKED`, where PACKED is the text compressed with raw DEFLATE (RFC 1951) and
//! written in base64url without padding (RFC 4648 §5), which needs no escaping in a URL. Any tool can make one:
//!
//! ```text
//! python3 -c 'import sys,zlib,base64; c=zlib.compressobj(9,zlib.DEFLATED,-15);
//! d=c.compress(sys.stdin.buffer.read())+c.flush(); print(base64.urlsafe_b64encode(d).decode().rstrip("="))' < my.scenario
//! ```
//!
//! `synod scenario embed FILE` and the playground's "Copy embed code" do it for you. It goes in the fragment
//! (after `#`), which the browser never sends to the server: the text stays out of server logs and request-length
//! limits. `normal-commit.scenario` (23 lines, 913 bytes) packs into 612 characters.
//!
//! Natively, [`pack`] and [`unpack`] use `miniz_oxide` and `base64`. The browser uses its own DEFLATE
//! (`CompressionStream("deflate-raw")`, `ui/link.rs`): the two crates cost the page's bundle 13.8 kB brotli,
//! the browser's streams about 1 kB of bindings (BENCHMARKS.md). Both read and write the same format, checked
//! against one test vector made by Python's zlib (`tests/scenario_link.rs`, `tests/browser_engine.rs`), and both
//! check a link with [`clean`] first, so a damaged link gets the same sentence everywhere.

/// The longest text a link may unpack to: far more than any scenario needs, and a bound on what a hostile link
/// can make a visitor's browser allocate.
pub const TEXT_MAX: usize = 64 * 1024;

/// `packed` in the base64url alphabet without padding, or what is wrong with it. Lenient about what mail clients
/// and hand copying do to base64: standard `+` and `/`, `=` padding and white space are accepted.
pub fn clean(packed: &str) -> Result<String, String> {
    let mut cleaned = String::with_capacity(packed.len());
    for (index, c) in packed.chars().filter(|c| !c.is_whitespace() && *c != '=').enumerate() {
        match c {
            '+' => cleaned.push('-'),
            '/' => cleaned.push('_'),
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '_' => cleaned.push(c),
            _ => return Err(format!("it is not base64url: character {} is {c:?}", index + 1)),
        }
    }
    if cleaned.is_empty() {
        return Err("it is empty".into());
    }
    // Four characters hold three bytes; one character alone holds none.
    if cleaned.len() % 4 == 1 {
        return Err("it is not base64url: it is cut short or has characters too many".into());
    }
    if cleaned.len() > TEXT_MAX {
        return Err(format!("it is longer than {} kB, more than any scenario needs", TEXT_MAX / 1024));
    }
    Ok(cleaned)
}

/// The sentence for DEFLATE data that does not unpack.
pub const DAMAGED: &str = "it is not a packed scenario (its DEFLATE data is damaged or cut short)";

/// The sentence for a text that unpacks past [`TEXT_MAX`].
pub fn too_long() -> String {
    format!("it unpacks to more than {} kB, more than any scenario needs", TEXT_MAX / 1024)
}

/// The sentence for unpacked bytes that are not UTF-8.
pub const NOT_TEXT: &str = "it unpacks to something that is not UTF-8 text";

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    use super::{clean, too_long, DAMAGED, NOT_TEXT, TEXT_MAX};

    /// miniz's highest standard level: links are made once and read many times.
    const LEVEL: u8 = 9;

    /// `text` packed for a URL.
    pub fn pack(text: &str) -> String {
        URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(text.as_bytes(), LEVEL))
    }

    /// The text `packed` holds, or what is wrong with it.
    pub fn unpack(packed: &str) -> Result<String, String> {
        let cleaned = clean(packed)?;
        let bytes = URL_SAFE_NO_PAD.decode(cleaned.as_bytes()).map_err(|_| DAMAGED.to_string())?;
        let text = miniz_oxide::inflate::decompress_to_vec_with_limit(&bytes, TEXT_MAX).map_err(|error| match error
            .status
        {
            miniz_oxide::inflate::TINFLStatus::HasMoreOutput => too_long(),
            _ => DAMAGED.to_string(),
        })?;
        String::from_utf8(text).map_err(|_| NOT_TEXT.into())
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::{pack, unpack};
