//! Publishing a posting (a new version, with `If-Match`), confirming it unchanged, reading it;
//! and, after each commit, telling the live hub.

use std::sync::Arc;

use crate::access::{self, Action, Resource};
use crate::audit::Event;
use crate::clock;
use crate::context::Context;
use crate::db::directory::OrganizationRow;
use crate::db::vacancies::{self, ChangeRow, DayRow, PostingRow};
use crate::db::{self, DbConn};
use crate::domain::directory::OrganizationKind;
use crate::domain::documents::IfMatch;
use crate::error::ApiError;
use crate::state::AppState;

use super::types::{
    Bed, DayVacancy, ShortStayService, VacancyContact, VacancyPosting, VacancyPostingInput, needs_from_text, needs_text,
};

/// Publishes a facility's posting for a service: the first version without `If-Match`, each
/// later one with the `ETag` it replaces. Answers the posting and whether it was created.
pub async fn publish(
    state: &Arc<AppState>,
    ctx: Context,
    facility: String,
    service: ShortStayService,
    if_match: Option<IfMatch>,
    input: VacancyPostingInput,
) -> Result<(VacancyPosting, bool), ApiError> {
    let key = format!("{facility}/{}", service.as_str());
    let event = Event::new(&ctx, "vacancy.publish").resource("vacancy_posting", &key);
    let written = crate::domain::write(state, event, 200, move |tx, st, ev| {
        access::may_publish_vacancies(&ctx.caller, &st.settings.operator_org, &facility)?;
        // First: the counter's row lock orders writers, so change numbers commit in order.
        let seq = vacancies::next_seq(tx)?;
        check_facility(tx, &facility)?;
        let today = st.calendar.today();
        input.check(today)?;
        let existing = PostingRow::find(tx, &facility, service.as_str())?;
        let version = match (&existing, if_match) {
            (Some(current), Some(IfMatch::Any)) => current.version + 1,
            (Some(current), Some(IfMatch::Version(v))) if v == current.version => current.version + 1,
            (Some(current), Some(IfMatch::Version(_))) => return Err(stale(tx, st, current)?),
            (Some(_), None) => {
                return Err(ApiError::PreconditionRequired(
                    "this posting exists: send If-Match with the ETag of the version you replace".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(ApiError::PreconditionFailed {
                    detail: "there is no posting yet: publish the first without If-Match".into(),
                    current: None,
                });
            }
            (None, None) => 1,
        };
        let now = clock::format(st.calendar.now());
        let row = PostingRow {
            facility_id: facility.clone(),
            service: service.as_str().to_owned(),
            version,
            contact: serde_json::to_string(&input.contact).map_err(ApiError::internal)?,
            notes: input.notes.clone(),
            confirmed_at: now.clone(),
            confirmed_by: ctx.caller.sub.clone(),
            updated_at: now.clone(),
            updated_by: ctx.caller.sub.clone(),
        };
        let days = day_rows(&row, &input)?;
        row.store(tx, &days)?;
        record(tx, seq, &row, "published", &now)?;
        ev.resource_version = Some(version);
        Ok((posting(st, &row, days)?, version == 1))
    })
    .await?;
    announce(state).await;
    Ok(written)
}

/// Confirms a posting unchanged ("still true"): it becomes fresh again, keeping its version. With
/// `If-Match`, only while that version is current.
pub async fn confirm(
    state: &Arc<AppState>,
    ctx: Context,
    facility: String,
    service: ShortStayService,
    if_match: Option<IfMatch>,
) -> Result<VacancyPosting, ApiError> {
    let key = format!("{facility}/{}", service.as_str());
    let event = Event::new(&ctx, "vacancy.confirm").resource("vacancy_posting", &key);
    let confirmed = crate::domain::write(state, event, 200, move |tx, st, ev| {
        access::may_publish_vacancies(&ctx.caller, &st.settings.operator_org, &facility)?;
        let seq = vacancies::next_seq(tx)?;
        let mut row = PostingRow::find(tx, &facility, service.as_str())?.ok_or_else(no_posting)?;
        if let Some(IfMatch::Version(v)) = if_match
            && v != row.version
        {
            return Err(stale(tx, st, &row)?);
        }
        let now = clock::format(st.calendar.now());
        PostingRow::confirm(tx, &facility, service.as_str(), &now, &ctx.caller.sub)?;
        row.confirmed_at = now.clone();
        record(tx, seq, &row, "confirmed", &now)?;
        ev.resource_version = Some(row.version);
        let days = row.days(tx, &clock::format_day(st.calendar.today()))?;
        posting(st, &row, days)
    })
    .await?;
    announce(state).await;
    Ok(confirmed)
}

/// One posting as it stands, days from today on.
pub async fn get(
    state: &Arc<AppState>,
    ctx: Context,
    facility: String,
    service: ShortStayService,
) -> Result<VacancyPosting, ApiError> {
    access::check(&ctx.caller, Resource::Directory, Action::Read)?;
    let st = state.clone();
    db::run(&state.pool, move |conn| {
        let row = PostingRow::find(conn, &facility, service.as_str())?.ok_or_else(no_posting)?;
        let days = row.days(conn, &clock::format_day(st.calendar.today()))?;
        posting(&st, &row, days)
    })
    .await
}

fn no_posting() -> ApiError {
    ApiError::NotFound("no such posting".into())
}

/// The facility must exist and be of a kind that runs short stays.
fn check_facility(conn: &mut DbConn, facility: &str) -> Result<(), ApiError> {
    let org =
        OrganizationRow::find(conn, facility)?.ok_or_else(|| ApiError::NotFound("no such organization".into()))?;
    let kind: OrganizationKind = org.kind.parse().map_err(ApiError::internal)?;
    if super::FACILITY_KINDS.contains(&kind) {
        Ok(())
    } else {
        Err(ApiError::field(
            "/path/id",
            format!("a {} does not run short stays (care facilities, hospitals and clinics do)", kind.as_str()),
        ))
    }
}

/// 412 carrying the current version.
fn stale(conn: &mut DbConn, state: &AppState, current: &PostingRow) -> Result<ApiError, ApiError> {
    let days = current.days(conn, &clock::format_day(state.calendar.today()))?;
    let shown = posting(state, current, days)?;
    Ok(ApiError::PreconditionFailed {
        detail: format!("the posting is at version {}; read it and publish again", current.version),
        current: Some(serde_json::to_value(shown).map_err(ApiError::internal)?),
    })
}

fn day_rows(row: &PostingRow, input: &VacancyPostingInput) -> Result<Vec<DayRow>, ApiError> {
    input
        .days
        .iter()
        .map(|day| {
            Ok(DayRow {
                facility_id: row.facility_id.clone(),
                service: row.service.clone(),
                day: day.date.clone(),
                beds_free: day.beds.iter().map(|b| i32::from(b.free)).sum(),
                beds: serde_json::to_string(&day.beds).map_err(ApiError::internal)?,
                accepts: needs_text(&day.accepts),
            })
        })
        .collect()
}

fn record(conn: &mut DbConn, seq: i64, row: &PostingRow, op: &str, at: &str) -> Result<(), ApiError> {
    let change = ChangeRow {
        seq,
        facility_id: row.facility_id.clone(),
        service: row.service.clone(),
        version: row.version,
        op: op.to_owned(),
        confirmed_at: row.confirmed_at.clone(),
        at: at.to_owned(),
    };
    Ok(change.insert(conn)?)
}

/// Whether a confirmation at `confirmed_at` is older than the board's freshness limit.
pub(super) fn is_stale(state: &AppState, confirmed_at: &str) -> bool {
    let limit = time::Duration::seconds(i64::try_from(state.settings.vacancy_stale_secs).unwrap_or(i64::MAX));
    let cutoff = clock::format(state.calendar.now().checked_sub(limit).unwrap_or(time::OffsetDateTime::UNIX_EPOCH));
    // Stored times are fixed-width UTC text: text order is time order.
    confirmed_at < cutoff.as_str()
}

/// A stored day as answered.
pub(super) fn day_vacancy(day: &DayRow) -> Result<DayVacancy, ApiError> {
    let beds: Vec<Bed> = serde_json::from_str(&day.beds).map_err(ApiError::internal)?;
    Ok(DayVacancy { date: day.day.clone(), beds_free: day.beds_free, beds, accepts: needs_from_text(&day.accepts)? })
}

/// The stored contact as answered.
pub(super) fn contact(row: &PostingRow) -> Result<VacancyContact, ApiError> {
    serde_json::from_str(&row.contact).map_err(ApiError::internal)
}

fn posting(state: &AppState, row: &PostingRow, days: Vec<DayRow>) -> Result<VacancyPosting, ApiError> {
    let today = clock::format_day(state.calendar.today());
    Ok(VacancyPosting {
        facility: row.facility_id.clone(),
        service: row.service.parse().map_err(ApiError::internal)?,
        version: row.version,
        contact: contact(row)?,
        notes: row.notes.clone(),
        days: days.iter().filter(|d| d.day >= today).map(day_vacancy).collect::<Result<_, _>>()?,
        confirmed_at: row.confirmed_at.clone(),
        stale: is_stale(state, &row.confirmed_at),
        updated_at: row.updated_at.clone(),
    })
}

/// Sends the changes committed since the hub last sent, in order (see `crate::live`). Called
/// after every commit and when a stream connects. A failure is logged: the changes are committed,
/// and streams read past any gap from the database on the next change.
pub(super) async fn announce(state: &Arc<AppState>) {
    /// Changes one catch-up sends at most; a stream further behind reads the rest itself.
    const MOST: i64 = 10_000;
    let mut sent = state.vacancies.lock().await;
    let since = *sent;
    let read = db::run(&state.pool, move |conn| match since {
        None => Ok((vacancies::last_seq(conn)?, Vec::new())),
        Some(since) => {
            let rows = ChangeRow::after(conn, since, MOST)?;
            let last = rows.last().map_or(since, |r| r.seq);
            Ok((last, rows))
        }
    })
    .await;
    match read {
        Ok((last, rows)) => {
            for row in rows {
                state.vacancies.send(row);
            }
            *sent = Some(last);
        }
        Err(e) => tracing::warn!(error = %e, "vacancy changes not announced; streams will catch up"),
    }
}
