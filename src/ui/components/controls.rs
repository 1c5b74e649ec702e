use std::rc::Rc;

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::paxos::{Bug, NodeId};
use crate::sim::{FaultConfig, UserAction};
use crate::ui::app::{Cmd, Frame};
use crate::ui::runner::RunSetup;

#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    pub frame: Rc<Frame>,
    pub dispatch: Callback<Cmd>,
}

const SPEEDS: &[(u32, &str)] = &[
    (1, "1 tick/s"),
    (3, "3 ticks/s"),
    (8, "8 ticks/s"),
    (25, "25 ticks/s"),
    (100, "100 ticks/s"),
    (400, "400 ticks/s"),
    (2000, "2000 ticks/s"),
];

fn input_value(event: &Event) -> String {
    event.target_unchecked_into::<HtmlInputElement>().value()
}

fn select_value(event: &Event) -> String {
    event.target_unchecked_into::<HtmlSelectElement>().value()
}

/// Time (play, pause, step, speed, timeline), the run's setup (seed, nodes, planted bug), faults, partitions
/// and sharing.
#[function_component(Controls)]
pub fn controls(props: &ControlsProps) -> Html {
    let f = &props.frame;
    let d = &props.dispatch;
    let emit = |cmd: Cmd| {
        let d = d.clone();
        Callback::from(move |_: MouseEvent| d.emit(cmd.clone()))
    };
    let n = f.setup.nodes as NodeId;
    let seed_draft = use_state(|| f.setup.seed.to_string());
    {
        let seed_draft = seed_draft.clone();
        use_effect_with(f.setup.seed, move |seed| seed_draft.set(seed.to_string()));
    }
    let restart_with = |change: fn(&mut RunSetup, &str), setup: RunSetup| {
        let d = d.clone();
        Callback::from(move |event: Event| {
            let mut next = setup.clone();
            change(&mut next, &select_value(&event));
            d.emit(Cmd::Restart(next));
        })
    };
    let on_nodes = restart_with(|s, v| s.nodes = v.parse().unwrap_or(5), f.setup.clone());
    let on_bug = restart_with(|s, v| s.bug = Bug::from_name(v), f.setup.clone());
    let on_clients = restart_with(|s, v| s.clients = v.parse().unwrap_or(0), f.setup.clone());
    let on_seed_input = {
        let seed_draft = seed_draft.clone();
        Callback::from(move |event: InputEvent| {
            seed_draft.set(event.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let seed_valid = seed_draft.trim().parse::<u64>().is_ok();
    let on_seed_submit = {
        let d = d.clone();
        let setup = f.setup.clone();
        let draft = (*seed_draft).clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if let Ok(seed) = draft.trim().parse::<u64>() {
                d.emit(Cmd::Restart(RunSetup { seed, ..setup.clone() }));
            }
        })
    };
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
    let fault_slider = |label: &'static str, value: u32, set: fn(&mut FaultConfig, u32)| {
        let d = d.clone();
        let faults = f.faults.clone();
        let on_change = Callback::from(move |event: Event| {
            let mut next = faults.clone();
            set(&mut next, input_value(&event).parse().unwrap_or(0));
            d.emit(Cmd::Faults(next));
        });
        html! {
            <label class="slider">
                <span>{ label }</span>
                <input type="range" min="0" max="50" step="1" value={value.to_string()} onchange={on_change}
                    aria-valuetext={format!("{value}%")} />
                <output>{ format!("{value}%") }</output>
            </label>
        }
    };
    let delay = f.faults.delay_max;
    let on_delay = {
        let d = d.clone();
        let faults = f.faults.clone();
        Callback::from(move |event: Event| {
            let max: u64 = input_value(&event).parse().unwrap_or(1);
            d.emit(Cmd::Faults(FaultConfig { delay_min: 1, delay_max: max.max(1), ..faults.clone() }));
        })
    };
    // Partitions: isolate one node, or split off a minority.
    let partition_choice = use_state(|| "minority".to_string());
    let on_partition_choice = {
        let choice = partition_choice.clone();
        Callback::from(move |event: Event| choice.set(select_value(&event)))
    };
    let groups = partition_groups(&partition_choice, n);
    let link = use_state(|| (1 as NodeId, 2 as NodeId));
    let on_link_from = {
        let link = link.clone();
        Callback::from(move |event: Event| link.set((select_value(&event).parse().unwrap_or(1), link.1)))
    };
    let on_link_to = {
        let link = link.clone();
        Callback::from(move |event: Event| link.set((link.0, select_value(&event).parse().unwrap_or(2))))
    };
    let (from, to) = (*link).min((n, n));
    let node_options = |selected: NodeId| {
        (1..=n).map(move |id| html! { <option value={id.to_string()} selected={id == selected}>{ id }</option> })
    };
    html! {
        <div class="controls">
            <section class="control-group time" aria-label="Time">
                <div class="buttons">
                    if f.playing {
                        <button onclick={emit(Cmd::Pause)}>{ "Pause" }</button>
                    } else {
                        <button class="primary" onclick={emit(Cmd::Play)}>{ "Play" }</button>
                    }
                    <button onclick={emit(Cmd::Step)}>{ "Step" }</button>
                    <label class="inline">
                        <span>{ "Speed" }</span>
                        <select onchange={on_speed}>
                            { for SPEEDS.iter().map(|(speed, label)| html! {
                                <option value={speed.to_string()} selected={f64::from(*speed) == f.speed}>{ *label }</option>
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
            <section class="control-group setup" aria-label="Run">
                <form class="seed" onsubmit={on_seed_submit}>
                    <label class="inline">
                        <span>{ "Seed" }</span>
                        <input type="text" inputmode="numeric" value={(*seed_draft).clone()} oninput={on_seed_input}
                            aria-invalid={(!seed_valid).to_string()} size="10" />
                    </label>
                    <button type="submit" disabled={!seed_valid}>{ "New run" }</button>
                </form>
                <label class="inline">
                    <span>{ "Nodes" }</span>
                    <select onchange={on_nodes}>
                        { for (3..=7).map(|k| html! { <option value={k.to_string()} selected={k == f.setup.nodes}>{ k }</option> }) }
                    </select>
                </label>
                <label class="inline">
                    <span>{ "Background clients" }</span>
                    <select onchange={on_clients}>
                        { for [0u64, 1, 2, 4].iter().map(|k| html! {
                            <option value={k.to_string()} selected={*k == f.setup.clients}>{ k }</option>
                        }) }
                    </select>
                </label>
                <label class="inline">
                    <span>{ "Planted bug" }</span>
                    <select onchange={on_bug}>
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
                <div class="share">
                    <button onclick={emit(Cmd::Share)}>{ "Share" }</button>
                    if let Some(url) = &f.share_url {
                        <label class="inline share-link">
                            <span>{ "Share link" }</span>
                            <input type="text" readonly=true value={url.clone()} />
                        </label>
                        <span class="muted">{ "Copied to the clipboard if the browser allowed it." }</span>
                    }
                </div>
            </section>
            <section class="control-group faults" aria-label="Faults">
                { fault_slider("Drop rate", f.faults.drop_ppm / 10_000, |c, v| c.drop_ppm = v * 10_000) }
                { fault_slider("Duplicate rate", f.faults.duplicate_ppm / 10_000, |c, v| c.duplicate_ppm = v * 10_000) }
                <label class="slider">
                    <span>{ "Delay" }</span>
                    <input type="range" min="1" max="12" step="1" value={delay.to_string()} onchange={on_delay}
                        aria-valuetext={format!("1 to {delay} ticks")} />
                    <output>{ format!("1–{delay} ticks") }</output>
                </label>
                <div class="buttons">
                    <label class="inline">
                        <span>{ "Partition" }</span>
                        <select onchange={on_partition_choice}>
                            <option value="minority" selected={*partition_choice == "minority"}>
                                { format!("minority {:?} | rest", minority(n)) }
                            </option>
                            { for (1..=n).map(|id| html! {
                                <option value={id.to_string()} selected={*partition_choice == id.to_string()}>
                                    { format!("isolate node {id}") }
                                </option>
                            }) }
                        </select>
                    </label>
                    <button onclick={emit(Cmd::Act(UserAction::Partition { groups }))}>{ "Make partition" }</button>
                    <button onclick={emit(Cmd::Act(UserAction::Heal))}>{ "Heal network" }</button>
                </div>
                <div class="buttons">
                    <label class="inline"><span>{ "Link from" }</span>
                        <select aria-label="Link from" onchange={on_link_from}>{ for node_options(from) }</select></label>
                    <label class="inline"><span>{ "to" }</span>
                        <select aria-label="Link to" onchange={on_link_to}>{ for node_options(to) }</select></label>
                    <button disabled={from == to} onclick={emit(Cmd::Act(UserAction::CutLink { from, to }))}>{ "Cut link" }</button>
                    <button disabled={from == to} onclick={emit(Cmd::Act(UserAction::HealLink { from, to }))}>{ "Heal link" }</button>
                </div>
            </section>
        </div>
    }
}

/// The first ⌊(n-1)/2⌋ nodes: the largest minority.
fn minority(n: NodeId) -> Vec<NodeId> {
    (1..=(n - 1) / 2).collect()
}

fn partition_groups(choice: &str, n: NodeId) -> Vec<Vec<NodeId>> {
    let isolated = match choice.parse::<NodeId>() {
        Ok(id) if (1..=n).contains(&id) => vec![id],
        _ => minority(n),
    };
    let rest = (1..=n).filter(|id| !isolated.contains(id)).collect();
    vec![isolated, rest]
}
