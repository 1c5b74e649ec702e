//! Helpers shared by the checker's integration tests.

pub mod random_history;
