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
    /// Patients a list or search disclosed. Each becomes an event of its own (this action, that
    /// patient) committed with this one, so every patient's access log shows the listing; the
    /// event itself stays about the request as a whole.
    pub disclosed: Vec<String>,
    /// What an access rested on, or the condition that refused it: JSON text set by
    /// `gate::authorize` (see `access::Basis`). None where no access rule was asked.
    pub basis: Option<String>,
    /// The digest of the consent version this event created (`consent.create`, `consent.revoke`).
    pub digest: Option<String>,
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
            disclosed: Vec::new(),
            basis: None,
            digest: None,
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
            disclosed: Vec::new(),
            basis: None,
            digest: None,
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

    /// The events to append for this one: itself, then one per disclosed patient (same actor,
    /// action, purpose and request; that patient as patient and resource), in disclosure order.
    pub fn expand(mut self) -> Vec<Event> {
        let disclosed = std::mem::take(&mut self.disclosed);
        let per_patient: Vec<Event> =
            disclosed.iter().map(|id| self.clone().patient(id).resource("patient", id)).collect();
        let mut events = vec![self];
        events.extend(per_patient);
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_expands_into_one_event_per_disclosed_patient() {
        let mut event = Event::system("patient.list");
        assert_eq!(event.clone().expand().len(), 1, "nothing disclosed: the event alone");
        event.disclosed = vec!["p1".into(), "p2".into()];
        let events = event.expand();
        let patients: Vec<_> = events.iter().map(|e| e.patient_id.as_deref()).collect();
        assert_eq!(patients, [None, Some("p1"), Some("p2")]);
        assert!(events.iter().all(|e| e.action == "patient.list" && e.disclosed.is_empty()));
        assert_eq!(events[2].resource_id.as_deref(), Some("p2"));
    }
}
