//! Jepsen's operation log lines, as in the etcd register histories that Porcupine ships
//! (`test_data/jepsen/etcd_*.log`); fields are separated by tabs or spaces:
//!
//! ```text
//! INFO  jepsen.util - 3  :invoke  :cas  [1 4]
//! INFO  jepsen.util - 3  :fail  :cas  [1 4]
//! INFO  jepsen.util - 0  :info  :write  :timed-out
//! ```
//!
//! Other log lines, and operations of the `:nemesis` process, are skipped.

use super::edn::{Edn, Reader};
use super::{Event, EventType, FormatError};

const MARKER: &str = "jepsen.util - ";

pub(super) fn parse_events(text: &str) -> Result<Vec<Event>, FormatError> {
    let mut events = Vec::new();
    let mut saw_text = false;
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        saw_text |= !line.trim().is_empty();
        let Some(at) = line.find(MARKER) else { continue };
        if let Some(event) = parse_line(&line[at + MARKER.len()..], line_number)? {
            events.push(event);
        }
    }
    if saw_text && events.is_empty() {
        return Err(FormatError {
            line: Some(1),
            message: format!(
                "no operation lines (`… {MARKER}<process> :invoke :read nil`) found: is this a Jepsen log?"
            ),
        });
    }
    Ok(events)
}

fn parse_line(rest: &str, line: usize) -> Result<Option<Event>, FormatError> {
    let error = |message: String| FormatError { line: Some(line), message };
    let (process, rest) = next_field(rest);
    if process.starts_with(':') {
        return Ok(None);
    }
    let process: u64 =
        process.parse().map_err(|_| error(format!("expected a process number after `{MARKER}`, found `{process}`")))?;
    let (event_type, rest) = next_field(rest);
    let event_type = EventType::from_keyword(event_type.strip_prefix(':').unwrap_or(event_type)).map_err(error)?;
    let (function, value_text) = next_field(rest);
    let function = function
        .strip_prefix(':')
        .ok_or_else(|| error(format!("expected the operation (`:read`, `:write`, `:cas`…), not `{function}`")))?;
    let value_text = value_text.trim();
    let value = if value_text.is_empty() { Edn::Nil } else { read_value(value_text, line)? };
    Ok(Some(Event { line, process, event_type, function: function.into(), key: None, value }))
}

/// The first run of non-blank text, and what follows it.
fn next_field(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    text.split_at(text.find(char::is_whitespace).unwrap_or(text.len()))
}

fn read_value(text: &str, line: usize) -> Result<Edn, FormatError> {
    let mut reader = Reader::new(text, line);
    let value = reader.read()?;
    if !reader.at_end() {
        return Err(FormatError { line: Some(line), message: format!("unexpected text after the value in `{text}`") });
    }
    Ok(value)
}
