//! Coordination between doctors, care managers and consultation desks (the guide's section E):
//! contact sheets with a life (`sheets`, `inbox`, `stats`), and contact hours (`hours`).
//!
//! A sheet is a message about a patient, or a question to a consultation desk about no patient.
//! Its addressing, state and times are stored in clear; its body and every reply are sealed. A
//! sheet about a patient is sealed under the patient's data key (erasing the patient shreds it
//! too); a desk question without a patient gets a data key of its own, wrapped by the master
//! keyring for the subject `desk-question:<sheet id>` and stored on the sheet (`keys.rs`).

pub mod hours;
pub mod inbox;
mod keys;
pub mod notice;
pub mod reachable;
pub mod sheets;
pub mod stats;
mod steps;
mod view;

pub use view::{Sender, Sheet, SheetSummary, ThreadEntry};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The document type whose consent terms govern contact sheets.
pub const SHEET_TYPE: &str = "contact-sheet";

use crate::domain::params::words;

words!(
    /// What a sheet is about.
    Category, "category", [
        /// A question (相談).
        Question = "question",
        /// A report of the patient's state (報告).
        Report = "report",
        /// A request, e.g. for an opinion or a visit (依頼).
        Request = "request",
        /// About a hospital discharge (退院調整).
        Discharge = "discharge",
        /// Anything else.
        Other = "other",
    ]
);

words!(
    /// How soon the sender needs an answer.
    Urgency, "urgency", [
        /// Within the usual days.
        Routine = "routine",
        /// Within a day or two.
        Soon = "soon",
        /// Today.
        Urgent = "urgent",
    ]
);

words!(
    /// Where a sheet is in its life.
    State, "state", [
        /// Sent; not yet in the addressee's inbox.
        Sent = "sent",
        /// In the addressee's inbox, not opened.
        Delivered = "delivered",
        /// Opened by the addressee (the read receipt).
        Read = "read",
        /// The addressee replied.
        Answered = "answered",
        /// Closed by either side.
        Closed = "closed",
        /// Passed on to another addressee, not yet opened there.
        Forwarded = "forwarded",
        /// Taken back by the sender before it was read.
        Withdrawn = "withdrawn",
    ]
);

impl State {
    /// Still waiting for an answer: counts as overdue past `reply_by`.
    pub fn is_open(self) -> bool {
        matches!(self, State::Sent | State::Delivered | State::Read | State::Forwarded)
    }

    /// The stored words of the open states.
    pub const OPEN_WORDS: [&'static str; 4] = ["sent", "delivered", "read", "forwarded"];
}

/// Whom a sheet goes to: an organisation (its whole inbox), or one practitioner of the
/// directory (its organisation is then the addressee's). Exactly one of the two.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Addressee {
    /// An organisation id of the directory, e.g. a clinic, a care-management office or a
    /// consultation desk.
    pub organization: Option<String>,
    /// A practitioner id of the directory.
    pub practitioner: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_words_are_the_wire_words() {
        for c in Category::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::json!(c.as_str()));
            assert_eq!(c.as_str().parse::<Category>().unwrap(), *c);
        }
        for u in Urgency::ALL {
            assert_eq!(serde_json::to_value(u).unwrap(), serde_json::json!(u.as_str()));
        }
        for s in State::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
            assert_eq!(s.is_open(), State::OPEN_WORDS.contains(&s.as_str()));
        }
    }
}
