//! Authoring in the playground: "Export as scenario" writes the run so far as scenario text into an editor
//! that checks it as the author types (an error names the line), "Play scenario" runs the edited text, and
//! "Copy embed code" copies the one-line `<iframe>` that shows it on any page: the text packed into the frame's
//! address by default, or the address of a file the author hosts.

use std::rc::Rc;

use yew::prelude::*;

use crate::scenario::ScenarioError;
use crate::ui::app::Cmd;
use crate::ui::engine::{self, Checked};
use crate::ui::source;

/// What the app tells the editor.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScenarioPane {
    /// Text put into the editor (an export, or a scenario the address named), numbered: the editor takes it
    /// when the number changes, and keeps the author's edits otherwise.
    pub pushed: Option<(u64, Rc<str>)>,
    /// What the last export or play gave: (all is well, the sentence).
    pub outcome: Option<(bool, String)>,
}

impl ScenarioPane {
    /// Puts `text` into the editor.
    pub fn show(&mut self, text: Rc<str>) {
        let number = self.pushed.as_ref().map_or(1, |(number, _)| number + 1);
        self.pushed = Some((number, text));
    }
}

#[derive(Properties, PartialEq)]
pub struct ScenarioPanelProps {
    pub pane: Rc<ScenarioPane>,
    pub dispatch: Callback<Cmd>,
}

/// The page's own address, which an embed code points at.
fn page_address() -> String {
    let location = gloo::utils::window().location();
    format!("{}{}", location.origin().unwrap_or_default(), location.pathname().unwrap_or_default())
}

/// What the editor's text reads as (its title and summary), or the line saying where it is wrong. Until the
/// engine answers: `None`.
type Check = Option<Result<Checked, String>>;

/// Asks the engine what `text` reads as and shows it, unless the author typed on meanwhile (`asked` counts the
/// questions; only the answer to the last one is shown).
async fn check(text: String, number: u64, asked: Rc<std::cell::Cell<u64>>, checked: UseStateHandle<Check>) {
    let answer = match engine::check(&text).await {
        Ok(Ok(reads)) => Ok(reads),
        Ok(Err(ScenarioError { line: Some(line), field, message })) => {
            Err(format!("✗ Line {line} ({field}): {message}"))
        }
        Ok(Err(ScenarioError { line: None, field, message })) => Err(format!("✗ {field}: {message}")),
        Err(why) => Err(format!("✗ The text cannot be checked here: {why}.")),
    };
    if asked.get() == number {
        checked.set(Some(answer));
    }
}

/// The editor: export, the text, its check, play and copy.
#[function_component(ScenarioPanel)]
pub fn scenario_panel(props: &ScenarioPanelProps) -> Html {
    let text = use_state(String::new);
    let checked = use_state(|| None::<Result<Checked, String>>);
    let asked = use_memo((), |_| std::cell::Cell::new(0u64));
    // The embed codes made last, and whether the first reached the clipboard; or why they could not be made.
    let copied = use_state(|| None::<Result<Copied, String>>);
    {
        let (text, copied, pushed) = (text.clone(), copied.clone(), props.pane.pushed.clone());
        use_effect_with(pushed.as_ref().map(|(number, _)| *number), move |_| {
            if let Some((_, pushed)) = pushed {
                text.set(pushed.to_string());
                copied.set(None);
            }
        });
    }
    let (checked_now, asked_now) = (checked.clone(), asked.clone());
    use_effect_with((*text).clone(), move |text| {
        asked_now.set(asked_now.get() + 1);
        if !text.is_empty() {
            wasm_bindgen_futures::spawn_local(check(text.clone(), asked_now.get(), asked_now, checked_now));
        }
    });
    let (valid, line) = match &*checked {
        None => (false, "Checking…".to_string()),
        Some(Ok(reads)) => (true, reads.summary.clone()),
        Some(Err(line)) => (false, line.clone()),
    };
    html! {
        <section class="panel scenario-panel" aria-labelledby="scenario-heading">
            <h2 id="scenario-heading">{ "Write a scenario" }</h2>
            <p class="muted">{ "Turn this run into a scenario: edit it, play it, and embed it in your own pages." }</p>
            <div class="buttons">
                <button type="button" onclick={props.dispatch.reform(|_| Cmd::ExportScenario)}>
                    { "Export as scenario" }
                </button>
            </div>
            if let Some((good, sentence)) = &props.pane.outcome {
                <p class={classes!("scenario-outcome", (!good).then_some("bad"))} role="status"
                    aria-label="Scenario outcome">{ sentence.clone() }</p>
            }
            if props.pane.pushed.is_some() || !text.is_empty() {
                <label for="scenario-text">{ "Scenario" }</label>
                <textarea id="scenario-text" class="scenario-text" rows="18" spellcheck="false"
                    aria-describedby="scenario-check" value={(*text).clone()} oninput={typed(&text)} />
                <p id="scenario-check" class={classes!("scenario-check", (!valid).then_some("bad"))}
                    role="status" aria-label="Scenario check">{ line }</p>
                <div class="buttons">
                    <button type="button" onclick={play(&text, &props.dispatch)} disabled={!valid}>
                        { "Play scenario" }
                    </button>
                    <button type="button" onclick={copy(&text, &copied)} disabled={!valid}>
                        { "Copy embed code" }
                    </button>
                </div>
                if let Some(Ok(codes)) = &*copied {
                    { embed_codes(codes) }
                }
                if let Some(Err(why)) = &*copied {
                    <p class="scenario-outcome bad" role="status">{ why.clone() }</p>
                }
            }
        </section>
    }
}

/// The author typed: the text becomes the editor's.
fn typed(text: &UseStateHandle<String>) -> Callback<InputEvent> {
    let text = text.clone();
    Callback::from(move |event: InputEvent| {
        let area: web_sys::HtmlTextAreaElement = event.target_unchecked_into();
        text.set(area.value());
    })
}

/// "Play scenario": the engine reads and runs the text, then the playground plays it (or says why not).
fn play(text: &UseStateHandle<String>, dispatch: &Callback<Cmd>) -> Callback<MouseEvent> {
    let (text, dispatch) = (text.clone(), dispatch.clone());
    Callback::from(move |_| {
        let (text, dispatch) = ((*text).clone(), dispatch.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let loaded = source::from_text(&text, None, "below").await;
            dispatch.emit(Cmd::PlayScenario(Rc::new(loaded)));
        });
    })
}

/// The embed codes of the editor's text: (inline, hosted), and whether the first reached the clipboard.
type Copied = (String, String, bool);

/// "Copy embed code".
fn copy(
    text: &UseStateHandle<String>,
    copied: &UseStateHandle<Option<Result<Copied, String>>>,
) -> Callback<MouseEvent> {
    let (text, copied) = (text.clone(), copied.clone());
    Callback::from(move |_| {
        let (text, copied) = ((*text).clone(), copied.clone());
        wasm_bindgen_futures::spawn_local(copy_embed_code(text, copied));
    })
}

/// Has the engine make the embed codes of `text` (the text packed into the frame's address), shows them, and
/// copies the first to the clipboard.
async fn copy_embed_code(text: String, copied: UseStateHandle<Option<Result<Copied, String>>>) {
    let (inline, hosted) = match engine::embed_codes(&text, &page_address()).await {
        Ok(Ok(codes)) => codes,
        Ok(Err(error)) => return copied.set(Some(Err(format!("No embed code: {}.", error.message)))),
        Err(why) => return copied.set(Some(Err(format!("No embed code: {why}.")))),
    };
    copied.set(Some(Ok((inline.clone(), hosted.clone(), false))));
    let shown = inline.clone();
    crate::ui::copy_text(&inline, move |ok| copied.set(Some(Ok((shown, hosted, ok)))));
}

/// The embed code just copied, and the form for a file the author hosts. (A function, not a component: a
/// component of its own would add a kilobyte of Yew's code.)
fn embed_codes((inline, hosted, copied): &Copied) -> Html {
    let select = Callback::from(|event: FocusEvent| {
        let input: web_sys::HtmlInputElement = event.target_unchecked_into();
        input.select();
    });
    html! {
        <div class="embed-codes">
            <p class="muted" role="status" aria-label="Copy">
                { if *copied { "Copied to the clipboard: paste it into any page." } else {
                    "Select the code below and copy it (this browser did not let the page copy it)." } }
            </p>
            <label for="embed-code">{ "Embed code" }</label>
            <input id="embed-code" readonly=true value={inline.clone()} onfocus={select.clone()} />
            <p class="muted">
                { "Or host the text as a .scenario file (a site other than this one must allow this page to fetch \
                   it, with CORS) and put its address in place of the example's:" }
            </p>
            <label for="hosted-code">{ "Embed code for a hosted file" }</label>
            <input id="hosted-code" readonly=true value={hosted.clone()} onfocus={select} />
        </div>
    }
}
