//! Checking the chain, live or from an NDJSON export, against its signed checkpoints.

use super::chain::{GENESIS, canonical, chain_hash};
use super::keys::KeySet;
use crate::db::DbConn;
use crate::db::audit::{AuditRow, CheckpointRow};
use crate::error::ApiError;

/// The result of checking the chain (and its signed checkpoints).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Verification {
    /// The chain holds from the first event to the head, and every checkpoint signature is good.
    pub ok: bool,
    /// The last sequence number up to which everything holds.
    pub verified_through: i64,
    /// The first sequence number whose event is missing, altered or out of place.
    pub first_broken: Option<i64>,
    /// Signed checkpoints checked on the way.
    pub checkpoints_verified: u64,
    /// The hash at `verified_through`.
    pub head_hash: String,
    /// Why the log does not verify, in words (absent when `ok`): which key failed and which
    /// signed, the first event no signature covers, the event that does not follow, or the cut.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Walks the chain event by event; shared by the live check and the check of an export.
struct ChainWalk<'k> {
    prev: String,
    expected: i64,
    first_broken: Option<i64>,
    reason: Option<String>,
    checkpoints: std::collections::BTreeMap<i64, CheckpointRow>,
    keys: &'k KeySet,
    checkpoints_verified: u64,
    /// What is being checked, for the reasons: "export" or "log".
    source: &'static str,
}

impl<'k> ChainWalk<'k> {
    fn new(checkpoints: Vec<CheckpointRow>, keys: &'k KeySet, source: &'static str) -> Self {
        Self {
            prev: GENESIS.to_owned(),
            expected: 1,
            first_broken: None,
            reason: None,
            checkpoints: checkpoints.into_iter().map(|c| (c.seq, c)).collect(),
            keys,
            checkpoints_verified: 0,
            source,
        }
    }

    /// Starts the walk after a signed checkpoint instead of at the first event: the signature
    /// vouches for the hash the next event must follow from.
    fn anchor(&mut self, c: &CheckpointRow) {
        self.expected = c.seq + 1;
        self.prev = c.hash.clone();
        if let Some(reason) = self.keys.fault(c, self.source) {
            self.first_broken = Some(c.seq);
            self.reason = Some(format!("the {} starts at a checkpoint that does not hold: {reason}", self.source));
        } else {
            self.checkpoints_verified += 1;
        }
    }

    /// Marks the chain broken at the expected event, for `reason`.
    fn broken(&mut self, reason: String) {
        self.first_broken = Some(self.expected);
        self.reason = Some(reason);
    }

    /// Why `row`, in the expected place, does not hold (None if it does).
    fn fault(&self, row: &AuditRow) -> Option<String> {
        let n = self.expected;
        if row.seq != n {
            return Some(format!("event {n} is missing or out of place (found event {} there)", row.seq));
        }
        if row.prev_hash != self.prev {
            return Some(if n == 1 {
                "event 1 does not start the chain".to_owned()
            } else {
                format!("event {n} does not follow from event {}", n - 1)
            });
        }
        if chain_hash(&self.prev, &canonical(row)) != row.hash {
            return Some(format!("event {n} was altered: its hash does not match its content"));
        }
        let c = self.checkpoints.get(&row.seq)?;
        if c.hash != row.hash {
            return Some(format!("the checkpoint at {n} signed another hash than event {n}'s"));
        }
        self.keys.fault(c, self.source)
    }

    /// Marks the chain broken at `row`, which holds but names a consent version that does not
    /// match it: what holds ends just before it.
    fn consent_altered(&mut self, row: &AuditRow, reason: String) {
        if self.checkpoints.contains_key(&row.seq) {
            self.checkpoints_verified = self.checkpoints_verified.saturating_sub(1);
        }
        self.expected = row.seq;
        self.prev = row.prev_hash.clone();
        self.broken(reason);
    }

    /// Feeds the next event; false once the chain is broken (the rest is not looked at).
    fn feed(&mut self, row: &AuditRow) -> bool {
        if self.first_broken.is_some() {
            return false;
        }
        if let Some(reason) = self.fault(row) {
            self.broken(reason);
            return false;
        }
        if self.checkpoints.contains_key(&row.seq) {
            self.checkpoints_verified += 1;
        }
        self.prev = row.hash.clone();
        self.expected += 1;
        true
    }

    /// Closes the walk: `head` is where the chain must end (the live head), if known.
    fn finish(mut self, head: Option<(i64, &str)>) -> Verification {
        let mut through = self.expected - 1;
        if self.first_broken.is_none() {
            // A checkpoint beyond the last event means events were cut off the end.
            if let Some(&cut) = self.checkpoints.keys().rev().find(|&&seq| seq > through) {
                self.broken(format!("the {} ends before its checkpoint at {cut}: events were cut off", self.source));
            } else if let Some((seq, _)) = head.filter(|&(seq, hash)| seq != through || hash != self.prev) {
                self.broken(if seq == through {
                    format!("the log's head does not name event {seq}: the last event was replaced")
                } else {
                    format!("the log's head is at {seq} but its events end at {through}: events were cut off")
                });
            }
        }
        if self.first_broken.is_some() {
            // A walk broken at its anchor proved nothing.
            through = through.min(self.first_broken.map_or(through, |b| b - 1));
        }
        Verification {
            ok: self.first_broken.is_none(),
            verified_through: through,
            first_broken: self.first_broken,
            checkpoints_verified: self.checkpoints_verified,
            head_hash: self.prev,
            reason: self.reason,
        }
    }
}

/// Recomputes every hash from the first event on, in pages, and checks every checkpoint with
/// one public key; each event that created a consent version is checked against the version
/// (and the current consent row) as stored.
pub fn verify(conn: &mut DbConn, public_key: &[u8]) -> Result<Verification, ApiError> {
    verify_with(conn, &KeySet::single(public_key))
}

/// [`verify`] with every key the log was signed with, each within its validity.
pub fn verify_with(conn: &mut DbConn, keys: &KeySet) -> Result<Verification, ApiError> {
    crate::db::snapshot(conn, |conn| verify_snapshot(conn, keys))
}

/// The walk itself, inside one snapshot: the head, the checkpoints and the events as of one
/// instant, whatever commits meanwhile.
fn verify_snapshot(conn: &mut DbConn, keys: &KeySet) -> Result<Verification, ApiError> {
    use crate::db::audit::{AuditFilter, head};
    let (head_seq, head_hash) = head(conn)?;
    let mut walk = ChainWalk::new(CheckpointRow::all(conn)?, keys, "log");
    let mut filter = AuditFilter::default();
    'pages: loop {
        let page = AuditRow::list(conn, &filter, 1000)?;
        let Some(last) = page.last() else { break };
        filter.after_seq = Some(last.seq);
        for row in &page {
            if !walk.feed(row) {
                break 'pages;
            }
            if let Some(reason) = super::consent::check_event(conn, row)? {
                walk.consent_altered(row, reason);
                break 'pages;
            }
        }
    }
    Ok(walk.finish(Some((head_seq, &head_hash))))
}

/// The log as NDJSON: each event, followed by the checkpoint signed at it, if any. From the
/// first event, or (`from`, a checkpoint's sequence number) from that checkpoint on: its line
/// first, then the events after it, so an offline check can start there.
pub fn export(conn: &mut DbConn, from: Option<i64>) -> Result<String, ApiError> {
    use crate::db::audit::AuditFilter;
    let mut checkpoints: std::collections::BTreeMap<i64, CheckpointRow> =
        CheckpointRow::all(conn)?.into_iter().map(|c| (c.seq, c)).collect();
    let mut out = String::new();
    let mut filter = AuditFilter::default();
    if let Some(from) = from {
        let anchor = checkpoints
            .remove(&from)
            .ok_or_else(|| ApiError::field("/query/from", "must be the sequence number of a signed checkpoint"))?;
        out.push_str(&serde_json::to_string(&ExportLine::Checkpoint(anchor)).map_err(ApiError::internal)?);
        out.push('\n');
        checkpoints.retain(|&seq, _| seq > from);
        filter.after_seq = Some(from);
    }
    loop {
        let page = AuditRow::list(conn, &filter, 1000)?;
        let Some(last) = page.last() else { break };
        filter.after_seq = Some(last.seq);
        for row in page {
            let seq = row.seq;
            out.push_str(&serde_json::to_string(&ExportLine::Event(Box::new(row))).map_err(ApiError::internal)?);
            out.push('\n');
            if let Some(c) = checkpoints.remove(&seq) {
                out.push_str(&serde_json::to_string(&ExportLine::Checkpoint(c)).map_err(ApiError::internal)?);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// One line of an NDJSON export.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExportLine {
    Event(Box<AuditRow>),
    Checkpoint(CheckpointRow),
}

/// Checks an NDJSON export with nothing but the signing public key. See [`verify_export_with`].
pub fn verify_export(ndjson: &str, public_key: &[u8]) -> Result<Verification, String> {
    verify_export_with(ndjson, &KeySet::single(public_key))
}

/// Checks an NDJSON export with nothing but the signing public keys. The export starts at the
/// first event, or at a signed checkpoint (its first line, before any event: then the chain is
/// checked from there on); it must end at a checkpoint to prove nothing was cut off its end.
pub fn verify_export_with(ndjson: &str, keys: &KeySet) -> Result<Verification, String> {
    let mut events = Vec::new();
    let mut checkpoints = Vec::new();
    let mut anchor = None;
    for (n, line) in ndjson.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1))? {
            ExportLine::Event(row) => events.push(*row),
            ExportLine::Checkpoint(c) if events.is_empty() && checkpoints.is_empty() && anchor.is_none() => {
                anchor = Some(c);
            }
            ExportLine::Checkpoint(c) => checkpoints.push(c),
        }
    }
    let last_checkpoint =
        checkpoints.iter().chain(anchor.as_ref()).max_by_key(|c| c.seq).map(|c| (c.seq, c.hash.clone()));
    let mut walk = ChainWalk::new(checkpoints, keys, "export");
    if let Some(c) = &anchor {
        walk.anchor(c);
    }
    for row in &events {
        if !walk.feed(row) {
            break;
        }
    }
    let mut result = walk.finish(None);
    // Anyone can chain an event onto a copy: only a signature proves where the log ended, so
    // events after the last checkpoint are not proved, and the first of them is named.
    let (signed_through, signed_hash) = last_checkpoint.unwrap_or((0, GENESIS.to_owned()));
    if result.ok && signed_through < result.verified_through {
        result.ok = false;
        result.first_broken = Some(signed_through + 1);
        result.verified_through = signed_through;
        result.head_hash = signed_hash;
        result.reason = Some(format!("no signed checkpoint covers events from {}", signed_through + 1));
    }
    Ok(result)
}
