//! Webhooks: organisations subscribe to the change feed and carepath POSTs each change they may
//! see to their endpoint, signed, at least once, in order, with retries (docs/webhooks.md).
//!
//! `subscriptions` is the resource (the API's rules and transactions), `deliver` one delivery
//! run of one subscription, `worker` the background task that claims and runs them, `client` the
//! outgoing HTTP, `ssrf` which addresses it may reach, and `sign` the Standard Webhooks
//! signature. This sits above `domain`: delivery filters with the change feed's access rule.

pub mod client;
pub mod deliver;
pub mod sign;
pub mod ssrf;
pub mod subscriptions;
pub mod worker;

pub use worker::Worker;
