//! The playground's parts follow a new frame one at a time.
//!
//! At fast-forward every animation frame brings a new frame (dozens of ticks), and rendering the whole page for
//! it (the ring, the controls, the side panels, five node cards, the space-time diagram) took 15–20 ms of the
//! main thread, twice the frame budget. So while ticks flow, a new frame reaches one part of the page per
//! animation frame, in turn: each part still shows a frame a few animation frames old at most (about 7 times a
//! second at 60 frames a second, with nine parts), which no one can tell apart at 2,000 ticks a second, and a
//! frame renders one part. What the visitor does shows everywhere at once ([`Stagger::show_all`]).

/// The parts of the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The header, the ring and the storage status: where the eye is.
    Stage,
    /// Time, run and fault controls, the step panel and the explorer panel.
    Controls,
    /// The client and message panels and the narration.
    Side,
    /// The node cards of nodes whose index (from 0) leaves this remainder divided by [`CARD_GROUPS`]: a card
    /// renders in 2–4 ms at fast-forward, so five cards in one frame would be twice the frame budget.
    Cards(usize),
    Diagram,
}

impl Part {
    /// Its place in the order a new frame reaches the parts in.
    pub fn number(self) -> usize {
        PART_ORDER.iter().position(|known| *known == self).expect("every part is in PART_ORDER")
    }
}

/// How many groups the node cards are drawn in: one card per frame up to five nodes, two at most (of seven).
pub const CARD_GROUPS: usize = 5;

pub const PARTS: usize = 4 + CARD_GROUPS;

/// The order a new frame reaches the parts in: the card groups, the heaviest, between the others.
const PART_ORDER: [Part; PARTS] = [
    Part::Stage,
    Part::Cards(0),
    Part::Controls,
    Part::Cards(1),
    Part::Side,
    Part::Cards(2),
    Part::Diagram,
    Part::Cards(3),
    Part::Cards(4),
];

/// What each part shows: a frame (`T`) of its own, and the newest one, which the parts behind take in turn.
#[derive(Clone, Debug)]
pub struct Stagger<T: Clone> {
    shown: [T; PARTS],
    newest: T,
    behind: [bool; PARTS],
    /// The part to bring up to date next (the one after the last brought), so every part gets its turn.
    next: usize,
}

impl<T: Clone> Stagger<T> {
    pub fn new(frame: T) -> Stagger<T> {
        Stagger { shown: std::array::from_fn(|_| frame.clone()), newest: frame, behind: [false; PARTS], next: 0 }
    }

    /// The frame `part` shows.
    pub fn shown(&self, part: Part) -> &T {
        &self.shown[part.number()]
    }

    /// A frame that ticks made: the parts take it in turn ([`Stagger::advance`]).
    pub fn arrive(&mut self, frame: T) {
        self.newest = frame;
        self.behind = [true; PARTS];
    }

    /// A frame every part shows at once (what the visitor did).
    pub fn show_all(&mut self, frame: T) {
        self.shown = std::array::from_fn(|_| frame.clone());
        self.newest = frame;
        self.behind = [false; PARTS];
    }

    /// Brings the next part that is behind up to the newest frame, and says which, if any was.
    pub fn advance(&mut self) -> Option<Part> {
        let part = (0..PARTS).map(|k| (self.next + k) % PARTS).find(|&part| self.behind[part])?;
        self.shown[part] = self.newest.clone();
        self.behind[part] = false;
        self.next = (part + 1) % PARTS;
        Some(PART_ORDER[part])
    }
}
