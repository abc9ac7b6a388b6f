//! What the region publishes to its residents (the guide's section G): a few indicators of the
//! last complete 年度, by municipality, and where to ask (the directory's consultation desks,
//! community support centres, clinics and visiting-nurse stations with their phone numbers).
//!
//! It is read without sign-in, so it is narrow by construction: the answer's types hold counts,
//! shares and directory contact points only, never a row of a patient. The indicators are the
//! analysts' own (`indicators::compute`), suppressed the same way, and only for a whole, closed
//! 年度: a period still running would change day by day, and two readings a day apart would
//! differ by that day's deaths. There is no caller to authorise or to name in an audit event;
//! the page that serves it is off unless the region switches it on (`--residents-page`), and is
//! rate-limited by the client's address.

use std::sync::Arc;

use time::{Date, Month};

use super::Days;
use super::indicators::{self, Cell, Granularity, NO_ADDRESS};
use crate::db::DbConn;
use crate::db::directory::{ListBy, OrganizationRow};
use crate::domain::directory::{Organization, OrganizationKind};
use crate::error::ApiError;
use crate::state::AppState;

/// The indicators a resident reads: how many are cared for at home, by how many doctors and
/// providers, and how many could die where they wished.
pub const PUBLISHED: [&str; 5] =
    ["patients_under_home_care", "family_doctors_active", "organizations_active", "deaths_at_home", "home_death_rate"];

/// The kinds of organisation a resident may call, in the order a page lists them.
pub const CONTACT_KINDS: [OrganizationKind; 4] = [
    OrganizationKind::ConsultationDesk,
    OrganizationKind::CommunitySupportCenter,
    OrganizationKind::Clinic,
    OrganizationKind::VisitingNurseStation,
];

/// Organisations read per kind at most: a region's directory, not a nation's.
const MAX_PER_KIND: i64 = 500;

/// One area's published values.
#[derive(Debug, Clone)]
pub struct PublicArea {
    /// `region`, or a municipality (prefecture and city).
    pub area: String,
    /// `PUBLISHED`'s indicators, in its order, as the analysts see them (suppressed).
    pub values: Vec<(&'static str, Cell)>,
}

/// A place to ask.
#[derive(Debug, Clone)]
pub struct Contact {
    /// The organisation's name.
    pub name: String,
    /// What kind of place it is.
    pub kind: OrganizationKind,
    /// Its phone number, as the directory holds it.
    pub phone: Option<String>,
    /// Prefecture and city of its address, as the indicators name areas; `None` without one.
    pub municipality: Option<String>,
    /// Street and building, when given.
    pub line: Option<String>,
}

/// The published page of the region.
#[derive(Debug, Clone)]
pub struct Published {
    /// The 年度 (`2025`: April 2025 to March 2026).
    pub fiscal_year: i32,
    /// The region first, then each municipality (patients without an address are left out).
    pub areas: Vec<PublicArea>,
    /// Every contact point of `CONTACT_KINDS`, in that order, then by name.
    pub contacts: Vec<Contact>,
}

impl Published {
    /// The area named `area`, if the region has one.
    pub fn area(&self, area: &str) -> Option<&PublicArea> {
        self.areas.iter().find(|a| a.area == area)
    }
}

/// The last 年度 that has ended by `today`.
pub fn last_complete_fiscal_year(today: Date) -> i32 {
    let current = if today.month() >= Month::April { today.year() } else { today.year() - 1 };
    current - 1
}

/// The region's published indicators and contact points.
pub async fn published(state: &Arc<AppState>) -> Result<Published, ApiError> {
    let fiscal_year = last_complete_fiscal_year(state.calendar.today());
    let first = Date::from_calendar_date(fiscal_year, Month::April, 1).map_err(ApiError::internal)?;
    let last = Date::from_calendar_date(fiscal_year + 1, Month::March, 31).map_err(ApiError::internal)?;
    let st = state.clone();
    let (report, rows) = crate::db::run_read(&state.lagging, move |conn| {
        let report = indicators::compute(conn, &st, Days { first, last }, Granularity::FiscalYear)?;
        Ok((report, contact_rows(conn)?))
    })
    .await?;
    let areas = report
        .periods
        .into_iter()
        .next()
        .map(|p| p.areas)
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a.area != NO_ADDRESS)
        .map(|a| PublicArea {
            values: PUBLISHED
                .iter()
                .map(|id| (*id, a.values.get(*id).cloned().unwrap_or_else(|| Cell::Hidden("x".into()))))
                .collect(),
            area: a.area,
        })
        .collect();
    let mut contacts: Vec<Contact> = rows
        .into_iter()
        .map(Organization::try_from)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|o| Contact {
            municipality: o
                .address
                .as_ref()
                .and_then(|a| a.city.as_ref().map(|c| format!("{}{c}", a.prefecture.clone().unwrap_or_default()))),
            line: o.address.and_then(|a| a.line),
            name: o.name,
            kind: o.kind,
            phone: o.phone,
        })
        .collect();
    let rank = |k: OrganizationKind| CONTACT_KINDS.iter().position(|c| *c == k).unwrap_or(CONTACT_KINDS.len());
    contacts.sort_by(|a, b| (rank(a.kind), &a.name).cmp(&(rank(b.kind), &b.name)));
    Ok(Published { fiscal_year, areas, contacts })
}

fn contact_rows(conn: &mut DbConn) -> Result<Vec<OrganizationRow>, ApiError> {
    let mut rows = Vec::new();
    for kind in CONTACT_KINDS {
        let by = ListBy { kind: Some(kind.as_str()), medical_institution_code: None, ltc_provider_number: None };
        rows.extend(OrganizationRow::list(conn, by, None, MAX_PER_KIND)?);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_complete_fiscal_year_ends_the_march_before() {
        let day = |y, m, d| Date::from_calendar_date(y, m, d).unwrap_or(Date::MIN);
        assert_eq!(last_complete_fiscal_year(day(2026, Month::December, 4)), 2025);
        assert_eq!(last_complete_fiscal_year(day(2026, Month::March, 31)), 2024);
        assert_eq!(last_complete_fiscal_year(day(2026, Month::April, 1)), 2025);
    }
}
