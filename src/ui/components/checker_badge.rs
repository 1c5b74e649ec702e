use yew::prelude::*;

use crate::ui::view::CheckerView;

/// Green while safety and linearizability hold; red with the explanation once the checker finds a violation.
/// (A function, not a component: it keeps no state, and a component costs the bundle its own copy of Yew's
/// mounting code.)
pub fn checker_badge(c: &CheckerView) -> Html {
    html! {
        <div class={classes!("checker", if c.ok { "ok" } else { "violated" })} role="status" aria-label="Checker">
            <strong>{ if c.ok { "✓ Checker: OK" } else { "✗ Checker: violation" } }</strong>
            <span class="checker-summary">{ c.summary.clone() }</span>
            if !c.ok {
                <ul class="checker-details">
                    { for c.explanation.iter().map(|line| html! { <li><pre>{ line.clone() }</pre></li> }) }
                </ul>
            }
        </div>
    }
}
