//! Keeping the rule alive (the guide's warning that coordination rules die unless someone checks
//! them): how many sheets were sent, read and answered, how fast, and how many are overdue, by
//! addressee organisation and category. Counts and durations only, no patient data.
//!
//! An organisation sees the sheets it sent or received; auditors (e.g. the municipality that
//! runs the programme) and the operator's admin see the whole region.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::State;
use crate::access::{self, Action, Resource};
use crate::audit::Event;
use crate::auth::Role;
use crate::context::Context;
use crate::db::contact_sheets::SheetRow;
use crate::error::ApiError;
use crate::state::AppState;

/// The figures of one addressee organisation and category.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatsRow {
    /// The addressee organisation (the current one, after any forward).
    pub organization: String,
    /// The sheets' category.
    pub category: super::Category,
    /// Sheets sent (withdrawn ones included).
    pub sent: u64,
    /// Sheets opened by their addressee.
    pub read: u64,
    /// Sheets answered.
    pub answered: u64,
    /// Sheets past `reply_by` and still unanswered now.
    pub overdue: u64,
    /// Median seconds from sending to the read receipt; absent when none was read.
    pub median_secs_to_read: Option<i64>,
    /// Median seconds from sending to the first answer; absent when none was answered.
    pub median_secs_to_answer: Option<i64>,
}

/// The answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct SheetStats {
    /// First instant counted (sheets sent at or after it); RFC 3339 in UTC.
    pub from: String,
    /// First instant not counted; RFC 3339 in UTC.
    pub to: String,
    /// By addressee organisation, then category.
    pub rows: Vec<StatsRow>,
}

fn secs_between(from: &str, to: &str) -> Option<i64> {
    let parse = |s: &str| OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok();
    Some((parse(to)? - parse(from)?).whole_seconds())
}

fn median(mut values: Vec<i64>) -> Option<i64> {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => values.get(n / 2).copied(),
        _ => Some((values.get(n / 2 - 1)? + values.get(n / 2)?) / 2),
    }
}

#[derive(Default)]
struct Tally {
    sent: u64,
    read: u64,
    answered: u64,
    overdue: u64,
    to_read: Vec<i64>,
    to_answer: Vec<i64>,
}

/// Figures for sheets sent in `[from, to)`, optionally of one organisation.
pub async fn stats(
    state: &Arc<AppState>,
    ctx: Context,
    from: String,
    to: String,
    organization: Option<String>,
) -> Result<SheetStats, ApiError> {
    super::super::read(state, Event::new(&ctx, "contact_sheet.stats"), move |conn, st, _ev| {
        let caller = &ctx.caller;
        let region_wide = caller.role == Role::Auditor || access::is_operator(caller, &st.settings.operator_org);
        if !region_wide {
            access::check(caller, Resource::ContactSheet, Action::Read)?;
        }
        let org = match (region_wide, organization) {
            (true, org) => org,
            (false, Some(org)) if org != caller.org => {
                return Err(ApiError::Forbidden("an organisation sees the figures of its own sheets only".into()));
            }
            (false, _) => Some(caller.org.clone()),
        };
        let now = st.clock.stamp();
        let mut tallies: BTreeMap<(String, String), Tally> = BTreeMap::new();
        for row in SheetRow::sent_between(conn, &from, &to, org.as_deref())? {
            let t = tallies.entry((row.to_org.clone(), row.category.clone())).or_default();
            t.sent += 1;
            if let Some(read) = &row.read_at {
                t.read += 1;
                t.to_read.extend(secs_between(&row.sent_at, read));
            }
            if let Some(answered) = &row.answered_at {
                t.answered += 1;
                t.to_answer.extend(secs_between(&row.sent_at, answered));
            }
            let open = row.state.parse::<State>().is_ok_and(State::is_open);
            if open && row.reply_by.as_deref().is_some_and(|by| by < now.as_str()) {
                t.overdue += 1;
            }
        }
        let rows = tallies
            .into_iter()
            .map(|((organization, category), t)| {
                Ok(StatsRow {
                    organization,
                    category: category.parse().map_err(ApiError::internal)?,
                    sent: t.sent,
                    read: t.read,
                    answered: t.answered,
                    overdue: t.overdue,
                    median_secs_to_read: median(t.to_read),
                    median_secs_to_answer: median(t.to_answer),
                })
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(SheetStats { from, to, rows })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5, 1, 3]), Some(3));
        assert_eq!(median(vec![4, 1, 3, 2]), Some(2));
    }
}
