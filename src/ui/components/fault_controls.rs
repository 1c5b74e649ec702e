//! The Faults section of the controls: random fault rates (loss, duplicates, delay, late messages, one-way and
//! flapping links, crashes after a write), partitions the visitor makes by hand, both ways or one way, and single
//! links.

use yew::prelude::*;

use crate::paxos::NodeId;
use crate::sim::{FaultConfig, UserAction};
use crate::ui::app::Cmd;

use super::controls::{input_value, select_value};

/// Only what the faults show, not the whole frame: at fast-forward a new frame comes every few animation
/// frames, and these controls then skip rendering.
#[derive(Properties, PartialEq, Clone)]
pub struct FaultControlsProps {
    pub faults: FaultConfig,
    pub nodes: NodeId,
    /// The node that leads now, for "isolate the leader".
    pub leader: Option<NodeId>,
    pub dispatch: Callback<Cmd>,
}

/// How long a one-way or flapping link failure lasts, and the longest lateness of a late message, in ticks.
const LINK_TICKS: u64 = 40;
const LATE_TICKS_MAX: u64 = 300;
/// How long a node crashed right after a write stays down, when no crash duration is set yet.
const DOWN_TICKS: u64 = 30;

#[function_component(FaultControls)]
pub fn fault_controls(props: &FaultControlsProps) -> Html {
    html! {
        <section class="control-group faults" aria-label="Faults">
            { rate_sliders(&props.faults, &props.dispatch) }
            <PartitionControls ..props.clone() />
            <LinkControls ..props.clone() />
        </section>
    }
}

/// One slider for a rate in percent; `set` writes the new percentage into the fault rates.
fn rate_slider(
    faults: &FaultConfig,
    dispatch: &Callback<Cmd>,
    (label, hint): (&'static str, &'static str),
    (value, max): (u32, u32),
    set: fn(&mut FaultConfig, u32),
) -> Html {
    let on_change = {
        let (dispatch, faults) = (dispatch.clone(), faults.clone());
        Callback::from(move |event: Event| {
            let mut next = faults.clone();
            set(&mut next, input_value(&event).parse().unwrap_or(0));
            dispatch.emit(Cmd::Faults(next));
        })
    };
    html! {
        <label class="slider" title={hint}>
            <span>{ label }</span>
            <input type="range" min="0" max={max.to_string()} step="1" value={value.to_string()} onchange={on_change}
                aria-valuetext={format!("{value}%")} />
            <output>{ format!("{value}%") }</output>
        </label>
    }
}

/// The sliders of the random fault rates. A plain function, not a component: it keeps no state, and each
/// component costs the bundle its own copy of Yew's generic mounting and diffing code.
fn rate_sliders(rates: &FaultConfig, d: &Callback<Cmd>) -> Html {
    let f = rates;
    let percent = |ppm: u32| ppm / 10_000;
    let delay = rates.delay_max;
    let on_delay = {
        let (d, faults) = (d.clone(), rates.clone());
        Callback::from(move |event: Event| {
            let max: u64 = input_value(&event).parse().unwrap_or(1);
            d.emit(Cmd::Faults(FaultConfig { delay_min: 1, delay_max: max.max(1), ..faults.clone() }));
        })
    };
    html! {
        <>
            { rate_slider(f, d, ("Drop rate", "Each message is lost with this chance."), (percent(rates.drop_ppm), 50),
                |c, v| c.drop_ppm = v * 10_000) }
            { rate_slider(f, d, ("Duplicate rate", "Each message arrives twice with this chance."),
                (percent(rates.duplicate_ppm), 50), |c, v| c.duplicate_ppm = v * 10_000) }
            <label class="slider">
                <span>{ "Delay" }</span>
                <input type="range" min="1" max="12" step="1" value={delay.to_string()} onchange={on_delay}
                    aria-valuetext={format!("1 to {delay} ticks")} />
                <output>{ format!("1–{delay} ticks") }</output>
            </label>
            { rate_slider(f, d, ("Late rate", "Each message is held back 100 to 300 ticks with this chance, long after every timeout."),
                (percent(rates.late_ppm), 20), |c, v| { c.late_ppm = v * 10_000; c.late_ticks_max = LATE_TICKS_MAX; }) }
            { rate_slider(f, d, ("One-way link failures", "Each tick, with this chance, one link fails in one direction for 40 ticks: A hears B, B does not hear A."),
                (percent(rates.one_way_link_ppm), 10), |c, v| { c.one_way_link_ppm = v * 10_000; c.link_ticks = LINK_TICKS; }) }
            { rate_slider(f, d, ("Flapping links", "Each tick, with this chance, one link starts going down and up every few ticks, for 40 ticks."),
                (percent(rates.flapping_link_ppm), 10), |c, v| { c.flapping_link_ppm = v * 10_000; c.link_ticks = LINK_TICKS; }) }
            { rate_slider(f, d, ("Crash after write", "Each write, with this chance, its node crashes right after the disk has it and before the node hears so."),
                (percent(rates.mid_write_crash_ppm), 10), |c, v| {
                    c.mid_write_crash_ppm = v * 10_000;
                    c.down_ticks = if c.down_ticks == 0 { DOWN_TICKS } else { c.down_ticks };
                }) }
        </>
    }
}

/// Who a hand-made partition cuts off: the largest minority, one node, or whichever node leads now.
fn isolated_group(choice: &str, n: NodeId, leader: Option<NodeId>) -> Vec<NodeId> {
    match choice {
        "leader" => leader.into_iter().collect(),
        _ => match choice.parse::<NodeId>() {
            Ok(id) if (1..=n).contains(&id) => vec![id],
            _ => minority(n),
        },
    }
}

/// The first ⌊(n-1)/2⌋ nodes: the largest minority.
fn minority(n: NodeId) -> Vec<NodeId> {
    (1..=(n - 1) / 2).collect()
}

/// The actions a partition of `isolated` from the rest takes: one symmetric partition, or a cut of every link
/// one way (`silenced`: the isolated nodes are not heard; `deaf`: they hear nothing).
fn partition_actions(isolated: &[NodeId], n: NodeId, direction: &str) -> Vec<UserAction> {
    let rest: Vec<NodeId> = (1..=n).filter(|id| !isolated.contains(id)).collect();
    let links = |from: &[NodeId], to: &[NodeId]| -> Vec<UserAction> {
        from.iter().flat_map(|a| to.iter().map(move |b| UserAction::CutLink { from: *a, to: *b })).collect()
    };
    match direction {
        "silenced" => links(isolated, &rest),
        "deaf" => links(&rest, isolated),
        _ => vec![UserAction::Partition { groups: vec![isolated.to_vec(), rest] }],
    }
}

#[function_component(PartitionControls)]
fn partition_controls(props: &FaultControlsProps) -> Html {
    let (n, d) = (props.nodes, &props.dispatch);
    let choice = use_state(|| "minority".to_string());
    let direction = use_state(|| "both".to_string());
    let on_choice = {
        let choice = choice.clone();
        Callback::from(move |event: Event| choice.set(select_value(&event)))
    };
    let on_direction = {
        let direction = direction.clone();
        Callback::from(move |event: Event| direction.set(select_value(&event)))
    };
    let isolated = isolated_group(&choice, n, props.leader);
    let actions = partition_actions(&isolated, n, &direction);
    let on_partition = {
        let d = d.clone();
        Callback::from(move |_: MouseEvent| actions.iter().for_each(|action| d.emit(Cmd::Act(action.clone()))))
    };
    let option = |value: &str, label: String, current: &str| {
        html! {
            <option value={value.to_string()} selected={current == value}>{ label }</option>
        }
    };
    html! {
        <div class="buttons">
            <label class="inline">
                <span>{ "Partition" }</span>
                <select onchange={on_choice}>
                    { option("minority", format!("minority {:?} | rest", minority(n)), &choice) }
                    { option("leader", "isolate the leader".into(), &choice) }
                    { for (1..=n).map(|id| option(&id.to_string(), format!("isolate node {id}"), &choice)) }
                </select>
            </label>
            <label class="inline">
                <span>{ "Direction" }</span>
                <select onchange={on_direction}>
                    { option("both", "both ways".into(), &direction) }
                    { option("silenced", "one way: they are not heard".into(), &direction) }
                    { option("deaf", "one way: they hear nothing".into(), &direction) }
                </select>
            </label>
            <button disabled={isolated.is_empty()} onclick={on_partition}>{ "Make partition" }</button>
            <button onclick={emit(d, Cmd::Act(UserAction::Heal))}>{ "Heal network" }</button>
        </div>
    }
}

fn emit(dispatch: &Callback<Cmd>, cmd: Cmd) -> Callback<MouseEvent> {
    let dispatch = dispatch.clone();
    Callback::from(move |_: MouseEvent| dispatch.emit(cmd.clone()))
}

#[function_component(LinkControls)]
fn link_controls(props: &FaultControlsProps) -> Html {
    let (n, d) = (props.nodes, &props.dispatch);
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
        <div class="buttons">
            <label class="inline"><span>{ "Link from" }</span>
                <select aria-label="Link from" onchange={on_link_from}>{ for node_options(from) }</select></label>
            <label class="inline"><span>{ "to" }</span>
                <select aria-label="Link to" onchange={on_link_to}>{ for node_options(to) }</select></label>
            <button disabled={from == to} onclick={emit(d, Cmd::Act(UserAction::CutLink { from, to }))}>{ "Cut link" }</button>
            <button disabled={from == to} onclick={emit(d, Cmd::Act(UserAction::HealLink { from, to }))}>{ "Heal link" }</button>
        </div>
    }
}
