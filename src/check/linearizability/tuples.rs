//! The states of several keys checked together (keys joined by a scan): each state is the tuple of the keys'
//! values, interned to a `u32` so the search handles it exactly as it handles one key's value. Tuple 0 is
//! every key absent, the store's first state.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use super::hashing::WordHasher;
use super::values::{StateId, ABSENT};

pub(super) struct Tuples {
    /// How many keys each tuple holds.
    width: usize,
    /// Tuple `id` is `flat[id * width..(id + 1) * width]`.
    flat: Vec<StateId>,
    ids: HashMap<Box<[StateId]>, StateId, BuildHasherDefault<WordHasher>>,
}

impl Tuples {
    pub fn new(width: usize) -> Self {
        let all_absent: Box<[StateId]> = vec![ABSENT; width].into();
        let mut ids = HashMap::default();
        ids.insert(all_absent, 0);
        Tuples { width, flat: vec![ABSENT; width], ids }
    }

    /// The values of tuple `id`, one per key in the group's key order.
    pub fn get(&self, id: StateId) -> &[StateId] {
        let start = id as usize * self.width;
        &self.flat[start..start + self.width]
    }

    /// The tuple `id` with the value at `slot` replaced by `value`.
    pub fn with(&mut self, id: StateId, slot: usize, value: StateId) -> StateId {
        let mut tuple: Box<[StateId]> = self.get(id).into();
        tuple[slot] = value;
        if let Some(&existing) = self.ids.get(&tuple) {
            return existing;
        }
        let next = StateId::try_from(self.ids.len()).expect("fewer than 2^32 distinct tuples");
        self.flat.extend_from_slice(&tuple);
        self.ids.insert(tuple, next);
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_tuples_get_one_id_however_they_were_reached() {
        let mut tuples = Tuples::new(2);
        assert_eq!(tuples.get(0), [ABSENT, ABSENT]);
        let first_set = tuples.with(0, 0, 7);
        let both_set = tuples.with(first_set, 1, 9);
        let second_set = tuples.with(0, 1, 9);
        assert_eq!(tuples.with(second_set, 0, 7), both_set);
        assert_eq!(tuples.get(both_set), [7, 9]);
        assert_eq!(tuples.with(both_set, 0, ABSENT), second_set);
        assert_eq!(tuples.with(second_set, 1, ABSENT), 0);
    }
}
