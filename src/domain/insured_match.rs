//! Finding a patient by the numbers on their long-term-care insurance card (保険者番号 +
//! 被保険者番号, [`find_by_insured`]: the care-plan exchange CSV) or their health-insurance card
//! (保険者番号 + 番号, [`find_by_card`]: the JP-CLINS documents of `POST /v1/fhir/Bundle`), the way
//! files from outside name a patient, with the identity check that keeps a file about someone else out of
//! this patient's record: the name in kana and the birth date the file gives must agree with
//! the record.
//!
//! Call [`find_by_insured`] inside the caller's transaction (a committer job). It does **not**
//! authorise: it answers which patient the numbers and identity name, and the caller then asks
//! the gate (`gate::authorize`) for what it means to do with that patient. A refusal says the
//! same thing whether no patient has the numbers or one has them but its name or birth date
//! differs, and never which field differed: an answer that told them apart would let a caller
//! confirm someone's insured number, then their birth date, one guess at a time. A disagreeing
//! identity names the patient on the caller's audit event (`patient_id`, and the basis
//! `{"refused":"insured_identity_mismatch"}`), so the record's access log shows the attempt
//! once the caller records the refusal.

use serde_json::json;

use crate::audit::Event;
use crate::crypto::Keyring;
use crate::db::DbConn;
use crate::db::patients::PatientRow;
use crate::domain::health_index;
use crate::domain::identity::Identity;
use crate::error::ApiError;
use crate::state::AppState;

/// Who a file says the patient is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsuredClaim {
    /// 保険者番号 (6 digits for long-term-care insurance: the municipality).
    pub insurer_number: String,
    /// 被保険者番号 (10 digits).
    pub insured_number: String,
    /// The name in kana as the file has it (full- or half-width katakana, or hiragana; spaces
    /// are ignored).
    pub name_kana: String,
    /// The birth date, `YYYY-MM-DD`.
    pub birth_date: String,
}

/// Why no patient was found. Both kinds are answered alike ([`Unmatched::error`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmatched {
    /// No patient (not erased) has these numbers, or more than one has.
    NoSuchInsured,
    /// The patient with these numbers has another name kana or birth date.
    Disagrees,
}

impl Unmatched {
    /// The one answer for either kind, naming `pointer` (a row's column, a JSON Pointer).
    pub fn error(&self, pointer: &str) -> ApiError {
        ApiError::field(
            pointer,
            "no patient in the record has this 保険者番号 and 被保険者番号 with the same name kana and birth date",
        )
    }
}

/// The insured number as the blind index has it (see `domain::patients`): digits only.
pub fn index_of(keys: &Keyring, number: &str) -> String {
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    keys.blind_index("ltc_insured_number", &digits)
}

/// Finds the one patient whose insured number is `claim.insured_number`, whose recorded
/// 保険者番号 (where the record has one) is `claim.insurer_number`, and whose name kana and birth
/// date agree with the claim. On [`Unmatched::Disagrees`], `event` is made about that patient
/// and marked as an identity mismatch: record it as the refusal.
pub fn find_by_insured(
    conn: &mut DbConn,
    state: &AppState,
    claim: &InsuredClaim,
    event: &mut Event,
) -> Result<Result<PatientRow, Unmatched>, ApiError> {
    let index = index_of(&state.keys(), &claim.insured_number);
    let mut candidates = Vec::new();
    for row in PatientRow::find_by_index(conn, &index)? {
        if row.erased_at.is_some() {
            continue;
        }
        let identity = Identity::open(state, &row)?;
        if identity.ltc_insurer_number.as_deref().is_none_or(|n| n == claim.insurer_number) {
            candidates.push((row, identity));
        }
    }
    Ok(settle(candidates, &claim.name_kana, &claim.birth_date, event))
}

/// The one candidate whose name kana and birth date agree, or why not (a disagreeing identity
/// marks `event` as the refusal about that patient).
fn settle(
    mut candidates: Vec<(PatientRow, Identity)>,
    name_kana: &str,
    birth_date: &str,
    event: &mut Event,
) -> Result<PatientRow, Unmatched> {
    // Two records under one pair of numbers cannot be told apart by a file: neither is chosen.
    if candidates.len() != 1 {
        return Err(Unmatched::NoSuchInsured);
    }
    let Some((row, identity)) = candidates.pop() else { return Err(Unmatched::NoSuchInsured) };
    let kana_agrees = identity.name_kana.as_deref().is_some_and(|k| same_kana(k, name_kana));
    if kana_agrees && identity.birth_date == birth_date {
        return Ok(row);
    }
    event.patient_id = Some(row.id.clone());
    event.basis = Some(json!({"refused": "insured_identity_mismatch"}).to_string());
    Err(Unmatched::Disagrees)
}

/// Who a document says the patient is, by the health-insurance card (医療保険; JP-CLINS'
/// `JP_Insurance_memberID`, `insurer:symbol:number:branch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardClaim {
    /// 保険者番号 (6 or 8 digits).
    pub insurer_number: String,
    /// 記号, when the document gives one.
    pub symbol: Option<String>,
    /// 番号.
    pub number: String,
    /// 枝番, when the document gives one.
    pub branch: Option<String>,
    /// The name in kana as the document has it.
    pub name_kana: String,
    /// The birth date, `YYYY-MM-DD`.
    pub birth_date: String,
}

/// [`find_by_insured`] by the health-insurance card: the patient whose card has this insurer
/// number and number (through `health_index`), whose 記号 and 枝番 agree where both sides have
/// one, and whose name kana and birth date agree with the claim. The same refusals, the same
/// marking of `event` on a disagreeing identity.
pub fn find_by_card(
    conn: &mut DbConn,
    state: &AppState,
    claim: &CardClaim,
    event: &mut Event,
) -> Result<Result<PatientRow, Unmatched>, ApiError> {
    let index = health_index::index_of(&state.keys(), &claim.insurer_number, &claim.number);
    let agrees = |ours: Option<&String>, theirs: Option<&String>| match (ours, theirs) {
        (Some(a), Some(b)) => health_index::normal_part(a) == health_index::normal_part(b),
        _ => true,
    };
    let mut candidates = Vec::new();
    for row in PatientRow::find_by_hi_index(conn, &index)? {
        if row.erased_at.is_some() {
            continue;
        }
        let identity = Identity::open(state, &row)?;
        let same = identity.health_insurance.as_ref().is_some_and(|hi| {
            agrees(hi.symbol.as_ref(), claim.symbol.as_ref()) && agrees(hi.branch.as_ref(), claim.branch.as_ref())
        });
        if same {
            candidates.push((row, identity));
        }
    }
    Ok(settle(candidates, &claim.name_kana, &claim.birth_date, event))
}

/// Whether two kana spellings are one name: half-width katakana composed to full width,
/// hiragana read as katakana, spaces (ASCII and ideographic) dropped.
pub fn same_kana(a: &str, b: &str) -> bool {
    normalize_kana(a) == normalize_kana(b)
}

/// The kana as compared: full-width katakana, no spaces.
pub fn normalize_kana(s: &str) -> String {
    let mut out: Vec<char> = Vec::with_capacity(s.len());
    for c in s.chars() {
        match c {
            ' ' | '\u{3000}' => {}
            '\u{FF9E}' | '\u{FF9F}' => {
                // ﾞ and ﾟ voice the kana before them: カ+ﾞ is ガ, ハ+ﾟ is パ.
                let voiced = out.last().and_then(|&p| voice(p, c == '\u{FF9F}'));
                match voiced {
                    Some(v) => {
                        out.pop();
                        out.push(v);
                    }
                    None => out.push(if c == '\u{FF9E}' { '゛' } else { '゜' }),
                }
            }
            '\u{FF61}'..='\u{FF9D}' => out.push(HALF_TO_FULL[(c as usize) - 0xFF61]),
            '\u{3041}'..='\u{3096}' => out.push(char::from_u32(c as u32 + 0x60).unwrap_or(c)),
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

/// The voiced (or, with `semi`, half-voiced) form of a full-width katakana, if it has one.
fn voice(c: char, semi: bool) -> Option<char> {
    let code = c as u32;
    if semi {
        // ハヒフヘホ take ゜ two code points on (パ = ハ + 2).
        return matches!(c, 'ハ' | 'ヒ' | 'フ' | 'ヘ' | 'ホ').then(|| char::from_u32(code + 2)).flatten();
    }
    match c {
        'ウ' => Some('ヴ'),
        'カ' | 'キ' | 'ク' | 'ケ' | 'コ' | 'サ' | 'シ' | 'ス' | 'セ' | 'ソ' | 'タ' | 'チ' | 'ツ' | 'テ' | 'ト' => {
            char::from_u32(code + 1)
        }
        'ハ' | 'ヒ' | 'フ' | 'ヘ' | 'ホ' => char::from_u32(code + 1),
        _ => None,
    }
}

/// U+FF61 (｡) to U+FF9D (ﾝ) in full width, in code-point order.
const HALF_TO_FULL: [char; 61] = [
    '。', '「', '」', '、', '・', 'ヲ', 'ァ', 'ィ', 'ゥ', 'ェ', 'ォ', 'ャ', 'ュ', 'ョ', 'ッ', 'ー', 'ア', 'イ', 'ウ',
    'エ', 'オ', 'カ', 'キ', 'ク', 'ケ', 'コ', 'サ', 'シ', 'ス', 'セ', 'ソ', 'タ', 'チ', 'ツ', 'テ', 'ト', 'ナ', 'ニ',
    'ヌ', 'ネ', 'ノ', 'ハ', 'ヒ', 'フ', 'ヘ', 'ホ', 'マ', 'ミ', 'ム', 'メ', 'モ', 'ヤ', 'ユ', 'ヨ', 'ラ', 'リ', 'ル',
    'レ', 'ロ', 'ワ', 'ン',
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kana_spellings_of_one_name_agree() {
        assert!(same_kana("ヤマダ ハナコ", "ﾔﾏﾀﾞ ﾊﾅｺ"));
        assert!(same_kana("ヤマダ　ハナコ", "やまだはなこ"));
        assert!(same_kana("パク", "ﾊﾟｸ"));
        assert!(same_kana("ヴォ", "ｳﾞｫ"));
        assert!(!same_kana("ヤマダ ハナコ", "ヤマタ ハナコ"));
        assert!(!same_kana("サトウ", "サトウ イチロウ"));
    }
}
