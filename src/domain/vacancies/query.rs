//! A vacancy search as it arrives, text per parameter, and its checks: one parse for the API's
//! query string and the console's form, so both answer a bad value with the same message.

use serde::Deserialize;
use time::Date;
use utoipa::IntoParams;

use super::{CareNeed, MAX_SEARCH_DAYS, SearchQuery, ShortStayService};
use crate::clock;
use crate::domain::fields::{Errors, is_postal_code};
use crate::error::ApiError;

/// Taken as text, so that each bad value gets a message naming its parameter and the rule.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The first day a bed is needed, `YYYY-MM-DD` (default: today in the region; not before it).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// The last day a bed is needed (default: `from`); at most 92 days from `from`.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    /// Only this service: `daily_living` (短期入所生活介護) or `medical_care` (短期入所療養介護).
    #[param(value_type = Option<ShortStayService>)]
    pub service: Option<String>,
    /// Care needs, comma-separated (e.g. `suction,insulin`): the facility must take on every one,
    /// every day.
    #[param(value_type = Option<String>, example = "suction,insulin")]
    pub accepts: Option<String>,
    /// A postal code (`997-0035`): facilities sharing more of its leading digits come first.
    #[param(value_type = Option<String>, pattern = r"^[0-9]{3}-?[0-9]{4}$")]
    pub near: Option<String>,
}

impl SearchParams {
    /// Checks every parameter against `today` (the region's), naming each bad one.
    pub fn parse(self, today: Date) -> Result<SearchQuery, ApiError> {
        let mut errors = Errors::default();
        let from = day(&mut errors, "from", self.from.as_deref(), today);
        let to = from.and_then(|f| day(&mut errors, "to", self.to.as_deref(), f));
        if let Some(f) = from
            && f < today
        {
            errors.add("/query/from", format!("must not be before today ({})", clock::format_day(today)));
        }
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                errors.add("/query/to", "must not be before from");
            } else if (t - f).whole_days() >= MAX_SEARCH_DAYS {
                errors.add("/query/to", format!("must be less than {MAX_SEARCH_DAYS} days after from"));
            }
        }
        let service = match self.service.as_deref().map(str::parse::<ShortStayService>).transpose() {
            Ok(s) => s,
            Err(e) => {
                errors.add("/query/service", e.to_string());
                None
            }
        };
        let accepts = needs(&mut errors, self.accepts.as_deref().unwrap_or(""));
        if let Some(near) = &self.near
            && !is_postal_code(near)
        {
            errors.add("/query/near", "must be a postal code like 997-0035");
        }
        errors.finish()?;
        match (from, to) {
            (Some(from), Some(to)) => Ok(SearchQuery { from, to, service, accepts, near: self.near }),
            _ => Err(ApiError::internal("search days missing after checks")),
        }
    }
}

/// A day parameter: `default` when absent, `None` (and an error) when not a real date.
fn day(errors: &mut Errors, name: &str, value: Option<&str>, default: Date) -> Option<Date> {
    let Some(text) = value else { return Some(default) };
    let parsed = clock::parse_day(text);
    if parsed.is_none() {
        errors.add(format!("/query/{name}"), "must be a real date, YYYY-MM-DD");
    }
    parsed
}

/// Comma-separated care needs, each once, in the order asked.
fn needs(errors: &mut Errors, list: &str) -> Vec<CareNeed> {
    let mut accepts = Vec::new();
    for word in list.split(',').filter(|w| !w.is_empty()) {
        match word.parse() {
            Ok(need) if !accepts.contains(&need) => accepts.push(need),
            Ok(_) => {}
            Err(e) => errors.add("/query/accepts", format!("{e}")),
        }
    }
    accepts
}
