//! Webhook subscriptions over HTTP: thin handlers around `crate::webhooks::subscriptions`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::context::Context;
use crate::edge::json::ApiJson;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use crate::webhooks::subscriptions::{self, ReplayInput, Subscription, SubscriptionInput, SubscriptionList};

/// Register a webhook subscription (an integration client, acting as its own role). The answer
/// carries the signing secret, once.
#[utoipa::path(post, path = "/v1/subscriptions", tag = "subscriptions", request_body = SubscriptionInput,
    security(("bearer" = [])),
    responses((status = 201, body = Subscription, headers(("Location" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The organisation holds the most subscriptions allowed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The request failed validation, including rules a schema cannot say: a URL whose scheme or address the server does not allow, a role other than the caller's own, or a caller whose role may not read documents (an admin), an unknown document type", body = Problem, content_type = "application/problem+json")))]
pub async fn create_subscription(
    state: web::Data<AppState>,
    ctx: Context,
    ApiJson(input): ApiJson<SubscriptionInput>,
) -> Result<HttpResponse, ApiError> {
    let subscription = subscriptions::create(&state, ctx, input).await?;
    let location = format!("/v1/subscriptions/{}", subscription.id);
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(subscription))
}

/// List the subscriptions the caller manages: all of its organisation's for an admin, its own
/// for anyone else.
#[utoipa::path(get, path = "/v1/subscriptions", tag = "subscriptions", security(("bearer" = [])),
    responses((status = 200, body = SubscriptionList),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_subscriptions(state: web::Data<AppState>, ctx: Context) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(subscriptions::list(&state, ctx).await?))
}

/// A subscription and where its delivery stands (status, cursor, last error).
#[utoipa::path(get, path = "/v1/subscriptions/{id}", tag = "subscriptions", security(("bearer" = [])),
    responses((status = 200, body = Subscription),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_subscription(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(subscriptions::get(&state, ctx, id.into_inner()).await?))
}

/// Delete a subscription.
#[utoipa::path(delete, path = "/v1/subscriptions/{id}", tag = "subscriptions", security(("bearer" = [])),
    responses((status = 204, description = "Deleted"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_subscription(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    subscriptions::delete(&state, ctx, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Enable a failing subscription again: delivery resumes from where it stopped.
#[utoipa::path(post, path = "/v1/subscriptions/{id}/enable", tag = "subscriptions", security(("bearer" = [])),
    responses((status = 200, body = Subscription),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn enable_subscription(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(subscriptions::enable(&state, ctx, id.into_inner()).await?))
}

/// Deliver again every change after a sequence number.
#[utoipa::path(post, path = "/v1/subscriptions/{id}/replay", tag = "subscriptions", request_body = ReplayInput,
    security(("bearer" = [])),
    responses((status = 200, body = Subscription),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The request failed validation, or `since` lies beyond the subscription's `delivered_seq`", body = Problem, content_type = "application/problem+json")))]
pub async fn replay_subscription(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
    ApiJson(input): ApiJson<ReplayInput>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(subscriptions::replay(&state, ctx, id.into_inner(), input).await?))
}
