//! The short-stay vacancy board over HTTP: thin handlers around `crate::domain::vacancies`; its
//! stream is framed by `crate::edge::sse`.

use std::convert::Infallible;

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::context::Context;
use crate::domain::vacancies::{
    self, Next, SearchParams, ShortStayService, VacancyChangePage, VacancyPosting, VacancyPostingInput,
    VacancySearchResult,
};
use crate::edge::feed::{FeedParams, LastEventId};
use crate::edge::if_match::IfMatchHeader;
use crate::edge::json::ApiJson;
use crate::edge::query::ApiQuery;
use crate::edge::sse;
use crate::error::{ApiError, Problem};
use crate::state::AppState;

/// Find facilities with a short-stay bed free on every day of a range that take on every need.
///
/// Any authenticated caller. Each hit says when the facility last confirmed it; `stale` marks
/// one not confirmed within the board's limit (default 24 hours). Past days are never shown.
#[utoipa::path(get, path = "/v1/vacancies", tag = "vacancies", params(SearchParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "The hits, fresh before stale, then nearest first", body = VacancySearchResult),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter is malformed, `from` is before today, or the range is too long", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn search_vacancies(
    state: web::Data<AppState>,
    ctx: Context,
    params: ApiQuery<SearchParams>,
) -> Result<HttpResponse, ApiError> {
    let query = params.into_inner().parse(state.calendar.today())?;
    let state = state.into_inner();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(vacancies::search(&state, ctx, query).await?))
}

fn service_of(path: &str) -> Result<ShortStayService, ApiError> {
    path.parse().map_err(|_| ApiError::NotFound("no such service: daily_living or medical_care".into()))
}

fn respond(posting: VacancyPosting, created: bool) -> HttpResponse {
    let mut answer = if created { HttpResponse::Created() } else { HttpResponse::Ok() };
    let location = format!("/v1/organizations/{}/vacancies/{}", posting.facility, posting.service.as_str());
    answer.insert_header((header::ETAG, posting.etag())).insert_header((header::LOCATION, location)).json(posting)
}

/// Read a facility's posting for a service (days from today on).
#[utoipa::path(get, path = "/v1/organizations/{id}/vacancies/{service}", tag = "vacancies",
    params(("id" = String, Path, description = "The facility"), ("service" = ShortStayService, Path, description = "The service")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = VacancyPosting, headers(("ETag" = String))),
        (status = 404, description = "No posting", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_posting(
    state: web::Data<AppState>,
    ctx: Context,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (facility, service) = path.into_inner();
    let service = service_of(&service)?;
    let posting = vacancies::get(&state.into_inner(), ctx, facility, service).await?;
    Ok(respond(posting, false))
}

/// Publish a facility's posting for a service: its own staff, or the operator's admin.
///
/// The posting is replaced whole, as a new version: the first without `If-Match` (201), each
/// later one with the `ETag` it replaces (428 without, 412 when stale). Days must lie from today
/// (in the region) to 400 days ahead; the facility must be a care facility, hospital or clinic.
#[utoipa::path(put, path = "/v1/organizations/{id}/vacancies/{service}", tag = "vacancies", request_body = VacancyPostingInput,
    params(("id" = String, Path, description = "The facility"), ("service" = ShortStayService, Path, description = "The service"),
        ("If-Match" = Option<String>, Header, pattern = r#"^(\*|"[0-9]{1,9}")$"#, description = "ETag of the version being replaced (`\"3\"`), or `*`; absent for the first")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A new version", body = VacancyPosting, headers(("ETag" = String), ("Location" = String))),
        (status = 201, description = "The first version", body = VacancyPosting, headers(("ETag" = String), ("Location" = String))),
        (status = 403, description = "Not the facility's staff nor the operator's admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation or service", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale `If-Match` (`current` holds the posting), or `If-Match` before the first", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is malformed, a day is past or too far ahead, or the organisation does not run short stays", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "The posting exists and `If-Match` is missing", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_posting(
    state: web::Data<AppState>,
    ctx: Context,
    path: web::Path<(String, String)>,
    ApiJson(input): ApiJson<VacancyPostingInput>,
    if_match: IfMatchHeader,
) -> Result<HttpResponse, ApiError> {
    let (facility, service) = path.into_inner();
    let service = service_of(&service)?;
    let precondition = if_match.optional()?;
    let (posting, created) =
        vacancies::publish(&state.into_inner(), ctx, facility, service, precondition, input).await?;
    Ok(respond(posting, created))
}

/// Confirm a posting unchanged: it is fresh again and keeps its version (its own staff, or the
/// operator's admin). With `If-Match`, only while that version is current.
#[utoipa::path(post, path = "/v1/organizations/{id}/vacancies/{service}/confirm", tag = "vacancies",
    params(("id" = String, Path, description = "The facility"), ("service" = ShortStayService, Path, description = "The service"),
        ("If-Match" = Option<String>, Header, pattern = r#"^(\*|"[0-9]{1,9}")$"#, description = "ETag of the version being confirmed, or `*`")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = VacancyPosting, headers(("ETag" = String), ("Location" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No posting", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The posting changed since (`current` holds it)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`If-Match` is malformed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn confirm_posting(
    state: web::Data<AppState>,
    ctx: Context,
    path: web::Path<(String, String)>,
    if_match: IfMatchHeader,
) -> Result<HttpResponse, ApiError> {
    let (facility, service) = path.into_inner();
    let service = service_of(&service)?;
    let precondition = if_match.optional()?;
    let posting = vacancies::confirm(&state.into_inner(), ctx, facility, service, precondition).await?;
    Ok(respond(posting, false))
}

/// The board's changes after a cursor, for clients that poll instead of streaming.
#[utoipa::path(get, path = "/v1/vacancies/changes", tag = "vacancies", params(FeedParams), security(("bearer" = [])),
    responses(
        (status = 200, description = "Changes after `since`, in commit order, and the cursor to continue from", body = VacancyChangePage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter is out of range", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_vacancy_changes(
    state: web::Data<AppState>,
    ctx: Context,
    params: ApiQuery<FeedParams>,
) -> Result<HttpResponse, ApiError> {
    let page = vacancies::changes(&state.into_inner(), ctx, params.cursor()?).await?;
    Ok(HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(page))
}

/// Follow the board live: a Server-Sent Events stream of every publish and confirmation.
///
/// Each event is `event: vacancy`, `id: <seq>`, `data: <VacancyChange as JSON>`. Reconnect with
/// `Last-Event-ID: <seq>` to resume exactly after it (nothing lost, nothing repeated); without it
/// the stream starts from now. An idle stream sends a comment line (`: heartbeat`) every 15
/// seconds (`--vacancy-heartbeat-secs`). The same changes are at `GET /v1/vacancies/changes`.
/// Open streams are bounded per caller, per organisation and per server (docs/vacancies.md).
#[utoipa::path(get, path = "/v1/vacancies/stream", tag = "vacancies",
    params(("Last-Event-ID" = Option<String>, Header, pattern = "^[0-9]{1,18}$", description = "The id of the last event received")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "An endless `text/event-stream`", body = String, content_type = "text/event-stream"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`Last-Event-ID` is not a sequence number", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "A per-caller limit refused the stream: a request rate, or the caller (4), its organisation (50) or the server (1,000) already holds as many streams as allowed; `Retry-After` gives the seconds to wait", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn stream_vacancies(
    state: web::Data<AppState>,
    ctx: Context,
    last: LastEventId,
) -> Result<HttpResponse, ApiError> {
    let LastEventId(last) = last;
    let follower = vacancies::open_stream(&state.into_inner(), ctx, last).await?;
    // The first bytes go out at once: the client knows it is connected (and following) from here.
    let hello = sse::hello(3000, follower.position());
    let body = futures_util::stream::unfold((Some(hello), follower), |(hello, mut follower)| async move {
        if let Some(hello) = hello {
            return Some((Ok::<_, Infallible>(hello), (None, follower)));
        }
        match follower.next().await {
            Ok(Next::Change(change)) => {
                let data = serde_json::to_string(&change).unwrap_or_default();
                Some((Ok(sse::event(change.seq, "vacancy", &data)), (None, follower)))
            }
            Ok(Next::Heartbeat) => Some((Ok(sse::heartbeat()), (None, follower))),
            Ok(Next::End) => None,
            Err(e) => {
                tracing::warn!(error = %e, "vacancy stream ended");
                None
            }
        }
    });
    Ok(sse::response(body))
}
