//! Where the cluster is stored, how far it is saved, and any storage problem, with the actions that fix it ("Reset
//! cluster", "Take over"). A status region labelled "Storage"; a problem is also announced as an alert.

use yew::prelude::*;

use crate::ui::persist::StorageStatus;
use crate::ui::Cmd;

#[derive(Properties, PartialEq)]
pub struct StorageStatusProps {
    pub status: StorageStatus,
    /// Whether the cluster is kept in IndexedDB at all (a reset means something).
    pub persistent: bool,
    /// The last tick IndexedDB committed (what a reload comes back to), while the page writes it.
    pub saved_tick: Option<u64>,
    pub dispatch: Callback<Cmd>,
}

#[function_component(StorageStatusBar)]
pub fn storage_status(props: &StorageStatusProps) -> Html {
    let status = &props.status;
    let emit = |cmd: Cmd| {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.emit(cmd.clone()))
    };
    html! {
        <section class={classes!("storage-status", status.problem.is_some().then_some("problem"))}
            role="status" aria-label="Storage">
            <p class="storage-summary">{ status.summary.clone() }</p>
            if let Some(problem) = &status.problem {
                <p class="storage-problem" role="alert">{ problem.clone() }</p>
            }
            if let Some(tick) = props.saved_tick {
                // It changes with every commit: shown, not announced.
                <p class="storage-saved" aria-live="off">{ format!("Saved up to tick {tick}.") }</p>
            }
            <div class="storage-actions">
                if status.offer_take_over {
                    <button onclick={emit(Cmd::TakeOver)}>{ "Take over" }</button>
                }
                if props.persistent && !status.offer_take_over {
                    <button class={classes!(status.offer_reset.then_some("danger"))}
                        onclick={emit(Cmd::ResetCluster)}>{ "Reset cluster" }</button>
                }
            </div>
        </section>
    }
}
