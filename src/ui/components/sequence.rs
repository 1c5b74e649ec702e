use std::rc::Rc;

use yew::prelude::*;

use super::ring::{fmt, kind_class};
use crate::ui::frames::Clock;
use crate::ui::view::ClusterView;

#[derive(Properties, PartialEq)]
pub struct SequenceDiagramProps {
    pub view: Rc<ClusterView>,
    /// Slides the arrows between ticks (see [`Clock`]).
    pub clock: Clock,
}

/// Ticks of history the diagram spans.
const SPAN_TICKS: f64 = 12.0;
const WIDTH: f64 = 600.0;
const LANE: f64 = 28.0;

/// A space-time diagram: one lane per node, time to the right, messages in flight as arrows from their send
/// time to their delivery time.
#[function_component(SequenceDiagram)]
pub fn sequence_diagram(props: &SequenceDiagramProps) -> Html {
    let view = &props.view;
    let n = view.nodes.len();
    let height = LANE * (n as f64 + 0.5);
    // Arrows sit at fixed x (ticks times pixels per tick) in a group that slides left as time passes: a frame
    // changes one transform, not every arrow's coordinates.
    let per_tick = (WIDTH - 50.0) / SPAN_TICKS;
    let x = |t: f64| t * per_tick;
    let now_x = 40.0 + SPAN_TICKS * 0.5 * per_tick;
    let slide = move |time: f64| format!("translate({} 0)", fmt(now_x - time * per_tick));
    let arrows_ref = use_node_ref();
    {
        let arrows_ref = arrows_ref.clone();
        use_effect_with(props.clock.clone(), move |clock| {
            let listening = clock.listen(move |time| {
                if let Some(arrows) = arrows_ref.cast::<web_sys::Element>() {
                    let _ = arrows.set_attribute("transform", &slide(time));
                }
            });
            move || drop(listening)
        });
    }
    let y = |id: u8| LANE * (id as f64 - 0.5) + 6.0;
    html! {
        <section class="panel sequence" aria-label="Space-time diagram">
            <h2>{ "Space-time diagram" }</h2>
            <svg viewBox={format!("0 0 {} {}", fmt(WIDTH), fmt(height))} role="img"
                aria-label="Messages in flight per node over time; the vertical line is now">
                // Each list in a group of its own: Yew matches a list that mixes keyed and unkeyed children by
                // position, and re-creates every keyed child whose key moved. The arrows are not keyed: most
                // messages live a tick or two, so keyed arrows would nearly all be made anew on every render; by
                // position, a render moves the lines it has.
                <g class="lanes">
                    { for (1..=n as u8).map(|id| html! {
                        <g key={id}>
                            <text x="4" y={fmt(y(id) + 4.0)} class="lane-label">{ format!("n{id}") }</text>
                            <line class="lane" x1="40" x2={fmt(WIDTH)} y1={fmt(y(id))} y2={fmt(y(id))} />
                        </g>
                    }) }
                </g>
                <line class="now" x1={fmt(now_x)} x2={fmt(now_x)} y1="0" y2={fmt(height)} />
                <g class="arrows" ref={arrows_ref} transform={slide(props.clock.now())}>
                    { for view.messages.iter().take(150).map(|m| html! {
                        <line class={classes!("arrow", kind_class(m.kind))}
                            x1={fmt(x(m.sent_at as f64))} y1={fmt(y(m.from))}
                            x2={fmt(x(m.deliver_at as f64))} y2={fmt(y(m.to))} />
                    }) }
                </g>
            </svg>
        </section>
    }
}
