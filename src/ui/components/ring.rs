use std::rc::Rc;

use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::paxos::MessageKind;
use crate::ui::app::Cmd;
use crate::ui::frames::Clock;
use crate::ui::view::{ClusterView, MessageView, RoleView};

#[derive(Properties, PartialEq)]
pub struct RingProps {
    pub view: Rc<ClusterView>,
    /// Moves the dots between ticks (see [`Clock`]): time is not a prop, so a frame without a tick renders nothing.
    pub clock: Clock,
    pub selected: Option<u64>,
    pub dispatch: Callback<Cmd>,
}

const CENTER: f64 = 200.0;
const RADIUS: f64 = 140.0;
const NODE_R: f64 = 34.0;

/// Where node `index` of `n` sits on the ring (node 1 at the top, clockwise).
pub fn position(index: usize, n: usize) -> (f64, f64) {
    let angle = -std::f64::consts::FRAC_PI_2 + std::f64::consts::TAU * index as f64 / n.max(1) as f64;
    // The browser's Math, not Rust's: `f64::cos` links libm's argument reduction (about 2.5 kB of the bundle).
    (CENTER + RADIUS * js_sys::Math::cos(angle), CENTER + RADIUS * js_sys::Math::sin(angle))
}

/// Moves keyboard focus from one message dot to the previous or next one (arrow keys), so the dots form
/// one tab stop. Dots are siblings in their group; moving focus does not select.
fn focus_sibling(event: &KeyboardEvent, forward: bool) {
    let Some(dot) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
    let sibling = if forward { dot.next_element_sibling() } else { dot.previous_element_sibling() };
    if let Some(sibling) = sibling.and_then(|s| s.dyn_into::<web_sys::SvgElement>().ok()) {
        event.prevent_default();
        let _ = sibling.focus();
    }
}

/// The message id of the dot an event started on (its `data-id`), if it started on one.
fn dot_id(event: &Event) -> Option<u64> {
    let element = event.target()?.dyn_into::<web_sys::Element>().ok()?;
    element.get_attribute("data-id")?.parse().ok()
}

/// Where every node of a ring of `n` sits, node 1 first: computed once per drawing, not per dot (each
/// position is two calls out to the browser's `Math`).
fn node_positions(n: usize) -> Vec<(f64, f64)> {
    (0..n).map(|index| position(index, n)).collect()
}

/// Where message `m`'s dot is at virtual time `time`, between the nodes at `spots` (see [`node_positions`]).
fn dot_position(m: &MessageView, spots: &[(f64, f64)], time: f64) -> (f64, f64) {
    let ((x1, y1), (x2, y2)) = (spots[m.from as usize - 1], spots[m.to as usize - 1]);
    let p = m.progress(time);
    (x1 + (x2 - x1) * p, y1 + (y2 - y1) * p)
}

/// Moves the rendered dots (the children of `group`, one per message of `view`, in order) to `time`.
fn move_dots(group: &NodeRef, (view, spots): &(Rc<ClusterView>, Vec<(f64, f64)>), time: f64) {
    let Some(group) = group.cast::<web_sys::Element>() else { return };
    let dots = group.children();
    for (index, m) in view.messages.iter().enumerate() {
        let Some(dot) = dots.item(index as u32) else { break };
        let (x, y) = dot_position(m, spots, time);
        let _ = dot.set_attribute("cx", &fmt(x));
        let _ = dot.set_attribute("cy", &fmt(y));
    }
}

/// The cluster as a ring of nodes with messages travelling between them, coloured by kind. Each message dot
/// is a button: Tab reaches the dots (one tab stop), arrow keys move between them, Enter or Space picks one.
/// The dots' group listens for all of them (dots come and go on every tick; per-dot listeners would too).
#[function_component(Ring)]
pub fn ring(props: &RingProps) -> Html {
    let view = &props.view;
    let n = view.nodes.len();
    let spots = node_positions(n);
    // Between renders the clock moves the dots; it needs the view the DOM shows (this render's, once it is
    // committed) and where that view's nodes sit.
    let dots_ref = use_node_ref();
    let drawn = use_mut_ref(|| (view.clone(), spots.clone()));
    {
        let drawn = drawn.clone();
        let spots = spots.clone();
        use_effect_with(view.clone(), move |view| *drawn.borrow_mut() = (view.clone(), spots));
    }
    {
        let dots_ref = dots_ref.clone();
        use_effect_with(props.clock.clone(), move |clock| {
            let listening = clock.listen(move |time| move_dots(&dots_ref, &drawn.borrow(), time));
            move || drop(listening)
        });
    }
    let (on_click, on_key) = dot_events(&props.dispatch);
    html! {
        <figure class="ring">
            <svg viewBox="0 0 400 400" role="group"
                aria-label={format!("Cluster of {n} nodes at tick {}, {} messages in flight", view.now, view.messages_in_flight)}>
                { links(view, &spots) }
                { nodes(view, &spots) }
                <g class="messages" ref={dots_ref} onclick={on_click} onkeydown={on_key}>
                    { dots(view, &spots, props.clock.now(), props.selected) }
                </g>
            </svg>
            <figcaption>{ legend() }</figcaption>
        </figure>
    }
}

/// A click on a dot, or Enter or Space on the focused one, picks its message; the arrow keys move the focus.
fn dot_events(dispatch: &Callback<Cmd>) -> (Callback<MouseEvent>, Callback<KeyboardEvent>) {
    let on_click = {
        let dispatch = dispatch.clone();
        Callback::from(move |event: MouseEvent| {
            if let Some(id) = dot_id(&event) {
                dispatch.emit(Cmd::Select(Some(id)));
            }
        })
    };
    let dispatch = dispatch.clone();
    let on_key = Callback::from(move |event: KeyboardEvent| match event.key().as_str() {
        "Enter" | " " => {
            if let Some(id) = dot_id(&event) {
                event.prevent_default();
                dispatch.emit(Cmd::Select(Some(id)));
            }
        }
        "ArrowRight" | "ArrowDown" => focus_sibling(&event, true),
        "ArrowLeft" | "ArrowUp" => focus_sibling(&event, false),
        _ => {}
    });
    (on_click, on_key)
}

/// Every pair of nodes, joined by a line, dashed where the link is cut.
fn links(view: &ClusterView, spots: &[(f64, f64)]) -> Html {
    let n = view.nodes.len() as u8;
    let pairs = (1..=n).flat_map(|a| ((a + 1)..=n).map(move |b| (a, b)));
    html! {
        <g class="links">
            { for pairs.map(|(a, b)| {
                let cut = view.cut_links.contains(&(a, b)) || view.cut_links.contains(&(b, a));
                let ((x1, y1), (x2, y2)) = (spots[a as usize - 1], spots[b as usize - 1]);
                html! { <line class={classes!("link", cut.then_some("cut"))}
                    x1={fmt(x1)} y1={fmt(y1)} x2={fmt(x2)} y2={fmt(y2)} /> }
            }) }
        </g>
    }
}

/// Each node: its id, role, promise and first unchosen slot.
fn nodes(view: &ClusterView, spots: &[(f64, f64)]) -> Html {
    html! {
        <g class="nodes">
            { for view.nodes.iter().map(|node| {
                let (x, y) = spots[node.id as usize - 1];
                let role = if node.paused && node.role != RoleView::Down { "paused" } else { node.role.name() };
                html! {
                    <g key={node.id} class={classes!("ring-node", format!("role-{}", node.role.name()))}>
                        <circle cx={fmt(x)} cy={fmt(y)} r={fmt(NODE_R)} />
                        <text x={fmt(x)} y={fmt(y - 6.0)} class="ring-id">{ format!("node {}", node.id) }</text>
                        <text x={fmt(x)} y={fmt(y + 9.0)} class="ring-role">{ role }</text>
                        <text x={fmt(x)} y={fmt(y + 22.0)} class="ring-ballot">
                            { format!("b {} · s {}", node.promised, node.first_unchosen) }
                        </text>
                    </g>
                }
            }) }
        </g>
    }
}

/// The messages in flight, each a dot between its two nodes, a button that picks it.
fn dots(view: &ClusterView, spots: &[(f64, f64)], time: f64, picked: Option<u64>) -> Html {
    let picked_drawn = picked.is_some_and(|id| view.messages.iter().any(|m| m.id == id));
    html! { <>{ for view.messages.iter().enumerate().map(|(index, m)| {
        let (x, y) = dot_position(m, spots, time);
        let id = m.id;
        let selected = picked == Some(id);
        // The tab stop: the picked dot if it is drawn, else the first.
        let stop = selected || (index == 0 && !picked_drawn);
        let label = format!("Message #{id}: {}", m.describe());
        html! {
            <circle key={id} class={classes!("dot", kind_class(m.kind), selected.then_some("selected"))}
                cx={fmt(x)} cy={fmt(y)} r={if selected { "8" } else { "5" }}
                tabindex={if stop { "0" } else { "-1" }} role="button" data-id={id.to_string()}
                aria-label={label.clone()} aria-pressed={if selected { "true" } else { "false" }}>
                <title>{ label }</title>
            </circle>
        }
    }) }</> }
}

fn legend() -> Html {
    html! {
        <ul class="legend" aria-label="Legend">
            { for LEGEND.iter().map(|(kinds, label)| html! {
                <li><span class={classes!("swatch", kind_class(kinds[0]))} aria-hidden="true"></span>{ *label }</li>
            }) }
            <li><span class="swatch link-cut" aria-hidden="true"></span>{ "cut link" }</li>
        </ul>
    }
}

const LEGEND: &[(&[MessageKind], &str)] = &[
    (&[MessageKind::Prepare], "prepare"),
    (&[MessageKind::Promise, MessageKind::Nack], "promise / nack"),
    (&[MessageKind::Accept], "accept"),
    (&[MessageKind::Accepted], "accepted"),
    (&[MessageKind::Commit, MessageKind::Heartbeat, MessageKind::Chosen], "commit / heartbeat"),
    (&[MessageKind::Forward], "client (forward)"),
    (&[MessageKind::Snapshot], "snapshot"),
];

pub fn kind_class(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Prepare => "k-prepare",
        MessageKind::Promise | MessageKind::Nack => "k-promise",
        MessageKind::Accept => "k-accept",
        MessageKind::Accepted => "k-accepted",
        MessageKind::Commit | MessageKind::Heartbeat | MessageKind::Chosen => "k-commit",
        MessageKind::Snapshot => "k-snapshot",
        MessageKind::Forward => "k-client",
    }
}

/// An SVG coordinate with one decimal, without Rust's float formatting (which would add kilobytes to the bundle).
pub fn fmt(v: f64) -> String {
    let tenths = (v * 10.0).round() as i64;
    let sign = if tenths < 0 { "-" } else { "" };
    format!("{sign}{}.{}", tenths.abs() / 10, tenths.abs() % 10)
}
