//! Envelope encryption (being written).
