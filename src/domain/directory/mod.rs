//! The regional directory: organisations here, practitioners in `practitioners`. An organisation's `admin` writes its
//! own entries, the operator's admin any (`access::may_write_directory`); writes and their
//! refusals are audited. Every authenticated caller reads (finding each other is its point), so
//! reads are not audited.

pub mod codes;
mod practitioners;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::{self, Action, DirectoryWrite, Resource};
use crate::audit::Event;
use crate::context::Context;
use crate::db::directory::{ListBy, OrganizationRow};
use crate::db::{self, DbConn};
use crate::domain::fields::{Address, Errors};
use crate::domain::paging::Page;
use crate::domain::params::words;
use crate::error::ApiError;
use crate::ids::OrganizationId;
use crate::state::AppState;

pub use practitioners::{
    Practitioner, PractitionerFilter, PractitionerInput, create_practitioner, get_practitioner, list_practitioners,
    replace_practitioner,
};

words!(
    /// What kind of provider or office an organisation is.
    OrganizationKind, "organisation kind", [
        /// 診療所
        Clinic = "clinic",
        /// 病院
        Hospital = "hospital",
        /// 訪問看護ステーション
        VisitingNurseStation = "visiting_nurse_station",
        /// 居宅介護支援事業所, where care managers work.
        CareManagementOffice = "care_management_office",
        /// 地域包括支援センター
        CommunitySupportCenter = "community_support_center",
        /// 薬局
        Pharmacy = "pharmacy",
        /// 歯科診療所
        DentalClinic = "dental_clinic",
        /// 介護施設
        CareFacility = "care_facility",
        /// 市区町村, for example as the auditing body.
        Municipality = "municipality",
        /// 療養相談室 or 在宅医療・介護連携支援センター: care staff send it medical questions.
        ConsultationDesk = "consultation_desk",
    ]
);

/// An organisation as registered or replaced.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationInput {
    /// The organisation's name, at most 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// What kind of provider or office it is.
    pub kind: OrganizationKind,
    /// Its address.
    pub address: Option<Address>,
    /// Digits and hyphens, an optional leading `+`; at least 7 digits, 7 to 20 characters.
    #[schema(min_length = 7, max_length = 20, pattern = r"^\+?-*[0-9](-*[0-9]){6,}-*$")]
    pub phone: Option<String>,
    /// 保険医療機関コード: 10 digits (prefecture, 点数表番号 1/3/4/6, the 7-digit code whose last
    /// digit is its check digit); unique in the region.
    #[schema(pattern = r"^[0-9]{10}$", example = "0110113719")]
    pub medical_institution_code: Option<String>,
    /// 介護保険事業所番号: 10 digits beginning with the prefecture number; unique in the region.
    #[schema(pattern = r"^[0-9]{10}$", example = "3370100015")]
    pub ltc_provider_number: Option<String>,
}

/// An organisation of the directory.
#[derive(Debug, Serialize, ToSchema)]
pub struct Organization {
    /// The organisation id (a UUID); the `org` claim of its practitioners' tokens.
    pub id: String,
    /// The organisation's name.
    pub name: String,
    /// What kind of provider or office it is.
    pub kind: OrganizationKind,
    /// Its address.
    pub address: Option<Address>,
    /// Its phone number.
    pub phone: Option<String>,
    /// 保険医療機関コード (10 digits), if it has one.
    pub medical_institution_code: Option<String>,
    /// 介護保険事業所番号 (10 digits), if it has one.
    pub ltc_provider_number: Option<String>,
    /// When it was registered; RFC 3339 in UTC, e.g. `2025-04-01T09:30:00.000000Z`.
    pub created_at: String,
    /// When its details last changed; same format.
    pub updated_at: String,
}

impl OrganizationInput {
    fn check(&self) -> Result<(), ApiError> {
        let mut errors = Errors::default();
        errors.text("/name", &self.name, 200);
        if let Some(address) = &self.address {
            address.check("/address", &mut errors);
        }
        if let Some(phone) = &self.phone {
            errors.phone("/phone", phone);
        }
        codes::check(self.medical_institution_code.as_deref(), self.ltc_provider_number.as_deref(), &mut errors);
        errors.finish()
    }

    fn into_row(self, id: String, created_at: String, now: String) -> Result<OrganizationRow, ApiError> {
        let address = self.address.map(|a| serde_json::to_string(&a)).transpose().map_err(ApiError::internal)?;
        Ok(OrganizationRow {
            id,
            name: self.name,
            kind: self.kind.as_str().to_owned(),
            address,
            phone: self.phone,
            created_at,
            updated_at: now,
            medical_institution_code: self.medical_institution_code,
            ltc_provider_number: self.ltc_provider_number,
        })
    }
}

impl TryFrom<OrganizationRow> for Organization {
    type Error = ApiError;
    fn try_from(row: OrganizationRow) -> Result<Self, ApiError> {
        Ok(Self {
            kind: row.kind.parse().map_err(ApiError::internal)?,
            address: row.address.as_deref().map(serde_json::from_str).transpose().map_err(ApiError::internal)?,
            id: row.id,
            name: row.name,
            phone: row.phone,
            created_at: row.created_at,
            updated_at: row.updated_at,
            medical_institution_code: row.medical_institution_code,
            ltc_provider_number: row.ltc_provider_number,
        })
    }
}

/// Which organisations a listing shows.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationFilter {
    /// Only organisations of this kind.
    pub kind: Option<OrganizationKind>,
    /// Only the organisation with this 保険医療機関コード (exact, 10 digits).
    #[param(pattern = "^[0-9]{10}$")]
    pub medical_institution_code: Option<String>,
    /// Only the organisation with this 介護保険事業所番号 (exact, 10 digits).
    #[param(pattern = "^[0-9]{10}$")]
    pub ltc_provider_number: Option<String>,
}

fn no_organization() -> ApiError {
    ApiError::NotFound("no such organization".into())
}

/// Registers an organisation (the operator's admin). Refusals are audited like the write.
pub async fn create_organization(
    state: &Arc<AppState>,
    ctx: Context,
    input: OrganizationInput,
) -> Result<Organization, ApiError> {
    let row = super::write(state, Event::new(&ctx, "organization.create"), 201, move |tx, st, ev| {
        access::may_write_directory(&ctx.caller, &st.settings.operator_org, DirectoryWrite::CreateOrganization)?;
        input.check()?;
        unique_name(tx, &input.name, None)?;
        let now = st.clock.stamp();
        let row = input.clone().into_row(uuid::Uuid::new_v4().to_string(), now.clone(), now)?;
        codes::unique(tx, &row)?;
        name_resource(ev, "organization", &row.id);
        row.insert(tx)?;
        Ok(row)
    })
    .await?;
    Organization::try_from(row)
}

/// Refuses a name another organisation already has: a name is how people
/// recognise an organisation in the directory and on the console, so it must not be borrowed.
/// Checked inside the write, which the single committer serialises.
fn unique_name(tx: &mut DbConn, name: &str, except: Option<&str>) -> Result<(), ApiError> {
    if OrganizationRow::name_taken(tx, name, except)? || OrganizationRow::name_taken(tx, name.trim(), except)? {
        return Err(ApiError::field("/name", "another organisation in the directory has this name"));
    }
    Ok(())
}

/// Names the created entry on its event; only once the write is allowed, so a refusal does not
/// name an entry that never existed.
fn name_resource(event: &mut Event, kind: &'static str, id: &str) {
    event.resource_type = Some(kind);
    event.resource_id = Some(id.to_owned());
}

/// One page of organisations in id order, optionally of one kind.
pub async fn list_organizations(
    state: &Arc<AppState>,
    ctx: Context,
    filter: OrganizationFilter,
    cursor: Option<String>,
    limit: i64,
) -> Result<Page<Organization>, ApiError> {
    access::check(&ctx.caller, Resource::Directory, Action::Read)?;
    let mut errors = Errors::default();
    if let Some(code) = &filter.medical_institution_code {
        errors.digits("/query/medical_institution_code", code, &[10]);
    }
    if let Some(number) = &filter.ltc_provider_number {
        errors.digits("/query/ltc_provider_number", number, &[10]);
    }
    errors.finish()?;
    let rows = db::run(&state.pool, move |conn| {
        let by = ListBy {
            kind: filter.kind.map(OrganizationKind::as_str),
            medical_institution_code: filter.medical_institution_code.as_deref(),
            ltc_provider_number: filter.ltc_provider_number.as_deref(),
        };
        Ok(OrganizationRow::list(conn, by, cursor.as_deref(), limit)?)
    })
    .await?;
    let items = rows.into_iter().map(Organization::try_from).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::new(items, limit, |o: &Organization| o.id.clone()))
}

/// One organisation.
pub async fn get_organization(
    state: &Arc<AppState>,
    ctx: Context,
    id: OrganizationId,
) -> Result<Organization, ApiError> {
    access::check(&ctx.caller, Resource::Directory, Action::Read)?;
    let row = db::run(&state.pool, move |conn| Ok(OrganizationRow::find(conn, &id)?)).await?;
    Organization::try_from(row.ok_or_else(no_organization)?)
}

/// Replaces an organisation's details (its own admin, or the operator's); it keeps its id and
/// creation time.
pub async fn replace_organization(
    state: &Arc<AppState>,
    ctx: Context,
    id: OrganizationId,
    input: OrganizationInput,
) -> Result<Organization, ApiError> {
    let event = Event::new(&ctx, "organization.update").resource("organization", &id);
    let row = super::write(state, event, 200, move |tx, st, _| {
        let write = DirectoryWrite::ReplaceOrganization { id: &id };
        access::may_write_directory(&ctx.caller, &st.settings.operator_org, write)?;
        input.check()?;
        let existing = OrganizationRow::find(tx, &id)?.ok_or_else(no_organization)?;
        // The kind decides access (a consultation desk reads more sheets), so it is the
        // operator's to set, not the organisation's own admin's.
        if input.kind.as_str() != existing.kind && !access::is_operator(&ctx.caller, &st.settings.operator_org) {
            return Err(ApiError::field("/kind", "only the operator's admin changes an organisation's kind"));
        }
        // The codes name the organisation in exchange files (what it is sent, whose plans it
        // files), so like the kind they are the operator's to set.
        let operator = access::is_operator(&ctx.caller, &st.settings.operator_org);
        if !operator && input.medical_institution_code != existing.medical_institution_code {
            return Err(ApiError::field("/medical_institution_code", "only the operator's admin changes the codes"));
        }
        if !operator && input.ltc_provider_number != existing.ltc_provider_number {
            return Err(ApiError::field("/ltc_provider_number", "only the operator's admin changes the codes"));
        }
        unique_name(tx, &input.name, Some(&existing.id))?;
        let row = input.clone().into_row(id.clone().into_string(), existing.created_at, st.clock.stamp())?;
        codes::unique(tx, &row)?;
        row.update(tx)?;
        Ok(row)
    })
    .await?;
    Organization::try_from(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_kinds_are_the_wire_words() {
        for &kind in OrganizationKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(kind.as_str()));
            assert_eq!(kind.as_str().parse::<OrganizationKind>().unwrap(), kind);
        }
        assert!("Clinic".parse::<OrganizationKind>().is_err());
    }
}
