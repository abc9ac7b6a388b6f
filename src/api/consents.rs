//! Consents over HTTP: thin handlers around `crate::domain::consents`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::context::Context;
use crate::domain::consents::{self, Consent, ConsentInput, ConsentList, RevokeInput};
use crate::edge::json::ApiJson;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Record a consent (physician, care manager of the managing organisation).
#[utoipa::path(post, path = "/v1/patients/{id}/consents", tag = "consents", request_body = ConsentInput,
    security(("bearer" = [])),
    responses((status = 201, body = Consent, headers(("Location" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_consent(
    state: web::Data<AppState>,
    ctx: Context,
    patient: web::Path<String>,
    ApiJson(input): ApiJson<ConsentInput>,
) -> Result<HttpResponse, ApiError> {
    let consent = consents::create(&state, ctx, patient.into_inner().into(), input).await?;
    let location = format!("/v1/patients/{}/consents/{}", consent.patient_id, consent.id);
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(consent))
}

/// List a patient's consents, active and revoked, oldest first.
#[utoipa::path(get, path = "/v1/patients/{id}/consents", tag = "consents", security(("bearer" = [])),
    responses((status = 200, body = ConsentList), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_consents(
    state: web::Data<AppState>,
    ctx: Context,
    patient: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(consents::list(&state, ctx, patient.into_inner().into()).await?))
}

/// Revoke a consent; it stops counting from the next request on.
#[utoipa::path(post, path = "/v1/patients/{id}/consents/{cid}/revoke", tag = "consents", request_body = RevokeInput,
    security(("bearer" = [])),
    responses((status = 200, body = Consent), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already revoked", body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_consent(
    state: web::Data<AppState>,
    ctx: Context,
    path: web::Path<(String, String)>,
    ApiJson(input): ApiJson<RevokeInput>,
) -> Result<HttpResponse, ApiError> {
    let (patient, consent_id) = path.into_inner();
    Ok(HttpResponse::Ok().json(consents::revoke(&state, ctx, patient.into(), consent_id, input).await?))
}
