//! HTTP handlers, one file per resource. Handlers parse, authorize, call the domain, map the result.

pub mod accounts;
pub mod audit;
pub mod care_plans;
pub mod care_team;
pub mod consent_log;
pub mod consents;
pub mod contact_hours;
pub mod coordination;
pub mod directory;
pub mod documents;
pub mod fhir;
pub mod health;
pub mod metrics;
pub mod patients;
pub mod plans;
pub mod reports;
pub mod schemas;
pub mod service_clients;
pub mod sessions;
pub mod subscriptions;
pub mod sync;
pub mod vacancies;

use actix_web::web;

/// Every route, in one table. Resources (not method-guarded routes) so that a known path with
/// the wrong method answers 405, not 404.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").get(health::healthz))
        .service(
            web::resource("/v1/organizations").get(directory::list_organizations).post(directory::create_organization),
        )
        .service(
            web::resource("/v1/organizations/{id}").get(directory::get_organization).put(directory::put_organization),
        )
        .service(web::resource("/v1/organizations/{id}/sessions/end").post(sessions::end_sessions))
        .service(web::resource("/v1/organizations/{id}/service-clients").post(service_clients::register_client))
        .service(web::resource(service_clients::TOKEN_PATH).post(service_clients::token))
        .service(web::resource("/.well-known/smart-configuration").get(service_clients::smart_configuration))
        .service(web::resource("/v1/organizations/{id}/accounts").get(accounts::list_accounts))
        .service(web::resource("/v1/accounts").post(accounts::invite))
        .service(web::resource("/v1/accounts/{id}/reset-factor").post(accounts::reset_factor))
        .service(web::resource("/v1/accounts/{id}/sessions").get(accounts::account_sessions))
        .service(web::resource("/v1/me/sessions").get(accounts::my_sessions))
        .service(web::resource("/v1/sessions/{id}").delete(accounts::revoke_session))
        .service(
            web::resource("/v1/practitioners").get(directory::list_practitioners).post(directory::create_practitioner),
        )
        .service(
            web::resource("/v1/practitioners/{id}").get(directory::get_practitioner).put(directory::put_practitioner),
        )
        .service(web::resource("/v1/patients").get(patients::list_patients).post(patients::create_patient))
        .service(web::resource("/v1/patients/{id}").get(patients::get_patient).delete(patients::erase_patient))
        .service(
            web::resource("/v1/patients/{id}/care-team").get(care_team::get_care_team).put(care_team::put_care_team),
        )
        .service(
            web::resource("/v1/patients/{id}/documents")
                .get(documents::list_documents)
                .post(documents::create_document),
        )
        .service(
            web::resource("/v1/documents/{id}")
                .get(documents::get_document)
                .put(documents::put_document)
                .delete(documents::delete_document),
        )
        .service(web::resource("/v1/documents/{id}/versions/{n}").get(documents::get_version))
        .service(web::resource("/v1/documents/{id}/history").get(documents::get_history))
        .service(
            web::resource("/v1/patients/{id}/consents").get(consents::list_consents).post(consents::create_consent),
        )
        .service(web::resource("/v1/patients/{id}/consents/coverage").get(consent_log::consent_coverage))
        .service(web::resource("/v1/patients/{id}/consents/{cid}/revoke").post(consents::revoke_consent))
        .service(web::resource("/v1/consent-log").get(consent_log::list_consent_log))
        .service(web::resource("/v1/consent-log/export").get(consent_log::export_consent_log))
        .service(web::resource("/v1/consent-log/{consent_id}/accesses").get(consent_log::consent_accesses))
        .service(web::resource("/v1/audit-events").get(audit::list_events))
        .service(web::resource("/v1/audit-events/verify").get(audit::verify))
        .service(web::resource("/v1/audit-events/export").get(audit::export))
        .service(web::resource("/v1/audit-events/public-key").get(audit::public_key))
        .service(web::resource("/v1/patients/{id}/access-log").get(audit::access_log))
        .service(web::resource("/v1/audit-events/{seq}/review").post(audit::review_event))
        .service(web::resource("/v1/changes").get(sync::get_changes))
        .service(web::resource("/v1/batch").post(sync::post_batch))
        .service(
            web::resource("/v1/subscriptions")
                .get(subscriptions::list_subscriptions)
                .post(subscriptions::create_subscription),
        )
        .service(
            web::resource("/v1/subscriptions/{id}")
                .get(subscriptions::get_subscription)
                .delete(subscriptions::delete_subscription),
        )
        .service(web::resource("/v1/subscriptions/{id}/enable").post(subscriptions::enable_subscription))
        .service(web::resource("/v1/subscriptions/{id}/replay").post(subscriptions::replay_subscription))
        .service(web::resource("/v1/schemas").get(schemas::list_schemas))
        .service(web::resource("/v1/schemas/{type}/{version}").get(schemas::get_schema))
        .service(web::resource("/v1/vacancies").get(vacancies::search_vacancies))
        .service(web::resource("/v1/vacancies/changes").get(vacancies::get_vacancy_changes))
        .service(web::resource("/v1/vacancies/stream").get(vacancies::stream_vacancies))
        .service(
            web::resource("/v1/organizations/{id}/vacancies/{service}")
                .get(vacancies::get_posting)
                .put(vacancies::put_posting),
        )
        .service(web::resource("/v1/organizations/{id}/vacancies/{service}/confirm").post(vacancies::confirm_posting))
        .service(web::resource("/v1/contact-sheets").get(coordination::list_sheets).post(coordination::send_sheet))
        .service(web::resource("/v1/contact-sheets/stats").get(coordination::sheet_stats))
        .service(web::resource("/v1/contact-sheets/{id}").get(coordination::get_sheet))
        .service(web::resource("/v1/contact-sheets/{id}/reply").post(coordination::reply_sheet))
        .service(web::resource("/v1/contact-sheets/{id}/forward").post(coordination::forward_sheet))
        .service(web::resource("/v1/contact-sheets/{id}/withdraw").post(coordination::withdraw_sheet))
        .service(web::resource("/v1/contact-sheets/{id}/close").post(coordination::close_sheet))
        .service(
            web::resource("/v1/practitioners/{id}/contact-hours")
                .get(contact_hours::get_contact_hours)
                .put(contact_hours::put_contact_hours),
        )
        .service(web::resource("/v1/contact-hours").get(contact_hours::list_contact_hours))
        .service(web::resource("/v1/patients/{id}/care-team/reachable").get(contact_hours::get_reachable))
        .service(web::resource("/v1/patients/{id}/fhir").get(fhir::get_patient_bundle).post(fhir::import_bundle))
        .service(web::resource("/v1/audit-events/fhir").get(fhir::audit_events))
        .service(
            web::scope("/v1/fhir")
                .wrap(actix_web::middleware::from_fn(fhir::edge::fhir_edge))
                .configure(fhir::server::routes)
                .default_service(web::to(fhir::server::unknown)),
        )
        .service(web::resource("/v1/reports/item-fill").get(reports::item_fill))
        .service(web::resource("/v1/reports/indicators").get(reports::indicators))
        .service(web::resource("/v1/plans/{year}").get(plans::get_plan).put(plans::put_plan))
        .service(web::resource("/v1/care-plan-exchange/imports").post(care_plans::import_files))
        .service(web::resource("/v1/care-plan-exchange/exports").get(care_plans::export_files));
}
