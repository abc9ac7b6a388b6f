//! Sync for stations that work offline: a change feed followed by cursor and batch upload.
//!
//! A cursor never skips a change because `next_seq` locks the counter row first in every write
//! transaction and holds it to commit: sequence numbers become visible in the order given out, so
//! once a reader sees N, everything below N has committed or never will (docs/sync.md).

mod batch;
mod feed;

pub use batch::*;
pub use feed::*;
