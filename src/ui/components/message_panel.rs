use std::rc::Rc;

use yew::prelude::*;

use super::ring::kind_class;
use super::set_style;
use crate::sim::UserAction;
use crate::ui::app::Cmd;
use crate::ui::view::{ClusterView, MessageView};

/// The height of one row of the message list in CSS pixels (`.message-list li` in style.css must match).
const ROW_PX: usize = 26;
/// Rows in view at once (`.message-scroll`'s height in style.css is this many rows).
const ROWS_VISIBLE: usize = 5;

#[derive(Properties, PartialEq)]
pub struct MessagePanelProps {
    pub view: Rc<ClusterView>,
    pub selected: Option<u64>,
    pub dispatch: Callback<Cmd>,
}

/// Messages in flight: pick one (here or on the ring), then drop, duplicate or deliver it now. Without a
/// pick, the actions apply to the next message due.
///
/// The list scrolls through every message in flight but builds only the rows in view: most messages live a
/// tick or two, so a list of all of them would re-create dozens of rows on every tick.
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

    let total = view.messages.len();
    // The first row in view, as of the last scroll event (this component's own state: scrolling re-renders
    // only the list).
    let scrolled_to = use_state_eq(|| 0_usize);
    let first = (*scrolled_to).min(total.saturating_sub(ROWS_VISIBLE));
    let spacer = use_node_ref();
    let rows = use_node_ref();
    {
        let (spacer, rows) = (spacer.clone(), rows.clone());
        use_effect_with((total, first), move |&(total, first)| {
            set_style(&spacer, "height", &format!("{}px", total * ROW_PX));
            set_style(&rows, "transform", &format!("translateY({}px)", first * ROW_PX));
        });
    }
    let on_scroll = {
        let scrolled_to = scrolled_to.clone();
        Callback::from(move |event: Event| {
            let element = event.target_unchecked_into::<web_sys::Element>();
            scrolled_to.set(element.scroll_top().max(0) as usize / ROW_PX);
        })
    };
    // One row more than fit, for the one partly shown while scrolled between rows.
    let shown = view.messages.iter().enumerate().skip(first).take(ROWS_VISIBLE + 1);
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
            // Focusable, like the logs, so the keyboard can scroll to rows that are not built yet.
            <div class="message-scroll" tabindex="0" role="group" aria-label="Scroll the messages in flight"
                onscroll={on_scroll}>
                <div class="message-spacer" ref={spacer}>
                    <ul class="message-list" aria-label="Pick a message" ref={rows}>
                        { for shown.map(|(index, m)| message_row(m, index, total, target, &props.dispatch)) }
                    </ul>
                </div>
            </div>
        </section>
    }
}

/// One message in the list: a button that picks it, with its place in the whole list for assistive technology.
/// Not keyed by message: most messages live a tick or two, so keyed rows would be made anew on nearly every
/// render; by position, a render rewrites the rows' text.
fn message_row(m: &MessageView, index: usize, total: usize, target: Option<u64>, dispatch: &Callback<Cmd>) -> Html {
    let id = m.id;
    let dispatch = dispatch.clone();
    let selected = Some(id) == target;
    html! {
        <li aria-setsize={total.to_string()} aria-posinset={(index + 1).to_string()}>
            <button class={classes!("message", selected.then_some("selected"))}
                aria-pressed={selected.to_string()}
                onclick={Callback::from(move |_| dispatch.emit(Cmd::Select(Some(id))))}>
                <span class={classes!("swatch", kind_class(m.kind))} aria-hidden="true"></span>
                { format!("#{id} {}", m.describe()) }
                <span class="due">{ format!("due {}", m.deliver_at) }</span>
            </button>
        </li>
    }
}
