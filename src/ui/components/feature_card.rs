use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct FeatureCardProps {
    /// One or two characters shown in the coloured square before the title.
    pub icon: AttrValue,
    pub title: AttrValue,
    #[prop_or_default]
    pub children: Html,
}

/// A titled card with a short description, used on the welcome screen.
#[function_component(FeatureCard)]
pub fn feature_card(props: &FeatureCardProps) -> Html {
    html! {
        <article class="feature">
            <h2><span class="feature-icon" aria-hidden="true">{ props.icon.clone() }</span>{ props.title.clone() }</h2>
            <p>{ props.children.clone() }</p>
        </article>
    }
}
