//! One request example per operation with a JSON body (document writes take the shipped schema
//! examples instead, see `documents.rs`). Ids are placeholders for a client's own.

use serde_json::{Value, json};

const ORG: &str = "0b6b9c2e-5f1d-4c39-9a55-2f7f3c1d8e01";
const PRACTITIONER: &str = "7d1e4f0a-93c2-4b7e-8f16-5a2c0e9b4d77";
const PATIENT: &str = "3f9a1c5e-8b27-4d60-a1e4-6c0d2b7f9e13";
const DOCUMENT: &str = "c4e8a2d6-1f3b-4a95-b7c0-9e5d1a3f6b28";

/// The example body of the operation `operation_id`, if it takes one.
pub fn request(operation_id: &str) -> Option<Value> {
    Some(match operation_id {
        "create_organization" | "put_organization" => json!({
            "name": "新見中央クリニック", "kind": "clinic",
            "address": {"postal_code": "718-0011", "prefecture": "岡山県", "city": "新見市", "line": "新見1-2-3"},
            "phone": "0867-72-1234"
        }),
        "create_practitioner" | "put_practitioner" => {
            json!({"name": "佐藤 一郎", "profession": "physician", "organization": ORG})
        }
        "create_patient" => json!({
            "name": "山田 花子", "name_kana": "ヤマダ ハナコ", "birth_date": "1939-04-01", "sex": "female",
            "address": {"postal_code": "718-0011", "prefecture": "岡山県", "city": "新見市", "line": "新見1-2-3"},
            "phone": "0867-72-1234", "ltc_insured_number": "9876543210",
            "health_insurance": {"insurer_number": "39331234", "symbol": "新見", "number": "1234"},
            "care_level": "care_2", "managing_organization": ORG
        }),
        "erase_patient" => json!({"reason": "The patient asked for the record to be erased"}),
        "put_care_team" => json!({"members": [
            {"organization": ORG, "practitioner": PRACTITIONER, "role": "physician", "since": "2026-04-01"},
            {"organization": ORG, "role": "nurse", "since": "2026-04-01", "until": "2027-03-31"}
        ]}),
        "create_consent" => json!({
            "status": "active", "organizations": "care_team", "permitted_types": ["care-path"],
            "purposes": ["treatment", "care_coordination"], "period": {"start": "2026-04-01", "end": "2027-03-31"},
            "obtained_by": "signed_form"
        }),
        "revoke_consent" => json!({"reason": "Withdrawn by the patient at the visit of 2026-05-10"}),
        "review_event" => json!({"comment": "Emergency access confirmed with the attending physician"}),
        "post_batch" => json!({"atomic": false, "operations": [
            {"op": "create", "patient_id": PATIENT, "type": "care-path", "schema_version": "1.1.0",
             "content": {"care_level": "support_1", "diagnoses": [{"icd10_code": "M48.0", "name": "腰部脊柱管狭窄症"}]},
             "idempotency_key": "station-7-0001"},
            {"op": "update", "document_id": DOCUMENT, "if_match": "\"1\"", "schema_version": "1.1.0",
             "content": {"care_level": "care_1", "diagnoses": [{"icd10_code": "M48.0", "name": "腰部脊柱管狭窄症"}]},
             "idempotency_key": "station-7-0002"}
        ]}),
        _ => return None,
    })
}
