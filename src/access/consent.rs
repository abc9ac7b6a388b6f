//! Rule 3 (consent) and what an access rests on. Kept apart from the role matrix: this part
//! answers not only yes or no but which consent said yes, or which condition said no, because
//! auditors reconstruct every access from it.

use serde::Serialize;

use super::{Ask, ConsentTerms, Denial, PatientFacts, purpose_of};

/// Why an allowed request was allowed: recorded on its audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Basis {
    /// The operator's administrator, who acts across organisations.
    Operator,
    /// The caller's organisation manages the patient.
    ManagingOrganization { organization: String },
    /// A place on the active care team (for what is not a document: the patient, the team,
    /// the consents).
    CareTeam { organization: String },
    /// A place on the care team (or being named) and this consent version sharing the document.
    Consent { organization: String, consent_id: String, consent_version: i32 },
    /// An emergency opening; the grant id is added where the grant is known (`authorize`).
    BreakGlass,
}

/// The first consent that shares this document with the caller, or the condition that failed:
/// a consent in force must name the organisation, no deny provision of one may match, and one
/// of them must cover the purpose and permit the type.
pub(super) fn consent_for<'f>(
    ask: &Ask<'_>,
    patient: &'f PatientFacts,
    on_team: bool,
) -> Result<&'f ConsentTerms, Denial> {
    let purpose = purpose_of(ask.caller);
    let named: Vec<&ConsentTerms> = patient.consents.iter().filter(|c| c.names(&ask.caller.org, on_team)).collect();
    if named.is_empty() {
        return Err(Denial::NoConsent);
    }
    let applicable: Vec<&ConsentTerms> = named.iter().copied().filter(|c| c.in_force(ask.today)).collect();
    if applicable.is_empty() {
        // Say why the ones that named the caller no longer (or not yet) count.
        return Err(if named.iter().any(|c| !c.active) { Denial::ConsentRevoked } else { Denial::ConsentPeriod });
    }
    let type_matches = |list: &[String]| ask.doc_type.is_some_and(|t| list.iter().any(|x| x == t));
    if applicable.iter().any(|c| type_matches(&c.denied_types)) {
        return Err(Denial::TypeDenied);
    }
    let for_purpose: Vec<&ConsentTerms> =
        applicable.into_iter().filter(|c| c.purposes.iter().any(|p| p == purpose)).collect();
    if for_purpose.is_empty() {
        return Err(Denial::PurposeNotCovered);
    }
    let permitting: Vec<&ConsentTerms> = for_purpose
        .into_iter()
        .filter(|c| c.permitted_types.is_empty() || ask.doc_type.is_none() || type_matches(&c.permitted_types))
        .collect();
    // One that releases restricted fields is named when there is one: it decides what is seen.
    permitting
        .iter()
        .find(|c| c.release_restricted)
        .or_else(|| permitting.first())
        .copied()
        .ok_or(Denial::TypeNotPermitted)
}

/// The consents in force on `today` that name `org` (on the active care team or not): what a
/// coverage report shows a care manager for each member of the team.
pub fn covering<'f>(patient: &'f PatientFacts, org: &str, on_team: bool, today: time::Date) -> Vec<&'f ConsentTerms> {
    patient.consents.iter().filter(|c| c.in_force(today) && c.names(org, on_team)).collect()
}
