//! The annual plan's form: what the analyst typed (a draft, kept as typed so that a refused or
//! conflicting save shows it again), read from the posted fields, and turned into the domain's
//! `PlanInput` with each unreadable field named in the page's language.
//!
//! Fields are numbered: `i3.what` is the fourth item's text, `i3.k1.target` its second
//! indicator's target. An item without text is left out (that is how one is deleted), and so is
//! a link without an indicator.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;

use crate::console::form_errors::FieldProblem;
use crate::console::i18n::label;
use crate::console::{Lang, wire};
use crate::domain::reports::plans::{IndicatorLink, Plan, PlanInput, PlanItem};
use crate::error::ApiError;

/// Blank items offered under the written ones, and blank links under each item's.
pub const BLANK_ITEMS: usize = 2;

#[derive(Debug, Clone, Default)]
pub struct DraftLink {
    pub indicator: String,
    pub group: String,
    pub target: String,
}

#[derive(Debug, Clone, Default)]
pub struct DraftItem {
    pub area: String,
    pub what: String,
    pub by: Vec<String>,
    pub schedule: String,
    pub times: String,
    pub status: String,
    pub notes: String,
    pub links: Vec<DraftLink>,
}

#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub csrf: String,
    /// The version the form was read at (`""` before the first).
    pub version: String,
    pub reviewed_on: String,
    pub items: Vec<DraftItem>,
}

fn target_text(t: f64) -> String {
    if t.fract() == 0.0 { format!("{t:.0}") } else { t.to_string() }
}

impl Draft {
    /// The stored plan as a form.
    pub fn of(plan: &Plan) -> Self {
        let items = plan
            .items
            .iter()
            .map(|i| DraftItem {
                area: wire(&i.area),
                what: i.what.clone(),
                by: i.by.clone(),
                schedule: i.schedule.clone().unwrap_or_default(),
                times: i.times.map(|t| t.to_string()).unwrap_or_default(),
                status: wire(&i.status),
                notes: i.notes.clone().unwrap_or_default(),
                links: i
                    .indicators
                    .iter()
                    .map(|l| DraftLink {
                        indicator: l.indicator.clone(),
                        group: wire(&l.group),
                        target: l.target.map(target_text).unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect();
        Self {
            csrf: String::new(),
            version: plan.version.to_string(),
            reviewed_on: plan.reviewed_on.clone().unwrap_or_default(),
            items,
        }
    }

    /// The posted fields, in order.
    pub fn parse(body: &str) -> Self {
        let mut draft = Self::default();
        let mut items: BTreeMap<usize, DraftItem> = BTreeMap::new();
        let mut links: BTreeMap<(usize, usize), DraftLink> = BTreeMap::new();
        for (key, value) in form_urlencoded::parse(body.as_bytes()) {
            let value = value.into_owned();
            match key.as_ref() {
                "csrf" => draft.csrf = value,
                "version" => draft.version = value,
                "reviewed_on" => draft.reviewed_on = value,
                other => {
                    let mut parts = other.split('.');
                    let Some(n) = parts.next().and_then(|p| p.strip_prefix('i')).and_then(|p| p.parse().ok()) else {
                        continue;
                    };
                    match (parts.next(), parts.next()) {
                        (Some(k), Some(field)) if k.starts_with('k') => {
                            let Ok(m) = k[1..].parse::<usize>() else { continue };
                            let link = links.entry((n, m)).or_default();
                            match field {
                                "indicator" => link.indicator = value,
                                "group" => link.group = value,
                                "target" => link.target = value,
                                _ => {}
                            }
                        }
                        (Some(field), None) => {
                            let item = items.entry(n).or_default();
                            match field {
                                "area" => item.area = value,
                                "what" => item.what = value,
                                "by" if !value.is_empty() => item.by.push(value),
                                "schedule" => item.schedule = value,
                                "times" => item.times = value,
                                "status" => item.status = value,
                                "notes" => item.notes = value,
                                _ => {}
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        for ((n, _), link) in links {
            if !link.indicator.is_empty() {
                items.entry(n).or_default().links.push(link);
            }
        }
        draft.items = items.into_values().filter(|i| !i.what.trim().is_empty()).collect();
        draft
    }

    /// The draft as the domain's input, or the fields it could not read. Its items are the
    /// draft's, one for one (empty ones were left out when parsing), so the domain's refusal of
    /// `/items/2` is the draft's third.
    pub fn input(&self, lang: Lang) -> Result<PlanInput, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let mut items = Vec::new();
        for (n, d) in self.items.iter().enumerate() {
            let mut bad = |field: &str, what: &str| problems.push(item_problem(lang, n, field, what));
            let area = coded(&d.area).unwrap_or_else(|| {
                bad("area", "rep_bad_choice");
                crate::domain::reports::plans::Area::Local
            });
            let status = coded(&d.status).unwrap_or_else(|| {
                bad("status", "rep_bad_choice");
                crate::domain::reports::plans::ItemStatus::Planned
            });
            let times = match d.times.trim() {
                "" => None,
                t => t.parse::<u32>().map(Some).unwrap_or_else(|_| {
                    bad("times", "rep_bad_number");
                    None
                }),
            };
            let mut indicators = Vec::new();
            for l in &d.links {
                let group = coded(&l.group).unwrap_or_else(|| {
                    bad("group", "rep_bad_choice");
                    crate::domain::reports::plans::IndicatorGroup::Outcome
                });
                // A share may be typed as one (0.3) or as a percentage (30%).
                let raw = l.target.trim();
                let (number, per_cent) = raw.strip_suffix('%').map_or((raw, false), |t| (t.trim(), true));
                let target = match number {
                    "" => None,
                    t => t
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .map(|x| if per_cent { x / 100.0 } else { x })
                        .or_else(|| {
                            bad("target", "rep_bad_number");
                            None
                        }),
                };
                indicators.push(IndicatorLink { indicator: l.indicator.clone(), group, target, value: None });
            }
            let text = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
            items.push(PlanItem {
                area,
                what: d.what.trim().to_owned(),
                by: d.by.clone(),
                schedule: text(&d.schedule),
                times,
                status,
                notes: text(&d.notes),
                indicators,
            });
        }
        if problems.is_empty() {
            let reviewed_on = (!self.reviewed_on.trim().is_empty()).then(|| self.reviewed_on.trim().to_owned());
            Ok(PlanInput { reviewed_on, items })
        } else {
            Err(problems)
        }
    }
}

/// A coded value posted as its wire word.
fn coded<T: DeserializeOwned>(wire: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(wire.to_owned())).ok()
}

fn item_problem(lang: Lang, n: usize, field: &str, what: &str) -> FieldProblem {
    let name = label(lang, &format!("plan_{field}"));
    let text = match lang {
        Lang::Ja => format!("項目{}の{name}: {}", n + 1, label(lang, what)),
        Lang::En => format!("Item {}, {name}: {}", n + 1, label(lang, what)),
    };
    FieldProblem { field: "", text }
}

/// The domain's refusal of a field (`/items/2/by/0`, `/reviewed_on`) in the page's language.
pub fn refusals(lang: Lang, error: &ApiError) -> Option<Vec<FieldProblem>> {
    let ApiError::Validation(errors) = error else { return None };
    Some(
        errors
            .iter()
            .map(|e| {
                let what = if e.message.starts_with("no such organisation") {
                    "rep_no_such_org"
                } else if e.message.starts_with("no such indicator") {
                    "rep_bad_choice"
                } else if e.message.starts_with("must be a real date") {
                    "rep_bad_date"
                } else if e.message.starts_with("at most") {
                    "rep_too_long"
                } else {
                    "rep_check"
                };
                let mut parts = e.pointer.split('/').skip(1);
                match (parts.next(), parts.next().and_then(|n| n.parse::<usize>().ok()), parts.next()) {
                    (Some("items"), Some(n), Some(field)) => {
                        let field = if field == "indicators" { parts.nth(1).unwrap_or("indicator") } else { field };
                        item_problem(lang, n, field, what)
                    }
                    _ => FieldProblem {
                        field: "reviewed_on",
                        text: format!("{}: {}", label(lang, "plan_reviewed_on"), label(lang, what)),
                    },
                }
            })
            .collect(),
    )
}
