//! Wing & Gong's search with Lowe's memoisation, as in Porcupine and Knossos's `linear`/`wgl` checkers.
//!
//! Call and return entries sit in one doubly linked list ordered by time. Scanning from the front, a call may
//! be linearized (take effect) now if the model allows it and the resulting configuration (set of linearized
//! operations, state) is new: it is then unlinked with its return and the scan restarts. Reaching a return
//! means that operation should already have taken effect, so the last choice is undone (backtracking).
//! Indeterminate operations have no return entry: nothing forces them to take effect, and the search
//! succeeds as soon as every completed operation has. Indeterminate puts and deletes have no entry at all: they
//! take effect only just before an operation that reads their key (`KeyModel::is_deferred`), as one of the
//! ways to take that operation (`KeyModel::choices`), tried after taking it alone.

use super::model::{KeyModel, KeyOp, StateId, ABSENT};
use super::visited::{Linearized, VisitedSet};

const HEAD: u32 = 0;
const NIL: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Entry {
    prev: u32,
    next: u32,
    op: u32,
    /// For a call, its return entry (`NIL` if the operation is indeterminate); for a return, `NIL`.
    returns_at: u32,
    is_call: bool,
}

/// Dancing links over the entries; entry 0 is the head.
struct EntryList {
    entries: Vec<Entry>,
}

impl EntryList {
    /// Entries for the calls and returns of `ops`, except those `skip` says.
    fn new(ops: &[KeyOp], skip: impl Fn(usize) -> bool) -> Self {
        // Sorted by time; on a tie calls (0) come first, so operations that touch in time count as concurrent.
        // (u64, u64, usize), the element type the network sorts too: each new one costs the browser bundle its
        // own copy of the sort (BENCHMARKS.md, "First load under 250 kB").
        let mut order: Vec<(u64, u64, usize)> = Vec::with_capacity(ops.len() * 2);
        for (index, op) in ops.iter().enumerate().filter(|(index, _)| !skip(*index)) {
            order.push((op.call, 0, index));
            if let Some(response) = op.response {
                order.push((response, 1, index));
            }
        }
        order.sort_unstable();
        let head = Entry { prev: NIL, next: NIL, op: NIL, returns_at: NIL, is_call: false };
        let mut entries = vec![head; order.len() + 1];
        let mut return_entry = vec![NIL; ops.len()];
        for (position, &(_, is_return, op)) in order.iter().enumerate().rev() {
            let (is_return, op) = (is_return == 1, op as u32);
            let node = position as u32 + 1;
            let next = if position + 1 == order.len() { NIL } else { node + 1 };
            entries[node as usize] = Entry { prev: node - 1, next, op, returns_at: NIL, is_call: !is_return };
            if is_return {
                return_entry[op as usize] = node;
            } else {
                entries[node as usize].returns_at = return_entry[op as usize];
            }
        }
        entries[HEAD as usize].next = if order.is_empty() { NIL } else { 1 };
        EntryList { entries }
    }

    fn unlink(&mut self, node: u32) {
        let Entry { prev, next, .. } = self.entries[node as usize];
        self.entries[prev as usize].next = next;
        if next != NIL {
            self.entries[next as usize].prev = prev;
        }
    }

    fn relink(&mut self, node: u32) {
        let Entry { prev, next, .. } = self.entries[node as usize];
        self.entries[prev as usize].next = node;
        if next != NIL {
            self.entries[next as usize].prev = node;
        }
    }

    /// Removes a call and its return. The return goes second and comes back first, so the links stay valid.
    fn lift(&mut self, call: u32) {
        self.unlink(call);
        let returns_at = self.entries[call as usize].returns_at;
        if returns_at != NIL {
            self.unlink(returns_at);
        }
    }

    fn unlift(&mut self, call: u32) {
        let returns_at = self.entries[call as usize].returns_at;
        if returns_at != NIL {
            self.relink(returns_at);
        }
        self.relink(call);
    }
}

/// The furthest the search got: operations in the order they took effect, and the state after them.
#[derive(Debug)]
pub(super) struct Deepest {
    pub order: Vec<usize>,
    pub state: StateId,
}

#[derive(Debug)]
pub(super) enum Verdict {
    Linearizable,
    NotLinearizable(Deepest),
}

/// One linearized call, and what undoing it restores.
struct Frame {
    call: u32,
    /// Which way of taking it (0: alone; `n`: with the deferred writes of `KeyModel::choices`' `n - 1`th).
    alternative: u32,
    /// The deferred writes that took effect just before it, in order.
    deferred: Vec<usize>,
    state_before: StateId,
    /// Taken without branching (see `Search`): undoing it means the configuration before it is dead too.
    forced: bool,
}

/// A search that can be run a few steps at a time, so that several keys can take turns.
///
/// Besides memoisation it prunes with one rule: an operation that never changes the state when it is
/// allowed (a get, a cas that did not swap, an append refused as too long) and is allowed now can take effect
/// now without loss of generality. Given any way to finish from here, moving it to the front keeps every
/// other operation's state, and it may go first: everything that returned before it was invoked has already
/// taken effect, since its call precedes every remaining return. So such operations are taken first (the
/// forced pass over the candidates), without trying alternatives, and undoing one backtracks further.
pub(super) struct Search {
    list: EntryList,
    completed: Vec<bool>,
    keeps_state: Vec<bool>,
    /// Whether deferred writes may be placed before the operation (`KeyModel::may_choose`).
    may_choose: Vec<bool>,
    completed_left: usize,
    linearized: Linearized,
    visited: VisitedSet,
    stack: Vec<Frame>,
    /// Operations the stack has placed: its calls and the deferred writes before them.
    placed: usize,
    deepest: Option<Deepest>,
    state: StateId,
    /// The entry to look at next, and the way of taking its call to try (see `Frame::alternative`).
    node: u32,
    alternative: u32,
    /// Scanning the candidates for state-keeping operations only, before branching on the others.
    forced_pass: bool,
    steps: u64,
}

impl Search {
    pub fn new(model: &KeyModel) -> Search {
        let ops = model.ops.len();
        let list = EntryList::new(&model.ops, |op| model.is_deferred(op));
        let node = list.entries[HEAD as usize].next;
        Search {
            list,
            completed: model.ops.iter().map(|op| op.response.is_some()).collect(),
            keeps_state: (0..ops).map(|op| model.keeps_state(op)).collect(),
            may_choose: (0..ops).map(|op| model.may_choose(op)).collect(),
            completed_left: model.ops.iter().filter(|op| op.response.is_some()).count(),
            linearized: Linearized::new(ops),
            visited: VisitedSet::new(ops),
            stack: Vec::with_capacity(ops),
            placed: 0,
            deepest: None,
            state: ABSENT,
            node,
            alternative: 0,
            forced_pass: true,
            steps: 0,
        }
    }

    /// Steps taken so far: each is one call or return entry looked at.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Configurations remembered so far.
    pub fn memo_len(&self) -> usize {
        self.visited.len()
    }

    /// Runs up to `steps` more steps; returns the verdict once there is one. Call again only if it is `None`.
    pub fn run(&mut self, model: &mut KeyModel, steps: u64) -> Option<Verdict> {
        if self.completed_left == 0 {
            return Some(Verdict::Linearizable);
        }
        let steps_end = self.steps + steps;
        while self.steps < steps_end {
            self.steps += 1;
            // `completed_left > 0`, so some return entry is still linked and the scan meets it before the end.
            debug_assert_ne!(self.node, NIL);
            let entry = self.list.entries[self.node as usize];
            if !entry.is_call {
                if self.forced_pass {
                    // The candidates end here; now branch on the operations that change the state.
                    self.forced_pass = false;
                    self.node = self.list.entries[HEAD as usize].next;
                    continue;
                }
                self.note_depth();
                if !self.backtrack() {
                    return Some(Verdict::NotLinearizable(self.deepest.take().expect("noted before backtracking")));
                }
                continue;
            }
            let op = entry.op as usize;
            let keeps_state = self.keeps_state[op];
            let Some((next_state, deferred)) = self.attempt(model, op) else {
                self.next_candidate(entry);
                continue;
            };
            let Some(next_state) = next_state else {
                self.advance(entry);
                continue;
            };
            deferred.iter().for_each(|&write| self.linearized.insert(write));
            self.linearized.insert(op);
            if self.visited.insert(&self.linearized, next_state) {
                let (alternative, forced) = (self.alternative, keeps_state && self.alternative == 0);
                self.placed += deferred.len() + 1;
                self.stack.push(Frame { call: self.node, alternative, deferred, state_before: self.state, forced });
                self.state = next_state;
                self.list.lift(self.node);
                if self.completed[op] {
                    self.completed_left -= 1;
                    if self.completed_left == 0 {
                        return Some(Verdict::Linearizable);
                    }
                }
                self.node = self.list.entries[HEAD as usize].next;
                self.alternative = 0;
                self.forced_pass = true;
            } else {
                self.linearized.remove(op);
                deferred.iter().for_each(|&write| self.linearized.remove(write));
                if keeps_state && self.alternative == 0 {
                    // Taking it leads somewhere already found dead, and (see above) so does everything else.
                    if !self.backtrack() {
                        return Some(Verdict::NotLinearizable(self.deepest.take().expect("noted when it died")));
                    }
                } else {
                    self.advance(entry);
                }
            }
        }
        None
    }

    /// Takes `op` the current way (`alternative`): the state after (`None` if it does not fit) and the deferred
    /// writes taken before it, or `None` if there is no such way.
    fn attempt(&self, model: &mut KeyModel, op: usize) -> Option<(Option<StateId>, Vec<usize>)> {
        match self.alternative {
            0 if self.forced_pass && !self.keeps_state[op] => Some((None, Vec::new())),
            0 => Some((model.apply(self.state, op), Vec::new())),
            alternative => self.with_deferred(model, op, alternative as usize - 1),
        }
    }

    /// After trying one way of taking `entry`'s call: the next way, or the next entry.
    fn advance(&mut self, entry: Entry) {
        if self.forced_pass || !self.may_choose[entry.op as usize] {
            self.next_candidate(entry);
        } else {
            self.alternative += 1;
        }
    }

    fn next_candidate(&mut self, entry: Entry) {
        self.node = entry.next;
        self.alternative = 0;
    }

    /// Takes `op` after the deferred writes of its `index`th choice: the state after (`None` if a write or `op`
    /// does not fit) and the writes, or `None` if there is no such choice. A deferred write may take effect
    /// now if it was invoked before the earliest answer still pending.
    fn with_deferred(&self, model: &mut KeyModel, op: usize, index: usize) -> Option<(Option<StateId>, Vec<usize>)> {
        let mut node = self.node;
        while self.list.entries[node as usize].is_call {
            node = self.list.entries[node as usize].next;
        }
        let first_return = self.list.entries[node as usize].op as usize;
        let horizon = model.ops[first_return].response.expect("a return entry's operation was answered");
        let linearized = &self.linearized;
        let usable = |write: usize| !linearized.contains(write) && model.ops[write].call <= horizon;
        let writes = model.choices(self.state, op, &usable).into_iter().nth(index)?;
        let mut state = Some(self.state);
        for &write in &writes {
            state = state.and_then(|state| model.apply(state, write));
        }
        Some((state.and_then(|state| model.apply(state, op)), writes))
    }

    fn note_depth(&mut self) {
        if self.deepest.as_ref().is_none_or(|deepest| self.placed > deepest.order.len()) {
            let mut order = Vec::with_capacity(self.placed);
            for frame in &self.stack {
                order.extend(&frame.deferred);
                order.push(self.list.entries[frame.call as usize].op as usize);
            }
            debug_assert_eq!(order.len(), self.placed, "the count of placed operations drifted");
            self.deepest = Some(Deepest { order, state: self.state });
        }
    }

    /// Undoes the last choice (and any forced ones before it); returns false if there was none to undo.
    fn backtrack(&mut self) -> bool {
        while let Some(frame) = self.stack.pop() {
            self.placed -= frame.deferred.len() + 1;
            let op = self.list.entries[frame.call as usize].op as usize;
            self.state = frame.state_before;
            self.linearized.remove(op);
            frame.deferred.iter().for_each(|&write| self.linearized.remove(write));
            self.list.unlift(frame.call);
            if self.completed[op] {
                self.completed_left += 1;
            }
            if !frame.forced {
                self.node = frame.call;
                self.alternative = frame.alternative;
                self.forced_pass = false;
                self.advance(self.list.entries[frame.call as usize]);
                return true;
            }
        }
        false
    }
}
