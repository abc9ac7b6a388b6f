//! Signing in with an account: login, password and a code (TOTP, or a recovery code). Every
//! failure gets the same answer, after the same work (Argon2id runs against a dummy hash when
//! there is no account, or it is locked), so neither the answer nor its time says whether the
//! account exists. After [`FREE_FAILURES`] failures in a row the account is locked, for
//! [`BASE_LOCK_SECS`] doubling with each further failure up to [`MAX_LOCK_SECS`]; while locked
//! no password is even tried. Failures, lock-outs and sign-ins are audited, and a success starts
//! the console session in the same transaction.

use std::sync::Arc;

use super::enrol::{is_recovery_code, normalise_recovery, secret_of};
use super::{account_event, anonymous_event, caller_of, sha256_hex};
use crate::audit;
use crate::auth::{Caller, password, totp};
use crate::db::accounts::{AccountRow, RecoveryCodes};
use crate::domain::console_sessions::{self, How};
use crate::error::ApiError;
use crate::state::AppState;

/// Failures in a row before the first lock-out.
pub const FREE_FAILURES: i32 = 5;
/// The first lock-out's length; each further failure doubles it.
pub const BASE_LOCK_SECS: i64 = 30;
/// The longest lock-out.
pub const MAX_LOCK_SECS: i64 = 3600;

/// The one answer to every failed sign-in.
pub const FAILED: &str = "sign-in failed: the login, password or code is wrong, or the account is locked for a while after repeated failures";

/// What the sign-in form sent.
#[derive(Debug, Clone)]
pub struct SignInInput {
    /// The login name as typed.
    pub login: String,
    /// The password as typed (never kept).
    pub password: String,
    /// A 6-digit TOTP code or a recovery code.
    pub code: String,
}

/// A signed-in person: the session's cookie id, the caller it acts as, and what to tell them.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The new session's cookie id (kept only as a hash).
    pub cookie_id: String,
    /// The caller the session acts as.
    pub caller: Caller,
    /// When an admin reset their second factor, if not yet told.
    pub factor_reset_at: Option<i64>,
    /// Recovery codes left, when one was just used.
    pub recovery_codes_left: Option<i64>,
}

/// How a second factor is to be checked, decided before the transaction.
#[derive(Clone)]
enum Second {
    Totp(u64),
    Recovery(String),
    Wrong,
}

/// Seconds of the lock-out after the `failures`-th failure in a row (0: none yet).
pub fn lock_secs(failures: i32) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let doublings = u32::try_from(failures - FREE_FAILURES).unwrap_or(0).min(20);
    BASE_LOCK_SECS.saturating_mul(1 << doublings).min(MAX_LOCK_SECS)
}

/// Checks the login, password and code; on success starts a console session. Every failure
/// answers 401 with [`FAILED`].
pub async fn sign_in(state: &Arc<AppState>, input: SignInInput, request_id: &str) -> Result<SignedIn, ApiError> {
    let login = input.login.trim().to_owned();
    let now = state.clock.now().unix_timestamp();
    let found = if login.is_empty() || login.len() > 512 {
        None
    } else {
        let name = login.clone();
        crate::db::run(&state.pool, move |conn| Ok(AccountRow::by_login(conn, &name)?)).await?
    };
    let usable = found.as_ref().filter(|a| a.totp_enrolled && a.locked_until <= now);
    let stored = usable.and_then(|a| a.password_hash.clone());
    let pw = input.password.chars().take(password::MAX_LEN + 1).collect::<String>();
    let password_ok = tokio::task::spawn_blocking(move || password::verify(&pw, stored.as_deref()))
        .await
        .map_err(ApiError::internal)?;
    let second = match usable {
        Some(a) if password_ok => second_factor(state, a, &input.code, now)?,
        _ => Second::Wrong,
    };
    let Some(account) = found else {
        let mut event = anonymous_event("account.sign_in_failed", request_id);
        event.basis = Some(r#"{"reason":"unknown_login"}"#.into());
        state.committer.record(event, "denied", 401).await?;
        return Err(ApiError::Unauthorized(FAILED.into()));
    };
    let reason = match (&second, account.locked_until > now, account.totp_enrolled, password_ok) {
        (_, true, _, _) => "locked",
        (_, _, false, _) => "not_enrolled",
        (_, _, _, false) => "wrong_password",
        (Second::Wrong, ..) => "wrong_code",
        _ => "",
    };
    let absolute = i64::try_from(state.settings.sessions.console_absolute_secs).unwrap_or(i64::MAX / 2);
    let (id, rid) = (account.id.clone(), request_id.to_owned());
    let outcome = state
        .committer
        .run(move |tx| {
            let mut row = AccountRow::find(tx, &id)?.ok_or_else(|| ApiError::internal("account vanished"))?;
            // Decided again in the transaction: two sign-ins with one code race here, and the
            // committer runs them one after the other.
            let passed = match (&second, reason) {
                (Second::Totp(step), "") => i64::try_from(*step).is_ok_and(|s| s > row.totp_last_step),
                (Second::Recovery(hash), "") => RecoveryCodes::spend(tx, &row.id, hash, now)?,
                _ => false,
            };
            if !passed {
                return fail(tx, &mut row, if reason.is_empty() { "replayed_or_used_code" } else { reason }, now, &rid);
            }
            let how = match &second {
                Second::Totp(step) => {
                    row.totp_last_step = i64::try_from(*step).unwrap_or(i64::MAX);
                    How::Password
                }
                _ => How::RecoveryCode,
            };
            let told = row.factor_reset_at.take();
            row.failures = 0;
            row.locked_until = 0;
            row.save(tx)?;
            let caller = caller_of(&row)?;
            let (cookie_id, session) =
                console_sessions::new_row(&caller, how, Some(row.id.clone()), now, now.saturating_add(absolute))?;
            session.insert(tx)?;
            let mut signed = account_event("account.sign_in", &row, &rid);
            signed.basis = Some(format!(r#"{{"how":"{}"}}"#, how.as_str()));
            audit::append(tx, &signed, "success", 200)?;
            let started = account_event("session.start", &row, &rid).resource("session", &session.public_id);
            audit::append(tx, &started, "success", 200)?;
            let left = match how {
                How::RecoveryCode => Some(RecoveryCodes::left(tx, &row.id)?),
                _ => None,
            };
            Ok(Some(SignedIn { cookie_id, caller, factor_reset_at: told, recovery_codes_left: left }))
        })
        .await?;
    outcome.ok_or_else(|| ApiError::Unauthorized(FAILED.into()))
}

/// Decides how the code is to be checked: a TOTP code against the secret (its step; replays
/// are refused in the transaction), a recovery code by its hash.
fn second_factor(state: &AppState, account: &AccountRow, code: &str, now: i64) -> Result<Second, ApiError> {
    if is_recovery_code(code) {
        return Ok(Second::Recovery(sha256_hex(&normalise_recovery(code))));
    }
    let Some(secret) = secret_of(state, account)? else { return Ok(Second::Wrong) };
    Ok(totp::check(&secret, code, u64::try_from(now).unwrap_or(0)).map_or(Second::Wrong, Second::Totp))
}

/// Counts a failure (not while locked: waiting out the lock is the back-off) and audits it,
/// with the lock-out it causes.
fn fail(
    tx: &mut crate::db::DbConn,
    row: &mut AccountRow,
    reason: &str,
    now: i64,
    request_id: &str,
) -> Result<Option<SignedIn>, ApiError> {
    let mut event = account_event("account.sign_in_failed", row, request_id);
    event.basis = Some(format!(r#"{{"reason":"{reason}"}}"#));
    audit::append(tx, &event, "denied", 401)?;
    if reason == "locked" {
        return Ok(None);
    }
    row.failures = row.failures.saturating_add(1);
    let lock = lock_secs(row.failures);
    if lock > 0 {
        row.locked_until = now.saturating_add(lock);
        let mut locked = account_event("account.locked", row, request_id);
        locked.basis = Some(format!(r#"{{"failures":{},"seconds":{lock}}}"#, row.failures));
        audit::append(tx, &locked, "denied", 401)?;
    }
    row.save(tx)?;
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_out_doubles_up_to_an_hour() {
        assert_eq!(lock_secs(4), 0);
        assert_eq!(lock_secs(5), 30);
        assert_eq!(lock_secs(6), 60);
        assert_eq!(lock_secs(8), 240);
        assert_eq!(lock_secs(30), MAX_LOCK_SECS);
    }
}
