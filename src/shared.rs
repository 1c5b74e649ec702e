//! `Shared<T>`: a value held behind an `Rc` and copied only when it is written to (`Rc::make_mut`), so that a copy
//! of whatever holds it costs a count, not a copy of the value. The model checker (`crate::explore`) copies a whole
//! simulated cluster for every state it computes and changes a small part of it; the parts of the simulator and
//! of its safety checker that most steps leave alone are `Shared`.
//!
//! Reading goes through `Deref` and never copies. Writing goes through `DerefMut`, which copies the value first if
//! another holder shares it: a `&mut` to a shared part is the moment of the copy, so code that only reads should
//! borrow it immutably.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::rc::Rc;

#[derive(Default, PartialEq, Eq, Hash)]
pub struct Shared<T>(Rc<T>);

impl<T> Shared<T> {
    pub fn new(value: T) -> Self {
        Shared(Rc::new(value))
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Rc::clone(&self.0))
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Clone> DerefMut for Shared<T> {
    fn deref_mut(&mut self) -> &mut T {
        Rc::make_mut(&mut self.0)
    }
}

impl<T: fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_shares_until_one_side_writes() {
        let mut original = Shared::new(vec![1, 2]);
        let copy = original.clone();
        assert!(std::ptr::eq(&*original, &*copy), "a copy shares the value");
        original.push(3);
        assert_eq!((&*original, &*copy), (&vec![1, 2, 3], &vec![1, 2]), "a write copies, the other side keeps its own");
        assert!(!std::ptr::eq(&*original, &*copy));
    }

    #[test]
    fn a_value_held_once_is_written_in_place() {
        let mut only = Shared::new(vec![1]);
        let before: *const Vec<i32> = &*only;
        only.push(2);
        assert!(std::ptr::eq(before, &*only), "no other holder: no copy");
    }
}
