//! The console's words, Japanese first (the people of the region read Japanese), English on
//! request (`?lang=en`, then remembered in the `cp_lang` cookie).

use actix_web::HttpRequest;

mod audit;
mod basics;
mod morning;
mod reports;
mod work;

/// The page language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
}

pub const LANG_COOKIE: &str = "cp_lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// `lang=` of a query string, when it names a language.
    pub fn from_query(query: &str) -> Option<Self> {
        form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "lang").and_then(|(_, v)| Self::parse(&v))
    }

    /// The request's language: the query, else the cookie, else Japanese.
    pub fn of(req: &HttpRequest) -> Self {
        Self::from_query(req.query_string())
            .or_else(|| req.cookie_value(LANG_COOKIE).and_then(|v| Self::parse(&v)))
            .unwrap_or(Lang::Ja)
    }
}

/// A cookie's value from the `Cookie` header (the console's cookies are plain tokens: no quoting).
pub trait CookieValue {
    fn cookie_value(&self, name: &str) -> Option<String>;
}

impl CookieValue for HttpRequest {
    fn cookie_value(&self, name: &str) -> Option<String> {
        self.headers()
            .get_all(actix_web::http::header::COOKIE)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }
}

/// (key, 日本語, English)
pub type Label = (&'static str, &'static str, &'static str);

/// Every label, one table per part of the console.
fn all() -> impl Iterator<Item = &'static Label> {
    basics::LABELS.iter().chain(work::LABELS).chain(audit::LABELS).chain(reports::LABELS).chain(morning::LABELS)
}

/// The label of `key` in `lang`; an unknown key shows as itself (a test keeps the table whole).
pub fn label(lang: Lang, key: &str) -> &'static str {
    match all().find(|(k, _, _)| *k == key) {
        Some((_, ja, en)) => match lang {
            Lang::Ja => ja,
            Lang::En => en,
        },
        None => "?",
    }
}

/// (key, 日本語, English)
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_has_both_languages_and_keys_are_unique() {
        let mut keys: Vec<_> = all().map(|(k, _, _)| *k).collect();
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        assert_eq!(before, keys.len(), "a label key appears twice");
        assert!(all().all(|(_, ja, en)| !ja.is_empty() && !en.is_empty()));
        assert_eq!(label(Lang::En, "patients"), "Patients");
        assert_eq!(label(Lang::Ja, "patients"), "利用者");
    }

    #[test]
    fn the_query_picks_the_language() {
        assert_eq!(Lang::from_query("a=1&lang=en"), Some(Lang::En));
        assert_eq!(Lang::from_query("lang=fr"), None);
    }
}
