//! The audit event as a handler assembles it, before the chain gives it a place.

use crate::context::Context;

/// An event being assembled by a handler; the outcome is filled in from the result.
#[derive(Debug, Clone)]
pub struct Event {
    pub action: &'static str,
    pub actor_sub: String,
    pub actor_org: String,
    pub actor_role: String,
    pub patient_id: Option<String>,
    pub resource_type: Option<&'static str>,
    pub resource_id: Option<String>,
    pub resource_version: Option<i32>,
    pub purpose: String,
    pub break_glass: bool,
    pub break_glass_reason: Option<String>,
    pub request_id: String,
    /// The `X-Break-Glass` header as sent; the access rule checks it.
    pub requested_break_glass: Option<String>,
}

impl Event {
    /// An event of `ctx`'s request; the access rule fills in patient and break-glass.
    pub fn new(ctx: &Context, action: &'static str) -> Self {
        let caller = &ctx.caller;
        Self {
            action,
            actor_sub: caller.sub.clone(),
            actor_org: caller.org.clone(),
            actor_role: caller.role.as_str().to_owned(),
            patient_id: None,
            resource_type: None,
            resource_id: None,
            resource_version: None,
            purpose: crate::access::purpose_of(caller).to_owned(),
            break_glass: false,
            break_glass_reason: None,
            request_id: ctx.request_id.clone(),
            requested_break_glass: ctx.break_glass.clone(),
        }
    }

    /// An event of the operator's own tools (key rotation), with no HTTP request behind it.
    pub fn system(action: &'static str) -> Self {
        Self {
            action,
            actor_sub: "carepath".into(),
            actor_org: "carepath".into(),
            actor_role: "system".into(),
            patient_id: None,
            resource_type: None,
            resource_id: None,
            resource_version: None,
            purpose: "operations".into(),
            break_glass: false,
            break_glass_reason: None,
            request_id: String::new(),
            requested_break_glass: None,
        }
    }

    pub fn patient(mut self, id: &str) -> Self {
        self.patient_id = Some(id.to_owned());
        self
    }

    pub fn resource(mut self, kind: &'static str, id: &str) -> Self {
        self.resource_type = Some(kind);
        self.resource_id = Some(id.to_owned());
        self
    }
}
