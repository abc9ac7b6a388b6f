//! The directory's practitioners: who works where, in which profession. Written by their
//! organisation's admin or the operator's (`access::may_write_directory`), read by everyone.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::name_resource;
use crate::access::{self, Action, DirectoryWrite, Resource};
use crate::audit::Event;
use crate::auth::Role;
use crate::context::Context;
use crate::db::directory::{OrganizationRow, PractitionerRow};
use crate::db::{self, DbConn};
use crate::domain::fields::Errors;
use crate::domain::paging::Page;
use crate::error::ApiError;
use crate::ids::PractitionerId;
use crate::state::AppState;

/// A practitioner as registered or replaced.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PractitionerInput {
    /// The practitioner's name, at most 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// The profession: a role other than `admin` and `auditor`.
    #[schema(value_type = crate::domain::fields::Profession)]
    pub profession: Role,
    /// The organisation the practitioner works for: the id of one in the directory (another
    /// value is a 422 naming `/organization`).
    pub organization: String,
}

/// A practitioner of the directory.
#[derive(Debug, Serialize, ToSchema)]
pub struct Practitioner {
    /// The practitioner id (a UUID).
    pub id: String,
    /// The practitioner's name.
    pub name: String,
    /// The profession.
    pub profession: Role,
    /// The organisation the practitioner works for.
    pub organization: String,
    /// When the practitioner was registered; RFC 3339 in UTC, e.g. `2025-04-01T09:30:00.000000Z`.
    pub created_at: String,
    /// When their details last changed; same format.
    pub updated_at: String,
}

impl TryFrom<PractitionerRow> for Practitioner {
    type Error = ApiError;
    fn try_from(row: PractitionerRow) -> Result<Self, ApiError> {
        Ok(Self {
            profession: row.profession.parse().map_err(|_| ApiError::internal("stored profession"))?,
            id: row.id,
            name: row.name,
            organization: row.organization_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl PractitionerInput {
    fn check(&self) -> Result<(), ApiError> {
        let mut errors = Errors::default();
        errors.text("/name", &self.name, 200);
        if matches!(self.profession, Role::Admin | Role::Auditor | Role::Analyst) {
            errors.add("/profession", "must be a care profession, not admin, auditor or analyst");
        }
        errors.finish()
    }

    /// Inside a transaction: the organisation must exist.
    fn into_row(self, conn: &mut DbConn, id: String, times: (String, String)) -> Result<PractitionerRow, ApiError> {
        let (created_at, updated_at) = times;
        if !OrganizationRow::exists(conn, &self.organization)? {
            return Err(ApiError::field("/organization", "no such organization"));
        }
        Ok(PractitionerRow {
            id,
            name: self.name,
            profession: self.profession.as_str().to_owned(),
            organization_id: self.organization,
            created_at,
            updated_at,
        })
    }
}

/// Which practitioners a listing shows.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PractitionerFilter {
    /// Only practitioners of this organisation.
    pub organization: Option<String>,
    /// Only practitioners of this profession.
    pub profession: Option<Role>,
}

fn no_practitioner() -> ApiError {
    ApiError::NotFound("no such practitioner".into())
}

/// Registers a practitioner for an organisation that exists (that organisation's admin, or the
/// operator's).
pub async fn create_practitioner(
    state: &Arc<AppState>,
    ctx: Context,
    input: PractitionerInput,
) -> Result<Practitioner, ApiError> {
    let row = crate::domain::write(state, Event::new(&ctx, "practitioner.create"), 201, move |tx, st, ev| {
        let write = DirectoryWrite::CreatePractitioner { into: &input.organization };
        access::may_write_directory(&ctx.caller, &st.settings.operator_org, write)?;
        input.check()?;
        let row = input.clone().into_row(tx, uuid::Uuid::new_v4().to_string(), (st.clock.stamp(), st.clock.stamp()))?;
        name_resource(ev, "practitioner", &row.id);
        row.insert(tx)?;
        Ok(row)
    })
    .await?;
    Practitioner::try_from(row)
}

/// One page of practitioners in id order, by organisation or profession.
pub async fn list_practitioners(
    state: &Arc<AppState>,
    ctx: Context,
    filter: PractitionerFilter,
    cursor: Option<String>,
    limit: i64,
) -> Result<Page<Practitioner>, ApiError> {
    access::check(&ctx.caller, Resource::Directory, Action::Read)?;
    let rows = db::run(&state.pool, move |conn| {
        let profession = filter.profession.map(|p| p.as_str());
        Ok(PractitionerRow::list(conn, filter.organization.as_deref(), profession, cursor.as_deref(), limit)?)
    })
    .await?;
    let items = rows.into_iter().map(Practitioner::try_from).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::new(items, limit, |p: &Practitioner| p.id.clone()))
}

/// One practitioner.
pub async fn get_practitioner(
    state: &Arc<AppState>,
    ctx: Context,
    id: PractitionerId,
) -> Result<Practitioner, ApiError> {
    access::check(&ctx.caller, Resource::Directory, Action::Read)?;
    let row = db::run(&state.pool, move |conn| Ok(PractitionerRow::find(conn, &id)?)).await?;
    Practitioner::try_from(row.ok_or_else(no_practitioner)?)
}

/// Replaces a practitioner's details (its organisation's admin, or the operator's); it keeps
/// its id and creation time. Only the operator's admin moves a practitioner to another
/// organisation.
pub async fn replace_practitioner(
    state: &Arc<AppState>,
    ctx: Context,
    id: PractitionerId,
    input: PractitionerInput,
) -> Result<Practitioner, ApiError> {
    let event = Event::new(&ctx, "practitioner.update").resource("practitioner", &id);
    let row = crate::domain::write(state, event, 200, move |tx, st, _| {
        // Not a secret: the directory is readable by everyone, so looking up first reveals nothing.
        let existing = PractitionerRow::find(tx, &id)?.ok_or_else(no_practitioner)?;
        let write = DirectoryWrite::ReplacePractitioner { from: &existing.organization_id, into: &input.organization };
        access::may_write_directory(&ctx.caller, &st.settings.operator_org, write)?;
        input.check()?;
        let row = input.clone().into_row(tx, id.clone().into_string(), (existing.created_at, st.clock.stamp()))?;
        row.update(tx)?;
        Ok(row)
    })
    .await?;
    Practitioner::try_from(row)
}
