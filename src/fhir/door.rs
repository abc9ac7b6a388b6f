//! `POST /v1/fhir/Bundle`: the door for a hospital's EHR that does not know carepath's ids. It
//! takes the same JP-CLINS Bundles as `POST /v1/patients/{id}/fhir`, and finds the patient from
//! the Bundle's own Patient: the health-insurance card (`JP_Insurance_memberID`,
//! `insurer:symbol:number:branch`), then the identity check of `insured_match` (the name in kana
//! and the birth date must agree with the record). The found patient's import is then exactly
//! the other door's (`import::import`): the same access rule, mapping, sealing, audit, feed and
//! idempotency, which is keyed as if posted there, so one Bundle sent through both doors is one
//! document.
//!
//! No oracle: an unknown card, a card whose name kana or birth date disagree, and a caller the
//! access rule refuses for that patient all get one and the same 422, so a caller cannot confirm
//! that someone holds a card, then their birth date, one guess at a time. Each is audited as a
//! refused `document.create`; a disagreeing identity names the patient
//! (`insured_identity_mismatch`), so it shows in that patient's access log. A role that may not
//! write documents at all is refused (403) before any lookup, whatever the card; `X-Break-Glass`
//! is ignored here.

use std::sync::Arc;

use serde_json::Value;

use super::inbound::{self, COMPOSITION};
use super::people::{INSURANCE_MEMBER_ID, INSURED_PERSON, REPRESENTATION};
use crate::access::{self, Action, Resource};
use crate::audit::{self, Event};
use crate::context::Context;
use crate::domain::documents::Written;
use crate::domain::insured_match::{CardClaim, find_by_card};
use crate::error::ApiError;
use crate::state::AppState;

/// What every refusal of the door says, whatever the reason.
const REFUSAL: &str = "no patient in the record that you may file documents for has this health-insurance card (保険者番号 and 番号) with the same name kana and birth date";

/// The Patient the Bundle is about and its place: `Composition.subject` in a document, the first
/// Patient entry in a collection.
fn patient_of(bundle: &Value) -> Result<(String, &Value), ApiError> {
    let entries = inbound::entries(bundle)?;
    let first = entries.list.first().map_or(&Value::Null, |e| &e["resource"]);
    if first["resourceType"] == "Composition" {
        let Some(reference) = first["subject"]["reference"].as_str() else {
            return Err(ApiError::field(
                format!("{COMPOSITION}.subject"),
                "a document Bundle must name its patient (a Patient reference)",
            ));
        };
        return match entries.resolve(reference).filter(|(_, r)| r["resourceType"] == "Patient") {
            Some((i, patient)) => Ok((format!("Bundle.entry[{i}].resource"), patient)),
            None => Err(ApiError::field(
                format!("{COMPOSITION}.subject"),
                format!("{reference} is not a Patient in the Bundle"),
            )),
        };
    }
    entries
        .list
        .iter()
        .enumerate()
        .find(|(_, e)| e["resource"]["resourceType"] == "Patient")
        .map(|(i, e)| (format!("Bundle.entry[{i}].resource"), &e["resource"]))
        .ok_or_else(|| ApiError::field("Bundle.entry", "the Bundle must hold the Patient it is about"))
}

/// The name in kana (the HumanName with representation `SYL`): its text, else family and given.
fn kana_of(patient: &Value) -> Option<String> {
    let names = patient["name"].as_array()?;
    let name = names.iter().find(|n| {
        n["extension"]
            .as_array()
            .is_some_and(|x| x.iter().any(|e| e["url"] == REPRESENTATION && e["valueCode"] == "SYL"))
    })?;
    if let Some(text) = name["text"].as_str().filter(|t| !t.trim().is_empty()) {
        return Some(text.to_owned());
    }
    let given: Vec<&str> = name["given"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    let joined = format!("{} {}", name["family"].as_str().unwrap_or_default(), given.join(" "));
    (!joined.trim().is_empty()).then(|| joined.trim().to_owned())
}

/// Who the Bundle says its patient is, each missing or malformed part named by its FHIRPath.
pub fn claim_of(bundle: &Value) -> Result<(String, CardClaim), ApiError> {
    let (at, patient) = patient_of(bundle)?;
    let card = patient["identifier"].as_array().into_iter().flatten().find_map(|id| {
        let system = id["system"].as_str()?;
        (system == INSURANCE_MEMBER_ID || system == INSURED_PERSON).then(|| id["value"].as_str().unwrap_or_default())
    });
    let Some(card) = card else {
        return Err(ApiError::field(
            format!("{at}.identifier"),
            format!(
                "the patient must carry the health-insurance card ({INSURANCE_MEMBER_ID}, insurer:symbol:number:branch) to be found without an id"
            ),
        ));
    };
    let parts: Vec<&str> = card.split(':').map(str::trim).collect();
    let insurer: String = crate::domain::health_index::halfwidth(parts[0]);
    let shaped = (3..=4).contains(&parts.len())
        && matches!(insurer.len(), 6 | 8)
        && insurer.bytes().all(|b| b.is_ascii_digit())
        && !parts[2].is_empty();
    if !shaped {
        return Err(ApiError::field(
            format!("{at}.identifier"),
            "JP_Insurance_memberID is 保険者番号 (6 or 8 digits):記号:番号:枝番 (the 記号 and 枝番 may be empty)",
        ));
    }
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let Some(name_kana) = kana_of(patient) else {
        return Err(ApiError::field(
            format!("{at}.name"),
            "the patient's name in kana (a HumanName with representation SYL) is needed to check the card",
        ));
    };
    let Some(birth_date) = patient["birthDate"].as_str().filter(|d| crate::clock::parse_day(d).is_some()) else {
        return Err(ApiError::field(
            format!("{at}.birthDate"),
            "the patient's birth date (YYYY-MM-DD) is needed to check the card",
        ));
    };
    let claim = CardClaim {
        insurer_number: insurer,
        symbol: some(parts[1]),
        number: parts[2].to_owned(),
        branch: parts.get(3).and_then(|b| some(b)),
        name_kana,
        birth_date: birth_date.to_owned(),
    };
    Ok((at, claim))
}

/// Imports a JP-CLINS Bundle for the patient its card and identity name (see the module).
pub async fn import(state: &Arc<AppState>, mut ctx: Context, bundle: Value, raw: String) -> Result<Written, ApiError> {
    // No break-glass by card: an emergency opening of a record one names by its numbers would
    // confirm the numbers, and break-glass is for reading a known patient, not filing.
    ctx.break_glass = None;
    let (at, claim) = claim_of(&bundle)?;
    let refused = || ApiError::field(format!("{at}.identifier"), REFUSAL);
    if let Err(denial) = access::check(&ctx.caller, Resource::Document, Action::Write) {
        let denied = ApiError::from(denial);
        let (outcome, status) = audit::read_outcome::<()>(&Err(denied.clone()));
        state.committer.record(Event::new(&ctx, "document.create"), outcome, status).await?;
        return Err(denied);
    }
    let st = state.clone();
    let event = Event::new(&ctx, "document.create");
    let (found, event) = crate::db::run(&state.pool, move |conn| {
        let mut event = event;
        let found = find_by_card(conn, &st, &claim, &mut event)?;
        Ok((found, event))
    })
    .await?;
    let Ok(row) = found else {
        // Recorded as the refusal it is (naming the patient when the identity disagreed).
        state.committer.record(event, "rejected", 422).await?;
        return Err(refused());
    };
    // Keyed as the other door keys it: the same Bundle through either door is one document.
    let path = format!("/v1/patients/{}/fhir", row.id);
    super::import::import(state, ctx, row.id.into(), bundle, raw, path).await.map_err(|e| match e {
        // The access rule's refusal (recorded by the import's `authorize`) says what the others say.
        ApiError::NotFound(_) | ApiError::Forbidden(_) => refused(),
        other => other,
    })
}
