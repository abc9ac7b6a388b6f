//! Rows to documents and back. A patient's plan is one `care-plan` document (its 利用者補足情報,
//! its 1表 record and its 2表 records); a patient's month is one `service-use` document (its
//! 補足, its 6表 予定 and 7表 records, and the 実績 records providers sent back). Every column
//! is kept, so a stored plan writes the files it came from again.

use serde_json::{Map, Value, json};

use super::records::Row;

/// The document type of a plan (1・2表).
pub const CARE_PLAN: &str = "care-plan";
/// The document type of a month's service use (6・7表).
pub const SERVICE_USE: &str = "service-use";
/// The schema version a plan is written at.
pub const CARE_PLAN_VERSION: &str = "1.0.0";
/// The schema version a month is written at: 1.1.0 adds the 7表's 合計 (`table7_total`);
/// months filed at 1.0.0 stay valid and are rewritten at 1.1.0 when they next change.
pub const SERVICE_USE_VERSION: &str = "1.1.0";

/// The schema version `doc_type` is written at.
pub fn schema_version(doc_type: &str) -> &'static str {
    if doc_type == SERVICE_USE { SERVICE_USE_VERSION } else { CARE_PLAN_VERSION }
}

/// The rows about one patient that make one plan.
#[derive(Debug, Clone)]
pub struct PlanRows {
    pub supplement: Row,
    pub table1: Row,
    pub table2: Vec<Row>,
}

/// The rows about one patient and month that make its planned service use.
#[derive(Debug, Clone)]
pub struct UsageRows {
    pub supplement: Row,
    /// `YYYY-MM`.
    pub month: String,
    pub planned: Vec<Row>,
    pub table7: Vec<Row>,
    /// The 7表's 合計 record, where the file has one.
    pub total: Option<Row>,
}

fn values(rows: &[Row]) -> Value {
    Value::Array(rows.iter().map(|r| Value::Object(r.values.clone())).collect())
}

/// The content of a `care-plan` document.
pub fn plan_content(rows: &PlanRows) -> Value {
    let s = &rows.supplement;
    json!({
        "csv_version": s.csv_version,
        "insurer_number": s.insurer_number,
        "insured_number": s.insured_number,
        "person": Value::Object(s.values.clone()),
        "table1": Value::Object(rows.table1.values.clone()),
        "table2": values(&rows.table2),
    })
}

/// The content of a new `service-use` document, or of one whose plan changed (`actual` is
/// what the month's document already holds, kept).
pub fn usage_content(rows: &UsageRows, actual: Value) -> Value {
    let s = &rows.supplement;
    let mut content = json!({
        "csv_version": s.csv_version,
        "insurer_number": s.insurer_number,
        "insured_number": s.insured_number,
        "month": rows.month,
        "person": Value::Object(s.values.clone()),
        "planned": values(&rows.planned),
        "table7": values(&rows.table7),
        "actual": if actual.is_array() { actual } else { json!([]) },
    });
    if let Some(total) = &rows.total {
        content["table7_total"] = Value::Object(total.values.clone());
    }
    content
}

fn text(content: &Value, key: &str) -> String {
    content[key].as_str().unwrap_or_default().to_owned()
}

/// Rows again from a stored object, in its document's lead (version and numbers).
fn row(content: &Value, line: usize, values: &Value) -> Row {
    Row {
        line,
        csv_version: text(content, "csv_version"),
        insurer_number: text(content, "insurer_number"),
        insured_number: text(content, "insured_number"),
        values: values.as_object().cloned().unwrap_or_else(Map::new),
    }
}

fn rows_of(content: &Value, key: &str, keep: impl Fn(&Value) -> bool) -> Vec<Row> {
    content[key]
        .as_array()
        .map(|items| items.iter().filter(|v| keep(v)).enumerate().map(|(i, v)| row(content, i + 1, v)).collect())
        .unwrap_or_default()
}

/// A stored plan's rows.
pub fn plan_rows(content: &Value) -> PlanRows {
    PlanRows {
        supplement: row(content, 1, &content["person"]),
        table1: row(content, 1, &content["table1"]),
        table2: rows_of(content, "table2", |_| true),
    }
}

/// A stored month's rows for one provider (or for every provider with `None`). The 合計 goes
/// with the 7表 rows only when they are all of them: a total over other providers' services
/// would tell this one what they bill, and would not sum the rows it receives.
pub fn usage_rows(content: &Value, provider: Option<&str>) -> UsageRows {
    let ours = |v: &Value| provider.is_none_or(|p| v["provider_number"].as_str() == Some(p));
    let table7 = rows_of(content, "table7", ours);
    let whole = content["table7"].as_array().is_none_or(|all| all.len() == table7.len());
    let total = (whole && content["table7_total"].is_object())
        .then(|| row(content, table7.len() + 1, &content["table7_total"]));
    UsageRows {
        supplement: row(content, 1, &content["person"]),
        month: text(content, "month"),
        planned: rows_of(content, "planned", ours),
        table7,
        total,
    }
}

/// A stored month's 実績 rows (of one provider, or all).
pub fn actual_rows(content: &Value, provider: Option<&str>) -> Vec<Row> {
    rows_of(content, "actual", |v| provider.is_none_or(|p| v["provider_number"].as_str() == Some(p)))
}

/// The month's content with `provider`'s 実績 replaced by `rows` (an empty `rows` withdraws them).
pub fn with_actual(content: &Value, provider: &str, rows: &[Row]) -> Value {
    let mut next = content.clone();
    let mut actual: Vec<Value> = content["actual"]
        .as_array()
        .map(|items| items.iter().filter(|v| v["provider_number"].as_str() != Some(provider)).cloned().collect())
        .unwrap_or_default();
    actual.extend(rows.iter().map(|r| Value::Object(r.values.clone())));
    next["actual"] = Value::Array(actual);
    next
}

/// The provider numbers a plan's 2表 names (whom the plan is for).
pub fn plan_providers(content: &Value) -> Vec<String> {
    let mut out: Vec<String> = content["table2"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["provider_number"].as_str().map(str::to_owned))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The provider numbers a month's 6表 names.
pub fn usage_providers(content: &Value) -> Vec<String> {
    let mut out: Vec<String> = content["planned"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["provider_number"].as_str().map(str::to_owned))
        .collect();
    out.sort();
    out.dedup();
    out
}
