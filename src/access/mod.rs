//! Who may see what: the rule, pure (no I/O). It answers from facts (`rule`: the patient's
//! rule; `matrix`: what each role may ever do; `consent`: which consent says yes; `duties`: the
//! directory, reports and vacancies) and keeps recently loaded facts (`cache`). The gate
//! (`crate::gate`) is the one way the domain reaches a patient's data: it loads the facts, asks
//! this rule, and records what it decided.

mod cache;
mod consent;
mod duties;
mod matrix;
mod rule;

pub use cache::{FactsCache, KeptFacts};
pub use consent::{Basis, covering};
pub use duties::{
    DirectoryWrite, may_publish_vacancies, may_read_access_log, may_review_consents, may_use_reports,
    may_write_directory,
};
pub use matrix::{Grant, MATRIX, clears_restricted, matrix_markdown, role_allows};
pub use rule::*;
