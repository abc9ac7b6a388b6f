//! The import of a document Bundle (a JP-CLINS referral letter, discharge summary or patient
//! summary, or a discharge summary in our own shape): who may, whose it is, and where the work runs.
//!
//! The committer's one thread serves every organisation's writes, so nothing a Bundle's size
//! controls runs there: the caller is admitted, the Bundle mapped (linear, capped), its patient
//! matched and its content validated on a blocking thread first. The committer then does what
//! any document write does (authorize, validate and seal the mapped content, insert), bounded
//! by the body limit. A caller the rule refuses costs the committer one authorisation, which
//! records the refusal as before.

use std::sync::Arc;

use serde_json::Value;

use super::clins::{self, Kind};
use super::inbound::{self, Mapped};
use super::subject;
use crate::access::Resource;
use crate::audit::Event;
use crate::context::Context;
use crate::db::{self, patients::PatientRow};
use crate::domain::documents::{self, Idempotency, Written};
use crate::domain::patients::Patient;
use crate::error::ApiError;
use crate::gate::{Want, authorize};
use crate::ids::PatientId;
use crate::state::AppState;

/// What the work before the committer decided.
enum Prepared {
    /// The rule will refuse the caller: the committer's `authorize` records how.
    Stranger,
    /// Admitted, and the Bundle cannot be filed (unmappable, another patient, invalid).
    Refused(ApiError),
    Ready(Mapped),
}

fn want(doc_type: &'static str) -> Want<'static> {
    Want::write(Resource::Document).of_type(doc_type)
}

/// Maps the Bundle for `row`'s patient: the entries (capped), the patient named by the
/// Composition compared with ours, then the mapping (JP-CLINS' or our own) and the schema.
fn prepare(
    state: &AppState,
    row: &PatientRow,
    bundle: &Value,
    raw: &str,
    kind: Result<Option<&'static Kind>, ApiError>,
) -> Result<Mapped, ApiError> {
    let kind = kind?;
    let target = Patient::reveal(state, row)?;
    let entries = inbound::entries(bundle)?;
    // Another patient's Bundle is named as such whatever else is wrong with it.
    let mut errors = subject::mismatches(&entries, &target);
    let mapped = match kind {
        Some(kind) => clins::map(bundle, raw, &entries, kind),
        None => inbound::map(bundle, &entries),
    };
    match mapped {
        Ok(mapped) if errors.is_empty() => {
            documents::check(state, &mapped.input)
                .map_err(|e| inbound::locate(e, &mapped.sections, &mapped.input.doc_type))?;
            Ok(mapped)
        }
        Ok(_) => Err(ApiError::Validation(errors)),
        Err(ApiError::Validation(more)) => {
            errors.extend(more);
            Err(ApiError::Validation(errors))
        }
        Err(other) => Err(other),
    }
}

/// Imports a document Bundle for a patient: authorised as a write of the document type it
/// becomes (a caller without access gets the 404 of `POST /v1/patients/{id}/documents` before
/// any mapping),
/// matched to the patient (a Bundle about someone else is a 422 naming what differs, audited),
/// mapped, validated, stored. A Bundle with an identifier already imported by the same caller
/// answers the first document again; the same identifier with other content is a 422.
pub async fn import(
    state: &Arc<AppState>,
    ctx: Context,
    patient: PatientId,
    bundle: Value,
    raw: String,
    path: String,
) -> Result<Written, ApiError> {
    // The type decides who may write it; reading it off the Composition costs nothing.
    let kind = clins::detect(&bundle);
    let doc_type = match &kind {
        Ok(Some(k)) => k.doc_type,
        _ => "discharge-summary",
    };
    let (st, caller, id) = (state.clone(), ctx.caller.clone(), patient.clone());
    let glass = ctx.break_glass.is_some();
    let admitted =
        db::run(&state.pool, move |conn| crate::gate::admits(conn, &st, &caller, &id, want(doc_type), glass)).await?;
    let prepared = match admitted {
        None => Prepared::Stranger,
        Some(row) => {
            let st = state.clone();
            tokio::task::spawn_blocking(move || match prepare(&st, &row, &bundle, &raw, kind) {
                Ok(mapped) => Prepared::Ready(mapped),
                Err(e) => Prepared::Refused(e),
            })
            .await
            .map_err(ApiError::internal)?
        }
    };
    let event = Event::new(&ctx, "document.create");
    let written = crate::domain::write(state, event, 201, move |tx, st, ev| {
        let mapped = match &prepared {
            Prepared::Ready(mapped) => mapped,
            Prepared::Refused(e) => {
                authorize(tx, st, &ctx.caller, &patient, want(doc_type), ev)?;
                return Err(e.clone());
            }
            Prepared::Stranger => {
                authorize(tx, st, &ctx.caller, &patient, want(doc_type), ev)?;
                return Err(ApiError::Conflict("the patient's care team changed during the import; retry".into()));
            }
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, mapped.identifier.as_bytes());
        let key = format!("fhir-bundle:{}", crate::crypto::keyfile::hex(digest.as_ref()));
        let idem = Idempotency::new(&ctx.caller, &key, "POST", &path, &mapped.input)?;
        let written =
            documents::create(tx, st, &ctx.caller, &patient, &mapped.input, Some(&idem), ev).map_err(|e| match e {
                ApiError::Validation(list) if list.iter().any(|f| f.pointer == "/header/Idempotency-Key") => {
                    ApiError::field(
                        "Bundle.identifier",
                        "a Bundle with this identifier was imported with other content",
                    )
                }
                other => inbound::locate(other, &mapped.sections, &mapped.input.doc_type),
            })?;
        // The addressee's inbox learns of it in the same commit (not again on a replay).
        if !written.replayed
            && let Some(n) = clins::notice(&mapped.input, &written.document.id, &patient)
        {
            let mut scratch = ev.clone();
            crate::domain::coordination::notice::file(tx, st, &ctx.caller, &n, &mut scratch)?;
        }
        Ok(written)
    })
    .await?;
    state.notify_change();
    Ok(written)
}
