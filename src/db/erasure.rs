//! What erasure removes besides the data key: every value about the person that is not sealed
//! (and so would outlive the shredded key), in the erasure's own transaction.

use diesel::prelude::*;

use super::DbConn;
use super::consent_versions::ConsentVersionRow;
use super::consents::BreakGlassRow;
use super::schema::{care_team_members, consents, document_versions, documents, patients};

/// The document type a document of an erased patient is left with.
pub const ERASED_TYPE: &str = "erased";

/// Blanks the patient's clear values: the care level, the care team, consent records (every version), the
/// content (and type) of every document version, and break-glass reasons. Document heads and
/// versions stay as rows, so the change feed keeps its sequence numbers without gaps; they no
/// longer say anything about the person.
pub fn blank_clear_values(conn: &mut DbConn, patient_id: &str) -> QueryResult<()> {
    diesel::update(patients::table.find(patient_id)).set(patients::care_level.eq(None::<String>)).execute(conn)?;
    diesel::delete(care_team_members::table.filter(care_team_members::patient_id.eq(patient_id))).execute(conn)?;
    diesel::delete(consents::table.filter(consents::patient_id.eq(patient_id))).execute(conn)?;
    ConsentVersionRow::delete_for_patient(conn, patient_id)?;
    diesel::update(document_versions::table.filter(document_versions::patient_id.eq(patient_id)))
        .set((document_versions::content.eq(None::<String>), document_versions::doc_type.eq(ERASED_TYPE)))
        .execute(conn)?;
    diesel::update(documents::table.filter(documents::patient_id.eq(patient_id)))
        .set(documents::doc_type.eq(ERASED_TYPE))
        .execute(conn)?;
    BreakGlassRow::blank_reasons(conn, patient_id)?;
    Ok(())
}
