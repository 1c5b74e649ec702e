use yew::prelude::*;

use super::components::{FeatureCard, Logo};

/// Adding `?panic-test` to the page's address makes the app panic right after it mounts, so the end-to-end
/// tests can check that a panic in the release build shows the error banner.
const PANIC_TEST_PARAM: &str = "panic-test";

/// The root component: for now, the welcome screen of the playground.
#[function_component(App)]
pub fn app() -> Html {
    use_effect_with((), |_| {
        if panic_test_requested() {
            panic!("deliberate panic requested with ?{PANIC_TEST_PARAM}");
        }
    });

    html! {
        <div class="page">
            <header class="site-header">
                <div class="brand">
                    <Logo />
                    <h1>{ "Synod" }</h1>
                </div>
                <p class="tagline">
                    { "A Multi-Paxos replicated key-value store that runs entirely in this page." }
                </p>
            </header>

            <main class="content">
                <section class="intro" aria-label="What this is">
                    <p>
                        { "This playground runs a small cluster of Synod replicas inside your browser tab, compiled \
                           from Rust to WebAssembly. The replicas use Multi-Paxos to agree, slot by slot, on one \
                           ordered log of key-value commands, so they all end in the same state even when messages \
                           are lost, delayed or reordered and replicas crash and restart." }
                    </p>
                    <p>
                        { "Nothing leaves your machine: the network between replicas is simulated, time is virtual \
                           and deterministic, and durable state is kept in your browser's IndexedDB." }
                    </p>
                </section>

                <section class="features" aria-label="What you can do">
                    <FeatureCard icon="◉" title="Watch">
                        { "Follow each proposal through prepare, promise, accept and commit, replica by replica." }
                    </FeatureCard>
                    <FeatureCard icon="✂" title="Break">
                        { "Crash replicas, partition the network, drop and delay messages, then see the log heal." }
                    </FeatureCard>
                    <FeatureCard icon="✓" title="Check">
                        { "Every run is checked: replicas never disagree on a slot, and reads are linearizable." }
                    </FeatureCard>
                </section>

                <p class="status" role="status">
                    <span class="status-dot" aria-hidden="true"></span>
                    { "Running: Rust → WebAssembly → Yew. The interactive cluster view is being built." }
                </p>
            </main>

            <footer class="site-footer">
                <span>{ concat!("Synod ", env!("CARGO_PKG_VERSION")) }</span>
                <span>{ "Rust · WebAssembly · Yew · IndexedDB" }</span>
            </footer>
        </div>
    }
}

fn panic_test_requested() -> bool {
    let search = gloo::utils::window().location().search().unwrap_or_default();
    search.trim_start_matches('?').split('&').any(|pair| pair.split('=').next() == Some(PANIC_TEST_PARAM))
}
