//! `#scenario=` links in the browser: the format of `scenario::link` (raw DEFLATE, base64url), packed and
//! unpacked with the browser's own `CompressionStream`/`DecompressionStream("deflate-raw")` and `btoa`/`atob`.
//! They cost the bundle about 1 kB of bindings where `miniz_oxide` and `base64` cost 13.8 kB brotli
//! (BENCHMARKS.md); `tests/browser_engine.rs` checks them against the native crates' test vector. web-sys has the
//! two stream classes only behind `--cfg=web_sys_unstable_apis` (a rustflag every build would need), so their
//! constructors are bound here, as `storage::indexeddb::lock` binds Web Locks.

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ReadableStreamDefaultReader, ReadableWritablePair};

use crate::scenario::link::{clean, too_long, DAMAGED, NOT_TEXT, TEXT_MAX};

#[wasm_bindgen]
extern "C" {
    /// `CompressionStream`: a readable/writable pair.
    type CompressionStream;
    #[wasm_bindgen(constructor, catch)]
    fn new(format: &str) -> Result<CompressionStream, JsValue>;

    /// `DecompressionStream`: a readable/writable pair.
    type DecompressionStream;
    #[wasm_bindgen(constructor, catch)]
    fn new(format: &str) -> Result<DecompressionStream, JsValue>;
}

/// The DEFLATE flavour of the format: no zlib or gzip wrapper.
const FORMAT: &str = "deflate-raw";

/// Why streaming bytes through a (de)compressor stopped.
enum Stopped {
    /// The stream failed (damaged input).
    Failed,
    /// More than the limit came out.
    TooLong,
}

/// `bytes` through `pair` (a `CompressionStream` or `DecompressionStream`), read chunk by chunk; stops once more
/// than `limit` bytes came out, so a hostile link cannot make the page allocate much.
async fn through(pair: &JsValue, bytes: &[u8], limit: usize) -> Result<Vec<u8>, Stopped> {
    let parts = Array::of1(&Uint8Array::from(bytes));
    let blob = Blob::new_with_u8_array_sequence(&parts).map_err(|_| Stopped::Failed)?;
    let stream = blob.stream().pipe_through(pair.unchecked_ref::<ReadableWritablePair>());
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut out = Vec::new();
    loop {
        let step = JsFuture::from(reader.read()).await.map_err(|_| Stopped::Failed)?;
        if Reflect::get(&step, &JsValue::from_str("done")).ok().and_then(|done| done.as_bool()) == Some(true) {
            return Ok(out);
        }
        let chunk: Uint8Array = Reflect::get(&step, &JsValue::from_str("value"))
            .ok()
            .and_then(|value| value.dyn_into().ok())
            .ok_or(Stopped::Failed)?;
        let start = out.len();
        out.resize(start + chunk.length() as usize, 0);
        chunk.copy_to(&mut out[start..]);
        if out.len() > limit {
            let _ = reader.cancel();
            return Err(Stopped::TooLong);
        }
    }
}

/// `text` packed for a URL.
pub async fn pack(text: &str) -> Result<String, String> {
    let unsupported = |_| "this browser cannot pack a scenario (it has no CompressionStream)".to_string();
    let compressor = CompressionStream::new(FORMAT).map_err(unsupported)?;
    let packed = through(&compressor, text.as_bytes(), usize::MAX)
        .await
        .map_err(|_| "the browser failed to pack the scenario".to_string())?;
    // `btoa` takes a "binary string": one character per byte.
    let binary: String = packed.iter().map(|&byte| char::from(byte)).collect();
    let base64 = gloo::utils::window().btoa(&binary).map_err(|_| "the browser failed to write base64".to_string())?;
    Ok(base64.trim_end_matches('=').replace('+', "-").replace('/', "_"))
}

/// The text `packed` holds, or what is wrong with it (the sentences `scenario::link::unpack` gives natively).
pub async fn unpack(packed: &str) -> Result<String, String> {
    let cleaned = clean(packed)?;
    let mut base64: String = cleaned
        .chars()
        .map(|c| {
            if c == '-' {
                '+'
            } else if c == '_' {
                '/'
            } else {
                c
            }
        })
        .collect();
    base64.extend(std::iter::repeat_n('=', (4 - base64.len() % 4) % 4));
    let binary = gloo::utils::window().atob(&base64).map_err(|_| DAMAGED.to_string())?;
    let bytes: Vec<u8> = binary.chars().map(|c| c as u8).collect();
    let unsupported = |_| "this browser cannot unpack a scenario (it has no DecompressionStream)".to_string();
    let decompressor = DecompressionStream::new(FORMAT).map_err(unsupported)?;
    let text = through(&decompressor, &bytes, TEXT_MAX).await.map_err(|stopped| match stopped {
        Stopped::Failed => DAMAGED.to_string(),
        Stopped::TooLong => too_long(),
    })?;
    String::from_utf8(text).map_err(|_| NOT_TEXT.into())
}
