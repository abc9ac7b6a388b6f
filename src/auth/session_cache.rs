//! The hot path of console sessions: a short-lived memory of the rows looked up, so a page with
//! its assets and forms costs one database read a second at most, not one per request.
//!
//! Why a revocation still takes effect at once: an entry is trusted for [`FRESH_MS`] only, then
//! the row is read again. Endings served by this instance (sign-out, revoke, reset) also drop
//! the entries they end here and now; one served by another instance on the same database is
//! seen at the next read, within `FRESH_MS`, like the token endings `AppState::refresh_endings`
//! reads every second.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use super::Caller;

/// How long a looked-up session is trusted without reading its row again (milliseconds).
pub const FRESH_MS: i64 = 1000;
/// Entries at most; past it the stale ones go (they would be read again anyway).
const MAX_ENTRIES: usize = 50_000;

/// A session as its row stood when read.
#[derive(Debug, Clone)]
pub struct CachedSession {
    /// The caller the session acts as.
    pub caller: Caller,
    /// The session's name in listings.
    pub public_id: String,
    /// Unix seconds: the idle clock as stored, and the absolute end.
    pub last_seen_at: i64,
    /// The absolute time-out (Unix seconds).
    pub expires_at: i64,
    /// When the row was read (Unix milliseconds of the service's clock).
    pub read_at_ms: i64,
}

/// Sessions by the hex SHA-256 of their cookie id.
#[derive(Default)]
pub struct SessionCache {
    inner: Mutex<HashMap<String, CachedSession>>,
}

impl SessionCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedSession>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The session, if it was read less than [`FRESH_MS`] ago.
    pub fn fresh(&self, id_hash: &str, now_ms: i64) -> Option<CachedSession> {
        self.lock().get(id_hash).filter(|s| now_ms - s.read_at_ms < FRESH_MS && now_ms >= s.read_at_ms).cloned()
    }

    /// Remembers a row as read now.
    pub fn put(&self, id_hash: String, session: CachedSession) {
        let mut inner = self.lock();
        if inner.len() >= MAX_ENTRIES {
            let now = session.read_at_ms;
            inner.retain(|_, s| now - s.read_at_ms < FRESH_MS);
        }
        inner.insert(id_hash, session);
    }

    /// Forgets one session (it ended here).
    pub fn forget(&self, id_hash: &str) {
        self.lock().remove(id_hash);
    }

    /// Forgets every session of the user (their sessions ended here).
    pub fn forget_user(&self, org: &str, sub: &str) {
        self.lock().retain(|_, s| !(s.caller.org == org && s.caller.sub == sub));
    }

    /// Forgets the session listed as `public_id`.
    pub fn forget_public(&self, public_id: &str) {
        self.lock().retain(|_, s| s.public_id != public_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    #[test]
    fn entries_are_fresh_for_a_second_and_endings_drop_them() {
        let cache = SessionCache::default();
        let caller = Caller { sub: "n1".into(), org: "o".into(), role: Role::Nurse, purpose: None };
        let entry = |at| CachedSession {
            caller: caller.clone(),
            public_id: "p".into(),
            last_seen_at: 0,
            expires_at: 10,
            read_at_ms: at,
        };
        cache.put("h".into(), entry(1000));
        assert!(cache.fresh("h", 1999).is_some());
        assert!(cache.fresh("h", 2000).is_none(), "read again after a second");
        cache.forget_user("o", "n1");
        assert!(cache.fresh("h", 1001).is_none());
        cache.put("h".into(), entry(1000));
        cache.forget_public("p");
        assert!(cache.fresh("h", 1001).is_none());
    }
}
