//! Contact hours (ケアマネタイム): when a practitioner takes care managers' (or everyone's)
//! calls, by which channel; weekly slots in the region's time zone, and dated exceptions on
//! which there are none (holidays, closures). Published by the practitioner or the admin of
//! its organisation; read by every authenticated caller, like the directory they extend.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access;
use crate::audit::Event;
use crate::auth::{Caller, Role};
use crate::clock;
use crate::context::Context;
use crate::db;
use crate::db::contact_hours::{self, ExceptionRow, SlotRow};
use crate::db::directory::PractitionerRow;
use crate::domain::fields::Errors;
use crate::domain::params::words;
use crate::error::ApiError;
use crate::state::AppState;

words!(
    /// A day of the week.
    Weekday, "weekday", [
        /// 月曜日
        Monday = "monday",
        /// 火曜日
        Tuesday = "tuesday",
        /// 水曜日
        Wednesday = "wednesday",
        /// 木曜日
        Thursday = "thursday",
        /// 金曜日
        Friday = "friday",
        /// 土曜日
        Saturday = "saturday",
        /// 日曜日
        Sunday = "sunday",
    ]
);

impl Weekday {
    /// ISO number: 1 Monday … 7 Sunday.
    pub fn number(self) -> i32 {
        Self::ALL.iter().position(|d| *d == self).map_or(1, |i| i32::try_from(i).unwrap_or(0) + 1)
    }

    /// The day of ISO number `n`.
    pub fn from_number(n: i32) -> Option<Self> {
        usize::try_from(n - 1).ok().and_then(|i| Self::ALL.get(i).copied())
    }
}

words!(
    /// How to make contact.
    Channel, "channel", [
        /// Telephone.
        Phone = "phone",
        /// FAX.
        Fax = "fax",
        /// A message over the region's ICT tool.
        Ict = "ict",
        /// Coming to see the practitioner.
        Visit = "visit",
    ]
);

words!(
    /// Who may use a slot.
    Audience, "audience", [
        /// Care managers only (ケアマネタイム in the narrow sense).
        CareManagers = "care_managers",
        /// Every profession.
        All = "all",
    ]
);

/// One weekly slot.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    /// The day of the week.
    pub weekday: Weekday,
    /// Start, `HH:MM` (24 hours) in the region's time zone (Asia/Tokyo).
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "13:00")]
    pub start: String,
    /// End, `HH:MM`, after `start` (a slot does not cross midnight).
    #[schema(pattern = "^([01][0-9]|2[0-4]):[0-5][0-9]$", example = "14:00")]
    pub end: String,
    /// How to make contact.
    pub channel: Channel,
    /// Who may use it.
    pub audience: Audience,
    /// E.g. "call the front desk first", at most 500 characters.
    #[schema(max_length = 500)]
    pub notes: Option<String>,
}

/// A day without contact hours.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// The day, YYYY-MM-DD, in the region's calendar.
    #[schema(format = Date)]
    pub date: String,
    /// E.g. 祝日, 学会のため休診; at most 500 characters.
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// A practitioner's contact hours, as published.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactHours {
    /// Weekly slots, at most 50.
    #[schema(max_items = 50)]
    pub slots: Vec<Slot>,
    /// Days without contact hours, at most 366.
    #[serde(default)]
    #[schema(max_items = 366)]
    pub exceptions: Vec<Exception>,
}

/// Minutes after midnight of `HH:MM`; `24:00` allowed as an end.
pub fn minutes(text: &str) -> Option<u16> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

impl ContactHours {
    fn check(&self) -> Result<(), ApiError> {
        let mut errors = Errors::default();
        if self.slots.len() > 50 {
            errors.add("/slots", "at most 50 slots");
        }
        if self.exceptions.len() > 366 {
            errors.add("/exceptions", "at most 366 days");
        }
        for (i, slot) in self.slots.iter().enumerate() {
            let (start, end) = (minutes(&slot.start), minutes(&slot.end));
            if start.is_none_or(|s| s >= 24 * 60) {
                errors.add(format!("/slots/{i}/start"), "must be HH:MM");
            }
            match (start, end) {
                (_, None) => errors.add(format!("/slots/{i}/end"), "must be HH:MM"),
                (Some(s), Some(e)) if e <= s => errors.add(format!("/slots/{i}/end"), "must be after start"),
                _ => {}
            }
            if let Some(n) = &slot.notes {
                errors.text(&format!("/slots/{i}/notes"), n, 500);
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (i, ex) in self.exceptions.iter().enumerate() {
            if clock::parse_day(&ex.date).is_none() {
                errors.add(format!("/exceptions/{i}/date"), "must be a real date, YYYY-MM-DD");
            } else if !seen.insert(ex.date.clone()) {
                errors.add(format!("/exceptions/{i}/date"), "this day is listed twice");
            }
            if let Some(n) = &ex.note {
                errors.text(&format!("/exceptions/{i}/note"), n, 500);
            }
        }
        errors.finish()
    }
}

/// The practitioner itself (its token `sub` is its directory id, acting for the organisation the
/// directory puts it in), or an admin of its organisation, or the operator's admin. `sub` alone
/// is not enough: another organisation's issuer may mint any `sub`.
fn may_publish(caller: &Caller, operator_org: &str, practitioner: &PractitionerRow) -> bool {
    (caller.sub == practitioner.id && caller.org == practitioner.organization_id)
        || access::is_operator(caller, operator_org)
        || (caller.role == Role::Admin && caller.org == practitioner.organization_id)
}

/// The stored slots as published.
pub fn render(slots: &[SlotRow], exceptions: &[ExceptionRow]) -> Result<ContactHours, ApiError> {
    Ok(ContactHours {
        slots: slots
            .iter()
            .map(|s| {
                Ok(Slot {
                    weekday: Weekday::from_number(s.weekday).ok_or_else(|| ApiError::internal("stored weekday"))?,
                    start: s.start_time.clone(),
                    end: s.end_time.clone(),
                    channel: s.channel.parse().map_err(ApiError::internal)?,
                    audience: s.audience.parse().map_err(ApiError::internal)?,
                    notes: s.notes.clone(),
                })
            })
            .collect::<Result<_, ApiError>>()?,
        exceptions: exceptions.iter().map(|e| Exception { date: e.day.clone(), note: e.note.clone() }).collect(),
    })
}

/// Replaces a practitioner's contact hours (audited).
pub async fn replace(
    state: &Arc<AppState>,
    ctx: Context,
    practitioner: String,
    input: ContactHours,
) -> Result<ContactHours, ApiError> {
    let event = Event::new(&ctx, "contact_hours.replace").resource("practitioner", &practitioner);
    super::super::write(state, event, 200, move |tx, st, _ev| {
        let row = PractitionerRow::find(tx, &practitioner)?
            .ok_or_else(|| ApiError::NotFound("no such practitioner".into()))?;
        if !may_publish(&ctx.caller, &st.settings.operator_org, &row) {
            return Err(ApiError::Forbidden(
                "only the practitioner or its organisation's admin publishes its contact hours".into(),
            ));
        }
        input.check()?;
        let slots: Vec<SlotRow> = input
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| SlotRow {
                practitioner_id: row.id.clone(),
                position: i32::try_from(i).unwrap_or(i32::MAX),
                organization_id: row.organization_id.clone(),
                weekday: s.weekday.number(),
                start_time: s.start.clone(),
                end_time: s.end.clone(),
                channel: s.channel.as_str().to_owned(),
                audience: s.audience.as_str().to_owned(),
                notes: s.notes.clone(),
            })
            .collect();
        let exceptions: Vec<ExceptionRow> = input
            .exceptions
            .iter()
            .map(|e| ExceptionRow { practitioner_id: row.id.clone(), day: e.date.clone(), note: e.note.clone() })
            .collect();
        contact_hours::replace(tx, &row.id, &slots, &exceptions)?;
        let (slots, exceptions) = contact_hours::of(tx, &row.id)?;
        render(&slots, &exceptions)
    })
    .await
}

/// A practitioner's contact hours (empty when none are published).
pub async fn get(state: &Arc<AppState>, practitioner: String) -> Result<ContactHours, ApiError> {
    db::run(&state.pool, move |conn| {
        PractitionerRow::find(conn, &practitioner)?.ok_or_else(|| ApiError::NotFound("no such practitioner".into()))?;
        let (slots, exceptions) = contact_hours::of(conn, &practitioner)?;
        render(&slots, &exceptions)
    })
    .await
}

/// One slot of the region's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionSlot {
    /// The practitioner.
    pub practitioner_id: String,
    /// Its name.
    pub practitioner_name: String,
    /// Its profession.
    pub profession: Role,
    /// Its organisation.
    pub organization_id: String,
    /// The slot.
    #[serde(flatten)]
    pub slot: Slot,
}

/// The region's contact hours, the list the guide says care staff should be given.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionHours {
    /// By organisation, weekday and start (at most 2000).
    pub items: Vec<RegionSlot>,
}

/// What the region's list is filtered by.
#[derive(Debug, Clone, Default)]
pub struct RegionFilter {
    /// Only this organisation's slots.
    pub organization: Option<String>,
    /// Only practitioners of this profession.
    pub profession: Option<Role>,
    /// Only slots on this day.
    pub weekday: Option<Weekday>,
}

/// Lists the region's slots.
pub async fn region(state: &Arc<AppState>, filter: RegionFilter) -> Result<RegionHours, ApiError> {
    db::run(&state.pool, move |conn| {
        let rows = contact_hours::region(
            conn,
            filter.organization.as_deref(),
            filter.profession.map(Role::as_str),
            filter.weekday.map(Weekday::number),
        )?;
        let items = rows
            .into_iter()
            .map(|(s, name, profession)| {
                let slot =
                    render(std::slice::from_ref(&s), &[])?.slots.pop().ok_or_else(|| ApiError::internal("slot"))?;
                Ok(RegionSlot {
                    practitioner_id: s.practitioner_id,
                    practitioner_name: name,
                    profession: profession.parse().map_err(|_| ApiError::internal("stored profession"))?,
                    organization_id: s.organization_id,
                    slot,
                })
            })
            .collect::<Result<_, ApiError>>()?;
        Ok(RegionHours { items })
    })
    .await
}
