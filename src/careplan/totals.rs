//! The 7表's totals (サービス利用票別表, 区分支給限度管理・利用者負担計算): a patient's 合計 record
//! against the service records it sums. The office's software computes both; a file whose
//! total disagrees with its own rows was cut or edited by hand, and filing it would show the
//! team a month whose 限度額 sums do not hold. So a disagreement refuses the upload, naming the
//! 合計 record and the column.
//!
//! What is checked: each summed column of the 合計 record (a blank counts as 0 on both sides)
//! is the sum of that column over the patient's service records, and the units within the
//! 区分支給限度基準 do not exceed the 区分支給限度基準額 the 合計 record states. The per-row
//! arithmetic (単位数 × 回数, the price, the rate, rounding) is the fee table's and the
//! insurer's, and varies with 公費 and 減免; it is not checked here.

use serde_json::Value;

use super::columns::{TOTAL, USAGE7_TOTAL};
use super::records::{Problem, Row};

/// The members of the 合計 record that sum the service records' same members.
pub const SUMMED: &[&str] = &[
    "service_units",
    "over_type_limit",
    "within_type_limit",
    "over_limit",
    "within_limit",
    "total_cost",
    "benefit",
    "copay",
    "copay_full",
];

/// Whether a 7表 row is a 合計 record.
pub fn is_total(row: &Row) -> bool {
    row.values.get("service_name").and_then(Value::as_str) == Some(TOTAL)
}

fn number(row: &Row, key: &str) -> u64 {
    row.values.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// The column number (from 1) of a member of the 合計 record.
fn column(key: &str) -> usize {
    USAGE7_TOTAL.iter().position(|c| c.key == key).map_or(0, |i| i + 1)
}

/// A patient's 7表 rows, in file order, split into the service records and the 合計 record
/// (at most one, after the services), with the problems of that order.
pub fn split(rows: Vec<Row>) -> (Vec<Row>, Option<Row>, Vec<Problem>) {
    let (mut lines, mut total, mut problems) = (Vec::new(), None::<Row>, Vec::new());
    for row in rows {
        if is_total(&row) {
            if total.is_some() {
                problems.push(Problem::new(row.line, 8, "a second 合計 record for this 被保険者番号"));
            }
            total = Some(row);
        } else {
            if let Some(t) = &total {
                let reason = format!("the 合計 record (record {}) must follow this 被保険者番号's services", t.line);
                problems.push(Problem::new(row.line, 8, reason));
            }
            lines.push(row);
        }
    }
    (lines, total, problems)
}

/// Every way the 合計 record disagrees with the service records, named by its row and column.
pub fn check(lines: &[Row], total: &Row) -> Vec<Problem> {
    let mut problems = Vec::new();
    for key in SUMMED {
        let sum: u64 = lines.iter().map(|r| number(r, key)).sum();
        let stated = number(total, key);
        if sum != stated {
            let name = USAGE7_TOTAL[column(key) - 1].name;
            let reason = format!("{name} is {stated}; the service records sum to {sum}");
            problems.push(Problem::new(total.line, column(key), reason));
        }
    }
    let (within, limit) = (number(total, "within_limit"), number(total, "limit_units"));
    if within > limit {
        let reason = format!("区分支給限度基準内単位数 合計 {within} exceeds the 区分支給限度基準額 {limit}");
        problems.push(Problem::new(total.line, column("within_limit"), reason));
    }
    problems
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use serde_json::{Map, json};

    use super::*;

    fn row(line: usize, values: Value) -> Row {
        let values: Map<String, Value> = values.as_object().unwrap().clone();
        Row { line, csv_version: "202306".into(), insurer_number: "332106".into(), insured_number: "1".into(), values }
    }

    #[test]
    fn a_total_that_sums_its_rows_passes_and_one_that_does_not_names_its_column() {
        let a = row(
            1,
            json!({"service_units": 6786, "within_limit": 6786, "total_cost": 69692, "benefit": 62722, "copay": 6970}),
        );
        let b = row(
            2,
            json!({"service_units": 1000, "within_limit": 1000, "total_cost": 10270, "benefit": 9243, "copay": 1027}),
        );
        let total = json!({"service_name": TOTAL, "limit_units": 19705, "service_units": 7786, "within_limit": 7786,
            "total_cost": 79962, "benefit": 71965, "copay": 7997});
        let (lines, found, problems) = split(vec![a, b, row(3, total.clone())]);
        assert!(problems.is_empty());
        assert_eq!(check(&lines, &found.unwrap()), vec![]);

        let mut wrong = total;
        wrong["copay"] = json!(7996);
        wrong["limit_units"] = json!(5000);
        let problems = check(&lines, &row(3, wrong));
        assert_eq!(problems.iter().map(|p| (p.row, p.column)).collect::<Vec<_>>(), vec![(3, 22), (3, 17)]);
        assert!(problems[0].reason.contains("7996") && problems[0].reason.contains("7997"), "{problems:?}");
    }

    #[test]
    fn a_total_comes_once_and_last() {
        let t = || row(1, json!({"service_name": TOTAL}));
        let (_, _, problems) = split(vec![t(), row(2, json!({})), t()]);
        assert_eq!(problems.iter().map(|p| (p.row, p.column)).collect::<Vec<_>>(), vec![(2, 8), (1, 8)]);
    }
}
