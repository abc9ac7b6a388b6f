//! The audit log: an event for every access to patient data (read, list, search, write, denial),
//! every consent change, break-glass, key rotation and erasure. Events name who, what, which
//! patient and resource, and the outcome; never clinical content.
//!
//! Each event's hash is SHA-256 over the previous hash and a canonical encoding of the event, so
//! changing, inserting or removing any event breaks every later hash. A write's event commits in
//! the write's own transaction; a read's event commits before the response leaves.

use actix_web::HttpRequest;
use serde_json::json;

use crate::auth::Caller;
use crate::clock;
use crate::db::audit::{AuditRow, CheckpointRow, advance_head, set_head_hash};
use crate::db::{DbConn, write_tx};
use crate::error::ApiError;
use crate::request_id::RequestId;

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event being assembled by a handler; the outcome is filled in from the result.
#[derive(Debug, Clone)]
pub struct Event {
    pub action: &'static str,
    pub actor_sub: String,
    pub actor_org: String,
    pub actor_role: String,
    pub patient_id: Option<String>,
    pub resource_type: Option<&'static str>,
    pub resource_id: Option<String>,
    pub resource_version: Option<i32>,
    pub purpose: String,
    pub break_glass: bool,
    pub break_glass_reason: Option<String>,
    pub request_id: String,
    /// The `X-Break-Glass` header as sent; the access rule checks it.
    pub requested_break_glass: Option<String>,
}

impl Event {
    pub fn new(caller: &Caller, req: &HttpRequest, action: &'static str) -> Self {
        use actix_web::HttpMessage;
        Self {
            action,
            actor_sub: caller.sub.clone(),
            actor_org: caller.org.clone(),
            actor_role: caller.role.as_str().to_owned(),
            patient_id: None,
            resource_type: None,
            resource_id: None,
            resource_version: None,
            purpose: crate::access::purpose_of(caller).to_owned(),
            break_glass: false,
            break_glass_reason: None,
            request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default(),
            requested_break_glass: req
                .headers()
                .get("x-break-glass")
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        }
    }

    /// An event of the operator's own tools (key rotation), with no HTTP request behind it.
    pub fn system(action: &'static str) -> Self {
        Self {
            action,
            actor_sub: "carepath".into(),
            actor_org: "carepath".into(),
            actor_role: "system".into(),
            patient_id: None,
            resource_type: None,
            resource_id: None,
            resource_version: None,
            purpose: "operations".into(),
            break_glass: false,
            break_glass_reason: None,
            request_id: String::new(),
            requested_break_glass: None,
        }
    }

    pub fn patient(mut self, id: &str) -> Self {
        self.patient_id = Some(id.to_owned());
        self
    }

    pub fn resource(mut self, kind: &'static str, id: &str) -> Self {
        self.resource_type = Some(kind);
        self.resource_id = Some(id.to_owned());
        self
    }
}

/// The canonical encoding that the hash covers: a JSON array in fixed field order.
pub fn canonical(row: &AuditRow) -> String {
    json!([
        row.seq,
        row.at,
        row.actor_sub,
        row.actor_org,
        row.actor_role,
        row.action,
        row.patient_id,
        row.resource_type,
        row.resource_id,
        row.resource_version,
        row.outcome,
        row.status,
        row.purpose,
        row.break_glass,
        row.break_glass_reason,
        row.request_id,
    ])
    .to_string()
}

pub fn chain_hash(prev: &str, canonical: &str) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(prev.as_bytes());
    ctx.update(b"\n");
    ctx.update(canonical.as_bytes());
    crate::crypto::keyfile::hex(ctx.finish().as_ref())
}

/// Appends one event (call inside a write transaction). Returns its sequence number.
pub fn append(conn: &mut DbConn, event: &Event, outcome: &str, status: u16) -> Result<i64, ApiError> {
    append_all(conn, &[(event, outcome, status)])
}

/// Appends events in order (call inside a write transaction): the head moves once for all of
/// them. Returns the last sequence number.
pub fn append_all(conn: &mut DbConn, events: &[(&Event, &str, u16)]) -> Result<i64, ApiError> {
    let n = i64::try_from(events.len()).map_err(ApiError::internal)?;
    let (last, mut prev_hash) = advance_head(conn, n)?;
    let at = clock::now();
    for (seq, (event, outcome, status)) in (last - n + 1..).zip(events) {
        let mut row = AuditRow {
            seq,
            at: at.clone(),
            actor_sub: event.actor_sub.clone(),
            actor_org: event.actor_org.clone(),
            actor_role: event.actor_role.clone(),
            action: event.action.to_owned(),
            patient_id: event.patient_id.clone(),
            resource_type: event.resource_type.map(str::to_owned),
            resource_id: event.resource_id.clone(),
            resource_version: event.resource_version,
            outcome: (*outcome).to_owned(),
            status: i32::from(*status),
            purpose: event.purpose.clone(),
            break_glass: event.break_glass,
            break_glass_reason: event.break_glass_reason.clone(),
            request_id: event.request_id.clone(),
            prev_hash,
            hash: String::new(),
        };
        row.hash = chain_hash(&row.prev_hash, &canonical(&row));
        row.insert(conn)?;
        prev_hash = row.hash;
    }
    set_head_hash(conn, &prev_hash)?;
    Ok(last)
}

/// The outcome word and status an error stands for.
fn outcome_of(error: &ApiError) -> (&'static str, u16) {
    use actix_web::ResponseError;
    let status = error.status_code().as_u16();
    let outcome = match error {
        ApiError::Forbidden(_) | ApiError::NotFound(_) | ApiError::Unauthorized(_) => "denied",
        ApiError::Internal(_) | ApiError::ServiceUnavailable(_) => "failed",
        _ => "rejected",
    };
    (outcome, status)
}

/// Runs a read and records it (or its denial) durably before the answer leaves.
pub fn read<T>(
    conn: &mut DbConn,
    recorder: &crate::recorder::Recorder,
    mut event: Event,
    f: impl FnOnce(&mut DbConn, &mut Event) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let result = f(conn, &mut event);
    let (outcome, status) = match &result {
        Ok(_) => ("allowed", 200),
        Err(e) => outcome_of(e),
    };
    recorder.record(event, outcome, status)?;
    result
}

/// Runs a write in one transaction with its audit event. A refused write is recorded on its own
/// (its transaction rolled back, so nothing else of it remains).
pub fn write<T>(
    conn: &mut DbConn,
    mut event: Event,
    success_status: u16,
    f: impl FnOnce(&mut DbConn, &mut Event) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let result = write_tx(conn, |tx| {
        let value = f(tx, &mut event)?;
        append(tx, &event, "allowed", success_status)?;
        Ok(value)
    });
    if let Err(e) = &result {
        let (outcome, status) = outcome_of(e);
        if outcome != "failed" {
            write_tx(conn, |tx| append(tx, &event, outcome, status))?;
        }
    }
    result
}

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
}

/// Walks the chain event by event; shared by the live check and the check of an export.
struct ChainWalk<'k> {
    prev: String,
    expected: i64,
    first_broken: Option<i64>,
    checkpoints: std::collections::BTreeMap<i64, CheckpointRow>,
    public_key: &'k [u8],
    checkpoints_verified: u64,
}

impl<'k> ChainWalk<'k> {
    fn new(checkpoints: Vec<CheckpointRow>, public_key: &'k [u8]) -> Self {
        Self {
            prev: GENESIS.to_owned(),
            expected: 1,
            first_broken: None,
            checkpoints: checkpoints.into_iter().map(|c| (c.seq, c)).collect(),
            public_key,
            checkpoints_verified: 0,
        }
    }

    /// Feeds the next event; false once the chain is broken (the rest is not looked at).
    fn feed(&mut self, row: &AuditRow) -> bool {
        if self.first_broken.is_some() {
            return false;
        }
        let intact = row.seq == self.expected
            && row.prev_hash == self.prev
            && chain_hash(&self.prev, &canonical(row)) == row.hash;
        let signed =
            self.checkpoints.get(&row.seq).is_none_or(|c| c.hash == row.hash && verify_checkpoint(c, self.public_key));
        if !(intact && signed) {
            self.first_broken = Some(self.expected);
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
        let through = self.expected - 1;
        if self.first_broken.is_none() {
            let short = head.is_some_and(|(seq, hash)| seq != through || hash != self.prev);
            // A checkpoint beyond the last event means events were cut off the end.
            let cut = self.checkpoints.keys().any(|&seq| seq > through);
            if short || cut {
                self.first_broken = Some(self.expected);
            }
        }
        Verification {
            ok: self.first_broken.is_none(),
            verified_through: through,
            first_broken: self.first_broken,
            checkpoints_verified: self.checkpoints_verified,
            head_hash: self.prev,
        }
    }
}

/// Recomputes every hash from the first event on, in pages, and checks every checkpoint.
pub fn verify(conn: &mut DbConn, public_key: &[u8]) -> Result<Verification, ApiError> {
    use crate::db::audit::{AuditFilter, head};
    let (head_seq, head_hash) = head(conn)?;
    let mut walk = ChainWalk::new(CheckpointRow::all(conn)?, public_key);
    let mut filter = AuditFilter::default();
    'pages: loop {
        let page = AuditRow::list(conn, &filter, 1000)?;
        let Some(last) = page.last() else { break };
        filter.after_seq = Some(last.seq);
        for row in &page {
            if !walk.feed(row) {
                break 'pages;
            }
        }
    }
    Ok(walk.finish(Some((head_seq, &head_hash))))
}

/// The whole log as NDJSON: each event, followed by the checkpoint signed at it, if any.
pub fn export(conn: &mut DbConn) -> Result<String, ApiError> {
    use crate::db::audit::AuditFilter;
    let mut checkpoints: std::collections::BTreeMap<i64, CheckpointRow> =
        CheckpointRow::all(conn)?.into_iter().map(|c| (c.seq, c)).collect();
    let mut out = String::new();
    let mut filter = AuditFilter::default();
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

/// Checks an NDJSON export with nothing but the signing public key. The export must start at
/// the first event; it must end at a checkpoint to prove nothing was cut off its end.
pub fn verify_export(ndjson: &str, public_key: &[u8]) -> Result<Verification, String> {
    let mut events = Vec::new();
    let mut checkpoints = Vec::new();
    for (n, line) in ndjson.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1))? {
            ExportLine::Event(row) => events.push(*row),
            ExportLine::Checkpoint(c) => checkpoints.push(c),
        }
    }
    let last_checkpoint = checkpoints.iter().max_by_key(|c| c.seq).map(|c| (c.seq, c.hash.clone()));
    let mut walk = ChainWalk::new(checkpoints, public_key);
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
    }
    Ok(result)
}

/// The message a checkpoint signs.
fn checkpoint_message(seq: i64, hash: &str, signed_at: &str) -> String {
    format!("carepath:audit-checkpoint:v1\n{seq}\n{hash}\n{signed_at}")
}

fn verify_checkpoint(c: &CheckpointRow, public_key: &[u8]) -> bool {
    use base64::Engine;
    let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(&c.signature) else { return false };
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, public_key)
        .verify(checkpoint_message(c.seq, &c.hash, &c.signed_at).as_bytes(), &signature)
        .is_ok()
}

/// The Ed25519 key that signs checkpoints: `audit-signing.pem` in the data directory (0600),
/// made on first start. Its public key is what an offline verifier needs.
pub struct Signer {
    pair: ring::signature::Ed25519KeyPair,
    pub key_id: String,
}

const SIGNING_KEY_FILE: &str = "audit-signing.pem";

impl Signer {
    pub fn load_or_create(data_dir: &std::path::Path) -> Result<Self, String> {
        let path = data_dir.join(SIGNING_KEY_FILE);
        let file = crate::crypto::keyfile::KeyFile::open(data_dir, SIGNING_KEY_FILE, "audit signing key")
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let pair = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&file.pkcs8)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Self { pair, key_id: file.kid })
    }

    /// The public key as `GET /v1/audit-events/public-key` and `carepath audit public-key` show it.
    pub fn public_key_base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(self.public_key())
    }

    pub fn public_key(&self) -> Vec<u8> {
        use ring::signature::KeyPair;
        self.pair.public_key().as_ref().to_vec()
    }

    /// Signs the chain's head if it moved since the last checkpoint and either `every` events
    /// passed or the last checkpoint is older than `max_age`. Returns the new checkpoint.
    pub fn checkpoint(
        &self,
        conn: &mut DbConn,
        every: i64,
        max_age: time::Duration,
    ) -> Result<Option<CheckpointRow>, ApiError> {
        use base64::Engine;
        write_tx(conn, |tx| {
            let (seq, hash) = crate::db::audit::head(tx)?;
            let last = CheckpointRow::latest(tx)?;
            let (last_seq, last_at) = last.map_or((0, None), |c| (c.seq, Some(c.signed_at)));
            let old = last_at.is_none_or(|at| at < clock::format(time::OffsetDateTime::now_utc() - max_age));
            if seq == last_seq || (seq - last_seq < every && !old) {
                return Ok(None);
            }
            let signed_at = clock::now();
            let signature = self.pair.sign(checkpoint_message(seq, &hash, &signed_at).as_bytes());
            let row = CheckpointRow {
                seq,
                hash,
                signed_at,
                key_id: self.key_id.clone(),
                signature: base64::engine::general_purpose::STANDARD.encode(signature.as_ref()),
            };
            row.insert(tx)?;
            Ok(Some(row))
        })
    }
}
