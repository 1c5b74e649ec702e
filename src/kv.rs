//! The replicated key-value state machine: commands, results, the session table that makes a retried request
//! apply at most once, and snapshots by state.
//!
//! Every node applies the same chosen commands in slot order, so every node's `KvStore` goes through the same
//! sequence of states. Reads are commands too (they go through the log), which makes them linearizable.
//!
//! The store is a sorted map, so a `scan` reads a range of keys in key order: the records with
//! `start <= key < end`, at most `limit` of them.

use std::collections::BTreeMap;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::paxos::{ClientId, ReadLevel, Request, StateMachine};

/// Longest key a client may use, in bytes.
pub const KEY_LEN_MAX: usize = 64;
/// Longest value a client may store (after an append too), in bytes.
pub const VALUE_LEN_MAX: usize = 1024;
/// Most records one scan may ask for (a scan without a limit returns every record in its range).
pub const SCAN_LIMIT_MAX: u32 = 1000;

/// A client command on the key-value store.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvCommand {
    Get {
        key: String,
    },
    /// A get that may skip the log (issue 18): `level` is `Lease` or `Local` (`Get` is the log read). Through the
    /// log it behaves exactly as a get.
    Read {
        key: String,
        level: ReadLevel,
    },
    Put {
        key: String,
        value: String,
    },
    Delete {
        key: String,
    },
    Append {
        key: String,
        value: String,
    },
    /// Sets `key` to `new` only if its current value is `expected` (`None`: the key is absent).
    Cas {
        key: String,
        expected: Option<String>,
        new: String,
    },
    /// A range read (issue 18): the records with `start <= key < end` in key order, the first `limit` of them
    /// (all if `None`), answered at `level`.
    Scan {
        start: String,
        end: String,
        limit: Option<u32>,
        level: ReadLevel,
    },
}

/// What applying a command returned.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KvOutput {
    /// Put, delete and append succeed unconditionally.
    Ok,
    /// A get's answer: the value, or `None` if the key is absent.
    Value(Option<String>),
    /// A compare-and-set: whether it swapped.
    Cas(bool),
    /// An append that would grow the value past `VALUE_LEN_MAX`: nothing changed.
    TooLong,
    /// A scan's answer: the records it found, in key order.
    Records(Vec<(String, String)>),
    /// The request's sequence number is older than the newest this client had applied: a stale duplicate
    /// of an earlier request whose result is no longer kept. Nothing changed.
    Stale,
}

impl KvCommand {
    /// The key the command works on; for a scan, where its range starts.
    pub fn key(&self) -> &str {
        match self {
            KvCommand::Scan { start, .. } => start,
            KvCommand::Get { key }
            | KvCommand::Read { key, .. }
            | KvCommand::Put { key, .. }
            | KvCommand::Delete { key }
            | KvCommand::Append { key, .. }
            | KvCommand::Cas { key, .. } => key,
        }
    }

    /// Short operation name, as used in histories and the UI.
    pub fn name(&self) -> &'static str {
        match self {
            KvCommand::Get { .. } | KvCommand::Read { .. } => "get",
            KvCommand::Put { .. } => "put",
            KvCommand::Delete { .. } => "delete",
            KvCommand::Append { .. } => "append",
            KvCommand::Cas { .. } => "cas",
            KvCommand::Scan { .. } => "scan",
        }
    }

    /// Whether the command can change the store (a get or a scan cannot).
    pub fn is_write(&self) -> bool {
        !matches!(self, KvCommand::Get { .. } | KvCommand::Read { .. } | KvCommand::Scan { .. })
    }

    /// Whether a scan's range holds `key` (false for every other command).
    pub fn scans(&self, key: &str) -> bool {
        matches!(self, KvCommand::Scan { start, end, .. } if start.as_str() <= key && key < end.as_str())
    }

    /// A get at `level` (`Log` gives the plain `Get`).
    pub fn get_at(key: String, level: ReadLevel) -> KvCommand {
        match level {
            ReadLevel::Log => KvCommand::Get { key },
            level => KvCommand::Read { key, level },
        }
    }

    /// How this command asks to be answered (`Log` for everything but a `Read` or a `Scan`).
    pub fn read_level(&self) -> ReadLevel {
        match self {
            KvCommand::Read { level, .. } | KvCommand::Scan { level, .. } => *level,
            _ => ReadLevel::Log,
        }
    }

    /// Checks a command a client typed before it enters the log. Keys are non-empty printable text without
    /// whitespace; values are at most `VALUE_LEN_MAX` bytes; a scan's range is not empty and its limit is
    /// between 1 and `SCAN_LIMIT_MAX`.
    pub fn validate(&self) -> Result<(), String> {
        validate_key(self.key())?;
        if let KvCommand::Scan { start, end, limit, .. } = self {
            validate_key(end)?;
            if start >= end {
                return Err(format!(
                    "the scan's range is empty: it reads keys from {start:?} up to, not including, {end:?}, so \
                     the end must come after the start"
                ));
            }
            if limit.is_some_and(|limit| limit == 0 || limit > SCAN_LIMIT_MAX) {
                return Err(format!("the scan's limit must be between 1 and {SCAN_LIMIT_MAX}"));
            }
        }
        let values: Vec<&String> = match self {
            KvCommand::Get { .. } | KvCommand::Read { .. } | KvCommand::Delete { .. } | KvCommand::Scan { .. } => {
                vec![]
            }
            KvCommand::Put { value, .. } | KvCommand::Append { value, .. } => vec![value],
            KvCommand::Cas { expected, new, .. } => expected.iter().chain(std::iter::once(new)).collect(),
        };
        for value in values {
            if value.len() > VALUE_LEN_MAX {
                return Err(format!("the value is {} bytes long; at most {VALUE_LEN_MAX} are allowed", value.len()));
            }
            if value.chars().any(|c| c.is_control()) {
                return Err("the value contains a control character".into());
            }
        }
        Ok(())
    }
}

/// Keys are non-empty printable text without white space, at most `KEY_LEN_MAX` bytes.
fn validate_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("the key is empty".into());
    }
    if key.len() > KEY_LEN_MAX {
        return Err(format!("the key is {} bytes long; at most {KEY_LEN_MAX} are allowed", key.len()));
    }
    if let Some(bad) = key.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("the key contains {bad:?}; keys may not contain white space or control characters"));
    }
    Ok(())
}

impl std::fmt::Display for KvCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KvCommand::Get { key } => write!(f, "get {key}"),
            KvCommand::Read { key, level } => write!(f, "get {key} @{}", level.name()),
            KvCommand::Scan { start, end, limit, level } => {
                write!(f, "scan {start}..{end}")?;
                if let Some(limit) = limit {
                    write!(f, " limit {limit}")?;
                }
                match level {
                    ReadLevel::Log => Ok(()),
                    level => write!(f, " @{}", level.name()),
                }
            }
            KvCommand::Put { key, value } => write!(f, "put {key}={value}"),
            KvCommand::Delete { key } => write!(f, "delete {key}"),
            KvCommand::Append { key, value } => write!(f, "append {key}+={value}"),
            KvCommand::Cas { key, expected, new } => match expected {
                Some(expected) => write!(f, "cas {key}: {expected}→{new}"),
                None => write!(f, "cas {key}: absent→{new}"),
            },
        }
    }
}

impl std::fmt::Display for KvOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KvOutput::Ok => write!(f, "ok"),
            KvOutput::Value(Some(value)) => write!(f, "{value:?}"),
            KvOutput::Value(None) => write!(f, "absent"),
            KvOutput::Records(records) => {
                let shown: Vec<String> = records.iter().map(|(key, value)| format!("{key}={value:?}")).collect();
                write!(f, "[{}]", shown.join(", "))
            }
            KvOutput::Cas(true) => write!(f, "swapped"),
            KvOutput::Cas(false) => write!(f, "not swapped"),
            KvOutput::TooLong => write!(f, "value too long"),
            KvOutput::Stale => write!(f, "stale request"),
        }
    }
}

/// The newest request a client had applied, and its result, so a retry gets the same answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Session {
    pub seq: u64,
    pub output: KvOutput,
}

/// The key-value store plus the session table. Both are replicated state: they change only by applying
/// chosen commands, and a snapshot holds both.
///
/// Both maps are shared copy-on-write (`Rc::make_mut` on a write): a snapshot, a node's copy and the model
/// checker's copies of a cluster (`crate::explore`) cost two counts, not a copy of every key, until one of them
/// applies a write.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct KvStore {
    pub data: Rc<BTreeMap<String, String>>,
    pub sessions: Rc<BTreeMap<ClientId, Session>>,
    /// Planted bug `apply-retry-twice`: skip the session table. Not replicated state; set by the node's config.
    #[serde(skip)]
    pub bug_apply_retry_twice: bool,
}

impl KvStore {
    pub fn get(&self, key: &str) -> Option<&String> {
        self.data.get(key)
    }

    /// Answers a read without touching anything.
    fn read(&self, command: &KvCommand) -> KvOutput {
        match command {
            KvCommand::Get { key } | KvCommand::Read { key, .. } => KvOutput::Value(self.data.get(key).cloned()),
            KvCommand::Scan { start, end, limit, .. } => KvOutput::Records(self.scan(start, end, *limit)),
            _ => unreachable!("only reads are queried"),
        }
    }

    /// The records with `start <= key < end`, in key order, at most `limit` of them.
    pub fn scan(&self, start: &str, end: &str, limit: Option<u32>) -> Vec<(String, String)> {
        if start >= end {
            return Vec::new();
        }
        let limit = limit.map_or(usize::MAX, |limit| limit as usize);
        let range = (std::ops::Bound::Included(start), std::ops::Bound::Excluded(end));
        self.data.range::<str, _>(range).take(limit).map(|(key, value)| (key.clone(), value.clone())).collect()
    }

    /// Applies one command to the data alone, ignoring sessions.
    fn execute(&mut self, command: &KvCommand) -> KvOutput {
        match command {
            KvCommand::Get { .. } | KvCommand::Read { .. } | KvCommand::Scan { .. } => self.read(command),
            KvCommand::Put { key, value } => {
                Rc::make_mut(&mut self.data).insert(key.clone(), value.clone());
                KvOutput::Ok
            }
            KvCommand::Delete { key } => {
                if self.data.contains_key(key) {
                    Rc::make_mut(&mut self.data).remove(key);
                }
                KvOutput::Ok
            }
            KvCommand::Append { key, value } => {
                let current = Rc::make_mut(&mut self.data).entry(key.clone()).or_default();
                if current.len() + value.len() > VALUE_LEN_MAX {
                    return KvOutput::TooLong;
                }
                current.push_str(value);
                KvOutput::Ok
            }
            KvCommand::Cas { key, expected, new } => {
                if self.data.get(key) == expected.as_ref() {
                    Rc::make_mut(&mut self.data).insert(key.clone(), new.clone());
                    KvOutput::Cas(true)
                } else {
                    KvOutput::Cas(false)
                }
            }
        }
    }
}

impl StateMachine for KvStore {
    type Command = KvCommand;
    type Output = KvOutput;
    type Snapshot = KvStore;

    fn apply(&mut self, request: &Request<KvCommand>) -> KvOutput {
        if !self.bug_apply_retry_twice {
            if let Some(session) = self.sessions.get(&request.client) {
                if request.seq == session.seq {
                    return session.output.clone();
                }
                if request.seq < session.seq {
                    return KvOutput::Stale;
                }
            }
        }
        let output = self.execute(&request.command);
        Rc::make_mut(&mut self.sessions).insert(request.client, Session { seq: request.seq, output: output.clone() });
        output
    }

    fn validate(command: &KvCommand) -> Result<(), String> {
        command.validate()
    }

    fn snapshot(&self) -> KvStore {
        self.clone()
    }

    fn read_level(command: &KvCommand) -> ReadLevel {
        command.read_level()
    }

    fn query(&self, command: &KvCommand) -> Option<KvOutput> {
        (!command.is_write()).then(|| self.read(command))
    }

    fn restore(&mut self, snapshot: &KvStore) {
        let bug = self.bug_apply_retry_twice;
        *self = snapshot.clone();
        self.bug_apply_retry_twice = bug;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(client: ClientId, seq: u64, command: KvCommand) -> Request<KvCommand> {
        Request { client, seq, command }
    }

    fn put(key: &str, value: &str) -> KvCommand {
        KvCommand::Put { key: key.into(), value: value.into() }
    }

    #[test]
    fn commands_change_the_store_as_documented() {
        let mut kv = KvStore::default();
        assert_eq!(kv.apply(&request(1, 1, put("x", "1"))), KvOutput::Ok);
        assert_eq!(kv.apply(&request(1, 2, KvCommand::Append { key: "x".into(), value: "2".into() })), KvOutput::Ok);
        assert_eq!(kv.apply(&request(1, 3, KvCommand::Get { key: "x".into() })), KvOutput::Value(Some("12".into())));
        let cas = |expected: Option<&str>, new: &str| KvCommand::Cas {
            key: "x".into(),
            expected: expected.map(String::from),
            new: new.into(),
        };
        assert_eq!(kv.apply(&request(1, 4, cas(Some("nope"), "3"))), KvOutput::Cas(false));
        assert_eq!(kv.apply(&request(1, 5, cas(Some("12"), "3"))), KvOutput::Cas(true));
        assert_eq!(kv.apply(&request(1, 6, KvCommand::Delete { key: "x".into() })), KvOutput::Ok);
        assert_eq!(kv.get("x"), None);
        assert_eq!(kv.apply(&request(1, 7, cas(None, "new"))), KvOutput::Cas(true));
        assert_eq!(kv.get("x").map(String::as_str), Some("new"));
    }

    #[test]
    fn a_retried_request_applies_once_and_gets_the_same_answer() {
        let mut kv = KvStore::default();
        let append = request(7, 1, KvCommand::Append { key: "k".into(), value: "a".into() });
        assert_eq!(kv.apply(&append), KvOutput::Ok);
        assert_eq!(kv.apply(&append), KvOutput::Ok);
        assert_eq!(kv.get("k").map(String::as_str), Some("a"), "the retry must not append again");
        assert_eq!(kv.apply(&request(7, 0, put("k", "old"))), KvOutput::Stale);
        assert_eq!(kv.get("k").map(String::as_str), Some("a"));
    }

    #[test]
    fn the_planted_bug_applies_a_retry_twice() {
        let mut kv = KvStore { bug_apply_retry_twice: true, ..KvStore::default() };
        let append = request(7, 1, KvCommand::Append { key: "k".into(), value: "a".into() });
        kv.apply(&append);
        kv.apply(&append);
        assert_eq!(kv.get("k").map(String::as_str), Some("aa"));
    }

    #[test]
    fn snapshot_restores_data_and_sessions() {
        let mut kv = KvStore::default();
        kv.apply(&request(1, 1, put("a", "1")));
        let snapshot = kv.snapshot();
        let mut other = KvStore::default();
        other.restore(&snapshot);
        assert_eq!(other, kv);
        assert_eq!(other.apply(&request(1, 1, put("a", "2"))), KvOutput::Ok);
        assert_eq!(other.get("a").map(String::as_str), Some("1"), "the session table came with the snapshot");
    }

    fn scan(start: &str, end: &str, limit: Option<u32>) -> KvCommand {
        KvCommand::Scan { start: start.into(), end: end.into(), limit, level: ReadLevel::Log }
    }

    #[test]
    fn a_scan_returns_the_range_in_key_order_up_to_its_limit() {
        let mut kv = KvStore::default();
        for (seq, key) in ["b", "d", "a", "c", "e"].into_iter().enumerate() {
            kv.apply(&request(1, seq as u64 + 1, put(key, &key.to_uppercase())));
        }
        let records = |pairs: &[(&str, &str)]| {
            KvOutput::Records(pairs.iter().map(|(key, value)| (key.to_string(), value.to_string())).collect())
        };
        assert_eq!(kv.apply(&request(1, 6, scan("b", "e", None))), records(&[("b", "B"), ("c", "C"), ("d", "D")]));
        assert_eq!(kv.apply(&request(1, 7, scan("a", "z", Some(2)))), records(&[("a", "A"), ("b", "B")]));
        assert_eq!(kv.apply(&request(1, 8, scan("bb", "c", None))), records(&[]));
        assert_eq!(kv.query(&scan("c", "cc", None)), Some(records(&[("c", "C")])));
    }

    #[test]
    fn invalid_commands_are_rejected_with_a_reason() {
        assert!(scan("b", "a", None).validate().unwrap_err().contains("range is empty"));
        assert!(scan("a", "a", None).validate().unwrap_err().contains("range is empty"));
        assert!(scan("a", "b", Some(0)).validate().unwrap_err().contains("limit"));
        assert!(scan("a", "b c", None).validate().unwrap_err().contains("white space"));
        assert!(scan("a", "b", Some(3)).validate().is_ok());
        assert!(KvCommand::Get { key: "".into() }.validate().unwrap_err().contains("empty"));
        assert!(KvCommand::Get { key: "a b".into() }.validate().unwrap_err().contains("white space"));
        assert!(KvCommand::Get { key: "k".repeat(65) }.validate().unwrap_err().contains("65 bytes"));
        assert!(put("k", &"v".repeat(1025)).validate().is_err());
        assert!(put("k", "fine").validate().is_ok());
    }
}
