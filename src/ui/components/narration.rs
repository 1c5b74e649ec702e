use yew::prelude::*;

/// Protocol events in words, in a polite live region, so the run can be followed without the animation.
/// `first` is the number of the first line: a line's key, so a line keeps its DOM node while older ones scroll
/// out (re-created nodes would cost layout every tick and be announced again by the live region). `live`
/// announces new lines; off while the cluster runs fast: a screen reader cannot keep up with dozens of events a
/// second (the lines stay readable; pause or slow down to hear them).
/// (A function, not a component: it keeps no state, and a component costs the bundle its own copy of Yew's
/// mounting code.)
pub fn narration(lines: &[String], first: u64, live: bool) -> Html {
    html! {
        <section class="panel narration" aria-label="What just happened">
            <h2>{ "What just happened" }</h2>
            <ol class="narration-lines" aria-live={if live { "polite" } else { "off" }} aria-relevant="additions">
                { for lines.iter().zip(first..).map(|(line, number)| html! { <li key={number}>{ line.clone() }</li> }) }
            </ol>
        </section>
    }
}
