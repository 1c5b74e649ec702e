use std::rc::Rc;

use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::kv::KvCommand;
use crate::paxos::NodeId;
use crate::sim::UserAction;
use crate::ui::app::Cmd;
use crate::ui::view::ClientOpView;

#[derive(Properties, PartialEq)]
pub struct ClientPanelProps {
    pub nodes: usize,
    pub ops: Rc<[ClientOpView]>,
    pub busy: bool,
    /// Nodes that are down or paused: a request sent there gets no answer and times out.
    #[prop_or_default]
    pub unreachable: Vec<NodeId>,
    pub dispatch: Callback<Cmd>,
}

#[derive(Clone, PartialEq)]
struct Draft {
    target: NodeId,
    op: String,
    key: String,
    value: String,
    expected: String,
}

/// The visitor's own client: pick a node and an operation, see the reply and the history.
#[function_component(ClientPanel)]
pub fn client_panel(props: &ClientPanelProps) -> Html {
    let draft = use_state(|| Draft {
        target: 1,
        op: "put".into(),
        key: "x".into(),
        value: "1".into(),
        expected: String::new(),
    });
    let update = |set: fn(&mut Draft, String)| {
        let draft = draft.clone();
        Callback::from(move |event: Event| {
            let target = event.target_unchecked_into::<web_sys::EventTarget>();
            let value = match target.clone().dyn_into_select() {
                Some(select) => select.value(),
                None => target.unchecked_into::<HtmlInputElement>().value(),
            };
            let mut next = (*draft).clone();
            set(&mut next, value);
            draft.set(next);
        })
    };
    let text_input = |set: fn(&mut Draft, String)| {
        let draft = draft.clone();
        Callback::from(move |event: InputEvent| {
            let mut next = (*draft).clone();
            set(&mut next, event.target_unchecked_into::<HtmlInputElement>().value());
            draft.set(next);
        })
    };
    let d = &*draft;
    let target = d.target.min(props.nodes as NodeId).max(1);
    let needs_value = matches!(d.op.as_str(), "put" | "append" | "cas");
    let command = build(d);
    let error = command.as_ref().err().cloned();
    // Allowed (it is instructive), but said beforehand: nobody will answer.
    let warning = props
        .unreachable
        .contains(&target)
        .then(|| format!("node {target} is down or paused: a request there gets no reply and times out"));
    let last = props.ops.last();
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
    html! {
        <section class="panel client" aria-label="Client">
            <h2>{ "Client" }</h2>
            <form onsubmit={on_submit}>
                <div class="row">
                    <label><span>{ "Target node" }</span>
                        <select onchange={update(|d, v| d.target = v.parse().unwrap_or(1))}>
                            { for (1..=props.nodes as NodeId).map(|id| html! {
                                <option value={id.to_string()} selected={id == target}>{ format!("node {id}") }</option>
                            }) }
                        </select>
                    </label>
                    <label><span>{ "Operation" }</span>
                        <select onchange={update(|d, v| d.op = v)}>
                            { for ["put", "get", "delete", "append", "cas"].iter().map(|op| html! {
                                <option value={*op} selected={d.op == *op}>{ *op }</option>
                            }) }
                        </select>
                    </label>
                </div>
                <div class="row">
                    <label><span>{ "Key" }</span>
                        <input type="text" value={d.key.clone()} oninput={text_input(|d, v| d.key = v)} maxlength="64" />
                    </label>
                    if d.op == "cas" {
                        <label><span>{ "Expected" }</span>
                            <input type="text" value={d.expected.clone()} placeholder="(absent)"
                                oninput={text_input(|d, v| d.expected = v)} maxlength="1024" />
                        </label>
                    }
                    <label class={classes!((!needs_value).then_some("disabled"))}><span>{ "Value" }</span>
                        <input type="text" value={d.value.clone()} disabled={!needs_value}
                            oninput={text_input(|d, v| d.value = v)} maxlength="1024" />
                    </label>
                </div>
                <div class="row">
                    <button type="submit" class="primary" disabled={error.is_some() || props.busy}>{ "Submit" }</button>
                    if props.busy {
                        <span class="muted">{ "waiting for the reply to your last operation…" }</span>
                    } else if let Some(error) = error {
                        <span class="muted">{ error }</span>
                    } else if let Some(warning) = warning {
                        <span class="muted">{ warning }</span>
                    }
                </div>
                if let Some(op) = last.filter(|op| op.state == "timed-out") {
                    <p class="note" role="status">
                        { format!("Your {} timed out: its outcome is unknown. It may still take effect, or never; \
                            the checker treats it as either. Submit again to retry.", op.command) }
                    </p>
                }
            </form>
            <h3>{ "Your operations" }</h3>
            if props.ops.is_empty() {
                <p class="muted">{ "None yet. A follower forwards your request to the leader; the reply names the slot." }</p>
            } else {
                <ol class="history" aria-label="Client history" reversed=true>
                    { for props.ops.iter().rev().take(20).map(|op| html! {
                        <li key={op.index} class={classes!("op", op.state)}>
                            <code>{ op.command.clone() }</code>
                            <span class="path">{ format!(" {} ", op.path) }</span>
                            <span class="outcome">{ op.outcome.clone() }</span>
                        </li>
                    }) }
                </ol>
            }
        </section>
    }
}

fn build(d: &Draft) -> Result<KvCommand, String> {
    let key = d.key.trim().to_string();
    if key.is_empty() {
        return Err("a key is needed".into());
    }
    let command = match d.op.as_str() {
        "get" => KvCommand::Get { key },
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

trait DynIntoSelect {
    fn dyn_into_select(self) -> Option<HtmlSelectElement>;
}

impl DynIntoSelect for web_sys::EventTarget {
    fn dyn_into_select(self) -> Option<HtmlSelectElement> {
        use wasm_bindgen::JsCast;
        self.dyn_into::<HtmlSelectElement>().ok()
    }
}
