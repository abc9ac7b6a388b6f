//! Server-side console sessions (issue 30). The cookie carries a random 256-bit id; the row
//! (`db::console_sessions`) holds its SHA-256 and the `Caller` it acts as, the same caller a
//! bearer token with those claims makes, so the access rule, limits and audit downstream do not
//! know which it was. A session ends at sign-out, when revoked (by the person or their admin),
//! when the person's password or factor is reset, after `--console-idle-secs` without a request,
//! and `--console-absolute-secs` after it started, whichever comes first.
//!
//! Starting and ending are writes through the committer with their audit events. The idle clock
//! (`last_seen_at`) is moved at most once a [`TOUCH_SECS`] by one short `UPDATE` on a pooled
//! connection: bookkeeping, like a webhook lease, not part of the record (docs/architecture.md),
//! so a session may end up to that much before its idle limit, never after.

use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::Event;
use crate::auth::{CachedSession, Caller};
use crate::context::Context;
use crate::db::accounts::AccountRow;
use crate::db::console_sessions::SessionRow;
use crate::domain::accounts::{random_token, rfc3339, sha256_hex};
use crate::error::ApiError;
use crate::state::AppState;

/// The idle clock is written at most this often (seconds).
pub const TOUCH_SECS: i64 = 60;

/// How a person signed in to the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// An account's password and TOTP code.
    Password,
    /// An account's password and a recovery code.
    RecoveryCode,
    /// A pasted bearer token (`--console-token-sign-in`, `serve --demo`).
    Token,
    /// The region's OpenID Connect provider.
    Oidc,
}

impl How {
    /// The word kept in the session row and shown in listings.
    pub fn as_str(self) -> &'static str {
        match self {
            How::Password => "password+totp",
            How::RecoveryCode => "password+recovery_code",
            How::Token => "token",
            How::Oidc => "oidc",
        }
    }
}

/// A session as listed (never its cookie id).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionView {
    /// The session's public id: revoke it with `DELETE /v1/sessions/{id}`.
    pub id: String,
    /// `password+totp`, `password+recovery_code`, `token` or `oidc`.
    pub how: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it was last used (to within a minute).
    pub last_seen_at: String,
    /// When it ends at the latest (the absolute time-out).
    pub expires_at: String,
}

/// Sessions of one person.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionList {
    /// Newest first.
    pub items: Vec<SessionView>,
}

/// A new session row for `caller`, and the cookie id that opens it (kept nowhere else).
pub fn new_row(
    caller: &Caller,
    how: How,
    account_id: Option<String>,
    now: i64,
    ends_at: i64,
) -> Result<(String, SessionRow), ApiError> {
    let cookie_id = random_token(32)?;
    let row = SessionRow {
        id_hash: sha256_hex(&cookie_id),
        public_id: uuid::Uuid::new_v4().to_string(),
        account_id,
        organization_id: caller.org.clone(),
        sub: caller.sub.clone(),
        role: caller.role.as_str().to_owned(),
        how: how.as_str().to_owned(),
        created_at: now,
        last_seen_at: now,
        expires_at: ends_at,
        ended_at: None,
    };
    Ok((cookie_id, row))
}

/// Starts a session for a caller someone else authenticated (a token, the OpenID provider),
/// ending at the absolute time-out or at `ends_by`, whichever is first. Audited
/// (`session.start`). Answers the cookie id.
pub async fn start(state: &Arc<AppState>, ctx: Context, how: How, ends_by: Option<i64>) -> Result<String, ApiError> {
    let now = state.clock.now().unix_timestamp();
    let absolute = now.saturating_add(i64::try_from(state.settings.sessions.console_absolute_secs).unwrap_or(0));
    let ends = ends_by.map_or(absolute, |t| t.min(absolute));
    let (cookie_id, row) = new_row(&ctx.caller, how, None, now, ends)?;
    let event = Event::new(&ctx, "session.start").resource("session", &row.public_id);
    super::write(state, event, 200, move |tx, _, _| Ok(row.insert(tx)?)).await?;
    Ok(cookie_id)
}

/// The caller of the session `cookie_id` opens, if it is open: not ended, not past its absolute
/// time-out, not idle too long. Read through the second-long cache (`auth::session_cache`).
pub async fn resolve(state: &Arc<AppState>, cookie_id: &str) -> Result<Option<Caller>, ApiError> {
    let hash = sha256_hex(cookie_id);
    let now_at = state.clock.now();
    let now = now_at.unix_timestamp();
    let now_ms = i64::try_from(now_at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    let mut session = match state.console_sessions.fresh(&hash, now_ms) {
        Some(hit) => hit,
        None => {
            let key = hash.clone();
            let row = crate::db::run(&state.pool, move |conn| Ok(SessionRow::find(conn, &key)?)).await?;
            let Some(row) = row.filter(|r| r.ended_at.is_none()) else {
                state.console_sessions.forget(&hash);
                return Ok(None);
            };
            let Ok(role) = row.role.parse() else { return Ok(None) };
            let caller = Caller { sub: row.sub, org: row.organization_id, role, purpose: None };
            let cached = CachedSession {
                caller,
                public_id: row.public_id,
                last_seen_at: row.last_seen_at,
                expires_at: row.expires_at,
                read_at_ms: now_ms,
            };
            state.console_sessions.put(hash.clone(), cached.clone());
            cached
        }
    };
    let idle = i64::try_from(state.settings.sessions.console_idle_secs).unwrap_or(i64::MAX);
    if now >= session.expires_at || (idle > 0 && now - session.last_seen_at > idle) {
        return Ok(None);
    }
    if now - session.last_seen_at >= TOUCH_SECS {
        let key = hash.clone();
        crate::db::run(&state.pool, move |conn| Ok(SessionRow::touch(conn, &key, now)?)).await?;
        session.last_seen_at = now;
        state.console_sessions.put(hash, session.clone());
    }
    Ok(Some(session.caller))
}

/// Sign-out: the session ends at once, here and (within a second) on every instance. Audited
/// (`session.end`).
pub async fn end(state: &Arc<AppState>, ctx: Context, cookie_id: &str) -> Result<(), ApiError> {
    let hash = sha256_hex(cookie_id);
    let event = Event::new(&ctx, "session.end");
    let key = hash.clone();
    super::write(state, event, 303, move |tx, st, _| Ok(SessionRow::end(tx, &key, st.clock.now().unix_timestamp())?))
        .await?;
    state.console_sessions.forget(&hash);
    Ok(())
}

fn views(rows: Vec<SessionRow>, idle: i64, now: i64) -> SessionList {
    let items = rows
        .into_iter()
        .filter(|r| idle == 0 || now - r.last_seen_at <= idle)
        .map(|r| SessionView {
            id: r.public_id,
            how: r.how,
            started_at: rfc3339(r.created_at),
            last_seen_at: rfc3339(r.last_seen_at),
            expires_at: rfc3339(r.expires_at),
        })
        .collect();
    SessionList { items }
}

/// The caller's own open console sessions. Audited (`session.list`).
pub async fn list_mine(state: &Arc<AppState>, ctx: Context) -> Result<SessionList, ApiError> {
    let event = Event::new(&ctx, "session.list");
    super::read(state, event, move |conn, st, _| {
        let now = st.clock.now().unix_timestamp();
        let rows = SessionRow::open_of(conn, &ctx.caller.org, &ctx.caller.sub, now)?;
        Ok(views(rows, idle_of(st), now))
    })
    .await
}

/// An account's open console sessions, for its organisation's admin. Audited (`session.list`).
pub async fn list_of_account(state: &Arc<AppState>, ctx: Context, account: String) -> Result<SessionList, ApiError> {
    let event = Event::new(&ctx, "session.list").resource("account", &account);
    super::read(state, event, move |conn, st, _| {
        let row = AccountRow::find(conn, &account)?.ok_or_else(|| ApiError::NotFound("no such account".into()))?;
        crate::domain::accounts::may_manage(&ctx.caller, st, &row.organization_id)
            .map_err(|_| ApiError::NotFound("no such account".into()))?;
        let now = st.clock.now().unix_timestamp();
        Ok(views(SessionRow::open_of(conn, &row.organization_id, &row.sub, now)?, idle_of(st), now))
    })
    .await
}

/// Ends one session: the caller's own, or one of their organisation's people if they are its
/// admin. Anyone else's is "not found". Audited (`session.revoke`).
pub async fn revoke(state: &Arc<AppState>, ctx: Context, public_id: String) -> Result<(), ApiError> {
    let event = Event::new(&ctx, "session.revoke").resource("session", &public_id);
    let id = public_id.clone();
    super::write(state, event, 204, move |tx, st, _| {
        let missing = || ApiError::NotFound("no such session".into());
        let row = SessionRow::by_public_id(tx, &id)?.ok_or_else(missing)?;
        let own = row.organization_id == ctx.caller.org && row.sub == ctx.caller.sub;
        if !own {
            crate::domain::accounts::may_manage(&ctx.caller, st, &row.organization_id).map_err(|_| missing())?;
        }
        SessionRow::end(tx, &row.id_hash, st.clock.now().unix_timestamp())?;
        Ok(())
    })
    .await?;
    state.console_sessions.forget_public(&public_id);
    Ok(())
}

fn idle_of(st: &AppState) -> i64 {
    i64::try_from(st.settings.sessions.console_idle_secs).unwrap_or(i64::MAX)
}
