use yew::prelude::*;

/// "What am I looking at": a short explanation, folded by default. (A function, not a component: it keeps no state, and a component costs the bundle its own copy of Yew's
/// mounting code.)
pub fn help() -> Html {
    html! {
        <details class="panel help">
            <summary>{ "What am I looking at?" }</summary>
            <p>{ "A cluster of replicas, simulated in this page with virtual time, agrees on one log of key-value \
                  commands using Multi-Paxos. The ring shows the nodes and every message travelling between \
                  them, coloured by kind. A leader runs phase 1 (prepare, promise) once, then phase 2 (accept, \
                  accepted) for each slot; a slot is chosen when a majority accepted it, and every node applies \
                  chosen slots in order to its key-value store." }</p>
            <p>{ "Each node card shows its role, its ballot, the first slot it does not know to be chosen, how far \
                  it has applied, its log and its store. Memory is what the process holds; disk is what survives a \
                  crash. Kill a node and its memory empties; restart it and it reloads from disk." }</p>
            <p>{ "Break things: drop or duplicate messages, cut links, partition the network, raise fault rates. \
                  The checker watches every step: it stays green while no two nodes disagree on a slot and every \
                  answer is linearizable. Plant a bug to see it turn red. Share copies a link that replays exactly \
                  this run and opens at the moment you shared: the same tick, paused or playing, the same message \
                  picked." }</p>
            <p>{ "Step by event stops time: choose each delivery, drop, timer, write or crash yourself from Next                   events, go Back and Forward (← →), and choose differently to grow a branch in the History tree.                   The card of the node an event changed lists what changed." }</p>
            <p>{ "Keyboard: every control is a button, a field or a slider. The message dots on the ring are one \
                  tab stop: arrow keys move between them, Enter picks one for Drop, Duplicate or Deliver now \
                  (pause first). A focused log scrolls with the arrow and Page keys." }</p>
            <p>
                { "Guided examples: " }
                <a href="docs/index.html">{ "An introduction to Multi-Paxos" }</a>
                { " walks through scenarios that make Paxos hard, each running live; " }
                <a href="docs/authors.html">{ "Writing and embedding scenarios" }</a>
                { " explains how to script your own." }
            </p>
        </details>
    }
}
