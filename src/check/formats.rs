//! Reading histories from files: Synod's own JSON, the EDN operation maps of Knossos and Porcupine, and
//! Jepsen's operation log lines (the etcd register histories).
//!
//! The Jepsen formats list events, not operations: a process `:invoke`s an operation, then the same process
//! reports `:ok` (it happened, with this value), `:fail` (it did not happen) or `:info` (unknown: it may
//! happen at any later time, or never). A process that reported `:info` is retired, as in Jepsen: a later
//! operation under the same number counts as a new client. An operation still open at the end of the file
//! is indeterminate. Times are line numbers, so explanations point into the file.
//!
//! Operations map onto the key-value store as: get/read → get, put/write → put, append → append,
//! cas `[a b]` → cas with expected `a` and new `b`, delete → delete. Numbers are values written in
//! decimal. A successful cas answered `swapped`. Porcupine's KV model starts every key at the empty string
//! and never tells a missing key from an empty one, so here `""` and `nil` both mean absent: reading `""`
//! reads absent, putting `""` deletes, and appending `""` changes nothing (and is dropped).
//!
//! Range reads (`scan`) exist only in Synod's JSON: the Knossos, Porcupine and Jepsen register formats have no
//! operation that reads several keys, so nothing here maps onto one.

mod edn;
mod jepsen_log;
mod knossos;

use std::collections::BTreeMap;

use edn::Edn;

use crate::check::history::{History, OpId};
use crate::check::linearizability::{check_with, CheckOptions, CheckOutcome};
use crate::kv::{KvCommand, KvOutput};

/// The register's key in histories that have only one (Knossos's and Jepsen's register tests).
pub const REGISTER_KEY: &str = "register";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryFormat {
    /// `History` serialised with serde_json.
    Json,
    /// Knossos / Porcupine EDN maps: `{:process 0, :type :invoke, :f :put, :key "k", :value "v"}`.
    Edn,
    /// Jepsen log lines: `INFO  jepsen.util - 3  :invoke  :cas  [1 4]` (tab-separated in Jepsen's own logs).
    JepsenLog,
}

impl HistoryFormat {
    pub const NAMES: &'static str =
        "json, porcupine-kv (also: edn, knossos, porcupine), jepsen-etcd (also: jepsen, etcd)";

    /// Guesses the format from the text (for a CLI that was not told).
    pub fn detect(text: &str) -> Option<HistoryFormat> {
        if text.contains("jepsen.util - ") {
            return Some(HistoryFormat::JepsenLog);
        }
        let first = text.lines().map(str::trim_start).find(|line| !line.is_empty() && !line.starts_with(';'))?;
        if first.starts_with(['{', '[']) && text.contains(":type") {
            Some(HistoryFormat::Edn)
        } else if first.starts_with('{') {
            Some(HistoryFormat::Json)
        } else {
            None
        }
    }
}

impl std::str::FromStr for HistoryFormat {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name.to_ascii_lowercase().as_str() {
            "json" => Ok(HistoryFormat::Json),
            "edn" | "knossos" | "porcupine" | "porcupine-kv" => Ok(HistoryFormat::Edn),
            "jepsen" | "etcd" | "jepsen-log" | "jepsen-etcd" => Ok(HistoryFormat::JepsenLog),
            _ => Err(format!("unknown history format `{name}`; expected one of: {}", HistoryFormat::NAMES)),
        }
    }
}

/// A history file that could not be read. `line` is 1-based; `None` when the problem is not on one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for FormatError {}

/// Reads a history in `format` from `text` and checks it with the default options, except that histories
/// from other systems (EDN, Jepsen logs) have no limit on value length.
pub fn check_history_file(format: HistoryFormat, text: &str) -> Result<CheckOutcome, FormatError> {
    let history = parse_history(format, text)?;
    let options = match format {
        HistoryFormat::Json => CheckOptions::default(),
        HistoryFormat::Edn | HistoryFormat::JepsenLog => {
            CheckOptions { value_len_max: usize::MAX, ..CheckOptions::default() }
        }
    };
    Ok(check_with(&history, &options))
}

pub fn parse_history(format: HistoryFormat, text: &str) -> Result<History, FormatError> {
    match format {
        HistoryFormat::Json => {
            let history: History = serde_json::from_str(text)
                .map_err(|error| FormatError { line: Some(error.line()), message: error.to_string() })?;
            history.validate().map_err(|message| FormatError { line: None, message })?;
            Ok(history)
        }
        HistoryFormat::Edn => assemble(knossos::parse_events(text)?),
        HistoryFormat::JepsenLog => assemble(jepsen_log::parse_events(text)?),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EventType {
    Invoke,
    Ok,
    Fail,
    Info,
}

impl EventType {
    fn from_keyword(name: &str) -> Result<EventType, String> {
        match name {
            "invoke" => Ok(EventType::Invoke),
            "ok" => Ok(EventType::Ok),
            "fail" => Ok(EventType::Fail),
            "info" => Ok(EventType::Info),
            _ => Err(format!("the event type must be :invoke, :ok, :fail or :info, not :{name}")),
        }
    }
}

/// One event of a Jepsen-style history, whatever the file format.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Event {
    line: usize,
    process: u64,
    event_type: EventType,
    /// The operation's name without the colon: `read`, `put`, `cas`…
    function: String,
    key: Option<String>,
    value: Edn,
}

/// An operation a process has invoked and not yet finished.
struct Open {
    /// `None`: an operation that cannot matter (appending `""`), not recorded but still to be closed.
    op: Option<OpId>,
    function: String,
    line: usize,
}

/// Builds the history from events, applying the Jepsen semantics in the module documentation.
fn assemble(events: Vec<Event>) -> Result<History, FormatError> {
    let mut history = History::new();
    let mut open: BTreeMap<u64, Open> = BTreeMap::new();
    // Process → client id. A process retired by `:info` gets a fresh id above every process number.
    let mut clients: BTreeMap<u64, u64> = BTreeMap::new();
    let mut next_fresh_client = events.iter().map(|event| event.process + 1).max().unwrap_or(0);
    for event in events {
        let error = |message: String| FormatError { line: Some(event.line), message };
        if event.event_type == EventType::Invoke {
            if let Some(previous) = open.get(&event.process) {
                return Err(error(format!(
                    "process {} invokes :{} while its :{} from line {} has not finished",
                    event.process, event.function, previous.function, previous.line
                )));
            }
            let client = *clients.entry(event.process).or_insert(event.process);
            let op =
                command_for(&event).map_err(error)?.map(|command| history.invoke(client, command, event.line as u64));
            open.insert(event.process, Open { op, function: event.function, line: event.line });
            continue;
        }
        let Some(invoked) = open.remove(&event.process) else {
            return Err(error(format!(
                "process {} reports :{} without an :invoke before it",
                event.process, event.function
            )));
        };
        if invoked.function != event.function {
            return Err(error(format!(
                "process {} invoked :{} on line {} but reports on :{}",
                event.process, invoked.function, invoked.line, event.function
            )));
        }
        let Some(op) = invoked.op else { continue };
        let at = event.line as u64;
        match event.event_type {
            EventType::Invoke => unreachable!("handled above"),
            EventType::Ok => {
                let output = output_for(&history[op].command, &event.value).map_err(error)?;
                history.complete(op, output, at);
            }
            EventType::Fail => history.fail(op, at),
            EventType::Info => {
                history.timeout(op);
                clients.insert(event.process, next_fresh_client);
                next_fresh_client += 1;
            }
        }
    }
    Ok(history)
}

/// The command an `:invoke` event asks for; `None` for one that cannot matter.
fn command_for(event: &Event) -> Result<Option<KvCommand>, String> {
    let key = event.key.clone().unwrap_or_else(|| REGISTER_KEY.into());
    let value = &event.value;
    Ok(Some(match event.function.as_str() {
        "get" | "read" => KvCommand::Get { key },
        "put" | "write" => match text_or_absent(value)? {
            Some(value) => KvCommand::Put { key, value },
            None => KvCommand::Delete { key },
        },
        "delete" => KvCommand::Delete { key },
        "append" => match text_or_absent(value)? {
            Some(value) => KvCommand::Append { key, value },
            None => return Ok(None),
        },
        "cas" => match value {
            Edn::Vector(pair) if pair.len() == 2 => {
                let expected = text_or_absent(&pair[0])?;
                let new = text_or_absent(&pair[1])?.ok_or("a cas must set a value, not nil")?;
                KvCommand::Cas { key, expected, new }
            }
            other => return Err(format!("a cas needs `[expected new]`, not `{other}`")),
        },
        other => {
            return Err(format!("unknown operation :{other}; expected get, put, append, delete, read, write or cas"))
        }
    }))
}

/// What an `:ok` event says the command returned.
fn output_for(command: &KvCommand, value: &Edn) -> Result<KvOutput, String> {
    Ok(match command {
        KvCommand::Get { .. } | KvCommand::Read { .. } => KvOutput::Value(text_or_absent(value)?),
        KvCommand::Put { .. } | KvCommand::Delete { .. } | KvCommand::Append { .. } => KvOutput::Ok,
        KvCommand::Cas { .. } => KvOutput::Cas(true),
        KvCommand::Scan { .. } => unreachable!("`command_for` never reads a scan: these formats have none"),
    })
}

/// A value as the store's text; `nil` and `""` are absent (see the module documentation).
fn text_or_absent(value: &Edn) -> Result<Option<String>, String> {
    match value {
        Edn::Nil => Ok(None),
        Edn::Str(text) if text.is_empty() => Ok(None),
        Edn::Str(text) | Edn::Keyword(text) | Edn::Symbol(text) => Ok(Some(text.clone())),
        Edn::Int(number) => Ok(Some(number.to_string())),
        other => Err(format!("expected a string, number or nil as a value, not `{other}`")),
    }
}
