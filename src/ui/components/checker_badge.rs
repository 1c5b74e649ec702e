use yew::prelude::*;

use crate::ui::view::CheckerView;

#[derive(Properties, PartialEq)]
pub struct CheckerBadgeProps {
    pub checker: CheckerView,
}

/// Green while safety and linearizability hold; red with the explanation once the checker finds a violation.
#[function_component(CheckerBadge)]
pub fn checker_badge(props: &CheckerBadgeProps) -> Html {
    let c = &props.checker;
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
