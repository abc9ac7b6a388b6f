//! A patient's care team: which organisations (and practitioners) serve the patient, in which
//! role, from when to when. A membership counts only between `since` and `until`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::Resource;
use crate::audit::Event;
use crate::auth::Role;
use crate::clock;
use crate::context::Context;
use crate::db::DbConn;
use crate::db::directory::{OrganizationRow, PractitionerRow};
use crate::db::patients::{CareTeamRow, PatientRow};
use crate::domain::fields::Errors;
use crate::domain::params;
use crate::domain::patients::erased_patient_gone;
use crate::error::ApiError;
use crate::gate::{Want, authorize};
use crate::ids::PatientId;
use crate::state::AppState;

/// One membership as submitted (and, with `active`, as answered).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    /// An organisation of the directory (another id is a 422 naming it).
    pub organization: String,
    /// A practitioner of the directory who works for `organization` (else a 422 naming it).
    pub practitioner: Option<String>,
    /// The member's profession on this team: a role other than `admin` and `auditor`.
    #[schema(value_type = crate::domain::fields::Profession)]
    pub role: Role,
    /// First day of the membership, YYYY-MM-DD.
    #[schema(format = Date)]
    pub since: String,
    /// Last day of the membership (inclusive), YYYY-MM-DD, not before `since`; open-ended when
    /// absent.
    #[schema(format = Date)]
    pub until: Option<String>,
}

/// The whole team, replacing the current one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CareTeamInput {
    /// At most 100 members.
    #[schema(max_items = 100)]
    pub members: Vec<MemberInput>,
}

/// A membership with whether it counts today.
#[derive(Debug, Serialize, ToSchema)]
pub struct Member {
    /// The membership as submitted, at the top level of the object.
    #[serde(flatten)]
    pub member: MemberInput,
    /// Whether the membership counts today.
    pub active: bool,
}

/// A patient's care team as answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct CareTeam {
    /// The patient the team serves.
    pub patient_id: String,
    /// Every membership, current or not, in the order submitted.
    pub members: Vec<Member>,
}

const MAX_MEMBERS: usize = 100;

impl CareTeamInput {
    /// Shape checks first, then (inside the transaction) that organisations and practitioners exist.
    fn check(&self) -> Result<(), ApiError> {
        let mut errors = Errors::default();
        if self.members.len() > MAX_MEMBERS {
            errors.add("/members", format!("at most {MAX_MEMBERS} members"));
        }
        for (i, m) in self.members.iter().enumerate() {
            if matches!(m.role, Role::Admin | Role::Auditor | Role::Analyst) {
                errors.add(format!("/members/{i}/role"), "must be a care profession");
            }
            let (since, until) = (format!("/members/{i}/since"), format!("/members/{i}/until"));
            params::day_range(&mut errors, &since, &m.since, &until, m.until.as_deref());
        }
        errors.finish()
    }

    fn check_references(&self, conn: &mut DbConn) -> Result<(), ApiError> {
        let mut errors = Errors::default();
        for (i, m) in self.members.iter().enumerate() {
            if !OrganizationRow::exists(conn, &m.organization)? {
                errors.add(format!("/members/{i}/organization"), "no such organization");
            }
            if let Some(p) = &m.practitioner {
                match PractitionerRow::find(conn, p)? {
                    None => errors.add(format!("/members/{i}/practitioner"), "no such practitioner"),
                    Some(p) if p.organization_id != m.organization => {
                        errors.add(format!("/members/{i}/practitioner"), "works for another organization")
                    }
                    Some(_) => {}
                }
            }
        }
        errors.finish()
    }
}

/// The team as the caller sees it; `today` is the region's date (`AppState::calendar`). Stored rows were checked on the way in, so a row that does not read
/// back is corruption: a 500, never a quietly different team.
pub(crate) fn team_of(patient: &PatientRow, rows: Vec<CareTeamRow>, today: time::Date) -> Result<CareTeam, ApiError> {
    let day = |s: &str| clock::parse_day(s).ok_or_else(|| ApiError::internal(format!("stored care-team day {s:?}")));
    let members = rows
        .into_iter()
        .map(|r| {
            let membership = crate::access::Membership {
                organization: r.organization_id.clone(),
                since: day(&r.since)?,
                until: r.until.as_deref().map(day).transpose()?,
            };
            Ok(Member {
                active: membership.active_on(today),
                member: MemberInput {
                    organization: r.organization_id,
                    practitioner: r.practitioner_id,
                    role: r.role.parse().map_err(ApiError::internal)?,
                    since: r.since,
                    until: r.until,
                },
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(CareTeam { patient_id: patient.id.clone(), members })
}

/// A patient's care team, for a caller who may read it.
pub async fn get(state: &Arc<AppState>, ctx: Context, patient: PatientId) -> Result<CareTeam, ApiError> {
    let event = Event::new(&ctx, "care_team.read").resource("care_team", &patient);
    super::read(state, event, move |conn, st, ev| {
        let patient = authorize(conn, st, &ctx.caller, &patient, Want::read(Resource::CareTeam), ev)?.patient;
        erased_patient_gone(&patient)?;
        team_of(&patient, CareTeamRow::for_patient(conn, &patient.id)?, st.calendar.today())
    })
    .await
}

/// Replaces a patient's care team (physician, care manager or admin of the managing organisation).
pub async fn replace(
    state: &Arc<AppState>,
    ctx: Context,
    patient: PatientId,
    input: CareTeamInput,
) -> Result<CareTeam, ApiError> {
    let event = Event::new(&ctx, "care_team.write").resource("care_team", &patient);
    super::write(state, event, 200, move |tx, st, ev| {
        // Authorised first: a caller without access learns nothing, not even from a 422.
        let patient = authorize(tx, st, &ctx.caller, &patient, Want::write(Resource::CareTeam), ev)?.patient;
        erased_patient_gone(&patient)?;
        input.check()?;
        input.check_references(tx)?;
        let rows: Vec<CareTeamRow> = input
            .members
            .iter()
            .cloned()
            .zip(0..)
            .map(|(m, position)| CareTeamRow {
                patient_id: patient.id.clone(),
                position,
                organization_id: m.organization,
                practitioner_id: m.practitioner,
                role: m.role.as_str().to_owned(),
                since: m.since,
                until: m.until,
            })
            .collect();
        CareTeamRow::replace(tx, &patient.id, &rows)?;
        team_of(&patient, rows, st.calendar.today())
    })
    .await
}
