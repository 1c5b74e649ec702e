use std::rc::Rc;

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::paxos::{Bug, NodeId};
use crate::ui::app::{Cmd, Frame};
use crate::ui::runner::{RunSetup, SPEEDS};
use crate::ui::view::RoleView;

use super::FaultControls;

#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    pub frame: Rc<Frame>,
    pub dispatch: Callback<Cmd>,
}

pub(super) fn input_value(event: &Event) -> String {
    event.target_unchecked_into::<HtmlInputElement>().value()
}

pub(super) fn select_value(event: &Event) -> String {
    event.target_unchecked_into::<HtmlSelectElement>().value()
}

/// Time (play, pause, step, speed, timeline), the run's setup (seed, nodes, planted bug) and sharing, then the
/// faults (`FaultControls`).
#[function_component(Controls)]
pub fn controls(props: &ControlsProps) -> Html {
    let (f, d) = (&props.frame, &props.dispatch);
    html! {
        <div class="controls">
            { time_controls(f, d) }
            <section class="control-group setup" aria-label="Run">
                <SeedForm setup={f.setup.clone()} dispatch={d.clone()} />
                { setup_choices(f, d) }
                { share(f, d) }
            </section>
            <FaultControls faults={f.faults.clone()} nodes={f.setup.nodes as NodeId} leader={leader(f)}
                dispatch={d.clone()} />
        </div>
    }
}

fn emit(d: &Callback<Cmd>, cmd: Cmd) -> Callback<MouseEvent> {
    let d = d.clone();
    Callback::from(move |_: MouseEvent| d.emit(cmd.clone()))
}

/// Play or pause, step, speed, the tick and the run's fingerprint, and the timeline.
fn time_controls(f: &Frame, d: &Callback<Cmd>) -> Html {
    let on_speed = {
        let d = d.clone();
        Callback::from(move |event: Event| {
            d.emit(Cmd::Speed(f64::from(select_value(&event).parse::<u32>().unwrap_or(8))))
        })
    };
    let on_seek = {
        let d = d.clone();
        Callback::from(move |event: InputEvent| {
            let value = event.target_unchecked_into::<HtmlInputElement>().value();
            d.emit(Cmd::Seek(value.parse().unwrap_or(0)));
        })
    };
    html! {
        <section class="control-group time" aria-label="Time">
            <div class="buttons">
                { time_buttons(f, d) }
                <label class="inline">
                    <span>{ "Speed" }</span>
                    <select onchange={on_speed}>
                        { for SPEEDS.iter().map(|speed| html! {
                            <option value={speed.to_string()} selected={f64::from(*speed) == f.speed}>
                                { if *speed == 1 { "1 tick/s".to_owned() } else { format!("{speed} ticks/s") } }
                            </option>
                        }) }
                    </select>
                </label>
                <span class="tick">{ format!("tick {}", f.view.now) }</span>
                <span class="fingerprint" title="The trace's hash: two runs with the same fingerprint at the same tick did the same thing">
                    { "run " }<output aria-label="Run fingerprint">{ format!("{:016x}", f.view.trace_hash) }</output>
                </span>
            </div>
            <label class="timeline">
                <span>{ "Timeline" }</span>
                <input type="range" min="0" max={f.horizon.max(1).to_string()} value={f.view.now.to_string()}
                    oninput={on_seek} aria-valuetext={format!("tick {} of {}", f.view.now, f.horizon)} />
            </label>
        </section>
    }
}

/// Play or pause, one tick, and stepping event by event; while stepping, Back, Forward (one event each) and
/// letting time run again.
fn time_buttons(f: &Frame, d: &Callback<Cmd>) -> Html {
    if f.stepping {
        return html! { <>
            <button onclick={emit(d, Cmd::Back)} disabled={f.view.now == 0} aria-keyshortcuts="ArrowLeft">{ "Back" }</button>
            <button onclick={emit(d, Cmd::Forward)} disabled={f.view.now >= f.horizon} aria-keyshortcuts="ArrowRight">
                { "Forward" }
            </button>
            <button class="primary" onclick={emit(d, Cmd::StepByEvent(false))}>{ "Let time run" }</button>
        </> };
    }
    html! { <>
        if f.playing {
            <button onclick={emit(d, Cmd::Pause)}>{ "Pause" }</button>
        } else {
            <button class="primary" onclick={emit(d, Cmd::Play)}>{ "Play" }</button>
        }
        <button onclick={emit(d, Cmd::Step)}>{ "Step" }</button>
        <button onclick={emit(d, Cmd::StepByEvent(true))}
            title="Stop time: nothing happens until you choose the next event">{ "Step by event" }</button>
    </> }
}

/// The node that leads now, if one does.
fn leader(f: &Frame) -> Option<NodeId> {
    f.view.nodes.iter().find(|node| node.role == RoleView::Leader).map(|node| node.id)
}

/// The run's setup only, so the seed form skips rendering while the run plays.
#[derive(Properties, PartialEq)]
struct SeedFormProps {
    setup: RunSetup,
    dispatch: Callback<Cmd>,
}

/// The seed being typed, and "New run" to restart with it once it is a number.
#[function_component(SeedForm)]
fn seed_form(props: &SeedFormProps) -> Html {
    let (setup, d) = (&props.setup, &props.dispatch);
    let seed_draft = use_state(|| setup.seed.to_string());
    {
        let seed_draft = seed_draft.clone();
        use_effect_with(setup.seed, move |seed| seed_draft.set(seed.to_string()));
    }
    let on_seed_input = {
        let seed_draft = seed_draft.clone();
        Callback::from(move |event: InputEvent| {
            seed_draft.set(event.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let seed_valid = seed_draft.trim().parse::<u64>().is_ok();
    let on_seed_submit = {
        let (d, setup, draft) = (d.clone(), setup.clone(), (*seed_draft).clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if let Ok(seed) = draft.trim().parse::<u64>() {
                d.emit(Cmd::Restart(RunSetup { seed, ..setup.clone() }));
            }
        })
    };
    html! {
        <form class="seed" onsubmit={on_seed_submit}>
            <label class="inline">
                <span>{ "Seed" }</span>
                <input type="text" inputmode="numeric" value={(*seed_draft).clone()} oninput={on_seed_input}
                    aria-invalid={(!seed_valid).to_string()} size="10" />
            </label>
            <button type="submit" disabled={!seed_valid}>{ "New run" }</button>
        </form>
    }
}

/// Nodes, background clients and the planted bug: changing one restarts the run.
fn setup_choices(f: &Frame, d: &Callback<Cmd>) -> Html {
    let restart_with = |change: fn(&mut RunSetup, &str)| {
        let (d, setup) = (d.clone(), f.setup.clone());
        Callback::from(move |event: Event| {
            let mut next = setup.clone();
            change(&mut next, &select_value(&event));
            d.emit(Cmd::Restart(next));
        })
    };
    html! { <>
        <label class="inline">
            <span>{ "Nodes" }</span>
            <select onchange={restart_with(|s, v| s.nodes = v.parse().unwrap_or(5))}>
                { for (3..=7).map(|k| html! { <option value={k.to_string()} selected={k == f.setup.nodes}>{ k }</option> }) }
            </select>
        </label>
        <label class="inline">
            <span>{ "Background clients" }</span>
            <select onchange={restart_with(|s, v| s.clients = v.parse().unwrap_or(0))}>
                { for [0u64, 1, 2, 4].iter().map(|k| html! {
                    <option value={k.to_string()} selected={*k == f.setup.clients}>{ k }</option>
                }) }
            </select>
        </label>
        <label class="inline">
            <span>{ "Planted bug" }</span>
            <select onchange={restart_with(|s, v| s.bug = Bug::from_name(v))}>
                <option value="" selected={f.setup.bug.is_none()}>{ "none (correct Paxos)" }</option>
                { for Bug::ALL.iter().map(|bug| html! {
                    <option value={bug.name()} selected={f.setup.bug == Some(*bug)} title={bug.description()}>
                        { bug.name() }
                    </option>
                }) }
            </select>
        </label>
        if let Some(bug) = f.setup.bug {
            <p class="bug-note">{ format!("Planted: {}.", bug.description()) }</p>
        }
    </> }
}

/// Share, and the link it made.
fn share(f: &Frame, d: &Callback<Cmd>) -> Html {
    html! {
        <div class="share">
            <button onclick={emit(d, Cmd::Share)}>{ "Share" }</button>
            if let Some(url) = &f.share_url {
                <label class="inline share-link">
                    <span>{ "Share link" }</span>
                    <input type="text" readonly=true value={url.clone()} />
                </label>
                <span class="muted">{ "Copied to the clipboard if the browser allowed it." }</span>
            }
        </div>
    }
}
