//! A FHIR search's query, parsed before any I/O: the patient, each filter of the type's table,
//! the date bounds of `_lastUpdated`, and the result parameters (`_count`, `_offset`, `_sort`,
//! `_summary`, `_elements`). Unknown parameters are ignored, as the specification's lenient
//! handling says, or refused with 400 under `Prefer: handling=strict`.

use serde_json::Value;
use time::{Date, Month, OffsetDateTime};

use super::{DEFAULT_COUNT, Kind, MAX_COUNT, Param, Type};
use crate::clock;
use crate::error::{ApiError, FieldError};
use crate::fhir::systems;

/// Parameters every FHIR route takes, that are no filter.
pub const RESULT: &[&str] = &["_count", "_offset", "_sort", "_summary", "_elements", "_format", "_pretty", "_total"];

/// `_summary`: the subset of each resource sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    /// The whole resource (`false`, or absent).
    Full,
    /// Without the narrative (`data`).
    Data,
    /// Only the total, no entries (`count`).
    Count,
}

/// One bound of a date filter, as a half-open range of stored instants `[low, high)`.
#[derive(Debug, Clone)]
pub struct DateBound {
    pub prefix: String,
    pub low: String,
    pub high: String,
}

impl DateBound {
    /// Whether `at` (stored format) is within the bound.
    pub fn admits(&self, at: Option<&str>) -> bool {
        let Some(at) = at else { return false };
        match self.prefix.as_str() {
            "gt" | "sa" => at >= self.high.as_str(),
            "ge" => at >= self.low.as_str(),
            "lt" | "eb" => at < self.low.as_str(),
            "le" => at < self.high.as_str(),
            "ne" => !(self.low.as_str()..self.high.as_str()).contains(&at),
            _ => (self.low.as_str()..self.high.as_str()).contains(&at),
        }
    }
}

/// One token filter: any of its values (a comma list) matches.
#[derive(Debug, Clone)]
pub struct TokenFilter {
    pub param: &'static Param,
    /// `(system, code)`; a system of `None` matches any.
    pub values: Vec<(Option<String>, String)>,
}

/// A parsed search.
#[derive(Debug, Clone)]
pub struct Search {
    pub patient: Option<String>,
    pub tokens: Vec<TokenFilter>,
    pub last_updated: Vec<DateBound>,
    pub count: usize,
    pub offset: usize,
    pub sort: Option<(String, bool)>,
    pub summary: Summary,
    pub elements: Option<Vec<String>>,
}

fn bad(errors: &mut Vec<FieldError>, name: &str, message: impl Into<String>) {
    errors.push(FieldError::new(format!("/query/{name}"), message));
}

/// A `[system|]code` token.
pub fn token(text: &str) -> (Option<String>, String) {
    match text.split_once('|') {
        Some((system, code)) if !system.is_empty() => (Some(system.to_owned()), code.to_owned()),
        Some((_, code)) => (None, code.to_owned()),
        None => (None, text.to_owned()),
    }
}

/// The start of the period a FHIR date (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`) or instant names, and
/// the start of the next, as stored instants.
fn date_range(text: &str) -> Option<(String, String)> {
    let ymd: Vec<&str> = text.split('-').collect();
    let day = |y: i32, m: u8, d: u8| Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok();
    let midnight = |d: Date| clock::format(d.midnight().assume_utc());
    match ymd.as_slice() {
        [y] if y.len() == 4 => {
            let y: i32 = y.parse().ok()?;
            Some((midnight(day(y, 1, 1)?), midnight(day(y + 1, 1, 1)?)))
        }
        [y, m] if y.len() == 4 && m.len() == 2 => {
            let (y, m): (i32, u8) = (y.parse().ok()?, m.parse().ok()?);
            let next = if m == 12 { day(y + 1, 1, 1)? } else { day(y, m + 1, 1)? };
            Some((midnight(day(y, m, 1)?), midnight(next)))
        }
        [_, _, d] if d.len() == 2 => {
            let d = clock::parse_day(text)?;
            Some((midnight(d), midnight(d.next_day()?)))
        }
        _ => {
            let t = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
            Some((clock::format(t), clock::format(t + time::Duration::microseconds(1))))
        }
    }
}

fn date_bound(text: &str) -> Option<DateBound> {
    let (prefix, rest) = match text.get(..2) {
        Some(p @ ("eq" | "ne" | "gt" | "lt" | "ge" | "le" | "sa" | "eb")) => (p, &text[2..]),
        _ => ("eq", text),
    };
    let (low, high) = date_range(rest)?;
    Some(DateBound { prefix: prefix.to_owned(), low, high })
}

/// Parses the query of a search of `t`. `strict`: `Prefer: handling=strict` was given.
pub fn parse(t: &'static Type, query: &[(String, String)], strict: bool) -> Result<Search, ApiError> {
    let mut s = Search {
        patient: None,
        tokens: Vec::new(),
        last_updated: Vec::new(),
        count: DEFAULT_COUNT,
        offset: 0,
        sort: None,
        summary: Summary::Full,
        elements: None,
    };
    let mut errors = Vec::new();
    for (name, value) in query {
        match name.as_str() {
            "_count" => match value.parse::<usize>() {
                Ok(n) => s.count = n.min(MAX_COUNT),
                Err(_) => bad(&mut errors, name, "must be a whole number"),
            },
            "_offset" => match value.parse::<usize>() {
                Ok(n) => s.offset = n,
                Err(_) => bad(&mut errors, name, "must be a whole number"),
            },
            "_sort" => {
                let (key, desc) = match value.strip_prefix('-') {
                    Some(k) => (k, true),
                    None => (value.as_str(), false),
                };
                if t.sorts.contains(&key) || key == "_id" {
                    s.sort = Some((key.to_owned(), desc));
                } else if strict {
                    bad(&mut errors, name, format!("{} sorts by _id or {}", t.name, t.sorts.join(", ")));
                }
            }
            "_summary" => match value.as_str() {
                "false" => s.summary = Summary::Full,
                "data" => s.summary = Summary::Data,
                "count" => s.summary = Summary::Count,
                _ => bad(&mut errors, name, "this server takes count, data or false"),
            },
            "_elements" => {
                s.elements = Some(value.split(',').map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()).collect());
            }
            "_format" | "_pretty" | "_total" => {}
            other => {
                let (bare, modifier) = other.split_once(':').map_or((other, None), |(b, m)| (b, Some(m)));
                let Some(param) = t.param(bare) else {
                    if strict {
                        bad(&mut errors, other, format!("{} is not a search parameter of {}", bare, t.name));
                    }
                    continue;
                };
                if modifier.is_some() {
                    if strict {
                        bad(&mut errors, other, "this server takes no modifiers");
                    }
                    continue;
                }
                match param.kind {
                    Kind::Reference => {
                        let id = value.strip_prefix("Patient/").unwrap_or(value);
                        if id.is_empty() || s.patient.as_deref().is_some_and(|p| p != id) {
                            bad(&mut errors, other, "one patient a search");
                        }
                        s.patient = Some(id.to_owned());
                    }
                    Kind::Date => match date_bound(value) {
                        Some(b) => s.last_updated.push(b),
                        None => bad(&mut errors, other, "must be a FHIR date or instant, with an optional prefix"),
                    },
                    Kind::Token => {
                        s.tokens.push(TokenFilter { param, values: value.split(',').map(token).collect() });
                    }
                }
            }
        }
    }
    if errors.is_empty() { Ok(s) } else { Err(ApiError::BadParameters(errors)) }
}

/// Every `(system, code)` an element holds: a string code, a Coding, a CodeableConcept, an
/// Identifier, or a list of them.
fn codes(v: &Value, out: &mut Vec<(Option<String>, String)>) {
    match v {
        Value::String(s) => out.push((None, s.clone())),
        Value::Array(items) => items.iter().for_each(|i| codes(i, out)),
        Value::Object(o) => {
            if let Some(c) = o.get("coding") {
                codes(c, out);
            }
            let code = o.get("code").or_else(|| o.get("value")).and_then(Value::as_str);
            if let Some(code) = code {
                out.push((o.get("system").and_then(Value::as_str).map(str::to_owned), code.to_owned()));
            }
        }
        _ => {}
    }
}

impl TokenFilter {
    pub fn admits(&self, resource: &Value) -> bool {
        let mut held = Vec::new();
        codes(&resource[self.param.path], &mut held);
        self.values.iter().any(|(system, code)| {
            held.iter().any(|(s, c)| {
                c == code
                    && match (system, s) {
                        (None, _) => true,
                        (Some(asked), Some(held)) => systems::canonical(asked) == systems::canonical(held),
                        (Some(_), None) => false,
                    }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_prefixes_bound_by_the_period_named() {
        let ge = date_bound("ge2025-04").unwrap();
        assert!(ge.admits(Some("2025-04-01T00:00:00.000000Z")));
        assert!(!ge.admits(Some("2025-03-31T23:59:59.999999Z")));
        let le = date_bound("le2025-04-01").unwrap();
        assert!(le.admits(Some("2025-04-01T23:59:59.000000Z")));
        assert!(!le.admits(Some("2025-04-02T00:00:00.000000Z")));
        assert!(date_bound("ge2025-13").is_none());
        assert!(date_bound("gt2025-04-01T09:00:00+09:00").unwrap().admits(Some("2025-04-01T00:00:01.000000Z")));
    }
}
