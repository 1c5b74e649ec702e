use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::controls::{input_value, select_value};

use crate::kv::KvCommand;
use crate::paxos::{NodeId, ReadLevel};
use crate::sim::UserAction;
use crate::ui::app::Cmd;
use crate::ui::view::ClientOpView;

#[derive(Properties, PartialEq)]
pub struct ClientPanelProps {
    pub nodes: usize,
    pub ops: Rc<[ClientOpView]>,
    pub busy: bool,
    /// Whether the client retries by itself (the switch shows it; the run records each change).
    #[prop_or_default]
    pub retries: bool,
    /// Whether the leaders hold read leases in this run (a `lease` read otherwise goes through the log).
    #[prop_or_default]
    pub read_leases: bool,
    /// Nodes that are down or paused: a request sent there gets no answer and times out.
    #[prop_or_default]
    pub unreachable: Vec<NodeId>,
    pub dispatch: Callback<Cmd>,
}

#[derive(Clone, PartialEq)]
struct Draft {
    target: NodeId,
    op: String,
    /// A get's key, or where a scan starts.
    key: String,
    value: String,
    expected: String,
    /// Where a scan ends (not included), and how many records it may return (empty: all).
    end: String,
    limit: String,
    /// `log`, `lease` or `local`: how a get or a scan is answered.
    level: String,
}

/// The read levels, each with what it promises, for the chooser.
const READ_LEVELS: [(&str, &str); 3] = [
    ("log", "log: through the log, linearizable"),
    ("lease", "lease: the leader answers while it holds its lease"),
    ("local", "local: the target answers from its own store, maybe stale"),
];

/// The visitor's own client: pick a node and an operation, see the reply, each attempt and the history.
#[function_component(ClientPanel)]
pub fn client_panel(props: &ClientPanelProps) -> Html {
    let draft = use_state(|| Draft {
        target: 1,
        op: "put".into(),
        key: "x".into(),
        value: "1".into(),
        expected: String::new(),
        end: "z".into(),
        limit: String::new(),
        level: "log".into(),
    });
    let target = draft.target.min(props.nodes as NodeId).max(1);
    let command = build(&draft);
    let on_submit = {
        let dispatch = props.dispatch.clone();
        let command = command.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if let Ok(command) = command.clone() {
                dispatch.emit(Cmd::Act(UserAction::ClientOp { target, command }));
            }
        })
    };
    let on_retries = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |event: Event| {
            let on = event.target_unchecked_into::<HtmlInputElement>().checked();
            dispatch.emit(Cmd::Act(UserAction::SetRetries { on }));
        })
    };
    html! {
        <section class="panel client" aria-label="Client">
            <h2>{ "Client" }</h2>
            <form onsubmit={on_submit}>
                { draft_fields(&draft, target, props.nodes) }
                <div class="row">
                    <button type="submit" class="primary" disabled={command.is_err() || props.busy}>{ "Submit" }</button>
                    <label class="inline"><input type="checkbox" checked={props.retries} onchange={on_retries} />
                        <span>{ "Retry automatically" }</span></label>
                </div>
                { status(props, &draft, target, command.err()) }
            </form>
            <h3>{ "Your operations" }</h3>
            { history(&props.ops) }
        </section>
    }
}

/// The target, operation, read level, and the key and values of the operation being written.
fn draft_fields(draft: &UseStateHandle<Draft>, target: NodeId, nodes: usize) -> Html {
    let d = &**draft;
    let reads = matches!(d.op.as_str(), "get" | "scan");
    html! { <>
        <div class="row">
            <label><span>{ "Target node" }</span>
                <select onchange={select_input(draft, |d, v| d.target = v.parse().unwrap_or(1))}>
                    { for (1..=nodes as NodeId).map(|id| html! {
                        <option value={id.to_string()} selected={id == target}>{ format!("node {id}") }</option>
                    }) }
                </select>
            </label>
            <label><span>{ "Operation" }</span>
                <select onchange={select_input(draft, |d, v| d.op = v)}>
                    { for ["put", "get", "scan", "delete", "append", "cas"].iter().map(|op| html! {
                        <option value={*op} selected={d.op == *op}>{ *op }</option>
                    }) }
                </select>
            </label>
            if reads {
                <label><span>{ "Read level" }</span>
                    <select onchange={select_input(draft, |d, v| d.level = v)}>
                        { for READ_LEVELS.iter().map(|(level, text)| html! {
                            <option value={*level} selected={d.level == *level}>{ *text }</option>
                        }) }
                    </select>
                </label>
            }
        </div>
        if d.op == "scan" { { scan_fields(draft) } } else { { key_fields(draft) } }
    </> }
}

/// Key, expected value (for a cas) and value.
fn key_fields(draft: &UseStateHandle<Draft>) -> Html {
    let d = &**draft;
    let needs_value = matches!(d.op.as_str(), "put" | "append" | "cas");
    html! {
        <div class="row">
            { text_field(draft, "Key", &d.key, "", |d, v| d.key = v) }
            if d.op == "cas" {
                { text_field(draft, "Expected", &d.expected, "(absent)", |d, v| d.expected = v) }
            }
            <label class={classes!((!needs_value).then_some("disabled"))}><span>{ "Value" }</span>
                <input type="text" value={d.value.clone()} disabled={!needs_value}
                    oninput={text_input(draft, |d, v| d.value = v)} maxlength="1024" />
            </label>
        </div>
    }
}

/// A scan's range (start included, end not) and limit.
fn scan_fields(draft: &UseStateHandle<Draft>) -> Html {
    let d = &**draft;
    html! {
        <div class="row">
            { text_field(draft, "Start key", &d.key, "", |d, v| d.key = v) }
            { text_field(draft, "End key", &d.end, "", |d, v| d.end = v) }
            { text_field(draft, "Limit", &d.limit, "(all)", |d, v| d.limit = v) }
        </div>
    }
}

/// A labelled text box that sets one field of the draft as the visitor types.
fn text_field(
    draft: &UseStateHandle<Draft>,
    label: &'static str,
    value: &str,
    placeholder: &'static str,
    set: fn(&mut Draft, String),
) -> Html {
    html! {
        <label><span>{ label }</span>
            <input type="text" value={value.to_string()} placeholder={placeholder} oninput={text_input(draft, set)}
                maxlength="1024" />
        </label>
    }
}

fn select_input(draft: &UseStateHandle<Draft>, set: fn(&mut Draft, String)) -> Callback<Event> {
    draft_setter(draft, set, select_value)
}

fn text_input(draft: &UseStateHandle<Draft>, set: fn(&mut Draft, String)) -> Callback<InputEvent> {
    draft_setter(draft, set, input_value)
}

/// A callback that sets one field of the draft to what `read` finds in the event's element.
fn draft_setter<E: JsCast + 'static>(
    draft: &UseStateHandle<Draft>,
    set: fn(&mut Draft, String),
    read: fn(&Event) -> String,
) -> Callback<E> {
    let draft = draft.clone();
    Callback::from(move |event: E| {
        let mut next = (*draft).clone();
        set(&mut next, read(event.unchecked_ref()));
        draft.set(next);
    })
}

/// What the client is doing, or why Submit is off, and what an operation whose outcome is unknown means.
fn status(props: &ClientPanelProps, draft: &Draft, target: NodeId, error: Option<String>) -> Html {
    let last = props.ops.last();
    let line = match last.filter(|_| props.busy) {
        Some(op) => match (op.next_attempt_at, op.deadline) {
            (Some(next), Some(deadline)) => format!("retrying at tick {next}; gives up at tick {deadline}"),
            (None, Some(deadline)) => format!("waiting for a reply; retries until tick {deadline}"),
            _ => "waiting for the reply to your last operation…".into(),
        },
        // Allowed (it is instructive), but said beforehand: nobody will answer.
        None => {
            error.or_else(|| lease_note(props, draft)).unwrap_or_else(|| match props.unreachable.contains(&target) {
                true if props.retries => format!("node {target} is down or paused: your client will try another"),
                true => format!("node {target} is down or paused: a request there gets no reply and times out"),
                false => String::new(),
            })
        }
    };
    let unknown = last.filter(|op| op.state == "timed-out").map(|op| match op.deadline {
        Some(deadline) => format!(
            "Your {} got no answer by tick {deadline}, its deadline: its outcome is unknown. \
            It may still take effect, or never; the checker treats it as either.",
            op.command
        ),
        None => format!(
            "Your {} timed out: its outcome is unknown. It may still take effect, or never; \
            the checker treats it as either. Submit again to retry.",
            op.command
        ),
    });
    html! { <>
        if !line.is_empty() {
            <p class="muted status" aria-live="polite">{ line }</p>
        }
        if let Some(text) = unknown {
            <p class="note" role="status">{ text }</p>
        }
    </> }
}

/// What a `lease` read does in a run whose leaders hold no lease.
fn lease_note(props: &ClientPanelProps, draft: &Draft) -> Option<String> {
    let lease_read = matches!(draft.op.as_str(), "get" | "scan") && draft.level == "lease";
    (lease_read && !props.read_leases).then(|| {
        "Read leases are off in this run, so the leader answers a lease read through the log. \
         Scenarios with `reads: lease` turn them on."
            .to_string()
    })
}

/// The visitor's operations, newest first, with each attempt when there was more than one.
fn history(ops: &[ClientOpView]) -> Html {
    if ops.is_empty() {
        return html! {
            <p class="muted">{ "None yet. A follower forwards your request to the leader; the reply names the slot." }</p>
        };
    }
    html! {
        <ol class="history" aria-label="Client history" reversed=true>
            { for ops.iter().rev().take(20).map(|op| html! {
                <li key={op.index} class={classes!("op", op.state)}>
                    <code>{ op.command.clone() }</code>
                    <span class="path">{ format!(" {} ", op.path) }</span>
                    <span class="outcome">{ op.outcome.clone() }</span>
                    if !op.attempts.is_empty() {
                        <ol class="attempts" aria-label="Attempts">
                            { for op.attempts.iter().map(|attempt| html! { <li>{ attempt.clone() }</li> }) }
                        </ol>
                    }
                    if let Some(note) = &op.note {
                        <p class="session">{ note.clone() }</p>
                    }
                </li>
            }) }
        </ol>
    }
}

fn build(d: &Draft) -> Result<KvCommand, String> {
    let key = d.key.trim().to_string();
    if key.is_empty() {
        return Err("a key is needed".into());
    }
    let level = ReadLevel::from_name(&d.level).unwrap_or_default();
    let command = match d.op.as_str() {
        "get" => KvCommand::get_at(key, level),
        "scan" => {
            let limit = match d.limit.trim() {
                "" => None,
                text => Some(text.parse::<u32>().map_err(|_| format!("the limit {text:?} is not a number"))?),
            };
            KvCommand::Scan { start: key, end: d.end.trim().to_string(), limit, level }
        }
        "delete" => KvCommand::Delete { key },
        "append" => KvCommand::Append { key, value: d.value.clone() },
        "cas" => {
            KvCommand::Cas { key, expected: (!d.expected.is_empty()).then(|| d.expected.clone()), new: d.value.clone() }
        }
        _ => KvCommand::Put { key, value: d.value.clone() },
    };
    command.validate()?;
    Ok(command)
}
