//! Ending tokens before their `exp`: console sessions (signed out, or idle too long) and every
//! token of a user whose sessions an admin ended. A bearer token is otherwise valid until `exp`
//! wherever it is presented, so the check sits in [`super::Authenticator::verify`], which the
//! console and the API share: a token ended here is refused in both.
//!
//! Checked in memory (a lock and a hash lookup per request). Sign-outs and admins' endings are
//! also written to the database (`db::sessions`) and read back at start and every second after,
//! so a restart does not bring them back and an ending served by another instance is refused
//! here within about a second; idle endings and live sessions are memory only (after a restart
//! a session's idle clock starts again at its next sign-in). docs/roles.md says so.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use super::{AuthError, Caller};

/// Bounds the memory of the deny-list and the session table (entries are also dropped at `exp`).
const MAX_ENTRIES: usize = 100_000;

struct Session {
    org: String,
    sub: String,
    exp: u64,
    last_seen: u64,
}

#[derive(Default)]
struct Inner {
    /// Console sessions, by the digest of their token.
    live: HashMap<[u8; 32], Session>,
    /// Tokens refused until their `exp`, by digest.
    ended: HashMap<[u8; 32], u64>,
    /// (org, sub) → tokens of that user issued (`iat`) at or before this second are refused.
    users_ended: HashMap<(String, String), u64>,
}

/// The session table and deny-list; see the module comment.
pub(super) struct Sessions {
    inner: Mutex<Inner>,
    /// Seconds without a request after which a console session ends; 0: never.
    idle_secs: u64,
    /// The clock skew tolerated on `exp`: an ended token is remembered that much longer, since
    /// a full verification would still accept it.
    leeway: u64,
}

impl Sessions {
    pub(super) fn new(idle_secs: u64, leeway: u64) -> Self {
        Self { inner: Mutex::new(Inner::default()), idle_secs, leeway }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Refuses a token that was ended, or whose console session has been idle too long (which
    /// ends it); otherwise marks its session as used now.
    pub(super) fn check(
        &self,
        digest: &[u8; 32],
        caller: &Caller,
        iat: Option<u64>,
        now: u64,
    ) -> Result<(), AuthError> {
        let mut inner = self.lock();
        if inner.ended.get(digest).is_some_and(|exp| exp.saturating_add(self.leeway) >= now) {
            return Err(AuthError::Revoked);
        }
        // Most regions have no user-wide ending: no key is built for the lookup then.
        if !inner.users_ended.is_empty()
            && let Some(cutoff) = inner.users_ended.get(&(caller.org.clone(), caller.sub.clone()))
            && iat.is_none_or(|iat| iat <= *cutoff)
        {
            return Err(AuthError::Revoked);
        }
        let idle = self.idle_secs;
        if let Some(session) = inner.live.get_mut(digest) {
            if idle > 0 && now.saturating_sub(session.last_seen) > idle {
                let exp = session.exp;
                inner.live.remove(digest);
                inner.ended.insert(*digest, exp);
                return Err(AuthError::Revoked);
            }
            session.last_seen = now;
        }
        Ok(())
    }

    /// A console sign-in: the token's session starts now.
    pub(super) fn start(&self, digest: [u8; 32], caller: &Caller, exp: u64, now: u64) {
        let mut inner = self.lock();
        inner.prune(now.saturating_sub(self.leeway));
        inner.live.insert(digest, Session { org: caller.org.clone(), sub: caller.sub.clone(), exp, last_seen: now });
    }

    /// Sign-out: the token is refused from now until its `exp`.
    pub(super) fn end(&self, digest: [u8; 32], exp: u64, now: u64) {
        let mut inner = self.lock();
        inner.prune(now.saturating_sub(self.leeway));
        inner.live.remove(&digest);
        inner.ended.insert(digest, exp);
    }

    /// An admin ended the user's sessions: its console sessions, and every token of the user
    /// issued up to now (a token without `iat` too, since nothing says it is newer).
    pub(super) fn end_user(&self, org: &str, sub: &str, now: u64) {
        let mut inner = self.lock();
        inner.prune(now.saturating_sub(self.leeway));
        let mine: Vec<([u8; 32], u64)> =
            inner.live.iter().filter(|(_, s)| s.org == org && s.sub == sub).map(|(d, s)| (*d, s.exp)).collect();
        for (digest, exp) in mine {
            inner.live.remove(&digest);
            inner.ended.insert(digest, exp);
        }
        inner.users_ended.insert((org.to_owned(), sub.to_owned()), now);
    }
}

impl Sessions {
    /// Endings read back at start: tokens (digest, `exp`) and users (org, sub, cutoff).
    pub(super) fn restore(&self, tokens: Vec<([u8; 32], u64)>, users: Vec<(String, String, u64)>) {
        let mut inner = self.lock();
        inner.ended.extend(tokens);
        for (org, sub, at) in users {
            let cutoff = inner.users_ended.entry((org, sub)).or_insert(at);
            *cutoff = (*cutoff).max(at);
        }
    }
}

impl Inner {
    /// Drops what no longer matters: sessions and endings past their token's `exp` (`now` less
    /// the leeway). A user's cutoff is kept (it is small, and tokens may live long).
    fn prune(&mut self, now: u64) {
        if self.live.len() + self.ended.len() < MAX_ENTRIES {
            return;
        }
        self.live.retain(|_, s| s.exp > now);
        self.ended.retain(|_, exp| *exp > now);
        if self.live.len() >= MAX_ENTRIES {
            // Many live sessions at once: forgetting the oldest-seen ones only loses their idle
            // tracking, never a sign-out.
            let mut seen: Vec<u64> = self.live.values().map(|s| s.last_seen).collect();
            seen.sort_unstable();
            let cut = seen[seen.len() / 2];
            self.live.retain(|_, s| s.last_seen > cut);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn caller(sub: &str) -> Caller {
        Caller { sub: sub.into(), org: "o".into(), role: Role::Nurse, purpose: None }
    }

    #[test]
    fn ended_idle_and_user_wide_endings_refuse() {
        let s = Sessions::new(60, 0);
        let (a, b, c) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        s.start(a, &caller("n1"), 1000, 100);
        assert!(s.check(&a, &caller("n1"), Some(90), 150).is_ok());
        assert_eq!(s.check(&a, &caller("n1"), Some(90), 211), Err(AuthError::Revoked), "idle 61 s");
        assert_eq!(s.check(&a, &caller("n1"), Some(90), 212), Err(AuthError::Revoked), "stays ended");
        s.end(b, 1000, 100);
        assert_eq!(s.check(&b, &caller("n2"), Some(90), 101), Err(AuthError::Revoked));
        assert!(s.check(&b, &caller("n2"), Some(90), 1001).is_ok(), "forgotten after exp (the token expired)");
        let lenient = Sessions::new(0, 30);
        lenient.end(b, 1000, 100);
        assert_eq!(lenient.check(&b, &caller("n2"), None, 1030), Err(AuthError::Revoked), "within the leeway");
        s.end_user("o", "n3", 500);
        assert_eq!(s.check(&c, &caller("n3"), Some(499), 501), Err(AuthError::Revoked));
        assert_eq!(s.check(&c, &caller("n3"), None, 501), Err(AuthError::Revoked));
        assert!(s.check(&c, &caller("n3"), Some(501), 502).is_ok(), "a token issued later");
        assert!(s.check(&c, &caller("n4"), Some(1), 502).is_ok(), "another user");
    }
}
