//! The patient's record as a FHIR Bundle: the domain's read of the record
//! ([`crate::domain::record`]), mapped. The names below stay here for the FHIR server's reads,
//! which gather the record inside reads of their own.

use std::sync::Arc;

use serde_json::Value;

use crate::context::Context;
use crate::domain::record;
use crate::error::ApiError;
use crate::ids::PatientId;
use crate::state::AppState;

pub use crate::domain::record::{Parts, Record, gather, gather_parts};

/// The patient's record as a FHIR `collection` Bundle, for a caller who may read the patient:
/// one audited read (`patient.fhir`), refused exactly as `GET /v1/patients/{id}` is.
pub async fn read_bundle(
    state: &Arc<AppState>,
    ctx: Context,
    patient: PatientId,
    base: String,
) -> Result<Value, ApiError> {
    let record = record::read(state, ctx, patient, "patient.fhir", Parts::ALL.into()).await?;
    Ok(super::bundle(&record, &base, &state.clock.stamp()))
}
