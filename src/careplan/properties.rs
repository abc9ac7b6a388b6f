//! Property tests of the format: any rows a column table allows write to a file that reads back
//! to the same rows, and any plan or month stored as a document writes the rows it came from.
//! The cases come from a seeded generator (ChaCha8, already a dependency for the demo region),
//! so a failure names its seed and repeats.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

use super::columns::{CARE_LEVELS, Column, Kind, LEAD, USAGE7_TOTAL};
use super::content::{self, PlanRows, UsageRows};
use super::files::{CSV_VERSIONS, FileKind};
use super::records::{self, Row};

/// Characters a field may hold: kana of both widths, kanji, MS932's own symbols, the CSV's
/// specials (comma, quote, line breaks) and plain ASCII.
const POOL: &[char] = &[
    'a', 'Z', '0', '9', ' ', ',', '"', '\r', '\n', '-', 'ｱ', 'ﾞ', 'ﾟ', 'ｰ', 'ア', 'ン', 'ヴ', 'が', '山', '田', '髙',
    '﨑', '①', 'Ⅰ', '㈱', '～', '・', '「', '」', '、', '。', '〒', '♪', '※', '○', '※', 'ｶ', '\u{3000}',
];

fn text(rng: &mut ChaCha8Rng, max: usize) -> String {
    let n = rng.gen_range(1..=max.min(12));
    (0..n).map(|_| POOL[rng.gen_range(0..POOL.len())]).collect()
}

fn digits(rng: &mut ChaCha8Rng, n: usize) -> String {
    (0..n).map(|_| char::from(b'0' + rng.gen_range(0..10u8))).collect()
}

/// A value a column allows, or `None` (blank) for an optional one now and then.
fn value(rng: &mut ChaCha8Rng, column: &Column) -> Option<Value> {
    if !column.required && rng.gen_bool(0.2) {
        return None;
    }
    let s = |s: String| Some(Value::String(s));
    match column.kind {
        Kind::Text(max) => s(text(rng, max)),
        Kind::ServiceKind => s(text(rng, 100)),
        Kind::Digits(n) => s(digits(rng, n)),
        Kind::Date => {
            s(format!("{:04}-{:02}-{:02}", rng.gen_range(1900..2100), rng.gen_range(1..=12), rng.gen_range(1..=28)))
        }
        Kind::Month => s(format!("{:04}-{:02}", rng.gen_range(2000..2100), rng.gen_range(1..=12))),
        Kind::Time => s(format!("{:02}{:02}", rng.gen_range(0..24), rng.gen_range(0..60))),
        Kind::Int(n) => Some(Value::from(rng.gen_range(0..10u64.pow(u32::try_from(n.min(9)).unwrap_or(9))))),
        Kind::Day(_) => Some(Value::from(rng.gen_range(0..100u64))),
        Kind::Decimal => s(format!("{}.{:02}", rng.gen_range(0..100), rng.gen_range(0..100))),
        Kind::Code(codes) => {
            let codes: Vec<&&str> = codes.iter().filter(|c| !c.is_empty()).collect();
            s((*codes[rng.gen_range(0..codes.len())]).to_owned())
        }
        Kind::ServiceCode => s(format!("{}{}", ["11", "13", "15", "43", "A2"][rng.gen_range(0..5)], digits(rng, 4))),
        Kind::Blank => None,
    }
}

fn row(rng: &mut ChaCha8Rng, kind: FileKind, line: usize, who: (&str, &str)) -> Row {
    row_of(rng, kind.columns(), line, who)
}

/// A 7表 合計 record (its sums are not those of any rows: the format does not check them).
fn total(rng: &mut ChaCha8Rng, line: usize, who: (&str, &str)) -> Row {
    row_of(rng, USAGE7_TOTAL, line, who)
}

fn row_of(rng: &mut ChaCha8Rng, columns: &[Column], line: usize, who: (&str, &str)) -> Row {
    let mut values = Map::new();
    let mut days = vec![Value::Null; 31];
    for column in &columns[LEAD..] {
        let v = value(rng, column);
        match (column.kind, v) {
            (Kind::Day(d), Some(v)) => days[usize::from(d) - 1] = v,
            (Kind::Day(_), None) => {}
            (_, Some(v)) => {
                values.insert(column.key.to_owned(), v);
            }
            (_, None) => {}
        }
    }
    if columns.iter().any(|c| matches!(c.kind, Kind::Day(_))) {
        values.insert("days".into(), Value::Array(days));
    }
    Row {
        line,
        csv_version: CSV_VERSIONS[0].to_owned(),
        insurer_number: who.0.to_owned(),
        insured_number: who.1.to_owned(),
        values,
    }
}

#[test]
fn any_rows_write_and_read_back() {
    for seed in 0..300u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for kind in FileKind::ALL {
            let n = rng.gen_range(1..5);
            let mut rows: Vec<Row> = (1..=n).map(|i| row(&mut rng, kind, i, ("332106", "9900000001"))).collect();
            if kind == FileKind::Usage7 && rng.gen_bool(0.5) {
                rows.push(total(&mut rng, n + 1, ("332106", "9900000001")));
            }
            let bytes = records::write(kind, &rows).unwrap_or_else(|p| panic!("seed {seed} {kind:?}: {p:?}"));
            let back = records::read(kind, &bytes).unwrap_or_else(|p| panic!("seed {seed} {kind:?}: {p:?}"));
            assert_eq!(back, rows, "seed {seed} {kind:?}");
            assert_eq!(records::write(kind, &back).ok(), Some(bytes), "seed {seed} {kind:?}: not byte-exact");
        }
    }
}

#[test]
fn any_stored_plan_or_month_writes_its_rows_again() {
    for seed in 0..200u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let who = ("332106", "9900000002");
        let plan = PlanRows {
            supplement: row(&mut rng, FileKind::Supplement, 1, who),
            table1: row(&mut rng, FileKind::Plan1, 1, who),
            table2: (1..=rng.gen_range(1..6)).map(|i| row(&mut rng, FileKind::Plan2, i, who)).collect(),
        };
        let again = content::plan_rows(&content::plan_content(&plan));
        assert_eq!(again.supplement, plan.supplement, "seed {seed}");
        assert_eq!(again.table1, plan.table1, "seed {seed}");
        assert_eq!(again.table2, plan.table2, "seed {seed}");
        let n7 = rng.gen_range(0..4);
        let usage = UsageRows {
            supplement: plan.supplement.clone(),
            month: "2026-04".into(),
            planned: (1..=rng.gen_range(1..4)).map(|i| row(&mut rng, FileKind::Usage6, i, who)).collect(),
            table7: (1..=n7).map(|i| row(&mut rng, FileKind::Usage7, i, who)).collect(),
            total: rng.gen_bool(0.5).then(|| total(&mut rng, n7 + 1, who)),
        };
        let stored = content::usage_content(&usage, Value::Array(Vec::new()));
        let back = content::usage_rows(&stored, None);
        assert_eq!((back.planned, back.table7, back.month), (usage.planned, usage.table7, usage.month), "seed {seed}");
        assert_eq!(back.total, usage.total, "seed {seed}");
    }
}

#[test]
fn care_levels_are_codes() {
    assert!(CARE_LEVELS.iter().all(|c| c.len() == 2));
}
