//! One component per file, each with `PartialEq` props.

mod checker_badge;
mod client_panel;
mod controls;
mod explorer_panel;
mod fault_controls;
mod help;
mod log_view;
mod logo;
mod message_panel;
mod narration;
mod node_card;
mod ring;
mod scenario_panel;
mod sequence;
mod step_panel;
mod storage_status;

pub use checker_badge::checker_badge;
pub use client_panel::ClientPanel;
pub use controls::Controls;
pub use explorer_panel::ExplorerPanel;
pub use fault_controls::FaultControls;
pub use help::help;
pub use log_view::LogView;
pub use logo::logo;
pub use message_panel::MessagePanel;
pub use narration::narration;
pub use node_card::NodeCard;
pub use ring::Ring;
pub use scenario_panel::{ScenarioPane, ScenarioPanel};
pub use sequence::SequenceDiagram;
pub use step_panel::StepPanel;
pub use storage_status::storage_status;

/// Sets a CSS property through the CSSOM (the page's CSP forbids `style` attributes, not the CSSOM): how the
/// virtual lists size their spacer and place their rows.
fn set_style(element: &yew::NodeRef, property: &str, value: &str) {
    if let Some(element) = element.cast::<web_sys::HtmlElement>() {
        let _ = element.style().set_property(property, value);
    }
}
