//! Care plans from the care side's software (ケアプランデータ連携 CSV): a care-management office
//! uploads the files it sends (1・2表 and 補足; 6・7表 and 補足; 削除), a provider uploads its
//! 実績; a provider downloads the files of the patients it serves. What a file says is filed as
//! `care-plan` and `service-use` documents through the documents' own create, update and
//! delete (gate, schema, sealing, feed, audit), so there is no second way into the record.
//!
//! An upload is all or nothing: every problem of every file is answered at once, each naming
//! its file, record and column, and nothing is stored unless there are none.

mod export;
mod filing;
mod findings;
mod import;
mod returns;

use std::sync::Arc;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::Event;
use crate::careplan::files::FileName;
use crate::careplan::records::{self, Problem};
use crate::careplan::units::{self, Located, Parsed};
use crate::context::Context;
use crate::error::{ApiError, FieldError};
use crate::state::AppState;

pub use export::{ExportQuery, export};

/// At most this many files in one upload.
pub const MAX_FILES: usize = 50;

/// One exchange file, as uploaded or downloaded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeFile {
    /// The file name by the convention, e.g. `UPPLAN_202604_3370100015_3370200014_20260325101500.CSV`.
    #[schema(min_length = 1, max_length = 100, example = "UP2KYO_3370100015_3370200014_20260325101500.CSV")]
    pub name: String,
    /// The file's bytes (Shift-JIS CSV), in standard base64 (empty for a file with no records).
    #[schema(max_length = 2_000_000)]
    pub content: String,
}

/// Files to import, or the files exported.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeFiles {
    /// The files: an upload has 1 to 50 (else a 422 naming `/files`); an export has one send unit
    /// per office, possibly none.
    pub files: Vec<ExchangeFile>,
}

/// What became of one patient's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new document.
    Created,
    /// A new version of the patient's document (the history shows what changed).
    Updated,
    /// The document already says this: nothing written.
    Unchanged,
    /// The document ended as withdrawn (a 削除 file).
    Withdrawn,
}

/// One patient's records of a file, stored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Stored {
    /// The file (its name).
    pub file: String,
    /// The first record of the patient in that file, from 1.
    pub row: usize,
    /// What became of the patient's document.
    pub outcome: Outcome,
    /// The patient the records were matched to.
    pub patient_id: String,
    /// The document filed.
    pub document_id: String,
    /// Its version after the import.
    pub version: i32,
}

/// The answer to an import: every patient's records and what became of them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportReport {
    /// Every patient's records of every file, in file order.
    pub stored: Vec<Stored>,
}

/// The one error of a refused upload: a field error per problem, its pointer
/// `/files/<i>/rows/<row>/columns/<column>` (row and column from 1, 0 for the whole file or
/// record), its message naming the file, record, column and reason.
fn refusal(names: &[String], located: &[Located]) -> ApiError {
    let errors = located
        .iter()
        .map(|l| {
            let Problem { row, column, reason } = &l.problem;
            let name = names.get(l.file).map(String::as_str).unwrap_or_default();
            FieldError {
                pointer: format!("/files/{}/rows/{row}/columns/{column}", l.file),
                message: format!("{name} row {row} column {column}: {reason}"),
            }
        })
        .collect();
    ApiError::Validation(errors)
}

/// Reads every file (names, encoding, columns, values) and groups them into send units: pure
/// work, done before the committer.
fn parse(files: &[ExchangeFile]) -> Result<Vec<units::Unit>, Vec<Located>> {
    let mut parsed = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (index, file) in files.iter().enumerate() {
        let whole = |reason: String| Located { file: index, problem: Problem::new(0, 0, reason) };
        if !seen.insert(file.name.as_str()) {
            problems.push(whole("the upload names this file twice".into()));
            continue;
        }
        let name = match FileName::parse(&file.name) {
            Ok(name) => name,
            Err(reason) => {
                problems.push(whole(reason));
                continue;
            }
        };
        let bytes = match base64::engine::general_purpose::STANDARD.decode(&file.content) {
            Ok(bytes) => bytes,
            Err(_) => {
                problems.push(whole("the content is not base64".into()));
                continue;
            }
        };
        match records::read(name.kind, &bytes) {
            Ok(rows) => parsed.push(Parsed { index, name, rows }),
            Err(more) => problems.extend(more.into_iter().map(|problem| Located { file: index, problem })),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    units::units(parsed)
}

/// Imports an upload: read and checked whole, then filed in one transaction of the committer
/// (all or nothing). The caller is the office (or, for 実績, the provider) whose 介護保険事業所番号
/// every file names as its sender. Sending the same files again answers `unchanged` for each.
pub async fn import(state: &Arc<AppState>, ctx: Context, upload: ExchangeFiles) -> Result<ImportReport, ApiError> {
    if upload.files.is_empty() || upload.files.len() > MAX_FILES {
        return Err(ApiError::field("/files", format!("1 to {MAX_FILES} files")));
    }
    let names: Vec<String> = upload.files.iter().map(|f| f.name.clone()).collect();
    let files = upload.files;
    let parsed = tokio::task::spawn_blocking(move || parse(&files)).await.map_err(ApiError::internal)?;
    let event = Event::new(&ctx, "care_plan.import");
    let units = match parsed {
        Ok(units) => units,
        Err(problems) => {
            let error = refusal(&names, &problems);
            state.committer.record(event, "rejected", error.status()).await?;
            return Err(error);
        }
    };
    let st = state.clone();
    let caller = ctx.caller.clone();
    let files = names.clone();
    let outcome =
        state.committer.run(move |conn| import::file_units(conn, &st, &caller, &units, &files, &event)).await?;
    match outcome {
        Ok(report) => {
            state.notify_change();
            Ok(report)
        }
        Err(problems) => Err(refusal(&names, &problems)),
    }
}
