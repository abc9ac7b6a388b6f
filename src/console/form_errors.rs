//! A refused form, said in the page's language and naming the field. The domain's messages are
//! written for API clients, in English; a care manager on a Japanese page reads the field's label
//! and what to do, so the messages the console's forms can meet are said again here (one table,
//! matched by the domain's own text), and any other falls back to a plain sentence that still
//! names the field.

use super::Lang;
use super::i18n::label;
use crate::error::ApiError;

/// One refused field: its label in the page's language, and what is wrong.
pub struct FieldProblem {
    /// The form field's `id`, for the page to point at.
    pub field: &'static str,
    pub text: String,
}

/// (JSON Pointer, the form field's id, label key)
const FIELDS: &[(&str, &str, &str)] = &[
    ("/reply_by", "reply_by_date", "reply_by"),
    ("/body", "body", "body"),
    ("/category", "category", "category"),
    ("/urgency", "urgency", "urgency"),
    ("/patient_id", "patient_id", "patient"),
    ("/to", "to", "to"),
    ("/to/organization", "to", "to"),
    ("/to/practitioner", "to", "to"),
    ("/note", "note", "note"),
];

/// (how the domain's message begins, 日本語, English)
const MESSAGES: &[(&str, &str, &str)] = &[
    ("must be in the future", "未来の日時を入力してください", "must be in the future"),
    ("must not be empty", "入力してください", "must not be empty"),
    ("at most", "長すぎます(4000文字まで)", "is too long (at most 4000 characters)"),
    ("no such practitioner", "該当する担当者が見つかりません", "no such practitioner"),
    ("no such organization", "該当する事業所が見つかりません", "no such organisation"),
    ("name either", "事業所か担当者のどちらか一方を指定してください", "name either an organisation or a practitioner"),
    (
        "consent missing",
        "この宛先には利用者の同意がないため送れません。先に同意を記録してください",
        "the patient's consent does not name this addressee; record the consent first",
    ),
    (
        "organisation ",
        "この宛先は利用者の管理事業所でもケアチームでもないため送れません",
        "this addressee neither manages the patient nor is on the care team",
    ),
    (
        "a sheet without a patient",
        "利用者を指定しない連絡票は相談窓口にだけ送れます",
        "a sheet without a patient may go to a consultation desk only",
    ),
    ("must be a real date", "日付を正しく入力してください", "must be a real date"),
    ("must be a time", "時刻を正しく入力してください(例 17:00)", "must be a time, e.g. 17:00"),
    ("needs a date", "日付も入力してください", "needs a date as well"),
];

/// The field problems of a refusal, or `None` when it is no refusal of fields (the error page
/// says those).
pub fn of(lang: Lang, error: &ApiError) -> Option<Vec<FieldProblem>> {
    let ApiError::Validation(errors) = error else { return None };
    Some(
        errors
            .iter()
            .map(|e| {
                let (field, key) =
                    FIELDS.iter().find(|(p, _, _)| *p == e.pointer).map_or(("", "field"), |(_, f, k)| (*f, *k));
                let said = MESSAGES.iter().find(|(start, _, _)| e.message.starts_with(start));
                let message = match (said, lang) {
                    (Some((_, ja, _)), Lang::Ja) => (*ja).to_owned(),
                    (Some((_, _, en)), Lang::En) => (*en).to_owned(),
                    (None, Lang::Ja) => "入力内容を確認してください".to_owned(),
                    (None, Lang::En) => e.message.clone(),
                };
                FieldProblem { field, text: format!("{}: {message}", label(lang, key)) }
            })
            .collect(),
    )
}

/// What an error page says when the refusal is not of a form's fields: a sentence for the
/// reader in the page's language (the problem's own text is for API clients, in English).
pub fn page_message(lang: Lang, error: &ApiError) -> String {
    let key = match error.status() {
        403 => "error_403",
        404 => "error_404",
        409 | 412 | 428 => "error_409",
        410 => "error_410",
        422 | 400 => "error_422",
        429 => "error_429",
        s if s >= 500 => "error_500",
        _ => "error_other",
    };
    match (lang, of(lang, error)) {
        (_, Some(problems)) if !problems.is_empty() => {
            let fields: Vec<String> = problems.into_iter().map(|p| p.text).collect();
            format!("{} {}", label(lang, key), fields.join(" / "))
        }
        (Lang::Ja, _) => label(lang, key).to_owned(),
        (Lang::En, _) => format!("{} ({})", label(lang, key), error.problem().detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_field_in_the_pages_language() {
        let e = ApiError::field("/reply_by", "must be in the future");
        let ja = of(Lang::Ja, &e).unwrap_or_default();
        assert_eq!(ja.first().map(|p| p.text.as_str()), Some("回答期限: 未来の日時を入力してください"));
        assert_eq!(ja.first().map(|p| p.field), Some("reply_by_date"));
        let en = of(Lang::En, &e).unwrap_or_default();
        assert_eq!(en.first().map(|p| p.text.as_str()), Some("Reply by: must be in the future"));
        let odd = of(Lang::Ja, &ApiError::field("/body", "something new")).unwrap_or_default();
        assert_eq!(odd.first().map(|p| p.text.as_str()), Some("本文: 入力内容を確認してください"));
        assert!(of(Lang::Ja, &ApiError::NotFound("x".into())).is_none());
    }

    #[test]
    fn an_error_page_speaks_the_pages_language() {
        let missing = ApiError::NotFound("no such patient".into());
        let ja = page_message(Lang::Ja, &missing);
        assert!(ja.contains("見つかりません") && !ja.contains("no such"), "{ja}");
        assert!(page_message(Lang::En, &missing).contains("no such patient"));
        let busy = page_message(Lang::Ja, &ApiError::Conflict("the sheet is closed".into()));
        assert!(!busy.is_ascii() && !busy.contains("closed"), "{busy}");
        let field = page_message(Lang::Ja, &ApiError::field("/body", "must not be empty"));
        assert!(field.contains("本文: 入力してください"), "{field}");
    }

    #[test]
    fn every_field_has_a_label() {
        for (_, _, key) in FIELDS {
            assert_ne!(label(Lang::Ja, key), "?", "{key}");
        }
    }
}
