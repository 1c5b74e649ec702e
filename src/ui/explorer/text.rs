//! A [`Request`] and its [`News`] as JSON text, between the page and the scenario engine's module, which starts the
//! worker and relays both ways (`relay.rs`). The page never links serde: to and from the worker they still cross
//! as plain objects made and read by serde-wasm-bindgen, in the engine's module; between the two modules of the
//! page they cross as text, as every other call to the engine does (`ui::engine`), written with
//! `storage::json`'s `Writer` and read with its `Json`, which the page links anyway.

use super::{News, Request, PROTOCOL};
use crate::explore::Bounds;
use crate::storage::json::{Json, Writer};

fn write_bounds(out: &mut Writer, bounds: &Bounds) {
    out.open('{');
    let counts = [
        ("ops", bounds.ops),
        ("crashes", bounds.crashes),
        ("drops", bounds.drops),
        ("dups", bounds.dups),
        ("ticks", bounds.ticks),
        ("retries", bounds.retries),
        ("messages", bounds.messages),
        ("reconfigs", bounds.reconfigs),
    ];
    out.key("nodes");
    out.u64(bounds.nodes as u64);
    for (name, count) in counts {
        out.key(name);
        out.u64(count.into());
    }
    out.key("depth");
    out.u64(bounds.depth.into());
    out.close('}');
}

fn read_bounds(json: &Json) -> Result<Bounds, String> {
    let count = |name| json.read_field(name, Json::u8);
    Ok(Bounds {
        nodes: json.read_field("nodes", Json::u64)? as usize,
        ops: count("ops")?,
        crashes: count("crashes")?,
        drops: count("drops")?,
        dups: count("dups")?,
        ticks: count("ticks")?,
        retries: count("retries")?,
        messages: count("messages")?,
        depth: json.read_field("depth", Json::u32)?,
        reconfigs: count("reconfigs")?,
    })
}

/// What the page asks the engine to start: `{"protocol","run","tick","bounds":{…}}`.
pub fn write_request(request: &Request) -> String {
    let mut out = Writer::default();
    out.open('{');
    out.key("protocol");
    out.u64(request.protocol.into());
    out.key("run");
    out.str(&request.run);
    out.key("tick");
    out.u64(request.tick);
    out.key("bounds");
    write_bounds(&mut out, &request.bounds);
    out.close('}');
    out.finish()
}

/// [`write_request`]'s text, read in the engine; a page of another build is refused.
pub fn read_request(text: &str) -> Result<Request, String> {
    let json = Json::parse(text)?;
    let protocol = json.read_field("protocol", Json::u32)?;
    if protocol != PROTOCOL {
        return Err("the explorer belongs to another version of this page: reload the page".into());
    }
    Ok(Request {
        protocol,
        run: json.read_field("run", Json::string)?,
        tick: json.read_field("tick", Json::u64)?,
        bounds: json.read_field("bounds", read_bounds)?,
    })
}

fn write_optional(out: &mut Writer, text: Option<&str>) {
    match text {
        Some(text) => out.str(text),
        None => out.null(),
    }
}

/// The worker's news as the engine hands it to the page: News's fields by name, `null` for an absent one.
pub fn write_news(news: &News) -> String {
    let mut out = Writer::default();
    out.open('{');
    for (name, value) in [("states", news.states), ("depth", news.depth.into()), ("elapsed_ms", news.elapsed_ms)] {
        out.key(name);
        out.u64(value);
    }
    for (name, value) in [("done", news.done), ("exhausted", news.exhausted)] {
        out.key(name);
        out.bool(value);
    }
    for (name, value) in [("failed", &news.failed), ("violation", &news.violation), ("run", &news.run)] {
        out.key(name);
        write_optional(&mut out, value.as_deref());
    }
    out.key("events");
    out.open('[');
    for event in &news.events {
        out.str(event);
    }
    out.close(']');
    out.close('}');
    out.finish()
}

/// [`write_news`]'s text, read on the page.
pub fn read_news(text: &str) -> Result<News, String> {
    let json = Json::parse(text)?;
    let optional = |name| json.read_field(name, Json::optional_string);
    let events = json.field("events")?.array()?.iter().map(Json::string).collect::<Result<_, _>>()?;
    Ok(News {
        states: json.read_field("states", Json::u64)?,
        depth: json.read_field("depth", Json::u32)?,
        elapsed_ms: json.read_field("elapsed_ms", Json::u64)?,
        done: json.read_field("done", Json::bool)?,
        exhausted: json.read_field("exhausted", Json::bool)?,
        failed: optional("failed")?,
        violation: optional("violation")?,
        events,
        run: optional("run")?,
    })
}
