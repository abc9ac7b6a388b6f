//! Request extractors: what a handler takes from the request besides its body and path.

pub mod caller;
