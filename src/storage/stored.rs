//! How each type inside a durable record maps to JSON ([`Stored`]): the same text serde_json writes for the
//! type's derived `Serialize`, checked against serde_json for random values in the tests below.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::kv::{KvCommand, KvOutput, KvStore, Session};
use crate::paxos::{Ballot, Members, Membership, Request, Value};

use super::json::{Json, Stored, Writer};

impl Stored for Ballot {
    fn write(&self, out: &mut Writer) {
        out.open('{');
        out.key("round");
        out.u64(self.round.into());
        out.key("node");
        out.u64(self.node.into());
        out.close('}');
    }

    fn read(json: &Json) -> Result<Ballot, String> {
        Ok(Ballot::new(json.read_field("round", Json::u32)?, json.read_field("node", Json::u8)?))
    }
}

/// A configuration, as serde writes the bit mask: a number.
impl Stored for Members {
    fn write(&self, out: &mut Writer) {
        out.u64(self.0);
    }

    fn read(json: &Json) -> Result<Members, String> {
        let members = Members(json.u64()?);
        members.validate()?;
        Ok(members)
    }
}

/// Configurations by first slot, as serde writes them: `[[slot, members], …]`.
impl Stored for Membership {
    fn write(&self, out: &mut Writer) {
        out.open('[');
        for (from, members) in self.iter() {
            out.open('[');
            out.u64(from);
            members.write(out);
            out.close(']');
        }
        out.close(']');
    }

    fn read(json: &Json) -> Result<Membership, String> {
        let mut membership = Membership::default();
        for pair in json.array()? {
            match pair.array()? {
                [from, members] => membership.push_checked(from.u64()?, Members::read(members)?)?,
                _ => return Err("a configuration is [first slot, members]".into()),
            }
        }
        Ok(membership)
    }
}

impl<C: Stored> Stored for Request<C> {
    fn write(&self, out: &mut Writer) {
        out.open('{');
        out.key("client");
        out.u64(self.client);
        out.key("seq");
        out.u64(self.seq);
        out.key("command");
        self.command.write(out);
        out.close('}');
    }

    fn read(json: &Json) -> Result<Request<C>, String> {
        Ok(Request {
            client: json.read_field("client", Json::u64)?,
            seq: json.read_field("seq", Json::u64)?,
            command: json.read_field("command", C::read)?,
        })
    }
}

impl<C: Stored> Stored for Value<C> {
    fn write(&self, out: &mut Writer) {
        match self {
            Value::Noop => out.str("Noop"),
            Value::Command(request) => {
                out.variant("Command");
                request.write(out);
                out.close('}');
            }
            Value::Batch(requests) => {
                out.variant("Batch");
                out.open('[');
                requests.iter().for_each(|request| request.write(out));
                out.close(']');
                out.close('}');
            }
            Value::Reconfig(members) => {
                out.variant("Reconfig");
                out.u64(members.0);
                out.close('}');
            }
        }
    }

    fn read(json: &Json) -> Result<Value<C>, String> {
        match json.variant()? {
            ("Noop", None) => Ok(Value::Noop),
            ("Command", Some(request)) => Ok(Value::Command(Rc::new(Request::read(request)?))),
            ("Batch", Some(requests)) => {
                let requests = requests.array()?.iter().map(|request| Request::read(request).map(Rc::new));
                Ok(Value::Batch(Rc::new(requests.collect::<Result<_, _>>()?)))
            }
            ("Reconfig", Some(members)) => Ok(Value::Reconfig(Members::read(members)?)),
            (name, _) => Err(unknown_variant(name, "Noop, Command(…), Batch(…), Reconfig(…)")),
        }
    }
}

fn unknown_variant(name: &str, expected: &str) -> String {
    format!("unknown variant `{name}` or the wrong content for it; expected one of {expected}")
}

impl Stored for KvCommand {
    fn write(&self, out: &mut Writer) {
        let (name, key) = (self.name_in_records(), self.key());
        out.variant(name);
        out.open('{');
        out.key(if matches!(self, KvCommand::Scan { .. }) { "start" } else { "key" });
        out.str(key);
        match self {
            KvCommand::Get { .. } | KvCommand::Delete { .. } => {}
            KvCommand::Scan { end, limit, level, .. } => {
                out.key("end");
                out.str(end);
                out.key("limit");
                match limit {
                    Some(limit) => out.u64(u64::from(*limit)),
                    None => out.null(),
                }
                out.key("level");
                out.str(level.name());
            }
            KvCommand::Read { level, .. } => {
                out.key("level");
                out.str(level.name());
            }
            KvCommand::Put { value, .. } | KvCommand::Append { value, .. } => {
                out.key("value");
                out.str(value);
            }
            KvCommand::Cas { expected, new, .. } => {
                out.key("expected");
                match expected {
                    Some(expected) => out.str(expected),
                    None => out.null(),
                }
                out.key("new");
                out.str(new);
            }
        }
        out.close('}');
        out.close('}');
    }

    fn read(json: &Json) -> Result<KvCommand, String> {
        let (name, fields) = json.variant()?;
        let fields = fields.ok_or_else(|| format!("the command {name} has no fields"))?;
        if name == "Scan" {
            return read_scan(fields);
        }
        let key = fields.read_field("key", Json::string)?;
        let value = || fields.read_field("value", Json::string);
        match name {
            "Get" => Ok(KvCommand::Get { key }),
            "Read" => Ok(KvCommand::Read { key, level: fields.read_field("level", read_level)? }),
            "Put" => Ok(KvCommand::Put { key, value: value()? }),
            "Delete" => Ok(KvCommand::Delete { key }),
            "Append" => Ok(KvCommand::Append { key, value: value()? }),
            "Cas" => Ok(KvCommand::Cas {
                key,
                // Like serde's derive: a missing `Option` field is `None`.
                expected: fields.get("expected").map_or(Ok(None), Json::optional_string)?,
                new: fields.read_field("new", Json::string)?,
            }),
            _ => Err(unknown_variant(name, "Get, Read, Put, Delete, Append, Cas, Scan")),
        }
    }
}

fn read_scan(fields: &Json) -> Result<KvCommand, String> {
    let limit = match fields.get("limit") {
        None | Some(Json::Null) => None,
        Some(limit) => Some(limit.u32()?),
    };
    Ok(KvCommand::Scan {
        start: fields.read_field("start", Json::string)?,
        end: fields.read_field("end", Json::string)?,
        limit,
        level: fields.read_field("level", read_level)?,
    })
}

fn read_level(json: &Json) -> Result<crate::paxos::ReadLevel, String> {
    let level = json.str()?;
    crate::paxos::ReadLevel::from_name(level).ok_or_else(|| format!("unknown read level {level:?}"))
}

impl KvCommand {
    /// The variant's name as serde writes it.
    fn name_in_records(&self) -> &'static str {
        match self {
            KvCommand::Get { .. } => "Get",
            KvCommand::Read { .. } => "Read",
            KvCommand::Put { .. } => "Put",
            KvCommand::Delete { .. } => "Delete",
            KvCommand::Append { .. } => "Append",
            KvCommand::Cas { .. } => "Cas",
            KvCommand::Scan { .. } => "Scan",
        }
    }
}

impl Stored for KvOutput {
    fn write(&self, out: &mut Writer) {
        match self {
            KvOutput::Ok => out.str("Ok"),
            KvOutput::TooLong => out.str("TooLong"),
            KvOutput::Stale => out.str("Stale"),
            KvOutput::Value(value) => {
                out.variant("Value");
                match value {
                    Some(value) => out.str(value),
                    None => out.null(),
                }
                out.close('}');
            }
            KvOutput::Cas(swapped) => {
                out.variant("Cas");
                out.bool(*swapped);
                out.close('}');
            }
            KvOutput::Records(records) => {
                out.variant("Records");
                out.open('[');
                for (key, value) in records {
                    out.open('[');
                    out.str(key);
                    out.str(value);
                    out.close(']');
                }
                out.close(']');
                out.close('}');
            }
        }
    }

    fn read(json: &Json) -> Result<KvOutput, String> {
        match json.variant()? {
            ("Ok", None) => Ok(KvOutput::Ok),
            ("TooLong", None) => Ok(KvOutput::TooLong),
            ("Stale", None) => Ok(KvOutput::Stale),
            ("Value", Some(value)) => Ok(KvOutput::Value(value.optional_string()?)),
            ("Cas", Some(swapped)) => Ok(KvOutput::Cas(swapped.bool()?)),
            ("Records", Some(records)) => Ok(KvOutput::Records(read_records(records)?)),
            (name, _) => Err(unknown_variant(name, "Ok, Value(…), Cas(…), Records(…), TooLong, Stale")),
        }
    }
}

fn read_records(json: &Json) -> Result<Vec<(String, String)>, String> {
    json.array()?
        .iter()
        .map(|record| match record.array()? {
            [key, value] => Ok((key.string()?, value.string()?)),
            _ => Err("a scan's record must be a [key, value] pair".to_string()),
        })
        .collect()
}

impl Stored for Session {
    fn write(&self, out: &mut Writer) {
        out.open('{');
        out.key("seq");
        out.u64(self.seq);
        out.key("output");
        self.output.write(out);
        out.close('}');
    }

    fn read(json: &Json) -> Result<Session, String> {
        Ok(Session { seq: json.read_field("seq", Json::u64)?, output: json.read_field("output", KvOutput::read)? })
    }
}

impl Stored for KvStore {
    fn write(&self, out: &mut Writer) {
        out.open('{');
        out.key("data");
        out.open('{');
        for (key, value) in self.data.iter() {
            out.key(key);
            out.str(value);
        }
        out.close('}');
        out.key("sessions");
        out.open('{');
        for (client, session) in self.sessions.iter() {
            // serde_json writes integer map keys as strings.
            out.key(&client.to_string());
            session.write(out);
        }
        out.close('}');
        out.close('}');
    }

    fn read(json: &Json) -> Result<KvStore, String> {
        // Inserted one by one: collecting into a map would sort, and a sort instantiation costs the browser
        // bundle kilobytes.
        let data = json.read_field("data", |data| {
            let mut map = BTreeMap::new();
            for (key, value) in data.object()? {
                map.insert(key.clone(), value.string()?);
            }
            Ok(map)
        })?;
        let sessions = json.read_field("sessions", |sessions| {
            let mut map = BTreeMap::new();
            for (client, session) in sessions.object()? {
                let id: u64 = client.parse().map_err(|_| format!("client id {client:?} is not an integer"))?;
                map.insert(id, Session::read(session).map_err(|why| format!("{client}: {why}"))?);
            }
            Ok(map)
        })?;
        // The planted bug's flag is not replicated state (serde skips it too): the node's config sets it.
        Ok(KvStore { data: Rc::new(data), sessions: Rc::new(sessions), bug_apply_retry_twice: false })
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use serde::de::DeserializeOwned;
    use serde::Serialize;

    use super::*;
    use crate::paxos::{Entry, Snapshot};

    /// Text that a JSON string must survive: quotes, backslashes, control characters, non-ASCII.
    fn random_text(rng: &mut ChaCha8Rng) -> String {
        const PIECES: [&str; 9] = ["a", "key", "\"", "\\", "\n", "\u{1}", "é", "😀", "~:;."];
        (0..rng.random_range(0..5)).map(|_| PIECES[rng.random_range(0..PIECES.len())]).collect()
    }

    fn random_command(rng: &mut ChaCha8Rng) -> KvCommand {
        let key = random_text(rng);
        match rng.random_range(0..6) {
            0 => KvCommand::Get { key },
            5 => KvCommand::Scan {
                start: key,
                end: random_text(rng),
                limit: rng.random_bool(0.5).then(|| rng.random()),
                level: crate::paxos::ReadLevel::ALL[rng.random_range(0..3)],
            },
            1 => KvCommand::Put { key, value: random_text(rng) },
            2 => KvCommand::Delete { key },
            3 => KvCommand::Append { key, value: random_text(rng) },
            _ => {
                KvCommand::Cas { key, expected: rng.random_bool(0.5).then(|| random_text(rng)), new: random_text(rng) }
            }
        }
    }

    fn random_request(rng: &mut ChaCha8Rng) -> Rc<Request<KvCommand>> {
        Rc::new(Request { client: rng.random(), seq: rng.random(), command: random_command(rng) })
    }

    fn random_value(rng: &mut ChaCha8Rng) -> Value<KvCommand> {
        match rng.random_range(0..4) {
            0 => Value::Noop,
            1 => Value::Command(random_request(rng)),
            2 => Value::Reconfig(random_members(rng)),
            _ => Value::Batch(Rc::new((0..rng.random_range(0..4)).map(|_| random_request(rng)).collect())),
        }
    }

    fn random_members(rng: &mut ChaCha8Rng) -> Members {
        Members::of((0..rng.random_range(1..8)).map(|_| rng.random_range(1..=63)))
    }

    fn random_membership(rng: &mut ChaCha8Rng) -> Membership {
        let mut membership = Membership::default();
        let mut from = 0;
        for _ in 0..rng.random_range(0..4) {
            membership.push_checked(from, random_members(rng)).expect("increasing");
            from += rng.random_range(1..100);
        }
        membership
    }

    fn random_output(rng: &mut ChaCha8Rng) -> KvOutput {
        match rng.random_range(0..6) {
            0 => KvOutput::Ok,
            1 => KvOutput::Value(rng.random_bool(0.5).then(|| random_text(rng))),
            4 => KvOutput::Records((0..rng.random_range(0..3)).map(|_| (random_text(rng), random_text(rng))).collect()),
            2 => KvOutput::Cas(rng.random()),
            3 => KvOutput::TooLong,
            _ => KvOutput::Stale,
        }
    }

    fn random_store(rng: &mut ChaCha8Rng) -> KvStore {
        let mut store = KvStore::default();
        for _ in 0..rng.random_range(0..4) {
            Rc::make_mut(&mut store.data).insert(random_text(rng), random_text(rng));
            Rc::make_mut(&mut store.sessions)
                .insert(rng.random(), Session { seq: rng.random(), output: random_output(rng) });
        }
        store
    }

    /// Ours writes what serde_json writes, and each reads what the other wrote back to the same value.
    fn agrees_with_serde<T>(value: &T)
    where
        T: Stored + Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let ours = value.to_json();
        assert_eq!(ours, serde_json::to_string(value).unwrap(), "{value:?}");
        assert_eq!(&T::read(&Json::parse(&ours).unwrap()).unwrap(), value);
        assert_eq!(&serde_json::from_str::<T>(&ours).unwrap(), value);
    }

    #[test]
    fn every_record_type_is_written_and_read_as_serde_json_does() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..2000 {
            let ballot = Ballot::new(rng.random(), rng.random());
            agrees_with_serde(&ballot);
            agrees_with_serde(&random_command(&mut rng));
            agrees_with_serde(&random_value(&mut rng));
            agrees_with_serde(&random_membership(&mut rng));
            agrees_with_serde(&random_output(&mut rng));
            agrees_with_serde(&random_store(&mut rng));
            agrees_with_serde(&random_text(&mut rng));
            // The record shapes the codec builds around these, through serde's derive of the core types.
            let entry = Entry { ballot, value: random_value(&mut rng), chosen: rng.random() };
            let mut out = Writer::default();
            out.open('{');
            out.key("ballot");
            entry.ballot.write(&mut out);
            out.key("value");
            entry.value.write(&mut out);
            out.key("chosen");
            out.bool(entry.chosen);
            out.close('}');
            assert_eq!(out.finish(), serde_json::to_string(&entry).unwrap());
            let snapshot =
                Snapshot { upto: rng.random(), state: random_store(&mut rng), membership: random_membership(&mut rng) };
            let read: Snapshot<KvStore> = serde_json::from_str(&serde_json::to_string(&snapshot).unwrap()).unwrap();
            assert_eq!(read, snapshot);
        }
    }

    #[test]
    fn reads_what_serde_accepts_beyond_what_it_writes() {
        let cas = r#"{"Cas":{"new":"b","key":"k","extra":[1,{"x":null}]}}"#;
        let ours = KvCommand::read(&Json::parse(cas).unwrap()).unwrap();
        assert_eq!(
            ours,
            serde_json::from_str::<KvCommand>(cas).unwrap(),
            "any field order, unknown fields, no `expected`"
        );
        assert_eq!(ours, KvCommand::Cas { key: "k".into(), expected: None, new: "b".into() });
    }

    #[test]
    fn says_what_is_wrong_with_a_value() {
        let read = |text: &str| Value::<KvCommand>::read(&Json::parse(text).unwrap()).unwrap_err();
        assert!(read(r#""Nope""#).starts_with("unknown variant `Nope`"));
        assert!(read(r#"{"Command":{"client":1,"seq":2}}"#).contains("missing field `command`"));
        assert_eq!(
            read(r#"{"Command":{"client":1,"seq":2,"command":{"Put":{"key":"k","value":3}}}}"#),
            "command: value: expected a string, found a number"
        );
        let store = KvStore::read(&Json::parse(r#"{"data":{},"sessions":{"x":{}}}"#).unwrap()).unwrap_err();
        assert_eq!(store, "sessions: client id \"x\" is not an integer");
    }
}
