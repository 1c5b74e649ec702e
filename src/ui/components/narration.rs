use std::rc::Rc;

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct NarrationProps {
    pub lines: Rc<[String]>,
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
                { for props.lines.iter().enumerate().map(|(i, line)| html! { <li key={format!("{i}:{line}")}>{ line.clone() }</li> }) }
            </ol>
        </section>
    }
}
