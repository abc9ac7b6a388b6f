//! Who may see what, in one place. The rule (`rule`, `matrix`, `consent`, `duties`) is pure: it
//! answers from facts and never touches the database. The gate (`gate`) is the one way the
//! domain reaches a patient's data: it loads the facts (`facts`, kept between requests), asks the
//! rule, opens or honours a break-glass grant (`break_glass`), and notes on the audit event what
//! was decided and why.

pub mod break_glass;
mod consent;
mod duties;
mod facts;
mod gate;
mod matrix;
mod rule;

pub use consent::{Basis, covering};
pub use duties::{DirectoryWrite, may_publish_vacancies, may_review_consents, may_use_reports, may_write_directory};
pub use facts::{FactsCache, KeptFacts, consent_terms, facts};
pub use gate::{Admitted, Want, admits, allows, authorize, authorize_loaded};
pub use matrix::{Grant, MATRIX, clears_restricted, matrix_markdown, role_allows};
pub use rule::*;
