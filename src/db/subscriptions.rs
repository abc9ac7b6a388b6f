//! Webhook subscriptions: the rows, and the few conditional UPDATEs that make delivery safe with
//! several carepath instances on one database. An instance delivers a subscription only while it
//! holds the row's lease (`lease_owner`, `lease_until`), claimed by one UPDATE that matches only
//! a free or expired lease; the cursor moves only by compare-and-set on its old value, so a
//! replay or a lost lease stops a delivery run instead of being overwritten by it.

use diesel::prelude::*;

use super::DbConn;
use super::schema::subscriptions;

/// `status` of a subscription being delivered.
pub const ACTIVE: &str = "active";
/// `status` once retries ran out; `enable` makes it active again.
pub const FAILING: &str = "failing";

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = subscriptions)]
pub struct SubscriptionRow {
    pub id: String,
    pub organization_id: String,
    /// The role changes are filtered for (the access rule of a caller with this role).
    pub role: String,
    pub purpose: String,
    pub url: String,
    /// JSON list of document types; empty: every type.
    pub doc_types: String,
    /// JSON list of ops (`created`, `updated`, `deleted`); empty: every op.
    pub events: String,
    /// The signing secret wrapped by the master keyring (`Keyring::wrap_secret`).
    pub secret: String,
    pub secret_kid: String,
    pub status: String,
    /// Every change at or below this sequence number was delivered or skipped.
    pub delivered_seq: i64,
    /// Failed attempts since the last success.
    pub attempts: i32,
    /// When the current run of failures began.
    pub failing_since: Option<String>,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
    pub last_delivered_at: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

/// What a failed attempt leaves behind.
pub struct Failure<'a> {
    pub error: &'a str,
    pub at: &'a str,
    /// When the first failure of this run happened (kept from the row, or `at`).
    pub since: &'a str,
    pub next_attempt_at: &'a str,
}

impl SubscriptionRow {
    pub fn insert(&self, conn: &mut DbConn) -> QueryResult<()> {
        diesel::insert_into(subscriptions::table).values(self).execute(conn).map(drop)
    }

    pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Self>> {
        subscriptions::table.find(id).first(conn).optional()
    }

    /// An organisation's subscriptions, oldest first.
    pub fn for_organization(conn: &mut DbConn, org: &str) -> QueryResult<Vec<Self>> {
        subscriptions::table
            .filter(subscriptions::organization_id.eq(org))
            .order((subscriptions::created_at, subscriptions::id))
            .load(conn)
    }

    pub fn count_for_organization(conn: &mut DbConn, org: &str) -> QueryResult<i64> {
        subscriptions::table.filter(subscriptions::organization_id.eq(org)).count().get_result(conn)
    }

    pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
        diesel::delete(subscriptions::table.find(id)).execute(conn).map(|n| n == 1)
    }

    /// Organisations with a subscription due now (active, with changes left below `head`, its
    /// next attempt due, not leased): whose turn the worker may give next.
    pub fn due_organizations(conn: &mut DbConn, head: i64, now: &str) -> QueryResult<Vec<String>> {
        subscriptions::table
            .filter(subscriptions::status.eq(ACTIVE))
            .filter(subscriptions::delivered_seq.lt(head))
            .filter(subscriptions::next_attempt_at.le(now))
            .filter(subscriptions::lease_until.is_null().or(subscriptions::lease_until.lt(now)))
            .select(subscriptions::organization_id)
            .distinct()
            .order(subscriptions::organization_id)
            .load(conn)
    }

    /// One organisation's due subscriptions (as in `due_organizations`), longest waiting first:
    /// the candidates an instance tries to claim for it.
    pub fn due_in(conn: &mut DbConn, org: &str, head: i64, now: &str, limit: i64) -> QueryResult<Vec<String>> {
        subscriptions::table
            .filter(subscriptions::organization_id.eq(org))
            .filter(subscriptions::status.eq(ACTIVE))
            .filter(subscriptions::delivered_seq.lt(head))
            .filter(subscriptions::next_attempt_at.le(now))
            .filter(subscriptions::lease_until.is_null().or(subscriptions::lease_until.lt(now)))
            .order((subscriptions::next_attempt_at, subscriptions::id))
            .select(subscriptions::id)
            .limit(limit)
            .load(conn)
    }

    /// Takes the lease if it is free or expired; true when this owner now holds it.
    pub fn claim(conn: &mut DbConn, id: &str, owner: &str, now: &str, until: &str) -> QueryResult<bool> {
        let free = subscriptions::lease_until.is_null().or(subscriptions::lease_until.lt(now));
        diesel::update(subscriptions::table.find(id).filter(subscriptions::status.eq(ACTIVE)).filter(free))
            .set((subscriptions::lease_owner.eq(owner), subscriptions::lease_until.eq(until)))
            .execute(conn)
            .map(|n| n == 1)
    }

    /// Extends a lease this owner holds; false when it was lost (expired and taken, or the row
    /// was deleted, or is no longer active).
    pub fn renew(conn: &mut DbConn, id: &str, owner: &str, until: &str) -> QueryResult<bool> {
        diesel::update(
            subscriptions::table
                .find(id)
                .filter(subscriptions::lease_owner.eq(owner))
                .filter(subscriptions::status.eq(ACTIVE)),
        )
        .set(subscriptions::lease_until.eq(until))
        .execute(conn)
        .map(|n| n == 1)
    }

    /// Lets go of a lease this owner holds.
    pub fn release(conn: &mut DbConn, id: &str, owner: &str) -> QueryResult<()> {
        diesel::update(subscriptions::table.find(id).filter(subscriptions::lease_owner.eq(owner)))
            .set((subscriptions::lease_owner.eq(None::<String>), subscriptions::lease_until.eq(None::<String>)))
            .execute(conn)
            .map(drop)
    }

    /// Moves the cursor from `from` to `to` (a delivery or a skip), clearing the failure run when
    /// `delivered_at` says something was delivered. False when the cursor moved meanwhile (a
    /// replay) or the lease was lost: the run must stop.
    pub fn advance(
        conn: &mut DbConn,
        id: &str,
        owner: &str,
        from: i64,
        to: i64,
        delivered_at: Option<&str>,
    ) -> QueryResult<bool> {
        let target = subscriptions::table
            .find(id)
            .filter(subscriptions::lease_owner.eq(owner))
            .filter(subscriptions::delivered_seq.eq(from));
        let n = match delivered_at {
            Some(at) => diesel::update(target)
                .set((
                    subscriptions::delivered_seq.eq(to),
                    subscriptions::attempts.eq(0),
                    subscriptions::failing_since.eq(None::<String>),
                    subscriptions::last_delivered_at.eq(at),
                ))
                .execute(conn)?,
            None => diesel::update(target).set(subscriptions::delivered_seq.eq(to)).execute(conn)?,
        };
        Ok(n == 1)
    }

    /// Records a failed attempt, schedules the next and lets go of the lease.
    pub fn record_failure(conn: &mut DbConn, id: &str, owner: &str, failure: &Failure<'_>) -> QueryResult<()> {
        diesel::update(subscriptions::table.find(id).filter(subscriptions::lease_owner.eq(owner)))
            .set((
                subscriptions::attempts.eq(subscriptions::attempts + 1),
                subscriptions::failing_since.eq(failure.since),
                subscriptions::last_error.eq(failure.error),
                subscriptions::last_error_at.eq(failure.at),
                subscriptions::next_attempt_at.eq(failure.next_attempt_at),
                subscriptions::lease_owner.eq(None::<String>),
                subscriptions::lease_until.eq(None::<String>),
            ))
            .execute(conn)
            .map(drop)
    }

    /// Retries ran out: the subscription stops until it is enabled again. True when this owner
    /// still held it (so the state change is its to record).
    pub fn mark_failing(conn: &mut DbConn, id: &str, owner: &str, error: &str, at: &str) -> QueryResult<bool> {
        diesel::update(subscriptions::table.find(id).filter(subscriptions::lease_owner.eq(owner)))
            .set((
                subscriptions::status.eq(FAILING),
                subscriptions::attempts.eq(subscriptions::attempts + 1),
                subscriptions::last_error.eq(error),
                subscriptions::last_error_at.eq(at),
                subscriptions::lease_owner.eq(None::<String>),
                subscriptions::lease_until.eq(None::<String>),
                subscriptions::updated_at.eq(at),
            ))
            .execute(conn)
            .map(|n| n == 1)
    }

    /// Makes a subscription active again, due at once, from where its cursor stands.
    pub fn enable(conn: &mut DbConn, id: &str, now: &str) -> QueryResult<()> {
        diesel::update(subscriptions::table.find(id))
            .set((
                subscriptions::status.eq(ACTIVE),
                subscriptions::attempts.eq(0),
                subscriptions::failing_since.eq(None::<String>),
                subscriptions::next_attempt_at.eq(now),
                subscriptions::updated_at.eq(now),
            ))
            .execute(conn)
            .map(drop)
    }

    /// Moves the cursor back (replay), due at once; a run in progress stops at its next step.
    pub fn rewind(conn: &mut DbConn, id: &str, since: i64, now: &str) -> QueryResult<()> {
        diesel::update(subscriptions::table.find(id))
            .set((
                subscriptions::delivered_seq.eq(since),
                subscriptions::next_attempt_at.eq(now),
                subscriptions::updated_at.eq(now),
            ))
            .execute(conn)
            .map(drop)
    }

    /// The master keys that wrap subscription secrets: rotation must not retire them.
    pub fn kids_in_use(conn: &mut DbConn) -> QueryResult<Vec<String>> {
        subscriptions::table.select(subscriptions::secret_kid).distinct().load(conn)
    }
}
