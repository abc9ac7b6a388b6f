//! What one import run found as it went: the problems (row, column, reason), the refusals'
//! events to record after the rollback, and what was stored. Shared by the plans' filing
//! (`import`) and the providers' returns (`returns`).

use crate::audit::Event;
use crate::careplan::columns::Column;
use crate::careplan::files::FileKind;
use crate::careplan::records::Problem;
use crate::careplan::units::Located;
use crate::error::ApiError;

use super::Stored;
use super::filing::Filed;

/// What one run found: the problems, and the events of refusals to record after the rollback.
#[derive(Default)]
pub struct Findings {
    pub problems: Vec<Located>,
    pub refusals: Vec<(Event, &'static str, u16)>,
    pub stored: Vec<Stored>,
}

impl Findings {
    pub fn at(&mut self, file: usize, row: usize, column: usize, reason: impl Into<String>) {
        self.problems.push(Located { file, problem: Problem::new(row, column, reason) });
    }
}

/// The column number of a member in a kind's table (for messages).
pub(super) fn column_of(kind: FileKind, key: &str) -> usize {
    kind.columns().iter().position(|c: &Column| c.key == key).map_or(0, |i| i + 1)
}

/// A filing's refusal (no access, an invalid document) as a problem of the patient's first
/// record, and its event recorded after the rollback.
pub(super) fn refused(
    error: ApiError,
    ev: Event,
    file: usize,
    line: usize,
    findings: &mut Findings,
) -> Result<(), ApiError> {
    match error {
        e @ (ApiError::Internal(_) | ApiError::Contended(_) | ApiError::ServiceUnavailable(_)) => Err(e),
        ApiError::Validation(errors) => {
            for e in errors {
                findings.at(file, line, 0, format!("the document would not be valid at {}: {}", e.pointer, e.message));
            }
            findings.refusals.push((ev, "rejected", 422));
            Ok(())
        }
        other => {
            // No access reads as an unknown patient, as it does everywhere else.
            let status = other.status();
            let outcome =
                if matches!(other, ApiError::NotFound(_) | ApiError::Forbidden(_)) { "denied" } else { "rejected" };
            findings.at(file, line, 3, "no patient in the record the caller may file this for has this 被保険者番号");
            findings.refusals.push((ev, outcome, status));
            Ok(())
        }
    }
}

pub(super) fn note(findings: &mut Findings, names: &[String], file: usize, line: usize, patient: &str, filed: Filed) {
    findings.stored.push(Stored {
        file: names.get(file).cloned().unwrap_or_default(),
        row: line,
        outcome: filed.outcome,
        patient_id: patient.to_owned(),
        document_id: filed.document_id,
        version: filed.version,
    });
}
