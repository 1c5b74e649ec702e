use yew::prelude::*;

/// Three replicas agreeing: the same drawing as `www/favicon.svg`. (A function, not a component: it keeps no state, and a component costs the bundle its own copy of Yew's
/// mounting code.)
pub fn logo() -> Html {
    html! {
        <svg class="brand-logo" viewBox="0 0 64 64" aria-hidden="true">
            <rect width="64" height="64" rx="14" fill="#4f46e5" />
            <g stroke="#c7d2fe" stroke-width="3" stroke-linecap="round">
                <line x1="32" y1="15" x2="15" y2="45" />
                <line x1="32" y1="15" x2="49" y2="45" />
                <line x1="15" y1="45" x2="49" y2="45" />
            </g>
            <g fill="#ffffff">
                <circle cx="32" cy="15" r="8" />
                <circle cx="15" cy="45" r="8" />
                <circle cx="49" cy="45" r="8" />
            </g>
        </svg>
    }
}
