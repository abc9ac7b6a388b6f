//! Taking up an invitation (or a second-factor reset's code): the person sets a password, then
//! proves the new authenticator with a first code, and receives recovery codes. The code is
//! checked at each step and spent at the last, so a half-finished enrolment can be taken up
//! again with the same code until it expires.

use std::sync::Arc;

use serde::Serialize;

use super::{account_event, anonymous_event, sha256_hex};
use crate::auth::{password, totp};
use crate::crypto::WrappedKey;
use crate::db::accounts::{AccountRow, RecoveryCodes};
use crate::error::ApiError;
use crate::state::AppState;

/// Recovery codes handed out at enrolment.
const RECOVERY_CODES: usize = 10;

/// A password was set; the authenticator waits for its first code.
#[derive(Debug, Clone)]
pub struct PendingFactor {
    /// The login the account signs in with.
    pub login: String,
    /// The secret in base32, for typing into an app.
    pub secret_base32: String,
    /// The `otpauth://` URI the QR code carries.
    pub uri: String,
    /// The QR code, an SVG document.
    pub qr_svg: String,
}

/// The authenticator works; these recovery codes are shown once.
#[derive(Debug, Clone, Serialize)]
pub struct Enrolled {
    /// The login the account signs in with.
    pub login: String,
    /// Ten one-time codes, shown only now.
    pub recovery_codes: Vec<String>,
}

/// The account an open code belongs to; a wrong, used or expired code is refused and audited
/// (`account.invite_refused`: someone holds a link that does not work, or is guessing).
async fn open_invite(state: &Arc<AppState>, code: &str, request_id: &str) -> Result<AccountRow, ApiError> {
    let hash = sha256_hex(code.trim());
    let now = state.clock.now().unix_timestamp();
    let found = crate::db::run(&state.pool, move |conn| Ok(AccountRow::by_invite(conn, &hash)?)).await?;
    let refusal = match &found {
        None => Some(ApiError::NotFound("no such invitation, or it was used already".into())),
        Some(a) if a.invite_expires_at.is_none_or(|t| t <= now) => {
            Some(ApiError::Gone("this invitation has expired; ask your administrator for a new one".into()))
        }
        Some(_) => None,
    };
    match (found, refusal) {
        (Some(account), None) => Ok(account),
        (found, refusal) => {
            let error = refusal.unwrap_or_else(|| ApiError::internal("invite check"));
            let mut event = anonymous_event("account.invite_refused", request_id);
            if let Some(a) = found {
                event = event.resource("account", &a.id);
            }
            state.committer.record(event, "denied", error.status()).await?;
            Err(error)
        }
    }
}

/// Whether the row still holds this open code at `now` (checked again inside the write).
fn still_open(row: &AccountRow, hash: &str, now: i64) -> Result<(), ApiError> {
    let open = row.invite_hash.as_deref() == Some(hash) && row.invite_expires_at.is_some_and(|t| t > now);
    if open { Ok(()) } else { Err(ApiError::Gone("this invitation is no longer open".into())) }
}

/// Step one: checks the code and the new password, keeps the password's Argon2id hash and a
/// new authenticator secret (wrapped by the master keyring), and answers what the QR code
/// shows. Audited (`account.accept`).
pub async fn accept_invite(
    state: &Arc<AppState>,
    code: &str,
    new_password: &str,
    request_id: &str,
) -> Result<PendingFactor, ApiError> {
    let account = open_invite(state, code, request_id).await?;
    let event = account_event("account.accept", &account, request_id);
    if let Err(weak) = password::check_new(new_password, &account.login) {
        state.committer.record(event, "denied", 422).await?;
        return Err(ApiError::field("/password", weak.to_string()));
    }
    let pw = new_password.to_owned();
    let phc = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let (raw, wrapped) = state.fresh_keys()?.new_secret(&account.id).map_err(ApiError::internal)?;
    let secret = &raw[..totp::SECRET_LEN];
    let pending = PendingFactor {
        login: account.login.clone(),
        secret_base32: totp::base32(secret),
        uri: totp::uri("carepath", &account.login, secret),
        qr_svg: totp::qr_svg(&totp::uri("carepath", &account.login, secret)).map_err(ApiError::internal)?,
    };
    let hash = sha256_hex(code.trim());
    let id = account.id.clone();
    crate::domain::write(state, event, 200, move |tx, st, _| {
        let mut row = AccountRow::find(tx, &id)?.ok_or_else(|| ApiError::NotFound("no such account".into()))?;
        still_open(&row, &hash, st.clock.now().unix_timestamp())?;
        row.password_hash = Some(phc.clone());
        row.totp_secret = Some(wrapped.blob.clone());
        row.totp_kid = Some(wrapped.kid.clone());
        row.totp_enrolled = false;
        row.save(tx)?;
        Ok(())
    })
    .await?;
    Ok(pending)
}

/// Step two: the first code from the new authenticator. Enrols it, spends the invitation, and
/// answers fresh recovery codes (kept as hashes only). Audited (`account.enrol`).
pub async fn confirm_factor(
    state: &Arc<AppState>,
    code: &str,
    totp_code: &str,
    request_id: &str,
) -> Result<Enrolled, ApiError> {
    let account = open_invite(state, code, request_id).await?;
    let event = account_event("account.enrol", &account, request_id);
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect::<Result<_, _>>()?;
    let hashes: Vec<String> = codes.iter().map(|c| sha256_hex(&normalise_recovery(c))).collect();
    let hash = sha256_hex(code.trim());
    let (id, given) = (account.id.clone(), totp_code.to_owned());
    crate::domain::write(state, event, 200, move |tx, st, _| {
        let mut row = AccountRow::find(tx, &id)?.ok_or_else(|| ApiError::NotFound("no such account".into()))?;
        let now = st.clock.now().unix_timestamp();
        still_open(&row, &hash, now)?;
        let secret = secret_of(st, &row)?.ok_or_else(|| ApiError::Conflict("set the password first".into()))?;
        let step = totp::check(&secret, &given, u64::try_from(now).unwrap_or(0))
            .ok_or_else(|| ApiError::field("/code", "the code does not match; check the time on the phone"))?;
        row.totp_enrolled = true;
        row.totp_last_step = i64::try_from(step).unwrap_or(i64::MAX);
        row.invite_hash = None;
        row.invite_expires_at = None;
        row.failures = 0;
        row.locked_until = 0;
        row.save(tx)?;
        RecoveryCodes::replace(tx, &row.id, &hashes)?;
        Ok(())
    })
    .await?;
    Ok(Enrolled { login: account.login, recovery_codes: codes })
}

/// The account's TOTP secret, unwrapped (None before one was set).
pub(super) fn secret_of(st: &AppState, row: &AccountRow) -> Result<Option<Vec<u8>>, ApiError> {
    let (Some(blob), Some(kid)) = (&row.totp_secret, &row.totp_kid) else { return Ok(None) };
    let wrapped = WrappedKey { kid: kid.clone(), blob: blob.clone() };
    let raw = match st.keys().unwrap_secret(&row.id, &wrapped) {
        Err(crate::crypto::CryptoError::UnknownKid(_)) => {
            st.reload_keys()?;
            st.keys().unwrap_secret(&row.id, &wrapped)
        }
        other => other,
    }
    .map_err(ApiError::internal)?;
    Ok(Some(raw[..totp::SECRET_LEN].to_vec()))
}

/// A recovery code: 80 random bits as four groups of four base32 letters (`abcd-efgh-ijkl-mnop`).
fn recovery_code() -> Result<String, ApiError> {
    use ring::rand::SecureRandom;
    let mut raw = [0u8; 10];
    ring::rand::SystemRandom::new().fill(&mut raw).map_err(|_| ApiError::internal("no randomness"))?;
    let text = totp::base32(&raw).to_lowercase();
    let groups: Vec<&str> = (0..4).filter_map(|i| text.get(i * 4..i * 4 + 4)).collect();
    Ok(groups.join("-"))
}

/// A recovery code as typed, in the form it is hashed in (no dashes or spaces, lowercase).
pub(super) fn normalise_recovery(typed: &str) -> String {
    typed.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

/// Whether what was typed in the code field looks like a recovery code rather than a TOTP code.
pub(super) fn is_recovery_code(typed: &str) -> bool {
    normalise_recovery(typed).len() == 16
}
