use std::rc::Rc;

use yew::prelude::*;

use super::ring::kind_class;
use crate::sim::UserAction;
use crate::ui::app::Cmd;
use crate::ui::view::ClusterView;

/// Messages listed at most.
const LISTED_MAX: usize = 40;

#[derive(Properties, PartialEq)]
pub struct MessagePanelProps {
    pub view: Rc<ClusterView>,
    pub selected: Option<u64>,
    pub dispatch: Callback<Cmd>,
}

/// Messages in flight: pick one (here or on the ring), then drop, duplicate or deliver it now. Without a
/// pick, the actions apply to the next message due.
#[function_component(MessagePanel)]
pub fn message_panel(props: &MessagePanelProps) -> Html {
    let view = &props.view;
    let target = props.selected.or_else(|| view.messages.first().map(|m| m.id));
    let act = |make: fn(u64) -> UserAction| {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(id) = target {
                dispatch.emit(Cmd::Act(make(id)));
                dispatch.emit(Cmd::Select(None));
            }
        })
    };
    let picked = target.and_then(|id| view.messages.iter().find(|m| m.id == id));
    html! {
        <section class="panel messages" aria-label="Messages in flight">
            <h2>{ format!("Messages in flight ({})", view.messages_in_flight) }</h2>
            <p class="picked">
                { match picked {
                    Some(m) => format!("Selected: #{} {} (due at tick {})", m.id, m.describe(), m.deliver_at),
                    None => "No message in flight.".into(),
                } }
            </p>
            <div class="buttons">
                <button disabled={target.is_none()} onclick={act(|id| UserAction::DropMessage { id })}>{ "Drop message" }</button>
                <button disabled={target.is_none()} onclick={act(|id| UserAction::DuplicateMessage { id })}>{ "Duplicate message" }</button>
                <button disabled={target.is_none()} onclick={act(|id| UserAction::DeliverNow { id })}>{ "Deliver now" }</button>
            </div>
            <ul class="message-list" aria-label="Pick a message">
                { for view.messages.iter().take(LISTED_MAX).map(|m| {
                    let id = m.id;
                    let dispatch = props.dispatch.clone();
                    let selected = Some(id) == target;
                    html! {
                        <li key={id}>
                            <button class={classes!("message", selected.then_some("selected"))}
                                aria-pressed={selected.to_string()}
                                onclick={Callback::from(move |_| dispatch.emit(Cmd::Select(Some(id))))}>
                                <span class={classes!("swatch", kind_class(m.kind))} aria-hidden="true"></span>
                                { format!("#{id} {}", m.describe()) }
                            </button>
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}
