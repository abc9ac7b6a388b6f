//! Break-glass openings for review. One opening (a grant: a practitioner breaking the glass on
//! one patient's record, with one reason) records an event for every read made under it; the
//! auditor reviews the opening once, not each read. The events of an opening share the grant
//! reference their `break_glass_reason` holds (`grant:<id>`); events older than grants hold the
//! reason's text, and then actor, patient and text together make the opening.

use std::collections::HashMap;
use std::sync::Arc;

use crate::access::{self, Action, Resource};
use crate::audit::Event;
use crate::context::Context;
use crate::db::audit::{AuditRow, BreakGlassMark, ReviewRow};
use crate::error::ApiError;
use crate::state::AppState;

use super::{AuditEvent, Review, with_reasons};

/// Openings shown on one page at most.
pub const MAX_OPENINGS: usize = 200;

/// One break-glass opening: the event that opened it (whose review stands for the opening), how
/// many events it covers, and the last of them.
#[derive(Debug)]
pub struct Opening {
    /// The first event, its reason opened from the grant; review the opening by its `seq`.
    pub first: AuditEvent,
    /// Events recorded under the opening.
    pub events: usize,
    /// When the last of them happened (RFC 3339).
    pub last_at: String,
    /// The review of the opening (made on any of its events).
    pub review: Option<Review>,
}

/// A page of openings: still to review (oldest first, as a queue is worked) or reviewed (the
/// latest review first).
#[derive(Debug)]
pub struct Openings {
    /// The openings of this page.
    pub items: Vec<Opening>,
    /// Openings in this list, all pages.
    pub total: usize,
    /// Openings in the other list (reviewed, when this one is the queue; and the reverse).
    pub others: usize,
    /// Where this page starts among them.
    pub offset: usize,
}

/// Openings grouped from the marks: (key, seqs), in the order of their first event.
fn group(marks: Vec<BreakGlassMark>) -> Vec<Vec<i64>> {
    let mut at: HashMap<(Option<String>, String, Option<String>), usize> = HashMap::new();
    let mut groups: Vec<Vec<i64>> = Vec::new();
    for mark in marks {
        let key = (mark.reason, mark.actor_sub, mark.patient_id);
        match at.get(&key) {
            Some(&i) => groups.get_mut(i).into_iter().for_each(|g| g.push(mark.seq)),
            None => {
                at.insert(key, groups.len());
                groups.push(vec![mark.seq]);
            }
        }
    }
    groups
}

/// The break-glass openings, reviewed or not, a page at a time (auditor).
pub async fn openings(
    state: &Arc<AppState>,
    ctx: Context,
    reviewed: bool,
    offset: usize,
    limit: usize,
) -> Result<Openings, ApiError> {
    super::super::read(state, Event::new(&ctx, "audit.read"), move |conn, st, _| {
        access::check(&ctx.caller, Resource::Audit, Action::Read)?;
        if !(1..=MAX_OPENINGS).contains(&limit) {
            return Err(ApiError::field("/query/limit", format!("must be between 1 and {MAX_OPENINGS}")));
        }
        let groups = group(AuditRow::break_glass_marks(conn)?);
        let mut reviews: HashMap<i64, ReviewRow> =
            ReviewRow::all(conn)?.into_iter().map(|r| (r.event_seq, r)).collect();
        let mut done = Vec::new();
        let mut open = Vec::new();
        for seqs in groups {
            let review = seqs.iter().find_map(|s| reviews.remove(s));
            match review {
                Some(review) => done.push((seqs, Some(review))),
                None => open.push((seqs, None)),
            }
        }
        done.sort_by(|a, b| b.1.as_ref().map(|r| &r.reviewed_at).cmp(&a.1.as_ref().map(|r| &r.reviewed_at)));
        let (list, others) = if reviewed { (done, open.len()) } else { (open, done.len()) };
        let total = list.len();
        let page: Vec<_> = list.into_iter().skip(offset).take(limit).collect();
        let firsts: Vec<i64> = page.iter().filter_map(|(seqs, _)| seqs.first().copied()).collect();
        let lasts: Vec<i64> = page.iter().filter_map(|(seqs, _)| seqs.last().copied()).collect();
        let last_at: HashMap<i64, String> =
            AuditRow::of_seqs(conn, &lasts)?.into_iter().map(|r| (r.seq, r.at)).collect();
        let opened = AuditRow::of_seqs(conn, &firsts)?;
        let mut first: HashMap<i64, AuditEvent> =
            with_reasons(conn, st, opened)?.into_iter().map(|e| (e.event.seq, e)).collect();
        let items = page
            .into_iter()
            .filter_map(|(seqs, review)| {
                let opened = first.remove(seqs.first()?)?;
                Some(Opening {
                    last_at: seqs
                        .last()
                        .and_then(|s| last_at.get(s))
                        .cloned()
                        .unwrap_or_else(|| opened.event.at.clone()),
                    events: seqs.len(),
                    review: review.map(Review::from),
                    first: opened,
                })
            })
            .collect();
        Ok(Openings { items, total, others, offset })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(seq: i64, grant: &str, actor: &str) -> BreakGlassMark {
        BreakGlassMark {
            seq,
            reason: Some(format!("grant:{grant}")),
            actor_sub: actor.into(),
            patient_id: Some("p".into()),
        }
    }

    #[test]
    fn the_events_of_one_grant_are_one_opening_in_the_order_of_their_first_event() {
        let marks = vec![
            mark(3, "a", "dr"),
            mark(5, "b", "dr"),
            mark(8, "a", "dr"),
            mark(9, "b", "dr"),
            mark(12, "c", "nurse"),
        ];
        assert_eq!(group(marks), vec![vec![3, 8], vec![5, 9], vec![12]]);
    }
}
