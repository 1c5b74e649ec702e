//! Knossos and Porcupine histories: one EDN map per operation event, optionally inside one top-level vector.
//!
//! ```text
//! {:process 0, :type :invoke, :f :put, :key "k", :value "v"}
//! {:process 0, :type :ok, :f :put, :key "k", :value "v"}
//! ```
//!
//! Keys other than `:process`, `:type`, `:f`, `:key` and `:value` (`:time`, `:index`, `:error`…) are ignored;
//! a missing `:key` means the single register of Knossos's register histories. Events of a non-numeric
//! process (`:nemesis`) are skipped.

use super::edn::{Edn, Reader};
use super::{Event, EventType, FormatError};

pub(super) fn parse_events(text: &str) -> Result<Vec<Event>, FormatError> {
    let mut reader = Reader::new(text, 1);
    reader.skip_blank();
    let in_vector = reader.eat('[');
    let mut events = Vec::new();
    loop {
        if reader.at_end() {
            if in_vector {
                return Err(FormatError {
                    line: Some(reader.line()),
                    message: "the top-level `[` is never closed".into(),
                });
            }
            return Ok(events);
        }
        if in_vector && reader.eat(']') {
            if !reader.at_end() {
                return Err(FormatError {
                    line: Some(reader.line()),
                    message: "unexpected text after the closing `]`".into(),
                });
            }
            return Ok(events);
        }
        let line = reader.line();
        let map = reader.read()?;
        if let Some(event) = event_from_map(&map, line)? {
            events.push(event);
        }
    }
}

fn event_from_map(map: &Edn, line: usize) -> Result<Option<Event>, FormatError> {
    let error = |message: String| FormatError { line: Some(line), message };
    if !matches!(map, Edn::Map(_)) {
        return Err(error(format!(
            "expected an operation map like `{{:process 0, :type :invoke, :f :get, …}}`, not `{map}`"
        )));
    }
    let process = match map.get("process") {
        Some(Edn::Int(process)) if *process >= 0 => *process as u64,
        Some(Edn::Keyword(_)) => return Ok(None),
        Some(other) => return Err(error(format!(":process must be a number, not `{other}`"))),
        None => return Err(error("the map has no :process".into())),
    };
    let event_type = match map.get("type") {
        Some(Edn::Keyword(name)) => EventType::from_keyword(name).map_err(error)?,
        Some(other) => return Err(error(format!(":type must be :invoke, :ok, :fail or :info, not `{other}`"))),
        None => return Err(error("the map has no :type".into())),
    };
    let function = match map.get("f") {
        Some(Edn::Keyword(name)) => name.clone(),
        Some(other) => return Err(error(format!(":f must be a keyword like :get, not `{other}`"))),
        None => return Err(error("the map has no :f".into())),
    };
    let key = match map.get("key") {
        None => None,
        Some(Edn::Str(key) | Edn::Keyword(key) | Edn::Symbol(key)) => Some(key.clone()),
        Some(Edn::Int(key)) => Some(key.to_string()),
        Some(other) => return Err(error(format!(":key must be a string, keyword or number, not `{other}`"))),
    };
    let value = map.get("value").cloned().unwrap_or(Edn::Nil);
    Ok(Some(Event { line, process, event_type, function, key, value }))
}
