//! The branches of a run: going back in time and choosing differently does not forget the path left behind. It
//! is kept as a branch, and the branches form a tree (the page's "History") in which the visitor jumps to any
//! point of any branch. A branch is a whole run's actions, so opening one replays it like a shared link, and the
//! share link of a branch is its run.

use super::UserAction;

/// One branch: a whole run's recorded actions, the shared beginning included, each with the words that name it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Branch {
    /// The branch this one left, and the tick at which it left it (`None` for the first branch).
    pub parent: Option<(usize, u64)>,
    /// The run's actions at their ticks, in order.
    pub actions: Vec<(u64, UserAction)>,
    /// One per action (`actions[i]` is called `labels[i]`).
    pub labels: Vec<String>,
    /// The furthest tick reached on this branch.
    pub end: u64,
}

impl Branch {
    /// The tick from which this branch is its own: after it, its actions are not its parent's.
    pub fn since(&self) -> u64 {
        self.parent.map_or(0, |(_, tick)| tick)
    }

    /// The events that are this branch's own, with their ticks and labels: those after [`since`](Branch::since)
    /// (every action, for the first branch).
    pub fn own_events(&self) -> impl Iterator<Item = (usize, u64, &str)> + '_ {
        let since = self.parent.map(|(_, tick)| tick);
        self.actions
            .iter()
            .zip(&self.labels)
            .enumerate()
            .filter(move |(_, ((tick, _), _))| since.is_none_or(|since| *tick > since))
            .map(|(index, ((tick, _), label))| (index, *tick, label.as_str()))
    }
}

/// Every branch of the run, and which one the run follows now.
#[derive(Clone, Debug, PartialEq)]
pub struct Branches {
    branches: Vec<Branch>,
    current: usize,
}

impl Default for Branches {
    fn default() -> Self {
        Branches { branches: vec![Branch::default()], current: 0 }
    }
}

impl Branches {
    pub fn current(&self) -> usize {
        self.current
    }

    pub fn len(&self) -> usize {
        self.branches.len()
    }

    pub fn is_empty(&self) -> bool {
        self.branches.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<&Branch> {
        self.branches.get(index)
    }

    /// The branches that left branch `index`, with the tick each left at, oldest first.
    pub fn children(&self, index: usize) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.branches.iter().enumerate().filter_map(move |(child, branch)| {
            branch.parent.filter(|(parent, _)| *parent == index).map(|(_, t)| (child, t))
        })
    }

    /// These branches with the current one as the run has it now (`live`): the run changes the current branch
    /// as it goes, and the tree holds its copy only from the moment the run leaves it.
    pub fn with_current(&self, live: Branch) -> Branches {
        let mut branches = self.clone();
        branches.store_current(live);
        branches
    }

    fn store_current(&mut self, live: Branch) {
        let parent = self.branches[self.current].parent;
        self.branches[self.current] = Branch { parent, ..live };
    }

    /// The run leaves the current branch at `tick` to take another way (the visitor went back and chose
    /// differently): the branch is kept as it was (`was`), and a new branch, sharing its actions up to `tick`,
    /// becomes the current one.
    pub fn fork(&mut self, tick: u64, was: Branch) {
        let kept = was.actions.iter().take_while(|(at, _)| *at <= tick).count();
        let child = Branch {
            parent: Some((self.current, tick)),
            actions: was.actions[..kept].to_vec(),
            labels: was.labels[..kept.min(was.labels.len())].to_vec(),
            end: tick,
        };
        self.store_current(was);
        self.branches.push(child);
        self.current = self.branches.len() - 1;
    }

    /// Makes branch `to` the current one, keeping the one left as it is now (`live`); returns the branch to
    /// open, or `None` if there is no such branch.
    pub fn switch(&mut self, to: usize, live: Branch) -> Option<&Branch> {
        if to >= self.branches.len() {
            return None;
        }
        self.store_current(live);
        self.current = to;
        Some(&self.branches[to])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branch(ticks: &[u64], end: u64) -> Branch {
        Branch {
            parent: None,
            actions: ticks.iter().map(|tick| (*tick, UserAction::TickNode { node: *tick as u8 })).collect(),
            labels: ticks.iter().map(|tick| format!("event at {tick}")).collect(),
            end,
        }
    }

    #[test]
    fn a_fork_keeps_the_path_left_and_shares_its_beginning() {
        let mut branches = Branches::default();
        branches.fork(2, branch(&[1, 2, 3, 4], 4));
        assert_eq!(branches.len(), 2);
        assert_eq!(branches.current(), 1);
        let kept = branches.get(0).unwrap();
        assert_eq!(kept.actions.len(), 4, "the branch left keeps its whole path");
        assert_eq!(kept.end, 4);
        let new = branches.get(1).unwrap();
        assert_eq!(new.parent, Some((0, 2)));
        assert_eq!(new.actions.iter().map(|(t, _)| *t).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(new.own_events().count(), 0, "nothing of its own yet");
        assert_eq!(branches.children(0).collect::<Vec<_>>(), vec![(1, 2)]);
    }

    #[test]
    fn switching_keeps_the_current_branch_as_it_went_on() {
        let mut branches = Branches::default();
        branches.fork(1, branch(&[1, 2], 2));
        // The new branch went on to ticks 2 and 3 with other events; then the visitor jumps back to branch 0.
        let opened = branches.switch(0, branch(&[1, 2, 3], 3)).unwrap().clone();
        assert_eq!(opened.actions.len(), 2);
        let left = branches.get(1).unwrap();
        assert_eq!(left.parent, Some((0, 1)), "a switch keeps where the branch came from");
        assert_eq!(left.own_events().map(|(_, tick, _)| tick).collect::<Vec<_>>(), vec![2, 3]);
        assert!(branches.switch(7, Branch::default()).is_none());
    }

    #[test]
    fn a_branch_of_a_branch_hangs_under_it() {
        let mut branches = Branches::default();
        branches.fork(1, branch(&[1, 2], 2));
        branches.fork(2, branch(&[1, 2, 3], 3));
        assert_eq!(branches.get(2).unwrap().parent, Some((1, 2)));
        assert_eq!(branches.children(1).collect::<Vec<_>>(), vec![(2, 2)]);
        assert_eq!(branches.children(0).collect::<Vec<_>>(), vec![(1, 1)]);
        let live = branches.with_current(branch(&[1, 2, 5], 5));
        assert_eq!(live.get(2).unwrap().end, 5);
        assert_eq!(branches.get(2).unwrap().end, 2, "with_current leaves the tree itself alone");
    }
}
