//! Where the cluster is stored, how far it is saved, and any storage problem, with the actions that fix it ("Reset
//! cluster", "Take over"). A status region labelled "Storage"; a problem is also announced as an alert.

use yew::prelude::*;

use crate::ui::persist::StorageStatus;
use crate::ui::Cmd;

/// The storage bar for `status`. `persistent`: whether the cluster is kept in IndexedDB at all (a reset means
/// something); `saved_tick`: the last tick IndexedDB committed (what a reload comes back to), while the page
/// writes it. (A function, not a component: it keeps no state, and a component costs the bundle its own copy of Yew's
/// mounting code.)
pub fn storage_status(
    status: &StorageStatus,
    persistent: bool,
    saved_tick: Option<u64>,
    dispatch: &Callback<Cmd>,
) -> Html {
    let emit = |cmd: Cmd| {
        let dispatch = dispatch.clone();
        Callback::from(move |_: MouseEvent| dispatch.emit(cmd.clone()))
    };
    html! {
        <section class={classes!("storage-status", status.problem.is_some().then_some("problem"))}
            role="status" aria-label="Storage">
            <p class="storage-summary">{ status.summary.clone() }</p>
            if let Some(problem) = &status.problem {
                <p class="storage-problem" role="alert">{ problem.clone() }</p>
            }
            if let Some(tick) = saved_tick {
                // It changes with every commit: shown, not announced.
                <p class="storage-saved" aria-live="off">{ format!("Saved up to tick {tick}.") }</p>
            }
            <div class="storage-actions">
                if status.offer_take_over {
                    <button onclick={emit(Cmd::TakeOver)}>{ "Take over" }</button>
                }
                if persistent && !status.offer_take_over {
                    <button class={classes!(status.offer_reset.then_some("danger"))}
                        onclick={emit(Cmd::ResetCluster)}>{ "Reset cluster" }</button>
                }
            </div>
        </section>
    }
}
