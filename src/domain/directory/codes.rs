//! The national codes an organisation is known by, and finding an organisation by one.
//!
//! - **保険医療機関コード** (`medical_institution_code`): 10 digits, as printed on a prescription
//!   since 2010: 都道府県番号 (2) ‖ 点数表番号 (1: 1 医科, 3 歯科, 4 調剤, 6 訪問看護) ‖ the
//!   7-digit 医療機関コード (郡市区番号 2, 医療機関番号 4, 検証番号 1). The 検証番号 is computed
//!   over the nine digits before it (the prefecture and table number included), multiplying
//!   them by 2 and 1 in turn from the last one, adding the digits of each product, and taking
//!   what is left to the next ten (modulus 10, weights 2·1: the Luhn scheme). Checked here, so
//!   a mistyped digit is a 422 rather than an organisation nobody can find.
//! - **介護保険事業所番号** (`ltc_provider_number`): 10 digits, 都道府県番号 (2) first. No check
//!   digit is published for it, so only the digits, the length and the prefecture are checked.
//!
//! Each is unique in the region (a unique index; one deployment serves one region), so an
//! exchange file's 事業所番号 names one organisation or none.

use crate::db::DbConn;
use crate::db::directory::OrganizationRow;
use crate::domain::fields::Errors;
use crate::error::ApiError;

/// Whether the first two digits are a prefecture number (01 北海道 … 47 沖縄県).
fn prefecture(code: &str) -> bool {
    code.get(..2).and_then(|p| p.parse::<u8>().ok()).is_some_and(|p| (1..=47).contains(&p))
}

fn ten_digits(code: &str) -> bool {
    code.len() == 10 && code.bytes().all(|b| b.is_ascii_digit())
}

/// The 検証番号 of the digits before it (modulus 10, weights 2·1 from the last digit).
pub fn check_digit(payload: &str) -> Option<u8> {
    let mut sum = 0u32;
    for (i, b) in payload.bytes().rev().enumerate() {
        let d = u32::from(b.checked_sub(b'0').filter(|d| *d <= 9)?);
        let p = if i % 2 == 0 { d * 2 } else { d };
        sum += p / 10 + p % 10;
    }
    u8::try_from((10 - sum % 10) % 10).ok()
}

/// Why a 保険医療機関コード is not one, or `None` when it is.
pub fn medical_institution_code_problem(code: &str) -> Option<&'static str> {
    if !ten_digits(code) {
        return Some("must be 10 digits");
    }
    if !prefecture(code) {
        return Some("must begin with a prefecture number, 01 to 47");
    }
    if !matches!(code.as_bytes()[2], b'1' | b'3' | b'4' | b'6') {
        return Some("the third digit (点数表番号) must be 1, 3, 4 or 6");
    }
    let last = code.as_bytes()[9] - b'0';
    (check_digit(&code[..9]) != Some(last)).then_some("the check digit (検証番号) does not match")
}

/// Why a 介護保険事業所番号 is not one, or `None` when it is.
pub fn ltc_provider_number_problem(number: &str) -> Option<&'static str> {
    if !ten_digits(number) {
        return Some("must be 10 digits");
    }
    (!prefecture(number)).then_some("must begin with a prefecture number, 01 to 47")
}

/// Adds the problems of both codes, where given, under their pointers.
pub fn check(medical: Option<&str>, ltc: Option<&str>, errors: &mut Errors) {
    if let Some(problem) = medical.and_then(medical_institution_code_problem) {
        errors.add("/medical_institution_code", problem);
    }
    if let Some(problem) = ltc.and_then(ltc_provider_number_problem) {
        errors.add("/ltc_provider_number", problem);
    }
}

/// Refuses a code another organisation already has (checked inside the write, which the single
/// committer serialises; the unique index is the last word).
pub fn unique(tx: &mut DbConn, row: &OrganizationRow) -> Result<(), ApiError> {
    let mut errors = Errors::default();
    if let Some(code) = &row.medical_institution_code
        && OrganizationRow::by_medical_institution_code(tx, code)?.is_some_and(|o| o.id != row.id)
    {
        errors.add("/medical_institution_code", "another organisation in the directory has this code");
    }
    if let Some(number) = &row.ltc_provider_number
        && OrganizationRow::by_ltc_provider_number(tx, number)?.is_some_and(|o| o.id != row.id)
    {
        errors.add("/ltc_provider_number", "another organisation in the directory has this number");
    }
    errors.finish()
}

/// The organisation registered under a 介護保険事業所番号, inside the caller's transaction: how an
/// exchange file's 事業所番号 becomes a directory entry.
pub fn by_ltc_provider_number(conn: &mut DbConn, number: &str) -> Result<Option<OrganizationRow>, ApiError> {
    Ok(OrganizationRow::by_ltc_provider_number(conn, number)?)
}

/// The organisation registered under a 保険医療機関コード, inside the caller's transaction.
pub fn by_medical_institution_code(conn: &mut DbConn, code: &str) -> Result<Option<OrganizationRow>, ApiError> {
    Ok(OrganizationRow::by_medical_institution_code(conn, code)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prescription_code_checks() {
        // The example printed in descriptions of the prescription's 10-digit code.
        assert_eq!(medical_institution_code_problem("0110113719"), None);
        assert!(medical_institution_code_problem("0110113718").is_some());
        assert!(medical_institution_code_problem("011011371").is_some());
        assert!(medical_institution_code_problem("4810113719").is_some());
        assert!(medical_institution_code_problem("0120113719").is_some());
        assert_eq!(check_digit("011011371"), Some(9));
    }

    #[test]
    fn a_provider_number_checks_digits_and_prefecture() {
        assert_eq!(ltc_provider_number_problem("0300000100"), None);
        assert!(ltc_provider_number_problem("030000010").is_some());
        assert!(ltc_provider_number_problem("9900000100").is_some());
        assert!(ltc_provider_number_problem("03000001OO").is_some());
    }
}
