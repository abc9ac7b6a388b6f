//! Searching the board: facilities with a bed free on every day of a range that take on every
//! listed need, fresh postings first, then the nearest.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use time::Date;
use utoipa::ToSchema;

use crate::access::{self, Action, Resource};
use crate::clock;
use crate::context::Context;
use crate::db::directory::OrganizationRow;
use crate::db::vacancies::{self, DayRow, PostingRow};
use crate::db::{self, DbConn};
use crate::error::ApiError;
use crate::state::AppState;

use super::publish::{contact, day_vacancy, is_stale};
use super::types::{CareNeed, ShortStayService, Vacancy, VacancyFacility};

/// A search, parsed.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    /// The first day that needs a bed.
    pub from: Date,
    /// The last day that needs a bed (at least `from`).
    pub to: Date,
    /// One service, or either.
    pub service: Option<ShortStayService>,
    /// Care the facility must take on, every day.
    pub accepts: Vec<CareNeed>,
    /// A postal code: facilities whose code shares more leading digits with it come first.
    pub near: Option<String>,
}

/// The answer of a search.
#[derive(Debug, Serialize, ToSchema)]
pub struct VacancySearchResult {
    /// The first day asked, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub from: String,
    /// The last day asked, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub to: String,
    /// Seconds after its last confirmation that a posting is marked stale.
    pub stale_after_secs: u64,
    /// The hits: fresh before stale, then nearest first (with `near`), then by facility name.
    pub items: Vec<Vacancy>,
}

/// Runs a search (any authenticated caller; not audited: no patient data, like the directory).
pub async fn search(state: &Arc<AppState>, ctx: Context, query: SearchQuery) -> Result<VacancySearchResult, ApiError> {
    access::check(&ctx.caller, Resource::Directory, Action::Read)?;
    let st = state.clone();
    let from = clock::format_day(query.from);
    let to = clock::format_day(query.to);
    let (f, t) = (from.clone(), to.clone());
    // From the replica when there is one: a search may be a moment behind (its answers carry
    // their postings' age anyway); a facility reading its own posting reads the primary.
    let items = db::run(&state.lagging, move |conn| find(conn, &st, &query, &f, &t)).await?;
    Ok(VacancySearchResult { from, to, stale_after_secs: state.settings.vacancy_stale_secs, items })
}

fn find(conn: &mut DbConn, state: &AppState, q: &SearchQuery, from: &str, to: &str) -> Result<Vec<Vacancy>, ApiError> {
    let wanted = usize::try_from((q.to - q.from).whole_days() + 1).map_err(ApiError::internal)?;
    let needs: Vec<&str> = q.accepts.iter().map(|n| n.as_str()).collect();
    let rows = vacancies::free_days(conn, q.service.map(ShortStayService::as_str), from, to, &needs)?;
    // Rows come ordered by posting then day, one per day: a posting qualifies with every day.
    let mut by_posting: HashMap<(String, String), Vec<DayRow>> = HashMap::new();
    for row in rows {
        by_posting.entry((row.facility_id.clone(), row.service.clone())).or_default().push(row);
    }
    by_posting.retain(|_, days| days.len() == wanted);
    if by_posting.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<(String, String)> = by_posting.keys().cloned().collect();
    let postings = PostingRow::find_many(conn, &keys)?;
    let ids: Vec<&str> = postings.iter().map(|p| p.facility_id.as_str()).collect();
    let orgs: HashMap<String, OrganizationRow> =
        vacancies::facilities(conn, &ids)?.into_iter().map(|o| (o.id.clone(), o)).collect();
    let mut hits = Vec::with_capacity(postings.len());
    for posting in postings {
        let Some(org) = orgs.get(&posting.facility_id) else { continue };
        let Some(days) = by_posting.get(&(posting.facility_id.clone(), posting.service.clone())) else { continue };
        hits.push(Vacancy {
            facility: facility(org)?,
            service: posting.service.parse().map_err(ApiError::internal)?,
            version: posting.version,
            stale: is_stale(state, &posting.confirmed_at),
            confirmed_at: posting.confirmed_at.clone(),
            contact: contact(&posting)?,
            notes: posting.notes.clone(),
            days: days.iter().map(day_vacancy).collect::<Result<_, _>>()?,
        });
    }
    let near = q.near.as_deref().map(digits);
    hits.sort_by_cached_key(|h| {
        let closeness = near.as_deref().map_or(0, |n| shared_prefix(n, &postal_digits(&h.facility)));
        (h.stale, std::cmp::Reverse(closeness), h.facility.name.clone(), h.service.as_str())
    });
    Ok(hits)
}

fn facility(org: &OrganizationRow) -> Result<VacancyFacility, ApiError> {
    Ok(VacancyFacility {
        id: org.id.clone(),
        name: org.name.clone(),
        kind: org.kind.parse().map_err(ApiError::internal)?,
        address: org.address.as_deref().map(serde_json::from_str).transpose().map_err(ApiError::internal)?,
        phone: org.phone.clone(),
    })
}

fn digits(code: &str) -> String {
    code.chars().filter(char::is_ascii_digit).collect()
}

fn postal_digits(f: &VacancyFacility) -> String {
    f.address.as_ref().and_then(|a| a.postal_code.as_deref()).map(digits).unwrap_or_default()
}

/// Japanese postal codes narrow from region to block digit by digit, so a longer shared prefix
/// is (roughly) nearer. A rough order, not a distance: the directory holds no coordinates.
fn shared_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearer_postal_codes_share_more_leading_digits() {
        assert_eq!(shared_prefix(&digits("997-0035"), &digits("9970035")), 7);
        assert_eq!(shared_prefix(&digits("997-0035"), &digits("997-0811")), 4);
        assert_eq!(shared_prefix(&digits("997-0035"), &digits("718-0011")), 0);
        assert_eq!(shared_prefix("9970035", ""), 0);
    }
}
