//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes.
//! `carepath openapi` prints it; `openapi/openapi.json` is that output, checked by a test.

mod clients;
mod contract;
mod documents;
mod examples;

use contract::Contract;

use utoipa::OpenApi;

use crate::api;
use crate::error::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(title = "carepath", description = "Regional care-pathway record service: one shared, consent-governed record per patient for the doctors, nurses, care managers and pharmacists of home care."),
    paths(
        api::health::healthz,
        api::metrics::metrics_on_api,
        api::directory::create_organization,
        api::directory::list_organizations,
        api::directory::get_organization,
        api::directory::put_organization,
        api::directory::create_practitioner,
        api::directory::list_practitioners,
        api::directory::get_practitioner,
        api::directory::put_practitioner,
        api::sessions::end_sessions,
        api::accounts::invite,
        api::accounts::list_accounts,
        api::accounts::reset_factor,
        api::accounts::account_sessions,
        api::accounts::my_sessions,
        api::accounts::revoke_session,
        api::patients::create_patient,
        api::patients::list_patients,
        api::patients::get_patient,
        api::patients::erase_patient,
        api::care_team::get_care_team,
        api::care_team::put_care_team,
        api::documents::create_document,
        api::documents::list_documents,
        api::documents::get_document,
        api::documents::put_document,
        api::documents::delete_document,
        api::documents::get_version,
        api::documents::get_history,
        api::consents::create_consent,
        api::consents::list_consents,
        api::consents::revoke_consent,
        api::consent_log::consent_coverage,
        api::consent_log::list_consent_log,
        api::consent_log::export_consent_log,
        api::consent_log::consent_accesses,
        api::audit::list_events,
        api::audit::review_event,
        api::audit::verify,
        api::audit::export,
        api::audit::public_key,
        api::audit::access_log,
        api::sync::get_changes,
        api::sync::post_batch,
        api::subscriptions::create_subscription,
        api::subscriptions::list_subscriptions,
        api::subscriptions::get_subscription,
        api::subscriptions::delete_subscription,
        api::subscriptions::enable_subscription,
        api::subscriptions::replay_subscription,
        api::schemas::list_schemas,
        api::schemas::get_schema,
        api::vacancies::search_vacancies,
        api::vacancies::get_vacancy_changes,
        api::vacancies::stream_vacancies,
        api::vacancies::get_posting,
        api::vacancies::put_posting,
        api::vacancies::confirm_posting,
        api::coordination::send_sheet,
        api::coordination::list_sheets,
        api::coordination::get_sheet,
        api::coordination::reply_sheet,
        api::coordination::forward_sheet,
        api::coordination::withdraw_sheet,
        api::coordination::close_sheet,
        api::coordination::sheet_stats,
        api::contact_hours::put_contact_hours,
        api::contact_hours::get_contact_hours,
        api::contact_hours::list_contact_hours,
        api::contact_hours::get_reachable,
        api::fhir::get_patient_bundle,
        api::fhir::audit_events,
        api::fhir::import_bundle,
        api::fhir::export_system,
        api::fhir::export_system_get,
        api::fhir::export_patients,
        api::fhir::export_patients_get,
        api::fhir::export_group,
        api::fhir::export_group_get,
        api::fhir::server::metadata,
        api::fhir::server::read_instance,
        api::fhir::server::vread_instance,
        api::fhir::server::search_type,
        api::fhir::server::patient_everything,
        api::fhir::export_status,
        api::fhir::export_file,
        api::fhir::export_delete,
        api::reports::item_fill,
        api::reports::indicators,
        api::plans::get_plan,
        api::plans::put_plan,
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&Contract),
    tags(
        (name = "health", description = "Liveness, readiness and metrics"),
        (name = "directory", description = "Organisations and practitioners of the region"),
        (name = "accounts", description = "Console accounts (password and TOTP), invitations, second-factor resets and console sessions"),
        (name = "patients", description = "Patients (identifiers sealed at rest) and their care teams"),
        (name = "documents", description = "Versioned, schema-validated care documents"),
        (name = "schemas", description = "The document schema registry"),
        (name = "sync", description = "Change feed and batch upload for stations that work offline"),
        (name = "audit", description = "The tamper-evident audit log"),
        (name = "consents", description = "The patient's consent to share, by organisation, type and purpose"),
        (name = "vacancies", description = "The short-stay vacancy board (ショートステイ空き情報): postings, search, live stream"),
        (name = "coordination", description = "Contact sheets between doctors, care managers and consultation desks; contact hours"),
        (name = "subscriptions", description = "Signed webhooks: the change feed pushed to an organisation's endpoint"),
        (name = "fhir", description = "The same record as HL7 FHIR R4 (JP Core where it exists), under the same access rule and audit"),
        (name = "reports", description = "De-identified reports for the region: item fill, indicators, the annual plan"),
    ),
)]
pub struct ApiDoc;

/// The spec as committed in `openapi/openapi.json` (pretty, with a final newline).
pub fn spec_json() -> String {
    let mut json = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}
