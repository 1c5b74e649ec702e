use std::rc::Rc;

use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::sim::branches::Branches;
use crate::ui::app::{Cmd, Frame};

#[derive(Properties, PartialEq)]
pub struct StepPanelProps {
    pub frame: Rc<Frame>,
    pub dispatch: Callback<Cmd>,
}

/// Stepping event by event: every event enabled now, each a button named by what it does ("Deliver #351 commit 5
/// → 4"), and the history of the paths taken, a tree of branches to jump around in. ← and → move one event back
/// and forward while stepping (the Back and Forward buttons are with the other time controls).
#[function_component(StepPanel)]
pub fn step_panel(props: &StepPanelProps) -> Html {
    let (f, d) = (&props.frame, &props.dispatch);
    use_arrow_keys(f.stepping, d);
    if !f.stepping && f.branches.is_none() {
        return html! {};
    }
    html! {
        <section class="panel stepping" aria-label="Step by event">
            <h2>{ if f.stepping { "Step by event" } else { "History" } }</h2>
            if f.stepping {
                { next_events(f, d) }
            }
            if let Some(branches) = &f.branches {
                { history(branches, f.view.now, d) }
            }
        </section>
    }
}

/// ← and → as Back and Forward while stepping, unless a field that reads arrows has the focus (the timeline, a
/// text field, a menu).
#[hook]
fn use_arrow_keys(stepping: bool, dispatch: &Callback<Cmd>) {
    let dispatch = dispatch.clone();
    use_effect_with(stepping, move |stepping| {
        let listener = stepping.then(|| {
            let options = gloo::events::EventListenerOptions::enable_prevent_default();
            gloo::events::EventListener::new_with_options(&gloo::utils::document(), "keydown", options, move |event| {
                let Some(event) = event.dyn_ref::<web_sys::KeyboardEvent>() else { return };
                let typing = event
                    .target()
                    .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
                    .is_some_and(|element| matches!(element.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA"));
                if typing || event.alt_key() || event.ctrl_key() || event.meta_key() || event.shift_key() {
                    return;
                }
                let cmd = match event.key().as_str() {
                    "ArrowLeft" => Cmd::Back,
                    "ArrowRight" => Cmd::Forward,
                    _ => return,
                };
                event.prevent_default();
                dispatch.emit(cmd);
            })
        });
        move || drop(listener)
    });
}

/// Every event enabled now, one button each.
fn next_events(f: &Frame, d: &Callback<Cmd>) -> Html {
    if f.next_events.is_empty() {
        return html! { <p class="muted">{ "Nothing can happen next: no message is in flight and every node is paused." }</p> };
    }
    html! {
        <ul class="next-events" aria-label="Next events">
            { for f.next_events.iter().map(|(event, name)| {
                let (d, event) = (d.clone(), event.clone());
                html! {
                    <li><button onclick={Callback::from(move |_: MouseEvent| d.emit(Cmd::Choose(event.clone())))}>
                        { name.clone() }
                    </button></li>
                }
            }) }
        </ul>
    }
}

/// The tree of branches: the first branch's events, each later branch hung under the point it left its parent.
fn history(branches: &Branches, now: u64, d: &Callback<Cmd>) -> Html {
    html! {
        <nav class="history" aria-label="History">
            <ul class="branches">{ branch(branches, 0, now, d) }</ul>
        </nav>
    }
}

/// Branch `index`: where it starts, its own events, and the branches that left it, each at its place.
fn branch(branches: &Branches, index: usize, now: u64, d: &Callback<Cmd>) -> Html {
    let Some(this) = branches.get(index) else { return html! {} };
    let current = index == branches.current();
    let jump = |tick: u64| {
        let d = d.clone();
        Callback::from(move |_: MouseEvent| d.emit(Cmd::Jump { branch: index, tick }))
    };
    let events: Vec<(u64, &str)> = this.own_events().map(|(_, tick, label)| (tick, label)).collect();
    // The point shown as "you are here": the newest event at or before now on the current branch.
    let here = current.then(|| events.iter().rposition(|(tick, _)| *tick <= now)).flatten();
    // A branch that left at tick t hangs before the first event after t (children come in the order they were
    // made, not by tick, so each event takes those that left since the event before it).
    let hang = |from: Option<u64>, to: Option<u64>| -> Vec<Html> {
        let left_between = |at: &u64| from.is_none_or(|from| *at >= from) && to.is_none_or(|to| *at < to);
        let children = branches.children(index).filter(|(_, at)| left_between(at));
        children
            .map(|(child, _)| html! { <li class="fork"><ul class="branches">{ branch(branches, child, now, d) }</ul></li> })
            .collect()
    };
    let mut items: Vec<Html> = Vec::new();
    for (position, (tick, label)) in events.iter().enumerate() {
        items.extend(hang(position.checked_sub(1).map(|before| events[before].0), Some(*tick)));
        let mark = (here == Some(position)).then_some("step");
        items.push(html! {
            <li><button class="history-event" aria-current={mark} onclick={jump(*tick)}>
                { format!("tick {tick}: {label}") }
            </button></li>
        });
    }
    items.extend(hang(events.last().map(|(tick, _)| *tick), None));
    let start = this.since();
    html! {
        <li class={classes!("branch", current.then_some("current"))}>
            <button class="branch-start" onclick={jump(start)}
                aria-current={(current && here.is_none()).then_some("step")}>
                { match this.parent {
                    None => format!("Branch 1, from tick {start}"),
                    Some((parent, _)) => format!("Branch {}, leaving branch {} at tick {start}", index + 1, parent + 1),
                } }
            </button>
            <ol class="events">{ for items }</ol>
        </li>
    }
}
