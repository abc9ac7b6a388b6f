//! The access rule (being written).
