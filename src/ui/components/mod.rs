//! One component per file, each with `PartialEq` props.

mod feature_card;
mod logo;

pub use feature_card::{FeatureCard, FeatureCardProps};
pub use logo::Logo;
