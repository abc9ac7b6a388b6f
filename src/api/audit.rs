//! The audit log for auditors: query events, review break-glass accesses, verify the chain.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::{self, Action, Resource};
use crate::api::json::ApiJson;
use crate::api::query::ApiQuery;
use crate::audit::{self, Event, Verification};
use crate::auth::Caller;
use crate::authorize::authorise;
use crate::clock;
use crate::context::Context;
use crate::db;
use crate::db::audit::{AuditFilter, AuditRow, ReviewRow};
use crate::db::directory::OrganizationRow;
use crate::domain;
use crate::domain::fields::Errors;
use crate::domain::paging::{Page, PageParams};
use crate::error::{ApiError, Problem};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only events about this patient.
    pub patient_id: Option<String>,
    /// Only events by this actor (`sub`).
    pub actor: Option<String>,
    /// Only events by members of this organisation.
    pub organization: Option<String>,
    /// Only this action, e.g. `document.read`.
    pub action: Option<String>,
    /// Events at or after this time (RFC 3339).
    pub from: Option<String>,
    /// Events before this time (RFC 3339).
    pub to: Option<String>,
    /// Only break-glass accesses (`true`), or none of them (`false`).
    pub break_glass: Option<bool>,
    /// Events after this sequence number (the `next_cursor` of the previous page).
    pub cursor: Option<i64>,
    /// 1–1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
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
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub comment: String,
}

/// Query the audit log (auditor).
#[utoipa::path(get, path = "/v1/audit-events", tag = "audit", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = AuditPage), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_events(
    state: web::Data<AppState>,
    ctx: Context,
    query: ApiQuery<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let caller = ctx.caller.clone();
    access::check(&caller, Resource::Audit, Action::Read)?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("/query/limit", "must be between 1 and 1000"));
    }
    let filter = AuditFilter {
        patient_id: query.patient_id.clone(),
        actor_sub: query.actor.clone(),
        actor_org: query.organization.clone(),
        action: query.action.clone(),
        from: query.from.as_deref().map(|t| instant("/query/from", t)).transpose()?,
        to: query.to.as_deref().map(|t| instant("/query/to", t)).transpose()?,
        break_glass: query.break_glass,
        after_seq: query.cursor,
        ..AuditFilter::default()
    };
    let event = Event::new(&ctx, "audit.read");
    let st = state.clone();
    let items = db::run(&state.pool, move |conn| {
        audit::read(conn, &st.recorder, event, |conn, _| {
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
    ctx: Context,
    seq: web::Path<i64>,
    ApiJson(input): ApiJson<ReviewInput>,
) -> Result<HttpResponse, ApiError> {
    let caller = ctx.caller.clone();
    access::check(&caller, Resource::Audit, Action::Write)?;
    let mut errors = Errors::default();
    errors.text("/comment", &input.comment, 2000);
    errors.finish()?;
    let seq = seq.into_inner();
    let event = Event::new(&ctx, "audit.review").resource("audit_event", &seq.to_string());
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

/// Recompute the hash chain, check every signed checkpoint, and name the first broken event
/// (auditor).
#[utoipa::path(get, path = "/v1/audit-events/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = Verification), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn verify(state: web::Data<AppState>, ctx: Context) -> Result<HttpResponse, ApiError> {
    access::check(&ctx.caller, Resource::Audit, Action::Read)?;
    let event = Event::new(&ctx, "audit.verify");
    let st = state.clone();
    let result = db::run(&state.pool, move |conn| {
        audit::read(conn, &st.recorder, event, |conn, _| audit::verify(conn, &st.audit_signer.public_key()))
    })
    .await?;
    Ok(HttpResponse::Ok().json(result))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SigningKey {
    pub algorithm: &'static str,
    pub key_id: String,
    /// Base64 of the raw 32-byte Ed25519 public key.
    pub public_key: String,
}

/// The public key that verifies audit checkpoints (anyone may have it).
#[utoipa::path(get, path = "/v1/audit-events/public-key", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = SigningKey)))]
pub async fn public_key(state: web::Data<AppState>, _caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(SigningKey {
        algorithm: "Ed25519",
        key_id: state.audit_signer.key_id.clone(),
        public_key: state.audit_signer.public_key_base64(),
    })
}

/// The whole log as NDJSON, events and signed checkpoints in sequence order (auditor). A fresh
/// checkpoint is signed first, so the export ends on a signature. `carepath audit verify
/// --export FILE --public-key KEY` checks it offline.
#[utoipa::path(get, path = "/v1/audit-events/export", tag = "audit", security(("bearer" = [])),
    responses((status = 200, description = "NDJSON lines `{kind: event|checkpoint, ...}`", content_type = "application/x-ndjson", body = String),
        (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn export(state: web::Data<AppState>, ctx: Context) -> Result<HttpResponse, ApiError> {
    access::check(&ctx.caller, Resource::Audit, Action::Read)?;
    let event = Event::new(&ctx, "audit.export");
    let st = state.clone();
    let body = db::run(&state.pool, move |conn| {
        // Recorded first, so that the export holds its own event under the closing signature.
        st.recorder.record(event, "allowed", 200)?;
        st.audit_signer.checkpoint(conn, 1, time::Duration::ZERO)?;
        audit::export(conn)
    })
    .await?;
    Ok(HttpResponse::Ok().content_type("application/x-ndjson").body(body))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessEntry {
    /// The audit event's sequence number.
    pub seq: i64,
    pub at: String,
    /// The organisation whose member opened the record.
    pub organization: String,
    /// Its name in the directory, when it has one.
    pub organization_name: Option<String>,
    pub profession: String,
    pub action: String,
    pub break_glass: bool,
}

/// Who (organisation, profession) opened this patient's record, and when, oldest first: for the
/// managing organisation and a patient portal. No clinical content, no individual names.
#[utoipa::path(get, path = "/v1/patients/{id}/access-log", tag = "audit", params(PageParams), security(("bearer" = [])),
    responses((status = 200, body = Page<AccessEntry>), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn access_log(
    state: web::Data<AppState>,
    ctx: Context,
    id: web::Path<String>,
    page: ApiQuery<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let caller = ctx.caller.clone();
    let limit = page.limit()?;
    let after = page
        .cursor
        .as_deref()
        .map(|c| c.parse::<i64>().map_err(|_| ApiError::field("/query/cursor", "not a cursor of this listing")))
        .transpose()?;
    let id = id.into_inner();
    let items =
        domain::read(&state, Event::new(&ctx, "access_log.read").resource("access_log", &id), move |conn, st, ev| {
            let patient = authorise(conn, st, &ctx.caller, &id, Resource::Patient, Action::Read, None, ev)?.patient;
            if caller.org != patient.managing_organization_id
                && !access::is_operator(&ctx.caller, &st.settings.operator_org)
            {
                return Err(ApiError::Forbidden("the access log is for the managing organisation".into()));
            }
            let filter = AuditFilter {
                patient_id: Some(patient.id),
                actions: Some(READS),
                outcome: Some("allowed"),
                after_seq: after,
                ..AuditFilter::default()
            };
            let mut names = std::collections::HashMap::new();
            let mut items = Vec::new();
            for row in AuditRow::list(conn, &filter, limit)? {
                if !names.contains_key(&row.actor_org) {
                    let name = OrganizationRow::find(conn, &row.actor_org)?.map(|o| o.name);
                    names.insert(row.actor_org.clone(), name);
                }
                items.push(AccessEntry {
                    seq: row.seq,
                    at: row.at,
                    organization_name: names.get(&row.actor_org).cloned().flatten(),
                    organization: row.actor_org,
                    profession: row.actor_role,
                    action: row.action,
                    break_glass: row.break_glass,
                });
            }
            Ok(items)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page::new(items, limit, |e: &AccessEntry| e.seq.to_string())))
}

/// The actions that open (part of) a patient's record.
const READS: &[&str] = &[
    "patient.read",
    "patient.search",
    "care_team.read",
    "document.read",
    "document.list",
    "document.history",
    "consent.list",
];

/// An RFC 3339 time as stored (UTC, fixed width), or a 422 naming the parameter.
fn instant(pointer: &str, text: &str) -> Result<String, ApiError> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(clock::format)
        .map_err(|_| ApiError::field(pointer, "must be an RFC 3339 date-time"))
}
