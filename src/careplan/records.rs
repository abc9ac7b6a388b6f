//! A file's bytes to rows and back, by its column table. Reading: MS932 decoded (a bad byte is
//! refused with its offset and row), comma-separated records with double-quote quoting (a
//! quote inside a quoted field doubled), CRLF or LF between records, no header line; every
//! record must have its kind's column count and every value its column's shape. Writing: every
//! field in double quotes, CRLF after every record, MS932; a character MS932 cannot hold is
//! refused, never replaced.

use serde_json::{Map, Value};

use super::columns::{Column, Kind, LEAD};
use super::files::{CSV_VERSIONS, FileKind};
use super::{service_types, sjis};

/// One record of a file: the patient it is about and its values by member.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The record's number in the file, from 1.
    pub line: usize,
    pub csv_version: String,
    pub insurer_number: String,
    pub insured_number: String,
    /// The other columns by their member (`days` holds the 31 day counts, `null` for blank).
    pub values: Map<String, Value>,
}

/// What is wrong with one place of a file: the record (from 1; 0 for the file as a whole) and
/// the column (from 1, as the specification numbers them; 0 for the whole record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub row: usize,
    pub column: usize,
    pub reason: String,
}

impl Problem {
    pub fn new(row: usize, column: usize, reason: impl Into<String>) -> Self {
        Self { row, column, reason: reason.into() }
    }
}

/// Reads a whole file of `kind`: every problem of every record, or every record.
pub fn read(kind: FileKind, bytes: &[u8]) -> Result<Vec<Row>, Vec<Problem>> {
    let text = sjis::decode(bytes).map_err(|e| {
        let offset = match e {
            sjis::SjisError::Malformed { offset } | sjis::SjisError::Gaiji { offset } => offset,
            sjis::SjisError::Unmappable { .. } => 0,
        };
        // The row is the number of line ends before the bad byte, plus one.
        let row = bytes[..offset.min(bytes.len())].iter().filter(|b| **b == b'\n').count() + 1;
        vec![Problem::new(row, 0, e.to_string())]
    })?;
    let columns = kind.columns();
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let (mut rows, mut problems) = (Vec::new(), Vec::new());
    for (i, record) in reader.records().enumerate() {
        let line = i + 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(Problem::new(line, 0, format!("not a CSV record: {e}")));
                continue;
            }
        };
        if record.len() != columns.len() {
            let reason = format!("{} columns; a {} record has {}", record.len(), kind.title(), columns.len());
            problems.push(Problem::new(line, 0, reason));
            continue;
        }
        // Where the 7表's サービス内容/種類 sits (column 8) decides which of its tables reads it.
        let columns = kind.record_columns(record.get(7));
        match row_of(line, columns, &record) {
            Ok(row) => rows.push(row),
            Err(mut more) => problems.append(&mut more),
        }
    }
    if problems.is_empty() { Ok(rows) } else { Err(problems) }
}

fn row_of(line: usize, columns: &[Column], record: &csv::StringRecord) -> Result<Row, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut values = Map::new();
    let mut days = vec![Value::Null; 31];
    for (i, (column, raw)) in columns.iter().zip(record.iter()).enumerate() {
        let no = i + 1;
        if no == 1 && !CSV_VERSIONS.contains(&raw) {
            let reason =
                if raw.is_empty() { "missing CSV version".to_owned() } else { format!("unknown CSV version {raw:?}") };
            problems.push(Problem::new(line, no, reason));
            continue;
        }
        match value_of(column, raw) {
            Err(reason) => problems.push(Problem::new(line, no, format!("{}: {reason}", column.name))),
            Ok(None) => {}
            Ok(Some(value)) => match column.kind {
                Kind::Day(d) => days[usize::from(d) - 1] = value,
                _ if column.key.is_empty() => {}
                _ => {
                    values.insert(column.key.to_owned(), value);
                }
            },
        }
    }
    if columns.iter().any(|c| matches!(c.kind, Kind::Day(_))) {
        values.insert("days".into(), Value::Array(days));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Row {
        line,
        csv_version: record[0].to_owned(),
        insurer_number: record[1].to_owned(),
        insured_number: record[2].to_owned(),
        values,
    })
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// One value as stored, `None` for a blank optional one, or why it is not one.
fn value_of(column: &Column, raw: &str) -> Result<Option<Value>, String> {
    if raw.is_empty() {
        return if column.required { Err("required".into()) } else { Ok(None) };
    }
    if raw.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        return Err("control characters are not allowed".into());
    }
    let text = |s: &str| Ok(Some(Value::String(s.to_owned())));
    match column.kind {
        Kind::Text(max) if raw.chars().count() > max => Err(format!("at most {max} characters")),
        Kind::ServiceKind if raw.chars().count() > 100 => Err("at most 100 characters".into()),
        Kind::Text(_) | Kind::ServiceKind => text(raw),
        Kind::Digits(n) if raw.len() == n && all_digits(raw) => text(raw),
        Kind::Digits(n) => Err(format!("must be {n} digits")),
        Kind::Date => date(raw).map(|d| Some(Value::String(d))).ok_or_else(|| "must be a real date, YYYYMMDD".into()),
        Kind::Month if raw.len() == 6 && all_digits(raw) && (1..=12).contains(&raw[4..].parse::<u8>().unwrap_or(0)) => {
            text(&format!("{}-{}", &raw[..4], &raw[4..]))
        }
        Kind::Month => Err("must be YYYYMM".into()),
        Kind::Time if time(raw) => text(raw),
        Kind::Time => Err("must be HHMM, 0000 to 2400".into()),
        Kind::Int(_) | Kind::Day(_) => {
            let max = if let Kind::Int(n) = column.kind { n } else { 2 };
            if raw.len() > max || !all_digits(raw) {
                return Err(format!("must be a whole number of at most {max} digits"));
            }
            Ok(Some(Value::from(raw.parse::<u64>().map_err(|e| e.to_string())?)))
        }
        Kind::Decimal => {
            let (whole, frac) = raw.split_once('.').unwrap_or((raw, "0"));
            if whole.len() <= 4 && all_digits(whole) && frac.len() <= 4 && all_digits(frac) {
                text(raw)
            } else {
                Err("must be a decimal such as 10.72".into())
            }
        }
        Kind::Code(codes) if codes.contains(&raw) => text(raw),
        Kind::Code(codes) => Err(format!(
            "must be one of {}",
            codes.iter().filter(|c| !c.is_empty()).cloned().collect::<Vec<_>>().join(", ")
        )),
        Kind::ServiceCode => match service_types::code_problem(raw) {
            None => text(raw),
            Some(problem) => Err(problem),
        },
        Kind::Blank => Err("must be blank on this record".into()),
    }
}

/// `YYYYMMDD` as `YYYY-MM-DD`, if it is a real date.
fn date(raw: &str) -> Option<String> {
    if raw.len() != 8 || !all_digits(raw) {
        return None;
    }
    let iso = format!("{}-{}-{}", &raw[..4], &raw[4..6], &raw[6..]);
    crate::clock::parse_day(&iso).map(|_| iso)
}

fn time(raw: &str) -> bool {
    raw.len() == 4
        && all_digits(raw)
        && raw[..2].parse::<u8>().is_ok_and(|h| h <= 24)
        && raw[2..].parse::<u8>().is_ok_and(|m| m < 60 && (m == 0 || &raw[..2] != "24"))
}

/// The field of one column of a stored row, as the file writes it.
fn field_of(column: &Column, row: &Row) -> String {
    let value = match column.kind {
        Kind::Day(d) => row.values.get("days").and_then(|days| days.get(usize::from(d) - 1)).cloned(),
        _ => row.values.get(column.key).cloned(),
    };
    match (column.kind, value) {
        (_, None | Some(Value::Null)) => String::new(),
        (Kind::Date | Kind::Month, Some(Value::String(s))) => s.replace('-', ""),
        (_, Some(Value::String(s))) => s,
        (_, Some(other)) => other.to_string(),
    }
}

/// Writes rows as a file of `kind`: quoted fields, CRLF, MS932. The error names the record
/// (from 1) and column holding a character MS932 cannot hold.
pub fn write(kind: FileKind, rows: &[Row]) -> Result<Vec<u8>, Problem> {
    let mut text = String::new();
    for (i, row) in rows.iter().enumerate() {
        let columns = kind.record_columns(row.values.get("service_name").and_then(Value::as_str));
        let lead = [&row.csv_version, &row.insurer_number, &row.insured_number];
        for (c, column) in columns.iter().enumerate() {
            let field = if c < LEAD { lead[c].clone() } else { field_of(column, row) };
            if let Some(bad) = sjis::unmappable(&field) {
                return Err(Problem::new(i + 1, c + 1, format!("{}: {bad:?} is outside MS932", column.name)));
            }
            if c > 0 {
                text.push(',');
            }
            text.push('"');
            text.push_str(&field.replace('"', "\"\""));
            text.push('"');
        }
        text.push_str("\r\n");
    }
    sjis::encode(&text).map_err(|e| Problem::new(0, 0, e.to_string()))
}
