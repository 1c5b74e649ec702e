//! Checking what the cluster did: client histories, the linearizability checker, and readers for the
//! history formats of Jepsen, Knossos and Porcupine.

pub mod formats;
pub mod history;
pub mod invariants;
pub mod linearizability;

pub use formats::{check_history_file, parse_history, FormatError, HistoryFormat};
pub use history::{History, OpId, Operation, Outcome};
pub use linearizability::{check, check_with, CheckOptions, CheckOutcome, Explanation};
