//! A node's replicated log with a real scrollbar: a spacer as tall as every row would be, and only the rows in
//! view built and rendered (`view::from_sim` builds just those), so logs of thousands of entries stay cheap.
//! Newest first; scrolled to the top it follows new entries, scrolled down it keeps the same slots in view.

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use super::set_style;
use crate::paxos::NodeId;
use crate::ui::app::Cmd;
use crate::ui::view::LogRow;

/// The height of one row in CSS pixels (`.log-rows td` in style.css must match).
pub const ROW_PX: u64 = 22;

#[derive(Properties, PartialEq)]
pub struct LogViewProps {
    pub node: NodeId,
    pub log_start: u64,
    pub log_end: u64,
    /// The slot of the first rendered row.
    pub window_top: u64,
    pub rows: Rc<[LogRow]>,
    pub dispatch: Callback<Cmd>,
}

#[function_component(LogView)]
pub fn log_view(props: &LogViewProps) -> Html {
    let id = props.node;
    let scroller = use_node_ref();
    let spacer = use_node_ref();
    let rows_ref = use_node_ref();
    // The newest slot at the last render: when entries arrive while scrolled down, the view moves by as many
    // rows so the same slots stay under the reader's eyes.
    let newest_seen = use_mut_ref(|| None::<u64>);
    // The scroll offset as of the last scroll event: kept here so that keeping slots in view writes to the
    // DOM without reading it back (a read after this frame's writes would force a layout per node).
    let scroll_seen = use_mut_ref(|| 0_i32);
    let len = props.log_end.saturating_sub(props.log_start);
    let newest = props.log_end.saturating_sub(1);
    let index = newest.saturating_sub(props.window_top);
    {
        let (scroller, spacer, rows_ref, newest_seen, scroll_seen) =
            (scroller.clone(), spacer.clone(), rows_ref.clone(), newest_seen.clone(), scroll_seen.clone());
        use_effect_with((len, newest, index), move |&(len, newest, index)| {
            set_style(&spacer, "height", &format!("{}px", len * ROW_PX));
            set_style(&rows_ref, "transform", &format!("translateY({}px)", index * ROW_PX));
            let previous = newest_seen.borrow_mut().replace(newest);
            if let (Some(previous), Some(element)) = (previous, scroller.cast::<web_sys::Element>()) {
                if index > 0 && newest > previous {
                    let mut seen = scroll_seen.borrow_mut();
                    *seen += ((newest - previous) * ROW_PX) as i32;
                    element.set_scroll_top(*seen);
                }
            }
        });
    }
    let on_scroll = {
        let (dispatch, scroll_seen) = (props.dispatch.clone(), scroll_seen.clone());
        Callback::from(move |event: Event| {
            let element = event.target_unchecked_into::<web_sys::Element>();
            let top = element.scroll_top().max(0);
            *scroll_seen.borrow_mut() = top;
            let at = (top as u64 / ROW_PX).min(len.saturating_sub(1));
            if at != index {
                dispatch.emit(Cmd::Scroll(id, (at > 0).then(|| newest - at)));
            }
        })
    };
    let follow = follow_newest(id, &props.dispatch, &scroller, &scroll_seen);
    html! {
        <section class="log" aria-label={format!("Node {id} log")}>
            <header class="log-head">
                <h3>{ format!("Log ({len} slots)") }</h3>
                <button class="log-follow" aria-label={format!("Follow the newest entries of node {id}")}
                    disabled={index == 0} onclick={follow}>{ "newest" }</button>
            </header>
            <div class="log-cols" aria-hidden="true">
                <span>{ "slot" }</span><span>{ "ballot" }</span><span>{ "command" }</span><span>{ "state" }</span>
            </div>
            <div class="log-scroll" ref={scroller} tabindex="0" role="group" onscroll={on_scroll}
                aria-label={format!("Node {id} log entries, newest first")}>
                <div class="log-spacer" ref={spacer}>
                    <table class="log-table log-rows" ref={rows_ref}>
                        { rows_body(&props.rows) }
                    </table>
                </div>
            </div>
        </section>
    }
}

/// "newest": scrolls back to the top, where the newest slots are, and keeps following them.
fn follow_newest(
    id: NodeId,
    dispatch: &Callback<Cmd>,
    scroller: &NodeRef,
    scroll_seen: &Rc<RefCell<i32>>,
) -> Callback<MouseEvent> {
    let (dispatch, scroller, scroll_seen) = (dispatch.clone(), scroller.clone(), scroll_seen.clone());
    Callback::from(move |_: MouseEvent| {
        if let Some(element) = scroller.cast::<web_sys::Element>() {
            element.set_scroll_top(0);
            *scroll_seen.borrow_mut() = 0;
        }
        dispatch.emit(Cmd::Scroll(id, None));
    })
}

/// The window's rows, newest slot first. Not keyed by slot: while entries arrive, the window shows new slots on
/// every render, and keyed rows would all be made anew (at fast-forward, 65 rows a frame for five cards); by
/// position, a render only rewrites the rows' text.
fn rows_body(rows: &[LogRow]) -> Html {
    html! {
        <tbody>
            { for rows.iter().map(|row| html! {
                <tr class={classes!(row.state, row.noop.then_some("noop"))}>
                    <td>{ row.slot }</td>
                    <td>{ row.ballot.clone() }</td>
                    <td class="cmd">{ row.command.clone() }</td>
                    <td>{ row.state }</td>
                </tr>
            }) }
        </tbody>
    }
}
