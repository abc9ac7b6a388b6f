//! Who is asking, and how: the caller with what its request adds (request id, a break-glass
//! request). Built once per request by the HTTP layer; domain functions and audit events take it
//! instead of long argument lists.

use crate::auth::Caller;

/// The authenticated caller and the request facts that the access rule and the audit log need.
#[derive(Debug, Clone)]
pub struct Context {
    /// Who calls, as the token (and `X-Purpose`) said.
    pub caller: Caller,
    /// The request's id (`X-Request-Id`), recorded with every audit event.
    pub request_id: String,
    /// The `X-Break-Glass` reason as sent, not yet checked: the access rule decides on it.
    pub break_glass: Option<String>,
}

impl Context {
    /// A context with no request behind it (tools, tests, benchmarks).
    pub fn of(caller: Caller) -> Self {
        Self { caller, request_id: String::new(), break_glass: None }
    }
}
