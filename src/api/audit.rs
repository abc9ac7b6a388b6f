//! The audit log for auditors: query events, review break-glass accesses, verify the chain.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::{self, Action, Resource};
use crate::api::fields::Errors;
use crate::api::json::ApiJson;
use crate::audit::{self, Event, Verification};
use crate::auth::Caller;
use crate::clock;
use crate::db::audit::{AuditFilter, AuditRow, ReviewRow};
use crate::db::{self, write_tx};
use crate::error::{ApiError, Problem};
use crate::startup::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only events about this patient.
    pub patient_id: Option<String>,
    /// Only break-glass accesses (`true`), or none of them (`false`).
    pub break_glass: Option<bool>,
    /// Events after this sequence number (the `next_cursor` of the previous page).
    pub cursor: Option<i64>,
    /// 1–1000, default 100.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    #[serde(flatten)]
    pub event: AuditRow,
    /// For break-glass events: the auditor's review, once made.
    pub review: Option<ReviewRow>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEvent>,
    pub next_cursor: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    pub comment: String,
}

/// Query the audit log (auditor).
#[utoipa::path(get, path = "/v1/audit-events", tag = "audit", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = AuditPage), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_events(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    access::check(&caller, Resource::Audit, Action::Read)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("/query/limit", "must be between 1 and 1000"));
    }
    let filter =
        AuditFilter { patient_id: query.patient_id.clone(), break_glass: query.break_glass, after_seq: query.cursor };
    let event = Event::new(&caller, &req, "audit.read");
    let items = db::run(&state.pool, move |conn| {
        audit::read(conn, event, |conn, _| {
            let rows = AuditRow::list(conn, &filter, limit)?;
            let seqs: Vec<i64> = rows.iter().filter(|r| r.break_glass).map(|r| r.seq).collect();
            let mut reviews = ReviewRow::for_events(conn, &seqs)?;
            Ok(rows
                .into_iter()
                .map(|event| {
                    let review = reviews.iter().position(|r| r.event_seq == event.seq).map(|i| reviews.swap_remove(i));
                    AuditEvent { event, review }
                })
                .collect::<Vec<_>>())
        })
    })
    .await?;
    let full = usize::try_from(limit).is_ok_and(|l| items.len() == l);
    let next_cursor = if full { items.last().map(|e| e.event.seq) } else { None };
    Ok(HttpResponse::Ok().json(AuditPage { items, next_cursor }))
}

/// Mark a break-glass access reviewed, with a comment (auditor).
#[utoipa::path(post, path = "/v1/audit-events/{seq}/review", tag = "audit", request_body = ReviewInput,
    security(("bearer" = [])),
    responses((status = 200, body = ReviewRow), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn review_event(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    seq: web::Path<i64>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> Result<HttpResponse, ApiError> {
    access::check(&caller, Resource::Audit, Action::Write)?;
    let mut errors = Errors::default();
    errors.text("/comment", &input.comment, 2000);
    errors.finish()?;
    let seq = seq.into_inner();
    let event = Event::new(&caller, &req, "audit.review").resource("audit_event", &seq.to_string());
    let review = db::run(&state.pool, move |conn| {
        audit::write(conn, event, 200, |tx, ev| {
            let target = AuditRow::find(tx, seq)?.ok_or_else(|| ApiError::NotFound("no such audit event".into()))?;
            if !target.break_glass {
                return Err(ApiError::field("/seq", "only break-glass accesses are reviewed"));
            }
            ev.patient_id = target.patient_id.clone();
            if !ReviewRow::for_events(tx, &[seq])?.is_empty() {
                return Err(ApiError::Conflict("this access was already reviewed".into()));
            }
            let review = ReviewRow {
                event_seq: seq,
                reviewer_sub: caller.sub.clone(),
                reviewer_org: caller.org.clone(),
                comment: input.comment,
                reviewed_at: clock::now(),
            };
            review.insert(tx)?;
            Ok(review)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(review))
}

/// Recompute the hash chain and report whether it holds (auditor).
#[utoipa::path(get, path = "/v1/audit-events/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = Verification), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn verify(state: web::Data<AppState>, caller: Caller, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    access::check(&caller, Resource::Audit, Action::Read)?;
    let event = Event::new(&caller, &req, "audit.verify");
    let result = db::run(&state.pool, move |conn| {
        let result = audit::verify(conn)?;
        write_tx(conn, |tx| audit::append(tx, &event, "allowed", 200))?;
        Ok(result)
    })
    .await?;
    Ok(HttpResponse::Ok().json(result))
}
