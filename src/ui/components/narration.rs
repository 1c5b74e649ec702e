use std::rc::Rc;

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct NarrationProps {
    pub lines: Rc<[String]>,
    /// The number of the first line: a line's key, so a line keeps its DOM node while older ones scroll out
    /// (re-created nodes would cost layout every tick and be announced again by the live region).
    #[prop_or(0)]
    pub first: u64,
    /// Announce new lines. Off while the cluster runs fast: a screen reader cannot keep up with dozens of
    /// events a second (the lines stay readable; pause or slow down to hear them).
    #[prop_or(true)]
    pub live: bool,
}

/// Protocol events in words, in a polite live region, so the run can be followed without the animation.
#[function_component(Narration)]
pub fn narration(props: &NarrationProps) -> Html {
    html! {
        <section class="panel narration" aria-label="What just happened">
            <h2>{ "What just happened" }</h2>
            <ol class="narration-lines" aria-live={if props.live { "polite" } else { "off" }} aria-relevant="additions">
                { for props.lines.iter().zip(props.first..).map(|(line, number)| html! { <li key={number}>{ line.clone() }</li> }) }
            </ol>
        </section>
    }
}
