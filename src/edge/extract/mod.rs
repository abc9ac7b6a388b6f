//! Request extractors: each turns one part of a request into a typed value, or into a 4xx
//! problem naming what was wrong.

pub mod caller;
pub mod context;
pub mod if_match;
pub mod json;
pub mod query;
