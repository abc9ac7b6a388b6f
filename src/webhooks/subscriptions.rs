//! Subscriptions as a resource: registered by an integration client (a caller whose role may
//! read documents), acting as that caller's own role; listed, read, deleted, enabled again and
//! replayed by its creator or its organisation's admin; each call one audited transaction.
//! Anyone else's subscription answers 404, like a missing one: a subscription is hidden, not
//! forbidden, from those who may not manage it (docs/webhooks.md, "Who may manage").

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::sign;
use super::ssrf::{self, Policy};
use crate::access::{self, Action, Resource};
use crate::audit::Event;
use crate::auth::{Caller, Role};
use crate::context::Context;
use crate::db::DbConn;
use crate::db::changes;
use crate::db::subscriptions::{ACTIVE, SubscriptionRow};
use crate::domain::{self, fields::Errors};
use crate::error::ApiError;
use crate::state::AppState;

/// A document change a subscription may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// A document was created.
    Created,
    /// A new version was written.
    Updated,
    /// The document was deleted.
    Deleted,
}

/// A subscription to register.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionInput {
    /// Where to POST: `https://` (plain `http://` only to loopback, where the server allows it),
    /// at most 2000 characters, no user name or password.
    #[schema(max_length = 2000, example = "https://ehr.example.com/carepath/hooks")]
    pub url: String,
    /// The role whose access the changes are filtered by: the caller's own role (the default),
    /// which must be one that may read documents. Naming another role is refused: an admin, who
    /// may not read documents, cannot register a subscription that reads as a clinician.
    pub role: Option<Role>,
    /// The purpose of use the patient's consent must cover (default `treatment`).
    #[schema(pattern = r"^[a-z0-9_]{1,50}$", example = "treatment")]
    pub purpose: Option<String>,
    /// Document types wanted; empty or absent: every type.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub types: Vec<String>,
    /// Changes wanted; empty or absent: all of them.
    #[serde(default)]
    pub events: Vec<Op>,
}

/// A subscription and where its delivery stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct Subscription {
    /// The subscription id (a UUID).
    pub id: String,
    /// The organisation it delivers to.
    pub organization: String,
    /// The receiver's URL.
    pub url: String,
    /// The role whose access filters the changes.
    pub role: Role,
    /// The purpose of use the consent must cover.
    pub purpose: String,
    /// Document types wanted; empty: every type.
    pub types: Vec<String>,
    /// Changes wanted; empty: all.
    pub events: Vec<Op>,
    /// `active` (delivering) or `failing` (retries ran out: enable it to resume).
    #[schema(example = "active")]
    pub status: String,
    /// Every change up to this sequence number was delivered or was not for this subscription.
    pub delivered_seq: i64,
    /// Failed attempts since the last delivery.
    pub attempts: i32,
    /// When the current run of failures began.
    pub failing_since: Option<String>,
    /// When the next attempt is due.
    pub next_attempt_at: String,
    /// Why the last failed attempt failed.
    pub last_error: Option<String>,
    /// When it failed.
    pub last_error_at: Option<String>,
    /// When the last delivery succeeded.
    pub last_delivered_at: Option<String>,
    /// Who registered it (token `sub`).
    pub created_by: String,
    /// RFC 3339 in UTC.
    pub created_at: String,
    /// RFC 3339 in UTC.
    pub updated_at: String,
    /// The signing secret (`whsec_...`): only in the answer that registers the subscription,
    /// never again. carepath keeps it wrapped by its master key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// An organisation's subscriptions, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionList {
    /// The subscriptions.
    pub items: Vec<Subscription>,
}

/// Where to replay from.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayInput {
    /// Deliver again every change after this sequence number: from 0 up to `delivered_seq`.
    #[schema(minimum = 0)]
    pub since: i64,
}

fn is_word(s: &str) -> bool {
    !s.is_empty() && s.len() <= 50 && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Subscriptions are managed by an organisation's admin or by callers who may read documents
/// (an integration client); anyone else gets 403.
fn may_manage(caller: &Caller) -> Result<(), ApiError> {
    if caller.role == Role::Admin || access::role_allows(caller.role, Resource::Document, Action::Read) {
        Ok(())
    } else {
        Err(access::Denial::Role.into())
    }
}

fn list_text<T: Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(ApiError::internal)
}

impl SubscriptionInput {
    /// The role the subscription filters by, and every field checked.
    fn check(&self, state: &AppState, caller: &Caller) -> Result<Role, ApiError> {
        let mut errors = Errors::default();
        if let Err(reason) = ssrf::check_url(&self.url, Policy::from(&state.settings.webhooks)) {
            errors.add("/url", reason);
        }
        // A subscription reads as its creator would: there is no delegation of a role, so the
        // only role a caller may give it is the one it holds.
        let role = caller.role;
        match self.role {
            Some(r) if r != role => {
                errors.add("/role", format!("a subscription acts only as its creator's own role ({role}), not {r}"));
            }
            _ if !access::role_allows(role, Resource::Document, Action::Read) => errors.add(
                "/role",
                format!("the role {role} may not read documents; a client with a role that may registers it"),
            ),
            _ => {}
        }
        if let Some(p) = &self.purpose
            && !is_word(p)
        {
            errors.add("/purpose", "must be a lowercase word like treatment or care_coordination");
        }
        if self.types.len() > 50 {
            errors.add("/types", "at most 50 types");
        }
        for (i, t) in self.types.iter().enumerate() {
            if !state.schemas.has_type(t) {
                errors.add(format!("/types/{i}"), format!("unknown document type {t}"));
            }
        }
        errors.finish()?;
        Ok(role)
    }
}

fn parse_list<T: serde::de::DeserializeOwned>(json: &str) -> Result<Vec<T>, ApiError> {
    serde_json::from_str(json).map_err(ApiError::internal)
}

fn render(row: SubscriptionRow, secret: Option<String>) -> Result<Subscription, ApiError> {
    Ok(Subscription {
        role: row.role.parse().map_err(ApiError::internal)?,
        types: parse_list(&row.doc_types)?,
        events: parse_list(&row.events)?,
        id: row.id,
        organization: row.organization_id,
        url: row.url,
        purpose: row.purpose,
        status: row.status,
        delivered_seq: row.delivered_seq,
        attempts: row.attempts,
        failing_since: row.failing_since,
        next_attempt_at: row.next_attempt_at,
        last_error: row.last_error,
        last_error_at: row.last_error_at,
        last_delivered_at: row.last_delivered_at,
        created_by: row.created_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
        secret,
    })
}

/// Whether `caller` may see and manage `row`: its creator, or its organisation's admin.
fn manages(caller: &Caller, row: &SubscriptionRow) -> bool {
    row.organization_id == caller.org && (caller.role == Role::Admin || row.created_by == caller.sub)
}

/// Subscription `id` if the caller manages it; 404 for a missing one and another's alike.
fn own(conn: &mut DbConn, caller: &Caller, id: &str) -> Result<SubscriptionRow, ApiError> {
    SubscriptionRow::find(conn, id)?
        .filter(|row| manages(caller, row))
        .ok_or_else(|| ApiError::NotFound("no such subscription".into()))
}

/// Registers a subscription; its secret is in this answer only. Delivery starts with the
/// changes committed after it.
pub async fn create(state: &Arc<AppState>, ctx: Context, input: SubscriptionInput) -> Result<Subscription, ApiError> {
    domain::write(state, Event::new(&ctx, "subscription.create"), 201, move |tx, st, ev| {
        may_manage(&ctx.caller)?;
        let role = input.check(st, &ctx.caller)?;
        let max = st.settings.webhooks.max_per_organization;
        if SubscriptionRow::count_for_organization(tx, &ctx.caller.org)? >= max {
            return Err(ApiError::Conflict(format!("an organisation may hold at most {max} subscriptions")));
        }
        let id = uuid::Uuid::new_v4().to_string();
        ev.resource_type = Some("subscription");
        ev.resource_id = Some(id.clone());
        let (mut key, wrapped) = st.fresh_keys()?.new_secret(&id).map_err(ApiError::internal)?;
        let secret = sign::display_secret(&key);
        key.fill(0);
        let mut events = input.events.clone();
        events.dedup();
        let now = st.clock.stamp();
        let row = SubscriptionRow {
            id,
            organization_id: ctx.caller.org.clone(),
            role: role.as_str().to_owned(),
            purpose: input.purpose.clone().unwrap_or_else(|| "treatment".into()),
            url: input.url.clone(),
            doc_types: list_text(&input.types)?,
            events: list_text(&events)?,
            secret: wrapped.blob,
            secret_kid: wrapped.kid,
            status: ACTIVE.into(),
            delivered_seq: changes::last_seq(tx)?,
            attempts: 0,
            failing_since: None,
            next_attempt_at: now.clone(),
            last_error: None,
            last_error_at: None,
            last_delivered_at: None,
            lease_owner: None,
            lease_until: None,
            created_by: ctx.caller.sub.clone(),
            created_at: now.clone(),
            updated_at: now,
        };
        row.insert(tx)?;
        render(row, Some(secret))
    })
    .await
}

/// The caller's organisation's subscriptions it manages: all of them for its admin, its own for
/// anyone else.
pub async fn list(state: &Arc<AppState>, ctx: Context) -> Result<SubscriptionList, ApiError> {
    domain::read(state, Event::new(&ctx, "subscription.list"), move |conn, _, _| {
        may_manage(&ctx.caller)?;
        let rows = SubscriptionRow::for_organization(conn, &ctx.caller.org)?;
        let items = rows.into_iter().filter(|r| manages(&ctx.caller, r)).map(|r| render(r, None));
        Ok(SubscriptionList { items: items.collect::<Result<_, _>>()? })
    })
    .await
}

/// One subscription with its delivery state.
pub async fn get(state: &Arc<AppState>, ctx: Context, id: String) -> Result<Subscription, ApiError> {
    let event = Event::new(&ctx, "subscription.read").resource("subscription", &id);
    domain::read(state, event, move |conn, _, _| {
        may_manage(&ctx.caller)?;
        render(own(conn, &ctx.caller, &id)?, None)
    })
    .await
}

/// Deletes a subscription; nothing more is delivered (a delivery in flight may still arrive).
pub async fn delete(state: &Arc<AppState>, ctx: Context, id: String) -> Result<(), ApiError> {
    let event = Event::new(&ctx, "subscription.delete").resource("subscription", &id);
    domain::write(state, event, 204, move |tx, _, _| {
        may_manage(&ctx.caller)?;
        own(tx, &ctx.caller, &id)?;
        SubscriptionRow::delete(tx, &id)?;
        Ok(())
    })
    .await
}

/// Makes a failing subscription active again; it resumes from where it stopped.
pub async fn enable(state: &Arc<AppState>, ctx: Context, id: String) -> Result<Subscription, ApiError> {
    let event = Event::new(&ctx, "subscription.enable").resource("subscription", &id);
    domain::write(state, event, 200, move |tx, st, _| {
        may_manage(&ctx.caller)?;
        own(tx, &ctx.caller, &id)?;
        SubscriptionRow::enable(tx, &id, &st.clock.stamp())?;
        render(own(tx, &ctx.caller, &id)?, None)
    })
    .await
}

/// Delivers again every change after `since` (still filtered by what the organisation may see
/// at the time of delivery).
pub async fn replay(
    state: &Arc<AppState>,
    ctx: Context,
    id: String,
    input: ReplayInput,
) -> Result<Subscription, ApiError> {
    let event = Event::new(&ctx, "subscription.replay").resource("subscription", &id);
    domain::write(state, event, 200, move |tx, st, _| {
        may_manage(&ctx.caller)?;
        let row = own(tx, &ctx.caller, &id)?;
        if input.since < 0 || input.since > row.delivered_seq {
            return Err(ApiError::field("/since", format!("must be from 0 to {}", row.delivered_seq)));
        }
        SubscriptionRow::rewind(tx, &id, input.since, &st.clock.stamp())?;
        render(own(tx, &ctx.caller, &id)?, None)
    })
    .await
}
