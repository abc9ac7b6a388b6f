//! Console accounts and their recovery codes (issue 30). Rows only: the rules (who may invite,
//! the lock-out's back-off, which code is valid) are in `domain::accounts`.

use diesel::prelude::*;

use super::DbConn;
use super::schema::{account_recovery_codes, accounts};

/// One account. Field order follows the table (rows are loaded by position).
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = accounts)]
pub struct AccountRow {
    pub id: String,
    /// The name typed at sign-in, unique in the region.
    pub login: String,
    pub organization_id: String,
    /// The caller's `sub`: the practitioner id, or the account id for a role without one.
    pub sub: String,
    pub role: String,
    /// Argon2id PHC string; `None` until the invite is accepted (or after a password reset).
    pub password_hash: Option<String>,
    /// The TOTP secret wrapped by the master keyring, and the wrapping key's id.
    pub totp_secret: Option<String>,
    pub totp_kid: Option<String>,
    /// Whether the secret was confirmed with a first code (a pending one lets nobody in).
    pub totp_enrolled: bool,
    /// The last 30-second step a code was accepted for: an older or equal one is a replay.
    pub totp_last_step: i64,
    /// SHA-256 (hex) of the invite's one-time code, while it is open.
    pub invite_hash: Option<String>,
    pub invite_expires_at: Option<i64>,
    /// Failed sign-ins since the last success.
    pub failures: i32,
    /// No sign-in is tried before this instant.
    pub locked_until: i64,
    /// When an admin last reset the second factor; the person is told at the next sign-in.
    pub factor_reset_at: Option<i64>,
    pub created_at: i64,
    pub created_by: String,
}

impl AccountRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(accounts::table).values(self).execute(conn).map(drop)
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        accounts::table.find(id).first(conn).optional()
    }

    pub fn by_login(conn: &mut DbConn, login: &str) -> QueryResult<Option<Self>> {
        accounts::table.filter(accounts::login.eq(login)).first(conn).optional()
    }

    pub fn by_invite(conn: &mut DbConn, invite_hash: &str) -> QueryResult<Option<Self>> {
        accounts::table.filter(accounts::invite_hash.eq(invite_hash)).first(conn).optional()
    }

    /// Whether an account already stands for this person (organisation and `sub`) or login.
    pub fn taken(conn: &mut DbConn, org: &str, sub: &str, login: &str) -> QueryResult<bool> {
        let same_person = accounts::organization_id.eq(org).and(accounts::sub.eq(sub));
        diesel::select(diesel::dsl::exists(accounts::table.filter(same_person.or(accounts::login.eq(login)))))
            .get_result(conn)
    }

    /// One organisation's accounts in login order.
    pub fn of_organization(conn: &mut DbConn, org: &str) -> QueryResult<Vec<Self>> {
        accounts::table.filter(accounts::organization_id.eq(org)).order(accounts::login).load(conn)
    }

    /// Writes back everything a sign-in, an enrolment or a reset may change.
    pub fn save(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::update(accounts::table.find(&self.id))
            .set((
                accounts::password_hash.eq(&self.password_hash),
                accounts::totp_secret.eq(&self.totp_secret),
                accounts::totp_kid.eq(&self.totp_kid),
                accounts::totp_enrolled.eq(self.totp_enrolled),
                accounts::totp_last_step.eq(self.totp_last_step),
                accounts::invite_hash.eq(&self.invite_hash),
                accounts::invite_expires_at.eq(self.invite_expires_at),
                accounts::failures.eq(self.failures),
                accounts::locked_until.eq(self.locked_until),
                accounts::factor_reset_at.eq(self.factor_reset_at),
            ))
            .execute(conn)
            .map(drop)
    }

    /// The master keys that wrap TOTP secrets: rotation must not retire them.
    pub fn secret_kids(conn: &mut DbConn) -> QueryResult<Vec<String>> {
        accounts::table
            .filter(accounts::totp_kid.is_not_null())
            .select(accounts::totp_kid.assume_not_null())
            .distinct()
            .load(conn)
    }
}

/// One recovery code of an account, by its SHA-256.
pub struct RecoveryCodes;

impl RecoveryCodes {
    /// Replaces the account's codes with these (hex SHA-256 each).
    pub fn replace(conn: &mut DbConn, account: &str, hashes: &[String]) -> QueryResult<()> {
        diesel::delete(account_recovery_codes::table.filter(account_recovery_codes::account_id.eq(account)))
            .execute(conn)?;
        for hash in hashes {
            diesel::insert_into(account_recovery_codes::table)
                .values((account_recovery_codes::account_id.eq(account), account_recovery_codes::code_hash.eq(hash)))
                .execute(conn)?;
        }
        Ok(())
    }

    /// Marks the code used if it is the account's and unused; whether it was.
    pub fn spend(conn: &mut DbConn, account: &str, hash: &str, now: i64) -> QueryResult<bool> {
        let n = diesel::update(
            account_recovery_codes::table
                .filter(account_recovery_codes::account_id.eq(account))
                .filter(account_recovery_codes::code_hash.eq(hash))
                .filter(account_recovery_codes::used_at.is_null()),
        )
        .set(account_recovery_codes::used_at.eq(now))
        .execute(conn)?;
        Ok(n == 1)
    }

    /// Codes the account has left.
    pub fn left(conn: &mut DbConn, account: &str) -> QueryResult<i64> {
        account_recovery_codes::table
            .filter(account_recovery_codes::account_id.eq(account))
            .filter(account_recovery_codes::used_at.is_null())
            .count()
            .get_result(conn)
    }
}
