//! Checks of the coded and free-text fields that several request bodies share. Each check adds
//! to a list, so a client learns every failing field at once.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, FieldError};

/// Collects field errors; `finish` turns a non-empty list into one 422.
#[derive(Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    /// Records that the value at `pointer` (a JSON Pointer into the request) fails, and why.
    pub fn add(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(pointer, message));
    }

    /// Free text: not blank, at most `max_chars` characters, no control characters.
    pub fn text(&mut self, pointer: &str, value: &str, max_chars: usize) {
        // Blank as the schemas' `\s` says (ECMAScript's, which counts U+FEFF as space too).
        if value.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}').is_empty() {
            self.add(pointer, "must not be empty");
        } else if value.chars().count() > max_chars {
            self.add(pointer, format!("must be at most {max_chars} characters"));
        } else if value.chars().any(|c| c.is_control()) {
            self.add(pointer, "must not contain control characters");
        }
    }

    /// Digits, hyphens, an optional leading `+`; 7 to 20 characters.
    pub fn phone(&mut self, pointer: &str, value: &str) {
        let body = value.strip_prefix('+').unwrap_or(value);
        let ok = (7..=20).contains(&value.len())
            && body.chars().all(|c| c.is_ascii_digit() || c == '-')
            && body.chars().filter(char::is_ascii_digit).count() >= 7;
        if !ok {
            self.add(pointer, "must be a phone number: digits and hyphens, 7 to 20 characters");
        }
    }

    /// ASCII digits only, as many as one of `lens` allows (e.g. an insurer number of 6 or 8).
    pub fn digits(&mut self, pointer: &str, value: &str, lens: &[usize]) {
        if !(lens.contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit())) {
            let lens: Vec<String> = lens.iter().map(ToString::to_string).collect();
            self.add(pointer, format!("must be {} digits", lens.join(" or ")));
        }
    }

    /// `Ok` when nothing failed, else one 422 listing every failing field.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() { Ok(()) } else { Err(ApiError::Validation(self.0)) }
    }
}

/// A Japanese postal code: `123-4567` or `1234567`.
pub fn is_postal_code(s: &str) -> bool {
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    match s.split_once('-') {
        Some((head, tail)) => head.len() == 3 && tail.len() == 4 && digits(head) && digits(tail),
        None => s.len() == 7 && digits(s),
    }
}

/// Full-width katakana (with the long-vowel mark, middle dot and spaces), as in 氏名カナ.
pub fn is_katakana(s: &str) -> bool {
    s.chars().all(|c| ('\u{30A0}'..='\u{30FF}').contains(&c) || c == ' ' || c == '\u{3000}')
}

/// A care profession: a role other than `admin` and `auditor`. Only the schema of the fields
/// that take one (their type stays `Role`; their check refuses the two with a 422).
#[derive(Serialize, ToSchema)]
#[allow(
    missing_docs,
    reason = "schema only: its words are the documentation; variant comments would turn the enum into a oneOf"
)]
#[serde(rename_all = "snake_case")]
pub enum Profession {
    Physician,
    Dentist,
    Pharmacist,
    Nurse,
    Therapist,
    CareManager,
    CareWorker,
    SocialWorker,
}

/// A postal address in Japan.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// 郵便番号, `123-4567` or `1234567`.
    #[schema(pattern = r"^[0-9]{3}-?[0-9]{4}$", example = "718-0011")]
    pub postal_code: Option<String>,
    /// 都道府県
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub prefecture: Option<String>,
    /// 市区町村
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub city: Option<String>,
    /// 町名・番地・建物
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub line: Option<String>,
}

impl Address {
    /// Adds an error for each malformed part, located under `at`.
    pub fn check(&self, at: &str, errors: &mut Errors) {
        if let Some(code) = &self.postal_code
            && !is_postal_code(code)
        {
            errors.add(format!("{at}/postal_code"), "must be a postal code like 123-4567");
        }
        for (name, value) in [("prefecture", &self.prefecture), ("city", &self.city), ("line", &self.line)] {
            if let Some(value) = value {
                errors.text(&format!("{at}/{name}"), value, 200);
            }
        }
    }
}
