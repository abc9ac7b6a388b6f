//! Console accounts (issue 30): an organisation's admin invites a person (a one-time code that
//! expires), who sets a password and enrols a TOTP authenticator (`enrol`), then signs in with
//! both (`sign_in`). An admin may reset the second factor: every session of the person ends and
//! a new code lets them enrol again; they are told at their next sign-in. Codes, passwords and
//! secrets are kept only as hashes or wrapped by the master keyring, and every step is audited.

mod enrol;
mod sign_in;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{self, DirectoryWrite};
use crate::audit::Event;
use crate::auth::{Caller, Role};
use crate::context::Context;
use crate::db::accounts::AccountRow;
use crate::db::console_sessions::SessionRow;
use crate::db::directory::PractitionerRow;
use crate::domain::fields::Errors;
use crate::error::ApiError;
use crate::state::AppState;

pub use enrol::{Enrolled, PendingFactor, accept_invite, confirm_factor};
pub use sign_in::{SignInInput, SignedIn, sign_in};

/// Whom to invite.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteInput {
    /// The name the person will type at sign-in: 3–128 characters, no spaces, unique in the region.
    #[schema(example = "sato.nurse")]
    pub login: String,
    /// The role the person acts in.
    pub role: Role,
    /// The organisation the person acts for (the admin's own, unless the operator's admin).
    #[schema(example = "3f1c2d4e-0000-4000-8000-000000000001")]
    pub organization: String,
    /// The practitioner in the directory (of that organisation) the account is for; required
    /// for every role but `admin`, `auditor` and `analyst`, whose `sub` is then the account id.
    #[serde(default)]
    pub practitioner_id: Option<String>,
}

/// An invitation: give `invite_code` (or the page at `invite_path`) to the person, once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Invited {
    /// The account's id.
    pub id: String,
    /// The login the person will sign in with.
    pub login: String,
    /// The one-time code; shown only here, kept only as a hash.
    pub invite_code: String,
    /// The console page that takes the code.
    pub invite_path: String,
    /// When the code stops working (RFC 3339).
    pub expires_at: String,
}

/// An account as its admin sees it (never a hash or a secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountView {
    /// The account's id.
    pub id: String,
    /// The login name.
    pub login: String,
    /// The organisation the person acts for.
    pub organization: String,
    /// The `sub` its sessions act as.
    pub sub: String,
    /// The role the person acts in.
    pub role: Role,
    /// `invited` (no password or factor yet), `active`, or `reset` (waiting for a new factor).
    pub status: String,
    /// Failed sign-ins since the last success.
    pub failures: i32,
    /// Until when sign-in is refused after repeated failures (RFC 3339), if it is.
    pub locked_until: Option<String>,
}

/// Accounts of one organisation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccountList {
    /// The accounts, by login.
    pub items: Vec<AccountView>,
}

impl InviteInput {
    fn check(&self) -> Result<(), ApiError> {
        let mut errors = Errors::default();
        let chars = self.login.chars().count();
        if !(3..=128).contains(&chars) || self.login.chars().any(|c| c.is_whitespace() || c.is_control()) {
            errors.add("/login", "must be 3 to 128 characters without spaces");
        }
        errors.text("/organization", &self.organization, 256);
        let needs_practitioner = !matches!(self.role, Role::Admin | Role::Auditor | Role::Analyst);
        match &self.practitioner_id {
            None if needs_practitioner => errors.add("/practitioner_id", "required for this role"),
            Some(id) => errors.text("/practitioner_id", id, 256),
            None => {}
        }
        errors.finish()
    }
}

/// Only an admin of the organisation (or the operator's) manages its accounts.
pub(crate) fn may_manage(caller: &Caller, st: &AppState, org: &str) -> Result<(), ApiError> {
    if caller.role != Role::Admin {
        return Err(ApiError::Forbidden("only an administrator manages accounts".into()));
    }
    access::may_write_directory(caller, &st.settings.operator_org, DirectoryWrite::ReplaceOrganization { id: org })?;
    Ok(())
}

/// Invites a person: creates the account with a one-time code (its hash kept), valid for
/// `--invite-ttl-hours`. Audited (`account.invite`), refusals too.
pub async fn invite(state: &Arc<AppState>, ctx: Context, input: InviteInput) -> Result<Invited, ApiError> {
    let code = random_token(32)?;
    let id = uuid::Uuid::new_v4().to_string();
    let now = state.clock.now().unix_timestamp();
    let expires = now + invite_ttl(state);
    let event = Event::new(&ctx, "account.invite").resource("account", &id);
    let code_hash = sha256_hex(&code);
    let row = super::write(state, event, 201, move |tx, st, _| {
        input.check()?;
        may_manage(&ctx.caller, st, &input.organization)?;
        let sub = match &input.practitioner_id {
            Some(pid) => {
                let known = PractitionerRow::find(tx, pid)?.is_some_and(|p| p.organization_id == input.organization);
                if !known {
                    return Err(ApiError::field("/practitioner_id", "no such practitioner in this organisation"));
                }
                pid.clone()
            }
            None => id.clone(),
        };
        if AccountRow::taken(tx, &input.organization, &sub, &input.login)? {
            return Err(ApiError::Conflict("an account with this login, or for this person, exists".into()));
        }
        let row = AccountRow {
            id: id.clone(),
            login: input.login.clone(),
            organization_id: input.organization.clone(),
            sub,
            role: input.role.as_str().to_owned(),
            password_hash: None,
            totp_secret: None,
            totp_kid: None,
            totp_enrolled: false,
            totp_last_step: 0,
            invite_hash: Some(code_hash.clone()),
            invite_expires_at: Some(expires),
            failures: 0,
            locked_until: 0,
            factor_reset_at: None,
            created_at: now,
            created_by: ctx.caller.sub.clone(),
        };
        row.insert(tx)?;
        Ok(row)
    })
    .await?;
    Ok(Invited {
        id: row.id,
        login: row.login,
        invite_path: format!("/console/invite?code={code}"),
        invite_code: code,
        expires_at: rfc3339(expires),
    })
}

/// The organisation's accounts, for its admin. Audited (`account.list`).
pub async fn list(state: &Arc<AppState>, ctx: Context, org: String) -> Result<AccountList, ApiError> {
    let event = Event::new(&ctx, "account.list").resource("organization", &org);
    super::read(state, event, move |conn, st, _| {
        may_manage(&ctx.caller, st, &org)?;
        let now = st.clock.now().unix_timestamp();
        let items = AccountRow::of_organization(conn, &org)?.into_iter().map(|a| view(&a, now)).collect();
        Ok(AccountList { items })
    })
    .await
}

/// A new code for a second-factor reset: show it to the person, once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResetDone {
    /// The one-time code with which the person sets a password and enrols a new authenticator.
    pub invite_code: String,
    /// The console page that takes the code.
    pub invite_path: String,
    /// When the code stops working (RFC 3339).
    pub expires_at: String,
    /// Console sessions of the person that this ended.
    pub sessions_ended: usize,
}

/// Resets the person's second factor (and so their password, chosen anew with the factor):
/// the authenticator and recovery codes stop working, every console session of the person ends,
/// and a new one-time code lets them enrol again. They are told at their next sign-in.
/// Audited (`account.reset_factor`).
pub async fn reset_factor(state: &Arc<AppState>, ctx: Context, account: String) -> Result<ResetDone, ApiError> {
    let code = random_token(32)?;
    let now = state.clock.now().unix_timestamp();
    let expires = now + invite_ttl(state);
    let event = Event::new(&ctx, "account.reset_factor").resource("account", &account);
    let code_hash = sha256_hex(&code);
    let (row, ended) = super::write(state, event, 200, move |tx, st, _| {
        let mut row = AccountRow::find(tx, &account)?.ok_or_else(|| ApiError::NotFound("no such account".into()))?;
        may_manage(&ctx.caller, st, &row.organization_id).map_err(|_| ApiError::NotFound("no such account".into()))?;
        row.password_hash = None;
        row.totp_secret = None;
        row.totp_kid = None;
        row.totp_enrolled = false;
        row.invite_hash = Some(code_hash.clone());
        row.invite_expires_at = Some(expires);
        row.failures = 0;
        row.locked_until = 0;
        row.factor_reset_at = Some(now);
        row.save(tx)?;
        crate::db::accounts::RecoveryCodes::replace(tx, &row.id, &[])?;
        let ended = SessionRow::end_all_of(tx, &row.organization_id, &row.sub, now)?;
        Ok((row, ended))
    })
    .await?;
    state.console_sessions.forget_user(&row.organization_id, &row.sub);
    Ok(ResetDone {
        invite_path: format!("/console/invite?code={code}"),
        invite_code: code,
        expires_at: rfc3339(expires),
        sessions_ended: ended,
    })
}

fn view(a: &AccountRow, now: i64) -> AccountView {
    let status = match (a.totp_enrolled, a.factor_reset_at.is_some() && a.invite_hash.is_some()) {
        (true, _) => "active",
        (false, true) => "reset",
        (false, false) => "invited",
    };
    AccountView {
        id: a.id.clone(),
        login: a.login.clone(),
        organization: a.organization_id.clone(),
        sub: a.sub.clone(),
        role: a.role.parse().unwrap_or(Role::CareWorker),
        status: status.to_owned(),
        failures: a.failures,
        locked_until: (a.locked_until > now).then(|| rfc3339(a.locked_until)),
    }
}

/// The caller an account's sessions act as: the same `Caller` a token with these claims makes.
pub(crate) fn caller_of(a: &AccountRow) -> Result<Caller, ApiError> {
    let role = a.role.parse().map_err(ApiError::internal)?;
    Ok(Caller { sub: a.sub.clone(), org: a.organization_id.clone(), role, purpose: None })
}

fn invite_ttl(state: &AppState) -> i64 {
    i64::try_from(state.settings.sessions.invite_ttl_hours.saturating_mul(3600)).unwrap_or(i64::MAX / 2)
}

/// `bytes` random bytes from the system's generator, as base64url text.
pub(crate) fn random_token(bytes: usize) -> Result<String, ApiError> {
    use base64::Engine;
    use ring::rand::SecureRandom;
    let mut raw = vec![0u8; bytes];
    ring::rand::SystemRandom::new().fill(&mut raw).map_err(|_| ApiError::internal("no randomness"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

/// Hex SHA-256: how codes, session ids and recovery codes are kept (all carry ≥ 80 random bits,
/// so a fast hash suffices; passwords, chosen by people, get Argon2id instead).
pub(crate) fn sha256_hex(text: &str) -> String {
    crate::crypto::keyfile::hex(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()).as_ref())
}

pub(crate) fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix).map(crate::clock::format).unwrap_or_default()
}

/// An event with no signed-in actor behind it (a failed sign-in, a refused invite code).
pub(crate) fn anonymous_event(action: &'static str, request_id: &str) -> Event {
    let mut event = Event::system(action);
    event.actor_sub = "anonymous".into();
    event.actor_org = "-".into();
    event.actor_role = "anonymous".into();
    event.purpose = "sign-in".into();
    event.request_id = request_id.to_owned();
    event
}

/// An event acted by the account's person (enrolment, sign-in).
pub(crate) fn account_event(action: &'static str, a: &AccountRow, request_id: &str) -> Event {
    let mut event = anonymous_event(action, request_id).resource("account", &a.id);
    event.actor_sub = a.sub.clone();
    event.actor_org = a.organization_id.clone();
    event.actor_role = a.role.clone();
    event
}
