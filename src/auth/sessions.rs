//! Ending bearer tokens before their `exp`: every token of a user whose sessions an admin ended,
//! and tokens signed out of the console before issue 30 (their digests are still read back until
//! they expire). A bearer token is otherwise valid until `exp` wherever it is presented, so the
//! check sits in [`super::Authenticator::verify`]. Console sessions themselves are server-side
//! rows now (`domain::console_sessions`), not tokens.
//!
//! Checked in memory (a lock and a hash lookup per request). Admins' endings are written to the
//! database (`db::sessions`) and read back at start and every second after, so a restart does
//! not bring them back and an ending served by another instance is refused here within about a
//! second.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use super::{AuthError, Caller};

/// Bounds the memory of the deny-list (entries are also dropped at `exp`).
const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
struct Inner {
    /// Tokens refused until their `exp`, by digest.
    ended: HashMap<[u8; 32], u64>,
    /// (org, sub) → tokens of that user issued (`iat`) at or before this second are refused.
    users_ended: HashMap<(String, String), u64>,
}

/// The deny-list; see the module comment.
pub(super) struct Sessions {
    inner: Mutex<Inner>,
    /// The clock skew tolerated on `exp`: an ended token is remembered that much longer, since
    /// a full verification would still accept it.
    leeway: u64,
}

impl Sessions {
    pub(super) fn new(leeway: u64) -> Self {
        Self { inner: Mutex::new(Inner::default()), leeway }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Refuses a token that was ended, or that an admin's ending of its user covers.
    pub(super) fn check(
        &self,
        digest: &[u8; 32],
        caller: &Caller,
        iat: Option<u64>,
        now: u64,
    ) -> Result<(), AuthError> {
        let inner = self.lock();
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
        Ok(())
    }

    /// An admin ended the user's sessions: every token of the user issued up to now (a token
    /// without `iat` too, since nothing says it is newer).
    pub(super) fn end_user(&self, org: &str, sub: &str, now: u64) {
        let mut inner = self.lock();
        inner.prune(now.saturating_sub(self.leeway));
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
    /// Drops endings past their token's `exp` (`now` less the leeway). A user's cutoff is kept
    /// (it is small, and tokens may live long).
    fn prune(&mut self, now: u64) {
        if self.ended.len() >= MAX_ENTRIES {
            self.ended.retain(|_, exp| *exp > now);
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
    fn ended_and_user_wide_endings_refuse() {
        let s = Sessions::new(0);
        let (b, c) = ([2u8; 32], [3u8; 32]);
        s.restore(vec![(b, 1000)], Vec::new());
        assert_eq!(s.check(&b, &caller("n2"), Some(90), 101), Err(AuthError::Revoked));
        assert!(s.check(&b, &caller("n2"), Some(90), 1001).is_ok(), "forgotten after exp (the token expired)");
        let lenient = Sessions::new(30);
        lenient.restore(vec![(b, 1000)], Vec::new());
        assert_eq!(lenient.check(&b, &caller("n2"), None, 1030), Err(AuthError::Revoked), "within the leeway");
        s.end_user("o", "n3", 500);
        assert_eq!(s.check(&c, &caller("n3"), Some(499), 501), Err(AuthError::Revoked));
        assert_eq!(s.check(&c, &caller("n3"), None, 501), Err(AuthError::Revoked));
        assert!(s.check(&c, &caller("n3"), Some(501), 502).is_ok(), "a token issued later");
        assert!(s.check(&c, &caller("n4"), Some(1), 502).is_ok(), "another user");
    }
}
