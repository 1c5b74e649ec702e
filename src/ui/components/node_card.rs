use yew::prelude::*;

use super::LogView;
use crate::sim::{Place, UserAction};
use crate::ui::app::Cmd;
use crate::ui::view::{NodeView, RoleView};

#[derive(Properties, PartialEq)]
pub struct NodeCardProps {
    pub node: NodeView,
    pub dispatch: Callback<Cmd>,
}

/// One node: role and positions, its actions, its log (`LogView`), its KV store, and its memory and disk side
/// by side.
#[function_component(NodeCard)]
pub fn node_card(props: &NodeCardProps) -> Html {
    let node = &props.node;
    let id = node.id;
    let act = |action: UserAction| {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.emit(Cmd::Act(action.clone())))
    };
    let down = node.role == RoleView::Down;
    let role_label = match () {
        _ if node.retired => "retired".to_string(),
        _ if node.paused && !down => format!("{} (paused)", node.role.name()),
        _ => node.role.name().into(),
    };
    html! {
        <article class={classes!("node-card", format!("role-{}", node.role.name()))} aria-label={format!("Node {id}")}>
            <header>
                <h2>{ format!("Node {id}") }</h2>
                <span class="role-pill">{ role_label }</span>
            </header>
            <dl class="facts">
                <div><dt>{ "ballot" }</dt><dd>{ node.ballot.clone() }</dd></div>
                <div><dt>{ "promised" }</dt><dd>{ node.promised.clone() }</dd></div>
                <div><dt>{ "first unchosen" }</dt><dd>{ node.first_unchosen }</dd></div>
                <div><dt>{ "applied up to" }</dt><dd>{ node.applied_upto }</dd></div>
                <div><dt>{ "leader" }</dt><dd>{ node.leader.map_or("?".into(), |l| l.to_string()) }</dd></div>
            </dl>
            <div class="node-actions">
                if node.retired {
                    <p class="hint">{ "Removed from the configuration: it no longer votes." }</p>
                } else if down {
                    <button onclick={act(UserAction::Restart { node: id })}>{ format!("Restart node {id}") }</button>
                } else {
                    <button class="danger" onclick={act(UserAction::Crash { node: id })}>{ format!("Kill node {id}") }</button>
                    if node.paused {
                        <button onclick={act(UserAction::Resume { node: id })}>{ format!("Resume node {id}") }</button>
                    } else {
                        <button onclick={act(UserAction::Pause { node: id })}>{ format!("Pause node {id}") }</button>
                    }
                }
                if node.member && !node.retired {
                    <button onclick={act(UserAction::RemoveNode { node: id })}>{ format!("Remove node {id}") }</button>
                }
            </div>
            <div class="storage">
                { memory_pane(node) }
                { disk_pane(node) }
            </div>
            { changes_pane(node) }
            <LogView node={id} log_start={node.log_start} log_end={node.log_end} window_top={node.window_top}
                rows={node.rows.clone()} dispatch={props.dispatch.clone()} />
            { kv_store(node) }
        </article>
    }
}

/// What the node's process holds: gone while it is down.
fn memory_pane(node: &NodeView) -> Html {
    let down = node.role == RoleView::Down;
    html! {
        <section class={classes!("pane", "memory", down.then_some("empty"))} aria-label={format!("Node {} memory", node.id)}>
            <h3>{ "Memory" }</h3>
            { match &node.memory {
                Some(m) => html! { <ul>
                    <li>{ format!("promised {}", m.promised) }</li>
                    <li>{ format!("{} log entries", m.log_entries) }</li>
                    <li>{ format!("applied < {}", m.applied_upto) }</li>
                    <li>{ format!("{} keys", m.keys) }</li>
                    <li>{ format!("{} held messages", m.held_messages) }</li>
                </ul> },
                None => html! { <p>{ "empty: the process is down" }</p> },
            } }
        </section>
    }
}

/// What the node's disk holds, and how many writes it has not yet made durable.
fn disk_pane(node: &NodeView) -> Html {
    let disk = &node.disk;
    html! {
        <section class="pane disk" aria-label={format!("Node {} disk", node.id)}>
            <h3>{ format!("Disk ({})", disk.source) }</h3>
            <ul>
                <li>{ format!("promised {}", disk.promised) }</li>
                <li>{ format!("{} entries", disk.entries) }</li>
                if let Some(last) = &disk.last_entry {
                    <li class="last-entry">{ format!("newest {last}") }</li>
                }
                <li>{ format!("chosen < {}", disk.chosen_upto) }</li>
                <li>{ disk.snapshot_upto.map_or("no snapshot".into(), |s| format!("snapshot < {s}")) }</li>
                <li class={classes!((disk.unsynced_batches > 0).then_some("unsynced"))}>
                    { format!("{} unsynced writes", disk.unsynced_batches) }
                </li>
            </ul>
        </section>
    }
}

/// While stepping, what the last event changed in this node, field by field, in memory and on disk.
fn changes_pane(node: &NodeView) -> Html {
    if node.changes.is_empty() {
        return html! {};
    }
    html! {
        <section class="changes" aria-label={format!("Node {} changes", node.id)}>
            <h3>{ "Changed by the last event" }</h3>
            <ul>
                { for node.changes.iter().map(|change| html! {
                    <li class={classes!(if change.place == Place::Disk { "disk" } else { "memory" })}>
                        <span class="where">{ if change.place == Place::Disk { "disk" } else { "memory" } }</span>
                        { format!(" {}: {} → {}", change.field, change.before, change.after) }
                    </li>
                }) }
            </ul>
        </section>
    }
}

/// The node's applied key-value store (the first 50 keys).
fn kv_store(node: &NodeView) -> Html {
    let down = node.role == RoleView::Down;
    html! {
        <section class="kv" aria-label={format!("Node {} KV store", node.id)}>
            <h3>{ "KV store" }</h3>
            if node.kv.is_empty() {
                <p class="muted">{ if down { "(in memory only: gone)" } else { "(empty)" } }</p>
            } else {
                <table class="kv-table">
                    <tbody>
                        { for node.kv.iter().take(50).map(|(k, v)| html! {
                            <tr key={k.clone()}><th scope="row">{ k.clone() }</th><td>{ v.clone() }</td></tr>
                        }) }
                    </tbody>
                </table>
            }
        </section>
    }
}
