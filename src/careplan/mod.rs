//! The national care-plan data exchange CSV (ケアプランデータ連携標準仕様: 「居宅介護支援事業所と
//! 訪問介護などのサービス提供事業所間における情報連携の標準仕様」, 介護保険最新情報 vol.1156): its
//! files, their names, their columns, and the documents they become. Pure: no I/O, no access
//! rule; `domain::care_plans` files what this reads and reads what this writes.
//!
//! - `sjis`: MS932 in and out, refusing what MS932 cannot hold.
//! - `files`: the kinds of file and the file-name convention; the CSV versions read.
//! - `columns`: one column table per kind of file (the one place to correct a column).
//! - `service_types`: the サービス種類コード a service code must begin with.
//! - `records`: bytes to rows and back, by the column tables.
//! - `totals`: the 7表's 合計 record against the rows it sums.
//! - `units`: files to send units, rows to patients.
//! - `content`: rows to `care-plan` and `service-use` documents and back.

pub mod columns;
pub mod content;
pub mod files;
#[cfg(test)]
mod properties;
pub mod records;
pub mod service_types;
pub mod sjis;
pub mod totals;
pub mod units;
