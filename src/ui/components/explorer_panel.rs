//! "Explore from here": the model checker's bounds, its button, its live progress and what it found (see
//! `ui::explorer`, which runs the search in a worker).

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use super::controls::input_value;
use crate::explore::Bounds;
use crate::sim::link::RunRecord;
use crate::ui::app::Cmd;
use crate::ui::explorer::{self, Explorer, News};

#[derive(Properties, PartialEq)]
pub struct ExplorerPanelProps {
    /// The run on screen, and its tick: where a search starts.
    pub record: Rc<RunRecord>,
    pub tick: u64,
    /// Messages in flight on screen: the messages bound is counted beyond them.
    pub in_flight: usize,
    pub dispatch: Callback<Cmd>,
}

/// Where the search is.
#[derive(Clone, Debug, PartialEq)]
enum Search {
    Idle,
    Running(News),
    Cancelled(News),
    Done(Rc<News>),
}

/// The panel's bounds before the run's nodes and messages are added: the command line's defaults (`Bounds`),
/// with room for two messages more than are in flight. From a fresh playground cluster they are exhausted in a
/// few seconds (BENCHMARKS.md, "Explore from here").
fn default_limits() -> Bounds {
    Bounds { messages: 2, ..Bounds::default() }
}

#[function_component(ExplorerPanel)]
pub fn explorer_panel(props: &ExplorerPanelProps) -> Html {
    let limits = use_state(default_limits);
    let search = use_state(|| Search::Idle);
    let explorer = use_mut_ref(|| None::<Explorer>);
    let running = matches!(*search, Search::Running(_));
    let on_explore = {
        let (record, tick, in_flight) = (props.record.clone(), props.tick, props.in_flight);
        let (limits, search, explorer) = (limits.clone(), search.clone(), explorer.clone());
        Callback::from(move |_: MouseEvent| {
            let bounds = Bounds {
                nodes: record.setup.nodes,
                messages: (in_flight + usize::from(limits.messages)).min(usize::from(u8::MAX)) as u8,
                ..(*limits).clone()
            };
            start_search(&record, tick, bounds, &search, &explorer);
        })
    };
    let on_cancel = {
        let (search, explorer) = (search.clone(), explorer.clone());
        Callback::from(move |_: MouseEvent| {
            explorer.borrow_mut().take();
            if let Search::Running(news) = &*search {
                search.set(Search::Cancelled(news.clone()));
            }
        })
    };
    html! {
        <section class="panel explorer-panel" aria-labelledby="explorer-heading">
            <h2 id="explorer-heading">{ "Model checker" }</h2>
            <p class="hint">
                { "Tries every order of events from the state on screen (its messages in flight and pending \
                   operations as they are, the background clients quiet), within these bounds, and checks every \
                   state." }
            </p>
            { bound_inputs(&limits, props.in_flight, running) }
            <button class="primary" onclick={on_explore} disabled={running}>{ "Explore from here" }</button>
            <div class="explorer-status" role="status" aria-label="Explorer">
                { status_view(&search, on_cancel, &props.dispatch) }
            </div>
        </section>
    }
}

/// Starts a search in a new worker (stopping any other) and routes its news into `search`.
fn start_search(
    record: &RunRecord,
    tick: u64,
    bounds: Bounds,
    search: &UseStateHandle<Search>,
    explorer: &Rc<RefCell<Option<Explorer>>>,
) {
    explorer.borrow_mut().take();
    let heard = search.clone();
    let hear = move |news: News| heard.set(if news.done { Search::Done(Rc::new(news)) } else { Search::Running(news) });
    // A search that cannot start says so in its news, after this.
    *explorer.borrow_mut() = Some(explorer::start(record, tick, bounds, hear));
    search.set(Search::Running(News::default()));
}

/// One number input of the bounds.
fn bound_input(label: &str, value: u32, max: u32, disabled: bool, set: Callback<u32>) -> Html {
    let on_change = Callback::from(move |event: Event| {
        if let Ok(value) = input_value(&event).trim().parse::<u32>() {
            set.emit(value.min(max));
        }
    });
    html! {
        <label class="bound">
            <span>{ label.to_string() }</span>
            <input type="number" min="0" max={max.to_string()} value={value.to_string()} {disabled}
                onchange={on_change} />
        </label>
    }
}

/// A bound's input as a count of events (each input caps its value well below this).
fn small(value: u32) -> u8 {
    value.min(u32::from(u8::MAX)) as u8
}

/// The bounds the visitor sets (the nodes are the run's).
fn bound_inputs(limits: &UseStateHandle<Bounds>, in_flight: usize, disabled: bool) -> Html {
    let setter = |write: fn(&mut Bounds, u32)| {
        let limits = limits.clone();
        Callback::from(move |value: u32| {
            let mut next = (*limits).clone();
            write(&mut next, value);
            limits.set(next);
        })
    };
    let l = &**limits;
    let messages = format!("Messages in flight, beyond the {in_flight} now");
    html! {
        <fieldset class="explorer-bounds">
            <legend>{ "Bounds" }</legend>
            { bound_input("Client operations", l.ops.into(), 8, disabled, setter(|b, v| b.ops = v.min(8) as u8)) }
            { bound_input("Crashes", l.crashes.into(), 9, disabled, setter(|b, v| b.crashes = small(v))) }
            { bound_input("Drops", l.drops.into(), 9, disabled, setter(|b, v| b.drops = small(v))) }
            { bound_input("Duplicates", l.dups.into(), 9, disabled, setter(|b, v| b.dups = small(v))) }
            { bound_input("Node ticks", l.ticks.into(), 40, disabled, setter(|b, v| b.ticks = small(v))) }
            { bound_input(&messages, l.messages.into(), 40, disabled, setter(|b, v| b.messages = small(v))) }
            { bound_input("Events per path", l.depth, 200, disabled, setter(|b, v| b.depth = v.max(1))) }
        </fieldset>
    }
}

/// `n` with a comma between groups of three digits.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn progress_line(news: &News) -> String {
    format!("{} states, depth {}, {} states/s", count(news.states), news.depth, count(news.states_per_s()))
}

/// What the status region says.
fn status_view(search: &Search, on_cancel: Callback<MouseEvent>, dispatch: &Callback<Cmd>) -> Html {
    match search {
        Search::Idle => html! { <p>{ "Not run yet." }</p> },
        Search::Running(news) => html! {
            <>
                <p>{ format!("Exploring: {}.", progress_line(news)) }</p>
                <button onclick={on_cancel}>{ "Cancel" }</button>
            </>
        },
        Search::Cancelled(news) => html! { <p>{ format!("Cancelled after {}.", progress_line(news)) }</p> },
        Search::Done(news) => outcome_view(news, dispatch),
    }
}

fn outcome_view(news: &News, dispatch: &Callback<Cmd>) -> Html {
    // Tenths of a second by integer arithmetic: formatting a float would cost the first load 5 kB.
    let tenths = news.elapsed_ms / 100;
    let took = format!("{}.{} s, {} states/s", tenths / 10, tenths % 10, count(news.states_per_s()));
    if let Some(why) = &news.failed {
        return html! { <p class="bad">{ format!("The explorer could not run: {why}.") }</p> };
    }
    match (&news.violation, &news.run) {
        (Some(violation), Some(run)) => found_view(news, (violation, &took), run, dispatch),
        _ if news.exhausted => html! {
            <p class="good">{ format!(
                "Exhausted: all {} states within the bounds were explored ({took}), and no invariant broke.",
                count(news.states)
            ) }</p>
        },
        _ => html! {
            <p>{ format!(
                "Stopped at {} states ({took}), the most a search here holds: the space was not exhausted, and no \
                 invariant broke in what was explored.",
                count(news.states)
            ) }</p>
        },
    }
}

/// A violation: in words, its path, and the button that loads it into the timeline.
fn found_view(news: &News, (violation, took): (&str, &str), run: &str, dispatch: &Callback<Cmd>) -> Html {
    let summary = violation.lines().next().unwrap_or_default().to_string();
    let load = {
        let (dispatch, run) = (dispatch.clone(), run.to_string());
        Callback::from(move |_: MouseEvent| match explorer::read_run(&run) {
            Ok(record) => dispatch.emit(Cmd::LoadPath(Rc::new(record))),
            Err(why) => gloo::console::error!(format!("the counterexample does not read: {why}")),
        })
    };
    html! {
        <>
            <p class="bad">{ format!(
                "Violation found after {} states ({took}), {} events from here: {summary}",
                count(news.states),
                news.events.len()
            ) }</p>
            <ol class="explorer-path">
                { for news.events.iter().map(|event| html! { <li>{ event.clone() }</li> }) }
            </ol>
            <button class="primary" onclick={load}>{ "Load counterexample" }</button>
        </>
    }
}
