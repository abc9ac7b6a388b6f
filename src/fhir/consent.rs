//! Consent: the patient's opt-in to sharing, with its provisions (who, which document types,
//! what for, when) and whether restricted fields are released.

use serde_json::{Value, json};

use super::{ours, reference, writer};
use crate::domain::consents::{Consent, ConsentOrganizations};

const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
const ACT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
const PARTICIPATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
const CONFIDENTIALITY: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";

/// A purpose of ours as a v3 ActReason where one fits, else as ours.
fn purpose(p: &str) -> Value {
    match p {
        "treatment" => json!({ "system": ACT_REASON, "code": "TREAT" }),
        "emergency" => json!({ "system": ACT_REASON, "code": "ETREAT" }),
        "care_coordination" => json!({ "system": ACT_REASON, "code": "COC" }),
        other => ours("purpose", other),
    }
}

fn classes(types: &[String]) -> Vec<Value> {
    types.iter().map(|t| ours("document-type", t)).collect()
}

/// One consent; a revoked one is `inactive`, its revocation noted.
pub fn consent(c: &Consent) -> Value {
    let actors: Vec<Value> = match &c.organizations {
        ConsentOrganizations::List(orgs) => orgs
            .iter()
            .map(|o| json!({ "role": { "coding": [{ "system": PARTICIPATION, "code": "IRCP" }] }, "reference": reference("Organization", o) }))
            .collect(),
        ConsentOrganizations::CareTeam(_) => vec![json!({
            "role": { "coding": [{ "system": PARTICIPATION, "code": "IRCP" }] },
            "reference": reference("CareTeam", &c.patient_id),
        })],
    };
    let mut period = json!({ "start": c.period.start });
    if let Some(end) = &c.period.end {
        period["end"] = json!(end);
    }
    let mut provision = json!({
        "type": "permit",
        "period": period,
        "actor": actors,
        "purpose": c.purposes.iter().map(|p| purpose(p)).collect::<Vec<_>>(),
    });
    if !c.permitted_types.is_empty() {
        provision["class"] = json!(classes(&c.permitted_types));
    }
    if c.release_restricted {
        provision["securityLabel"] = json!([{ "system": CONFIDENTIALITY, "code": "R" }]);
    }
    if !c.denied_types.is_empty() {
        provision["provision"] = json!([{ "type": "deny", "class": classes(&c.denied_types) }]);
    }
    let obtained = serde_json::to_value(c.obtained_by).ok().and_then(|v| v.as_str().map(str::to_owned));
    let mut r = json!({
        "resourceType": "Consent",
        "id": c.id,
        "status": if c.status == "active" { "active" } else { "inactive" },
        "scope": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy" }] },
        "category": [{ "coding": [{ "system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent" }] }],
        "patient": reference("Patient", &c.patient_id),
        "dateTime": c.recorded_at,
        "performer": [writer(&c.recorded_by)],
        "policyRule": { "coding": [{ "system": ACT_CODE, "code": "OPTIN" }] },
        "provision": provision,
    });
    if let Some(how) = obtained {
        r["verification"] = json!([{ "verified": true, "verifiedWith": { "display": how } }]);
    }
    if let Some(at) = &c.revoked_at {
        r["extension"] =
            json!([{ "url": format!("{}/StructureDefinition/revoked-at", super::OURS), "valueDateTime": at }]);
    }
    r
}
