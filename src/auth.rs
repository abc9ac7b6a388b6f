//! JWT verification and the caller (being written).
