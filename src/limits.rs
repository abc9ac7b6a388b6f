//! Per-caller limits: request rates by token subject and by organisation (token buckets), and
//! how many change-feed long-polls one caller may hold open.
//!
//! A bucket holds up to a minute's allowance and refills continuously, so a client may burst
//! and then settle to its rate. Buckets live in memory, per process: with several instances the
//! effective limit is per instance, which is what a limit against runaway clients needs. The
//! table is swept of full buckets when it grows, so idle callers cost nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::config::Settings;

/// Buckets kept before full (idle) ones are swept out.
const SWEEP_AT: usize = 10_000;

/// Why a request was refused, and when to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// Which limit: `subject`, `organization` or `long_poll`.
    pub limit: &'static str,
    /// Whole seconds until the request would be let through (at least 1).
    pub retry_after_secs: u64,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets keyed by caller.
struct Buckets {
    per_minute: u32,
    table: Mutex<HashMap<String, Bucket>>,
}

impl Buckets {
    fn new(per_minute: u32) -> Self {
        Self { per_minute, table: Mutex::default() }
    }

    fn table(&self) -> MutexGuard<'_, HashMap<String, Bucket>> {
        self.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes a token for `key`; the wait until one is available if there is none.
    fn take(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.per_minute);
        let per_sec = capacity / 60.0;
        let mut table = self.table();
        if table.len() >= SWEEP_AT {
            table.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * per_sec < capacity);
        }
        let bucket = table.entry(key.to_owned()).or_insert(Bucket { tokens: capacity, at: now });
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * per_sec).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / per_sec))
        }
    }

    /// Gives back a token taken for a request that another limit refused.
    fn give_back(&self, key: &str) {
        if let Some(bucket) = self.table().get_mut(key) {
            bucket.tokens += 1.0;
        }
    }
}

/// The limits of one process.
pub struct Limits {
    subjects: Buckets,
    organizations: Buckets,
    max_long_polls: usize,
    long_polls: Arc<Mutex<HashMap<String, usize>>>,
}

impl Limits {
    pub fn new(settings: &Settings) -> Self {
        Self {
            subjects: Buckets::new(settings.rate_limit_per_minute),
            organizations: Buckets::new(settings.org_rate_limit_per_minute),
            max_long_polls: settings.max_long_polls_per_caller,
            long_polls: Arc::default(),
        }
    }

    /// Counts one request of `subject` at `org` against both limits. The subject is keyed
    /// with its organisation: subjects are only unique within one.
    pub fn admit(&self, subject: &str, org: &str) -> Result<(), Refusal> {
        let now = Instant::now();
        let subject_key = format!("{org}\u{0}{subject}");
        self.subjects.take(&subject_key, now).map_err(|wait| refusal("subject", wait))?;
        self.organizations.take(org, now).map_err(|wait| {
            // The organisation is over its limit: this request does not count against the caller.
            self.subjects.give_back(&subject_key);
            refusal("organization", wait)
        })
    }

    /// A place among the caller's open long-polls, held until the permit is dropped.
    pub fn long_poll(&self, subject: &str, org: &str) -> Result<LongPollPermit, Refusal> {
        let key = format!("{org}\u{0}{subject}");
        let mut open = self.long_polls.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(key.clone()).or_insert(0);
        if *n >= self.max_long_polls {
            return Err(refusal("long_poll", Duration::from_secs(1)));
        }
        *n += 1;
        Ok(LongPollPermit { key, open: self.long_polls.clone(), _gauge: crate::metrics::LongPollGauge::start() })
    }
}

fn refusal(limit: &'static str, wait: Duration) -> Refusal {
    crate::metrics::rate_limited(limit);
    Refusal { limit, retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64 }
}

/// One open long-poll of a caller; dropping it frees the place.
pub struct LongPollPermit {
    key: String,
    open: Arc<Mutex<HashMap<String, usize>>>,
    _gauge: crate::metrics::LongPollGauge,
}

impl Drop for LongPollPermit {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_a_burst_then_its_rate() {
        let b = Buckets::new(60);
        let t0 = Instant::now();
        for _ in 0..60 {
            assert!(b.take("a", t0).is_ok());
        }
        let wait = b.take("a", t0).unwrap_err();
        assert!(wait <= Duration::from_secs(1) && wait > Duration::from_millis(900), "{wait:?}");
        assert!(b.take("b", t0).is_ok(), "another caller has its own bucket");
        assert!(b.take("a", t0 + Duration::from_secs(1)).is_ok(), "one a second comes back");
        assert!(b.take("a", t0 + Duration::from_secs(1)).is_err());
    }

    #[test]
    fn zero_means_no_limit() {
        let b = Buckets::new(0);
        let t0 = Instant::now();
        assert!((0..10_000).all(|_| b.take("a", t0).is_ok()));
    }
}
