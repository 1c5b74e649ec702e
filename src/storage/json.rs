//! The JSON that IndexedDB records are written in, read and written without serde.
//!
//! Why by hand: serde_json with the derived impls of the record types cost the browser bundle 15 kB brotli
//! (measured when this module replaced them; BENCHMARKS.md) for five small record shapes. This module is a JSON
//! reader into a small tree ([`Json`]) and a writer ([`Writer`]); [`Stored`] says how each record type maps
//! to them. The text is exactly what serde_json writes for the types' derived `Serialize` (so records written
//! by earlier builds read back, and the native tests check every shape against serde_json), and reading
//! accepts what their derived `Deserialize` accepts from such text: fields in any order, unknown fields
//! ignored, a missing `Option` field read as `None`.

use std::fmt::Write as _;

/// A parsed JSON value. Numbers keep their text: records hold only unsigned integers, and a number that is
/// not one is reported as such by [`Json::u64`] rather than rounded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    /// Fields in the order written.
    Object(Vec<(String, Json)>),
}

/// Nesting deeper than this is refused rather than risking the stack: records nest five levels at most.
const DEPTH_MAX: usize = 64;

impl Json {
    /// Parses a whole text: one value, surrounded by whitespace at most.
    pub fn parse(text: &str) -> Result<Json, String> {
        let mut parser = Parser { bytes: text.as_bytes(), at: 0 };
        let value = parser.value(0)?;
        parser.skip_space();
        if parser.at < parser.bytes.len() {
            return Err(parser.error("trailing characters"));
        }
        Ok(value)
    }

    /// What kind of value this is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    fn expected(&self, what: &str) -> String {
        format!("expected {what}, found {}", self.kind())
    }

    pub fn u64(&self) -> Result<u64, String> {
        match self {
            Json::Number(text) => text.parse().map_err(|_| format!("expected an unsigned integer, found {text}")),
            other => Err(other.expected("an unsigned integer")),
        }
    }

    pub fn u32(&self) -> Result<u32, String> {
        let n = self.u64()?;
        u32::try_from(n).map_err(|_| format!("{n} is out of range (at most {})", u32::MAX))
    }

    pub fn u8(&self) -> Result<u8, String> {
        let n = self.u64()?;
        u8::try_from(n).map_err(|_| format!("{n} is out of range (at most {})", u8::MAX))
    }

    pub fn bool(&self) -> Result<bool, String> {
        match self {
            Json::Bool(b) => Ok(*b),
            other => Err(other.expected("a boolean")),
        }
    }

    pub fn str(&self) -> Result<&str, String> {
        match self {
            Json::String(s) => Ok(s),
            other => Err(other.expected("a string")),
        }
    }

    pub fn string(&self) -> Result<String, String> {
        self.str().map(str::to_owned)
    }

    /// `null` is `None`, anything else a string.
    pub fn optional_string(&self) -> Result<Option<String>, String> {
        match self {
            Json::Null => Ok(None),
            other => other.string().map(Some),
        }
    }

    pub fn array(&self) -> Result<&[Json], String> {
        match self {
            Json::Array(items) => Ok(items),
            other => Err(other.expected("an array")),
        }
    }

    pub fn object(&self) -> Result<&[(String, Json)], String> {
        match self {
            Json::Object(fields) => Ok(fields),
            other => Err(other.expected("an object")),
        }
    }

    /// The object's field `name`, if it has one.
    pub fn get(&self, name: &str) -> Option<&Json> {
        match self {
            Json::Object(fields) => fields.iter().find(|(key, _)| key == name).map(|(_, value)| value),
            _ => None,
        }
    }

    /// The object's field `name`, which must be there.
    pub fn field(&self, name: &str) -> Result<&Json, String> {
        self.object()?;
        self.get(name).ok_or_else(|| format!("missing field `{name}`"))
    }

    /// Reads field `name` with `read`, naming the field in the error.
    pub fn read_field<T>(&self, name: &str, read: impl FnOnce(&Json) -> Result<T, String>) -> Result<T, String> {
        read(self.field(name)?).map_err(|why| format!("{name}: {why}"))
    }

    /// An externally tagged enum variant, as serde writes it: `"Name"` for a unit variant, `{"Name": …}`
    /// otherwise. Returns the name and the content (`None` for the bare string).
    pub fn variant(&self) -> Result<(&str, Option<&Json>), String> {
        match self {
            Json::String(name) => Ok((name, None)),
            Json::Object(fields) if fields.len() == 1 => Ok((&fields[0].0, Some(&fields[0].1))),
            other => Err(other.expected("an enum variant (a string or an object with one field)")),
        }
    }

    /// Sets field `name` of an object, replacing the field if it is there (for migrations).
    pub fn set(&mut self, name: &str, value: Json) {
        if let Json::Object(fields) = self {
            match fields.iter_mut().find(|(key, _)| key == name) {
                Some(field) => field.1 = value,
                None => fields.push((name.into(), value)),
            }
        }
    }

    /// Writes this value back as text (compact, fields in their order).
    pub fn write(&self, out: &mut Writer) {
        match self {
            Json::Null => out.null(),
            Json::Bool(b) => out.bool(*b),
            Json::Number(text) => out.raw_value(text),
            Json::String(s) => out.str(s),
            Json::Array(items) => {
                out.open('[');
                items.iter().for_each(|item| item.write(out));
                out.close(']');
            }
            Json::Object(fields) => {
                out.open('{');
                for (key, value) in fields {
                    out.key(key);
                    value.write(out);
                }
                out.close('}');
            }
        }
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        format!("{what} at byte {}", self.at)
    }

    fn skip_space(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.bytes.get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected `{}`", byte as char)))
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, String> {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        if depth > DEPTH_MAX {
            return Err(self.error("nested too deeply"));
        }
        match self.peek() {
            None => Err(self.error("unexpected end of text")),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'"') => self.string().map(Json::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => {
                let mut items = Vec::new();
                self.sequence(b']', |parser| {
                    items.push(parser.value(depth + 1)?);
                    Ok(())
                })?;
                Ok(Json::Array(items))
            }
            Some(b'{') => {
                let mut fields = Vec::new();
                self.sequence(b'}', |parser| {
                    if parser.peek() != Some(b'"') {
                        return Err(parser.error("expected a field name"));
                    }
                    let key = parser.string()?;
                    parser.expect(b':')?;
                    fields.push((key, parser.value(depth + 1)?));
                    Ok(())
                })?;
                Ok(Json::Object(fields))
            }
            Some(_) => Err(self.error("expected a value")),
        }
    }

    /// An array's or object's items, at its opening bracket: `item` reads each, commas separate them, `close`
    /// ends them.
    fn sequence(&mut self, close: u8, mut item: impl FnMut(&mut Self) -> Result<(), String>) -> Result<(), String> {
        self.at += 1;
        if self.peek() == Some(close) {
            self.at += 1;
            return Ok(());
        }
        loop {
            item(self)?;
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(byte) if byte == close => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(self.error(&format!("expected `,` or `{}`", close as char))),
            }
        }
    }

    /// A number as JSON's grammar has it: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Result<Json, String> {
        let start = self.at;
        let digits = |parser: &mut Self| {
            let from = parser.at;
            while matches!(parser.bytes.get(parser.at), Some(b'0'..=b'9')) {
                parser.at += 1;
            }
            parser.at > from
        };
        if self.bytes[self.at] == b'-' {
            self.at += 1;
        }
        match self.bytes.get(self.at) {
            // No leading zeros: `0` stands alone.
            Some(b'0') if !matches!(self.bytes.get(self.at + 1), Some(b'0'..=b'9')) => self.at += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.error("invalid number")),
        }
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            if !digits(self) {
                return Err(self.error("invalid number"));
            }
        }
        if matches!(self.bytes.get(self.at), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.bytes.get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if !digits(self) {
                return Err(self.error("invalid number"));
            }
        }
        let text = std::str::from_utf8(&self.bytes[start..self.at]).expect("ASCII digits");
        Ok(Json::Number(text.into()))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let hex = self.bytes.get(self.at..self.at + 4).and_then(|hex| std::str::from_utf8(hex).ok());
        let code =
            hex.and_then(|hex| u32::from_str_radix(hex, 16).ok()).ok_or_else(|| self.error("invalid \\u escape"))?;
        self.at += 4;
        Ok(code)
    }

    /// A string, at its opening quote.
    fn string(&mut self) -> Result<String, String> {
        self.at += 1;
        let mut out = String::new();
        loop {
            // Copy the run up to the next quote, backslash or control character in one go.
            let run = self.bytes[self.at..].iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            let Some(run) = run else { return Err(self.error("unterminated string")) };
            // The input is a &str and the run stops at an ASCII byte, so it ends on a character boundary.
            out.push_str(std::str::from_utf8(&self.bytes[self.at..self.at + run]).expect("UTF-8 input"));
            self.at += run;
            match self.bytes[self.at] {
                b'"' => {
                    self.at += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.at += 1;
                    let escape = self.bytes.get(self.at).copied();
                    self.at += 1;
                    let c = match escape {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let high = self.hex4()?;
                            let code = if (0xd800..0xdc00).contains(&high) {
                                if !self.bytes[self.at..].starts_with(b"\\u") {
                                    return Err(self.error("lone leading surrogate in \\u escape"));
                                }
                                self.at += 2;
                                let low = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&low) {
                                    return Err(self.error("invalid trailing surrogate in \\u escape"));
                                }
                                0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)
                            } else {
                                high
                            };
                            char::from_u32(code).ok_or_else(|| self.error("lone surrogate in \\u escape"))?
                        }
                        _ => return Err(self.error("invalid escape")),
                    };
                    out.push(c);
                }
                _ => return Err(self.error("control character in a string")),
            }
        }
    }
}

/// Builds compact JSON text as serde_json writes it. Values and keys add the comma that separates them from
/// the one before, so a type's `write` is a flat list of calls.
#[derive(Default)]
pub struct Writer {
    text: String,
    /// The next value or key follows another in the same array or object.
    comma: bool,
}

impl Writer {
    pub fn finish(self) -> String {
        self.text
    }

    fn separate(&mut self) {
        if self.comma {
            self.text.push(',');
        }
        self.comma = true;
    }

    fn raw_value(&mut self, text: &str) {
        self.separate();
        self.text.push_str(text);
    }

    /// Starts an object (`{`) or an array (`[`).
    pub fn open(&mut self, bracket: char) {
        self.separate();
        self.text.push(bracket);
        self.comma = false;
    }

    pub fn close(&mut self, bracket: char) {
        self.text.push(bracket);
        self.comma = true;
    }

    /// An object's field name; its value is the next call.
    pub fn key(&mut self, name: &str) {
        self.str(name);
        self.text.push(':');
        self.comma = false;
    }

    pub fn u64(&mut self, n: u64) {
        self.separate();
        write!(self.text, "{n}").expect("writing to a String");
    }

    pub fn bool(&mut self, b: bool) {
        self.raw_value(if b { "true" } else { "false" });
    }

    pub fn null(&mut self) {
        self.raw_value("null");
    }

    /// A string with serde_json's escapes: `"`, `\` and control characters; everything else as it is.
    pub fn str(&mut self, s: &str) {
        self.separate();
        self.text.reserve(s.len() + 2);
        self.text.push('"');
        for c in s.chars() {
            match c {
                '"' => self.text.push_str("\\\""),
                '\\' => self.text.push_str("\\\\"),
                '\n' => self.text.push_str("\\n"),
                '\r' => self.text.push_str("\\r"),
                '\t' => self.text.push_str("\\t"),
                '\u{8}' => self.text.push_str("\\b"),
                '\u{c}' => self.text.push_str("\\f"),
                c if c < ' ' => write!(self.text, "\\u{:04x}", c as u32).expect("writing to a String"),
                c => self.text.push(c),
            }
        }
        self.text.push('"');
    }

    /// An externally tagged enum variant with content: `{"Name":` then the content, then [`Writer::close`]
    /// with `}`.
    pub fn variant(&mut self, name: &str) {
        self.open('{');
        self.key(name);
    }
}

/// A type stored in IndexedDB records. `write` gives the text serde_json would write for the type's derived
/// `Serialize`; `read` accepts that text's tree and says what is wrong otherwise.
pub trait Stored: Sized {
    fn write(&self, out: &mut Writer);
    fn read(json: &Json) -> Result<Self, String>;

    /// The value as JSON text.
    fn to_json(&self) -> String {
        let mut out = Writer::default();
        self.write(&mut out);
        out.finish()
    }
}

impl Stored for Json {
    fn write(&self, out: &mut Writer) {
        Json::write(self, out)
    }

    fn read(json: &Json) -> Result<Json, String> {
        Ok(json.clone())
    }
}

impl Stored for String {
    fn write(&self, out: &mut Writer) {
        out.str(self)
    }

    fn read(json: &Json) -> Result<String, String> {
        json.string()
    }
}

impl Stored for u64 {
    fn write(&self, out: &mut Writer) {
        out.u64(*self)
    }

    fn read(json: &Json) -> Result<u64, String> {
        json.u64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_of_value() {
        let json = Json::parse(r#" {"a": [1, -2.5e3, true, false, null], "b": {"c": "d"}, "e": []} "#).unwrap();
        assert_eq!(
            json,
            Json::Object(vec![
                (
                    "a".into(),
                    Json::Array(vec![
                        Json::Number("1".into()),
                        Json::Number("-2.5e3".into()),
                        Json::Bool(true),
                        Json::Bool(false),
                        Json::Null
                    ])
                ),
                ("b".into(), Json::Object(vec![("c".into(), Json::String("d".into()))])),
                ("e".into(), Json::Array(vec![])),
            ])
        );
    }

    #[test]
    fn reads_escapes_and_unicode() {
        let json = Json::parse(r#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00é😀""#).unwrap();
        assert_eq!(json, Json::String("a\"b\\c/d\n\té😀é😀".into()));
    }

    #[test]
    fn refuses_what_is_not_json_and_says_where() {
        for (text, why) in [
            ("", "unexpected end of text at byte 0"),
            ("{not json", "expected a field name at byte 1"),
            (r#"{"a" 1}"#, "expected `:` at byte 5"),
            ("[1 2]", "expected `,` or `]` at byte 3"),
            ("[1,]", "expected a value at byte 3"),
            ("01", "invalid number at byte 0"),
            ("-", "invalid number at byte 1"),
            ("1.", "invalid number at byte 2"),
            ("1 2", "trailing characters at byte 2"),
            ("\"abc", "unterminated string at byte 1"),
            ("\"a\nb\"", "control character in a string at byte 2"),
            (r#""\ud800""#, "lone leading surrogate in \\u escape at byte 7"),
            (r#""\x""#, "invalid escape at byte 3"),
            ("tru", "expected a value at byte 0"),
        ] {
            assert_eq!(Json::parse(text), Err(why.to_string()), "{text:?}");
        }
        let deep = "[".repeat(DEPTH_MAX + 2);
        assert!(Json::parse(&deep).unwrap_err().starts_with("nested too deeply"));
    }

    #[test]
    fn writes_strings_as_serde_json_does() {
        let every_ascii: String = (0u8..128).map(char::from).collect();
        for text in [every_ascii.as_str(), "é😀 \u{2028}", ""] {
            let mut out = Writer::default();
            out.str(text);
            let written = out.finish();
            assert_eq!(written, serde_json::to_string(text).unwrap());
            assert_eq!(Json::parse(&written).unwrap(), Json::String(text.into()), "and reads back");
        }
    }

    #[test]
    fn writes_a_tree_back_as_serde_json_does() {
        // Integers only: serde_json rewrites other numbers (`-2.5e3` as `-2500.0`), ours keeps their text.
        let text = r#"{"a":[1,-2,true,false,null],"b":{"c":"d\u0001"},"e":[],"f":{}}"#;
        let json = Json::parse(text).unwrap();
        assert_eq!(json.to_json(), text);
        let value: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&value).unwrap(), text, "serde_json writes the same");
        assert_eq!(Json::parse("-2.5e3").unwrap().to_json(), "-2.5e3");
    }

    #[test]
    fn accessors_name_what_they_expected() {
        let json = Json::parse(r#"{"n":300,"s":"x","neg":-1}"#).unwrap();
        assert_eq!(json.read_field("n", Json::u64), Ok(300));
        assert_eq!(json.read_field("n", Json::u8), Err("n: 300 is out of range (at most 255)".into()));
        assert_eq!(json.read_field("s", Json::u64), Err("s: expected an unsigned integer, found a string".into()));
        assert_eq!(json.read_field("neg", Json::u64), Err("neg: expected an unsigned integer, found -1".into()));
        assert_eq!(json.read_field("missing", Json::u64), Err("missing field `missing`".into()));
        assert_eq!(Json::Null.field("a"), Err("expected an object, found null".into()));
        assert_eq!(Json::parse(r#""Noop""#).unwrap().variant(), Ok(("Noop", None)));
    }
}
