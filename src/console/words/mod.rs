//! The console's words for coded values: every enum word the API speaks (`care_5`, `female`,
//! `partial_assistance`, `document.read`) as people of the region say it, in Japanese and
//! English. Pages never show a wire word: `say` looks a value up by its kind first (where one
//! word means different things, an infection's `active` is not a consent's), then among the
//! words every kind shares. Tests keep the table whole against the domain's enums, the schemas'
//! enums and the audit actions the code records.

use super::Lang;

mod actions;
mod coded;

fn all() -> impl Iterator<Item = &'static Word> {
    coded::CODED.iter().chain(actions::ACTIONS)
}

/// (kind, wire word, 日本語, English). An empty kind is shared by every kind (the schemas' enums
/// mostly: `other`, `home`, `independent` mean one thing wherever they appear).
pub type Word = (&'static str, &'static str, &'static str, &'static str);

/// The word for `wire` of `kind` in `lang`; a value the table lacks shows as itself (the tests
/// keep that from happening for every value the code or a schema declares).
pub fn say<'a>(lang: Lang, kind: &str, wire: &'a str) -> &'a str {
    let found = all().find(|w| w.0 == kind && w.1 == wire).or_else(|| all().find(|w| w.0.is_empty() && w.1 == wire));
    match (found, lang) {
        (Some(w), Lang::Ja) => w.2,
        (Some(w), Lang::En) => w.3,
        (None, _) => wire,
    }
}

/// Whether the table has a word for `wire` of `kind` (its own, or a shared one).
#[cfg(test)]
fn knows(kind: &str, wire: &str) -> bool {
    all().any(|w| (w.0 == kind || w.0.is_empty()) && w.1 == wire)
}

/// The words of one kind, in table order.
#[cfg(test)]
fn of_kind(kind: &str) -> impl Iterator<Item = &'static str> + '_ {
    all().filter(move |w| w.0 == kind).map(|w| w.1)
}

#[cfg(test)]
mod tests;
