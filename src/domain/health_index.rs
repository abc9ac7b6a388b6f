//! The blind index of a patient's health-insurance card (医療保険: 保険者番号 and 番号), by which a
//! hospital's EHR that does not know carepath's ids names the patient of a JP-CLINS document
//! (`POST /v1/fhir/Bundle`, `insured_match::find_by_card`). Like the long-term-care insured
//! number, the card is sealed in the identity and found only through a keyed hash.
//!
//! Only the insurer and the number are indexed: the 記号 is often left off what an EHR sends,
//! and the 枝番 was not printed before 2021, so indexing either would lose real matches. They are
//! compared after the lookup where both sides have them.
//!
//! Patients registered before the index existed have none (`NULL`): [`backfill`] fills it at
//! start-up, a batch per committer job, each batch audited. A patient without a card is indexed
//! as `''`, so a start finds nothing left to open once the backfill has run.

use std::sync::Arc;

use serde_json::json;

use crate::audit::Event;
use crate::crypto::Keyring;
use crate::db::patients::PatientRow;
use crate::domain::identity::{HealthInsurance, Identity};
use crate::error::ApiError;
use crate::state::AppState;

/// Patients indexed a committer job: small, so a start-up backfill never holds the writer long.
const BATCH: i64 = 100;

/// Full-width digits and letters (０-９, Ａ-Ｚ, ａ-ｚ) as ASCII: EHRs write both.
pub fn halfwidth(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
            }
            c => c,
        })
        .collect()
}

/// A 記号 or 番号 as compared: half-width, without spaces, ASCII letters in lower case.
pub fn normal_part(s: &str) -> String {
    halfwidth(s).chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

/// The index of the card with this insurer number and number.
pub fn index_of(keys: &Keyring, insurer_number: &str, number: &str) -> String {
    let insurer: String = halfwidth(insurer_number).chars().filter(char::is_ascii_digit).collect();
    keys.blind_index("health_insurance_member", &format!("{insurer}:{}", normal_part(number)))
}

/// The index a patient with this card (or none) is stored with: `''` without a card.
pub fn of_card(keys: &Keyring, card: Option<&HealthInsurance>) -> String {
    card.map_or_else(String::new, |hi| index_of(keys, &hi.insurer_number, &hi.number))
}

/// Indexes the cards of every patient registered before the index existed, in batches through
/// the committer; each batch is one audit event (`patient.index`, with its count). Returns how
/// many patients were indexed. Safe beside live traffic: a batch reads and writes inside its own
/// job, and only rows still unindexed are set.
pub async fn backfill(state: &Arc<AppState>) -> Result<u64, ApiError> {
    let mut total = 0;
    loop {
        // Looked at first on a pooled connection, so a start with nothing to do writes nothing.
        let pending = crate::db::run(&state.pool, |conn| Ok(!PatientRow::not_hi_indexed(conn, 1)?.is_empty())).await?;
        if !pending {
            return Ok(total);
        }
        let done = crate::domain::write(state, Event::system("patient.index"), 200, |tx, st, ev| {
            let rows = PatientRow::not_hi_indexed(tx, BATCH)?;
            let mut n = 0u64;
            for row in &rows {
                let identity = Identity::open(st, row)?;
                if PatientRow::set_hi_index(tx, &row.id, &of_card(&st.keys(), identity.health_insurance.as_ref()))? {
                    n += 1;
                }
            }
            ev.basis = Some(json!({"index": "health_insurance_member", "patients": n}).to_string());
            Ok(n)
        })
        .await?;
        total += done;
        if done == 0 {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_written_either_width_is_one_index() {
        let keys = Keyring::for_testing();
        assert_eq!(index_of(&keys, "39331234", "３４５６"), index_of(&keys, "39331234", "3456"));
        assert_eq!(index_of(&keys, "３９３３１２３４", "AB 12"), index_of(&keys, "39331234", "ａｂ12"));
        assert_ne!(index_of(&keys, "39331234", "3456"), index_of(&keys, "39331235", "3456"));
        assert_eq!(of_card(&keys, None), "");
    }
}
