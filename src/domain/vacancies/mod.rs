//! The short-stay vacancy board (ショートステイ空き情報, the guide's section F, Tsuruoka): facilities
//! publish, per service and per day, the beds they have free and the medical care they can take
//! on; care managers search it and follow it live. No patient data is involved: every
//! authenticated caller reads it (unaudited, like the directory); every publish and confirmation
//! is audited.
//!
//! Short stays are run by care facilities (短期入所生活介護 at 特養 or a stand-alone short-stay
//! home) and by hospitals and clinics with beds and 老健 (短期入所療養介護), so the posting names
//! the service, and the organisation keeps its kind.

mod publish;
mod query;
mod search;
mod stream;
mod types;

pub use publish::{confirm, get, publish};
pub use query::SearchParams;
pub use search::{SearchQuery, VacancySearchResult, search};
pub use stream::{Next, Stream, VacancyChange, VacancyChangePage, changes, open_stream};
pub use types::{
    Bed, BedSex, CareNeed, DayVacancy, RoomType, ShortStayService, Vacancy, VacancyContact, VacancyDayInput,
    VacancyFacility, VacancyPosting, VacancyPostingInput,
};

use crate::domain::directory::OrganizationKind;

/// Organisation kinds that run short stays and so may have a board.
pub const FACILITY_KINDS: [OrganizationKind; 3] =
    [OrganizationKind::CareFacility, OrganizationKind::Hospital, OrganizationKind::Clinic];

/// Days ahead a posting may reach (a little over a year).
pub const MAX_DAYS_AHEAD: i64 = 400;
/// Days one search may span.
pub const MAX_SEARCH_DAYS: i64 = 92;
