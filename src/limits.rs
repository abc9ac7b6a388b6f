//! Per-caller limits: request rates by token subject and by organisation (token buckets), with
//! a caller's share of its organisation's rate; how many change-feed long-polls one caller may
//! hold open; and how many vacancy streams one caller, one organisation and the instance may.
//!
//! A bucket holds up to a minute's allowance and refills continuously, so a client may burst
//! and then settle to its rate. Buckets live in memory, per process: with several instances the
//! effective limit is per instance, which is what a limit against runaway clients needs. The
//! table is swept of full buckets when it grows, so idle callers cost nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::config::Settings;

/// The prefix of a long-poll's key in the table of open places.
const LONG_POLL: &str = "poll\u{0}";

/// Buckets kept before full (idle) ones are swept out.
const SWEEP_AT: usize = 10_000;

/// Why a request was refused, and when to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// Which limit: `subject`, `organization_share`, `organization`, `long_poll`, `stream`,
    /// `stream_organization` or `streams`.
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

/// Open long-lived requests (long-polls, streams), counted by key.
type Open = Arc<Mutex<HashMap<String, usize>>>;

/// Seconds a refused stream is told to wait: streams are long-lived, so a place frees slowly.
const STREAM_RETRY_SECS: u64 = 5;

/// The limits of one process.
pub struct Limits {
    subjects: Buckets,
    /// Each caller's share of its organisation's rate, so one caller cannot spend it all.
    shares: Buckets,
    organizations: Buckets,
    max_long_polls: usize,
    /// Vacancy streams: per caller, per organisation, in all.
    max_streams: [usize; 3],
    open: Open,
}

impl Limits {
    pub fn new(settings: &Settings) -> Self {
        let org = settings.org_rate_limit_per_minute;
        let share = match settings.caller_share_percent {
            // 100 % or no organisation limit: no share to enforce.
            100.. => 0,
            _ if org == 0 => 0,
            p => (u64::from(org) * u64::from(p.max(1)) / 100).max(1),
        };
        Self {
            subjects: Buckets::new(settings.rate_limit_per_minute),
            shares: Buckets::new(u32::try_from(share).unwrap_or(u32::MAX)),
            organizations: Buckets::new(org),
            max_long_polls: settings.max_long_polls_per_caller,
            max_streams: [settings.max_streams_per_caller, settings.max_streams_per_org, settings.max_streams],
            open: Arc::default(),
        }
    }

    /// Counts one request of `subject` at `org` against its own limit, its share of the
    /// organisation's and the organisation's. The subject is keyed with its organisation:
    /// subjects are only unique within one. A request refused by a later limit does not count
    /// against the earlier ones.
    pub fn admit(&self, subject: &str, org: &str) -> Result<(), Refusal> {
        let now = Instant::now();
        let subject_key = format!("{org}\u{0}{subject}");
        self.subjects.take(&subject_key, now).map_err(|wait| refusal("subject", wait))?;
        self.shares.take(&subject_key, now).map_err(|wait| {
            self.subjects.give_back(&subject_key);
            refusal("organization_share", wait)
        })?;
        self.organizations.take(org, now).map_err(|wait| {
            self.subjects.give_back(&subject_key);
            self.shares.give_back(&subject_key);
            refusal("organization", wait)
        })
    }

    /// A place among the caller's open long-polls, held until the permit is dropped.
    pub fn long_poll(&self, subject: &str, org: &str) -> Result<LongPollPermit, Refusal> {
        let keys = [(format!("{LONG_POLL}{org}\u{0}{subject}"), self.max_long_polls, "long_poll")];
        let permit = self.place(keys, 1)?;
        Ok(LongPollPermit { _place: permit, _gauge: crate::metrics::LongPollGauge::start() })
    }

    /// How many long-polls of this process are open (waiting, or about to): what a test waits
    /// for before the commit that should wake them, instead of sleeping and hoping.
    pub fn long_polls(&self) -> usize {
        let open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        open.iter().filter(|(key, _)| key.starts_with(LONG_POLL)).map(|(_, n)| *n).sum()
    }

    /// A place for one vacancy stream of the caller, within the caller's, its organisation's
    /// and the instance's bounds; held until the permit is dropped (the stream closes).
    pub fn stream(&self, subject: &str, org: &str) -> Result<Place, Refusal> {
        let [caller, organization, all] = self.max_streams;
        let keys = [
            (format!("stream\u{0}{org}\u{0}{subject}"), caller, "stream"),
            (format!("streams\u{0}{org}"), organization, "stream_organization"),
            ("streams".to_owned(), all, "streams"),
        ];
        self.place(keys, STREAM_RETRY_SECS)
    }

    /// Takes a place under every key, or none if any is full.
    fn place<const N: usize>(&self, keys: [(String, usize, &'static str); N], retry: u64) -> Result<Place, Refusal> {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, _, limit)) = keys.iter().find(|(key, max, _)| open.get(key).copied().unwrap_or(0) >= *max) {
            return Err(refusal(limit, Duration::from_secs(retry)));
        }
        let keys: Vec<String> = keys.into_iter().map(|(key, _, _)| key).collect();
        for key in &keys {
            *open.entry(key.clone()).or_insert(0) += 1;
        }
        Ok(Place { keys, open: self.open.clone() })
    }
}

fn refusal(limit: &'static str, wait: Duration) -> Refusal {
    crate::metrics::rate_limited(limit);
    Refusal { limit, retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64 }
}

/// One open long-poll of a caller; dropping it frees the place.
pub struct LongPollPermit {
    _place: Place,
    _gauge: crate::metrics::LongPollGauge,
}

/// A place held under each of its keys (one open stream or long-poll); dropping it frees them.
pub struct Place {
    keys: Vec<String>,
    open: Open,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for key in &self.keys {
            if let Some(n) = open.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    open.remove(key);
                }
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
    fn a_stream_place_counts_under_every_key_and_is_freed_on_drop() {
        let mut settings = Settings::for_data_dir("/nonexistent");
        settings.max_streams_per_caller = 2;
        settings.max_streams_per_org = 3;
        settings.max_streams = 4;
        let limits = Limits::new(&settings);
        let a: Vec<Place> = (0..2).map(|_| limits.stream("a", "o1").unwrap()).collect();
        assert_eq!(limits.stream("a", "o1").err().unwrap().limit, "stream");
        let b = limits.stream("b", "o1").unwrap();
        assert_eq!(limits.stream("c", "o1").err().unwrap().limit, "stream_organization");
        let d = limits.stream("d", "o2").unwrap();
        assert_eq!(limits.stream("e", "o2").err().unwrap().limit, "streams");
        drop((a, b, d));
        assert!(limits.open.lock().unwrap().is_empty(), "every place was given back");
    }

    #[test]
    fn zero_means_no_limit() {
        let b = Buckets::new(0);
        let t0 = Instant::now();
        assert!((0..10_000).all(|_| b.take("a", t0).is_ok()));
    }
}

/// A bulk export's owner: organisation, subject and role.
pub type ExportOwner = (String, String, String);

/// Exports running in this process, and erasures seen (a running export re-checks its patients
/// when that count moves). The rest of the export limits are the job store's
/// (`domain::exports`); this part is the process's memory.
#[derive(Default)]
pub struct RunningExports {
    owners: Arc<Mutex<std::collections::HashSet<ExportOwner>>>,
    erasures: std::sync::atomic::AtomicU64,
}

/// A running export's place; dropping it frees the place.
pub struct ExportSlot {
    owners: Arc<Mutex<std::collections::HashSet<ExportOwner>>>,
    owner: ExportOwner,
}

impl Drop for ExportSlot {
    fn drop(&mut self) {
        self.owners.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&self.owner);
    }
}

impl RunningExports {
    /// Takes the running place of `owner`: refused while that caller already runs an export, or
    /// while `max` exports run in all.
    pub fn start(&self, owner: ExportOwner, max: u64) -> Result<ExportSlot, crate::error::ApiError> {
        let mut owners = self.owners.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let refuse =
            |detail: &str| crate::error::ApiError::TooManyRequests { detail: detail.to_owned(), retry_after_secs: 30 };
        if owners.contains(&owner) {
            return Err(refuse("you already have an export running; wait for it to finish (or delete it)"));
        }
        if owners.len() as u64 >= max {
            return Err(refuse("the server is running as many exports as it allows; retry later"));
        }
        owners.insert(owner.clone());
        Ok(ExportSlot { owners: self.owners.clone(), owner })
    }

    /// Counts an erasure, so that running exports re-check their patients.
    pub fn note_erasure(&self) {
        self.erasures.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// The erasures seen so far.
    pub fn erasures(&self) -> u64 {
        self.erasures.load(std::sync::atomic::Ordering::SeqCst)
    }
}
