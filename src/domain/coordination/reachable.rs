//! "Who on this patient's team can I contact now, and how": the team's practitioners whose
//! contact hours are open at the asked time (in the region's zone, exceptions honoured), and
//! the next open slot of everyone else on the team.

use std::sync::Arc;

use serde::Serialize;
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;

use super::hours::{Audience, Channel};
use crate::access::Resource;
use crate::audit::Event;
use crate::auth::{Caller, Role};
use crate::calendar::Calendar;
use crate::clock;
use crate::context::Context;
use crate::db::contact_hours::{self, ExceptionRow, SlotRow};
use crate::db::directory::PractitionerRow;
use crate::db::patients::CareTeamRow;
use crate::error::ApiError;
use crate::gate::{Want, authorize};
use crate::ids::PatientId;
use crate::state::AppState;

/// How far ahead the next open slot is looked for.
pub const HORIZON_DAYS: i64 = 28;

/// An open slot at a given time, or the next one.
#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct Opening {
    /// When it opens; RFC 3339 in UTC.
    pub start: String,
    /// When it closes; RFC 3339 in UTC.
    pub end: String,
    /// How to make contact.
    pub channel: Channel,
    /// Who may use it.
    pub audience: Audience,
    /// The slot's notes.
    pub notes: Option<String>,
}

/// A practitioner of the team, and when it can be reached.
#[derive(Debug, Serialize, ToSchema)]
pub struct Contact {
    /// The practitioner.
    pub practitioner_id: String,
    /// Its name.
    pub name: String,
    /// Its profession.
    pub profession: Role,
    /// Its organisation.
    pub organization_id: String,
    /// The slot open now, or (in `later`) the next one; absent when none is published within
    /// 28 days.
    pub opening: Option<Opening>,
}

/// The answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reachability {
    /// The time asked about; RFC 3339 in UTC.
    pub at: String,
    /// Reachable at `at`, with the slot that is open.
    pub now: Vec<Contact>,
    /// Everyone else on the team with published hours or named on the team, with the next
    /// open slot: soonest first, those with none within 28 days last.
    pub later: Vec<Contact>,
}

/// `(open now, next opening)` of one practitioner's slots usable by the caller.
pub fn openings(
    cal: &Calendar,
    at: OffsetDateTime,
    slots: &[SlotRow],
    exceptions: &[ExceptionRow],
) -> (Option<Opening>, Option<Opening>) {
    let today = cal.date_at(at);
    let minute = cal.minute_at(at);
    let mut ordered: Vec<&SlotRow> = slots.iter().collect();
    ordered.sort_by(|a, b| a.start_time.cmp(&b.start_time));
    for offset in 0..=HORIZON_DAYS {
        let Some(day) = today.checked_add(time::Duration::days(offset)) else { break };
        if exceptions.iter().any(|e| e.day == clock::format_day(day)) {
            continue;
        }
        let weekday = i32::from(day.weekday().number_from_monday());
        for slot in ordered.iter().filter(|s| s.weekday == weekday) {
            let (Some(start), Some(end)) =
                (super::hours::minutes(&slot.start_time), super::hours::minutes(&slot.end_time))
            else {
                continue;
            };
            if offset == 0 && end <= minute {
                continue;
            }
            let Some(opening) = opening(cal, day, start, end, slot) else { continue };
            if offset == 0 && start <= minute {
                return (Some(opening), None);
            }
            return (None, Some(opening));
        }
    }
    (None, None)
}

fn opening(cal: &Calendar, day: Date, start: u16, end: u16, slot: &SlotRow) -> Option<Opening> {
    Some(Opening {
        start: clock::format(cal.instant_at(day, start)?),
        end: clock::format(cal.instant_at(day, end)?),
        channel: slot.channel.parse().ok()?,
        audience: slot.audience.parse().ok()?,
        notes: slot.notes.clone(),
    })
}

/// Slots the caller may use: care managers use every slot, others those open to all.
fn usable(caller: &Caller, slots: Vec<SlotRow>) -> Vec<SlotRow> {
    slots.into_iter().filter(|s| caller.role == Role::CareManager || s.audience == Audience::All.as_str()).collect()
}

/// Answers for the patient's team at `at` (now when absent).
pub async fn reachable(
    state: &Arc<AppState>,
    ctx: Context,
    patient: PatientId,
    at: OffsetDateTime,
) -> Result<Reachability, ApiError> {
    super::super::read(state, Event::new(&ctx, "care_team.reachable"), move |conn, st, ev| {
        let access = authorize(conn, st, &ctx.caller, &patient, Want::read(Resource::CareTeam), ev)?;
        let day = st.calendar.date_at(at);
        let team: Vec<CareTeamRow> = CareTeamRow::for_patient(conn, &access.patient.id)?
            .into_iter()
            .filter(|m| {
                clock::parse_day(&m.since).is_some_and(|s| s <= day)
                    && m.until.as_deref().and_then(clock::parse_day).is_none_or(|u| day <= u)
            })
            .collect();
        let mut ids: Vec<String> = team.iter().filter_map(|m| m.practitioner_id.clone()).collect();
        let mut orgs: Vec<String> =
            team.iter().filter(|m| m.practitioner_id.is_none()).map(|m| m.organization_id.clone()).collect();
        orgs.push(access.patient.managing_organization_id.clone());
        ids.extend(contact_hours::practitioners_with_hours(conn, &orgs)?);
        ids.sort();
        ids.dedup();
        let mut answer = Reachability { at: clock::format(at), now: Vec::new(), later: Vec::new() };
        for id in ids {
            let Some(p) = PractitionerRow::find(conn, &id)? else { continue };
            let (slots, exceptions) = contact_hours::of(conn, &id)?;
            let (now, next) = openings(&st.calendar, at, &usable(&ctx.caller, slots), &exceptions);
            let contact = |opening| -> Result<Contact, ApiError> {
                Ok(Contact {
                    practitioner_id: p.id.clone(),
                    name: p.name.clone(),
                    profession: p.profession.parse().map_err(|_| ApiError::internal("stored profession"))?,
                    organization_id: p.organization_id.clone(),
                    opening,
                })
            };
            match now {
                Some(open) => answer.now.push(contact(Some(open))?),
                None => answer.later.push(contact(next)?),
            }
        }
        // Soonest first, those with nothing published within the horizon last.
        answer.later.sort_by(|a, b| match (&a.opening, &b.opening) {
            (Some(x), Some(y)) => x.start.cmp(&y.start),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.name.cmp(&b.name),
        });
        Ok(answer)
    })
    .await
}
