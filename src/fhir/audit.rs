//! AuditEvent: an event of our audit log as FHIR, for auditors. The hash chain stays ours
//! (`GET /v1/audit-events/verify`); each AuditEvent carries its event's hashes so an auditor can
//! match the two.

use serde_json::{Value, json};

use super::{OURS, ours, reference};
use crate::domain::audit_log::AuditEvent;

const EVENT_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-event-type";
const ENTITY_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
const ACT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";

/// C, R, U, D or E from our action word (`document.read`, `consent.create`, ...).
fn action_code(action: &str) -> &'static str {
    let verb = action.rsplit('.').next().unwrap_or(action);
    match verb {
        "read" | "list" | "search" | "history" | "fhir" | "export" | "verify" | "accesses" | "coverage" => "R",
        "create" | "send" | "reply" | "forward" => "C",
        "update" | "write" | "revoke" | "review" | "confirm" | "close" | "withdraw" | "enable" => "U",
        "delete" | "erase" => "D",
        _ => "E",
    }
}

/// 0 success, 4 a refusal or bad request, 8 a server failure (FHIR's audit-event-outcome).
fn outcome_code(status: i32) -> &'static str {
    match status {
        0..=399 => "0",
        400..=499 => "4",
        _ => "8",
    }
}

fn detail(kind: &str, value: &str) -> Value {
    json!({ "type": kind, "valueString": value })
}

/// One event as an AuditEvent (its id is the event's sequence number).
pub fn audit_event(item: &AuditEvent) -> Value {
    let e = &item.event;
    let mut purposes = vec![json!({ "coding": [ours("purpose", &e.purpose)] })];
    if e.break_glass {
        purposes
            .push(json!({ "coding": [{ "system": ACT_REASON, "code": "ETREAT", "display": "Emergency Treatment" }] }));
    }
    let agents = json!([
        {
            "type": { "coding": [ours("profession", &e.actor_role)] },
            "who": { "identifier": { "system": format!("{OURS}/sid/subject"), "value": e.actor_sub } },
            "requestor": true,
            "purposeOfUse": purposes,
        },
        {
            "who": reference("Organization", &e.actor_org),
            "requestor": false,
        },
    ]);
    let mut details = vec![
        detail("status", &e.status.to_string()),
        detail("request_id", &e.request_id),
        detail("prev_hash", &e.prev_hash),
        detail("hash", &e.hash),
    ];
    details.extend(e.basis.as_deref().map(|b| detail("basis", b)));
    details.extend(e.digest.as_deref().map(|d| detail("consent_digest", d)));
    details.extend(e.break_glass_reason.as_deref().map(|r| detail("break_glass_reason", r)));
    if let Some(review) = &item.review {
        details.push(detail("review", &serde_json::to_string(review).unwrap_or_default()));
    }
    let mut entities = Vec::new();
    if let Some(p) = &e.patient_id {
        entities.push(json!({
            "what": reference("Patient", p),
            "type": { "system": ENTITY_TYPE, "code": "1", "display": "Person" },
        }));
    }
    let mut record = json!({
        "type": { "system": ENTITY_TYPE, "code": "2", "display": "System Object" },
        "detail": details,
    });
    if let (Some(kind), Some(id)) = (&e.resource_type, &e.resource_id) {
        let mut identifier = json!({ "system": format!("{OURS}/sid/{kind}"), "value": id });
        if let Some(v) = e.resource_version {
            identifier["value"] = json!(format!("{id}/{v}"));
        }
        record["what"] = json!({ "identifier": identifier });
        record["name"] = json!(kind);
    }
    entities.push(record);
    json!({
        "resourceType": "AuditEvent",
        "id": e.seq.to_string(),
        "type": { "system": EVENT_TYPE, "code": "rest", "display": "RESTful Operation" },
        "subtype": [ours("audit-action", &e.action)],
        "action": action_code(&e.action),
        "recorded": e.at,
        "outcome": outcome_code(e.status),
        "outcomeDesc": format!("{} ({})", e.outcome, e.status),
        "purposeOfEvent": [{ "coding": [ours("purpose", &e.purpose)] }],
        "agent": agents,
        "source": { "observer": { "display": "carepath" }, "type": [{ "system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4", "display": "Application Server" }] },
        "entity": entities,
    })
}

/// The events as NDJSON, one AuditEvent a line.
pub fn ndjson(items: &[AuditEvent]) -> String {
    let mut out = String::new();
    for item in items {
        out.push_str(&audit_event(item).to_string());
        out.push('\n');
    }
    out
}
