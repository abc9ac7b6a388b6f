//! Files to send units (送信単位) and a unit's rows to patients. The specification sends, with
//! one 作成日時 each: (1) 1表 + 2表 + 利用者補足情報; (2) 6表 + 7表 + 利用者補足情報; (3) 1表_削除;
//! (4) 6表_削除; (5) 実績; (6) 実績_削除. An upload may hold several units; a unit missing a file,
//! or a file without its unit, is refused.

use std::collections::BTreeMap;

use super::content::{PlanRows, UsageRows};
use super::files::{FileKind, FileName};
use super::records::{Problem, Row};
use super::totals;

/// One file of an upload, read.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// Its place in the upload, from 0.
    pub index: usize,
    pub name: FileName,
    pub rows: Vec<Row>,
}

/// A problem and the file (its place in the upload) it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub file: usize,
    pub problem: Problem,
}

/// What one send unit asks for.
#[derive(Debug, Clone)]
pub enum Unit {
    /// Plans to file: (the 補足 file's place, the 1表 file's place, rows) per patient.
    Plans { from: String, to: String, plans: Vec<PlanRows>, files: [usize; 3] },
    /// A month's planned use per patient.
    Usage { from: String, to: String, usages: Vec<UsageRows>, files: [usize; 3] },
    /// A provider's 実績 for a month, per patient.
    Actual { from: String, to: String, month: String, rows: Vec<Vec<Row>>, file: usize },
    /// Plans, months or actuals to withdraw: one row per patient.
    Delete { kind: FileKind, from: String, to: String, rows: Vec<Row>, file: usize },
}

type Key = (String, String);

fn key(row: &Row) -> Key {
    (row.insurer_number.clone(), row.insured_number.clone())
}

fn by_patient(rows: &[Row]) -> BTreeMap<Key, Vec<Row>> {
    let mut map: BTreeMap<Key, Vec<Row>> = BTreeMap::new();
    for row in rows {
        map.entry(key(row)).or_default().push(row.clone());
    }
    map
}

/// One row per patient, or a problem for each repeated one.
fn single(rows: &[Row], file: usize, problems: &mut Vec<Located>) -> BTreeMap<Key, Row> {
    let mut map = BTreeMap::new();
    for row in rows {
        if map.insert(key(row), row.clone()).is_some() {
            let problem = Problem::new(row.line, 3, "a second record for this 被保険者番号");
            problems.push(Located { file, problem });
        }
    }
    map
}

/// Every patient of `rows` must have a 補足 record (its rows' first line is named otherwise).
fn supplement_for(
    key: &Key,
    first: &Row,
    supplements: &BTreeMap<Key, Row>,
    file: usize,
    problems: &mut Vec<Located>,
) -> Option<Row> {
    let found = supplements.get(key).cloned();
    if found.is_none() {
        let problem = Problem::new(first.line, 3, "no 利用者補足情報 record for this 被保険者番号 in the send unit");
        problems.push(Located { file, problem });
    }
    found
}

/// Groups an upload's files into send units.
pub fn units(files: Vec<Parsed>) -> Result<Vec<Unit>, Vec<Located>> {
    let mut problems = Vec::new();
    let mut groups: BTreeMap<(String, String, String), Vec<Parsed>> = BTreeMap::new();
    for file in files {
        let n = &file.name;
        groups.entry((n.created.clone(), n.from.clone(), n.to.clone())).or_default().push(file);
    }
    let mut out = Vec::new();
    for ((_, from, to), mut group) in groups {
        group.sort_by_key(|f| f.name.kind);
        let kinds: Vec<FileKind> = group.iter().map(|f| f.name.kind).collect();
        let whole = |p: &Parsed, reason: &str| Located { file: p.index, problem: Problem::new(0, 0, reason) };
        match kinds.as_slice() {
            [FileKind::Supplement, FileKind::Plan1, FileKind::Plan2] => {
                let [s, one, two] = [&group[0], &group[1], &group[2]];
                let supplements = single(&s.rows, s.index, &mut problems);
                let firsts = single(&one.rows, one.index, &mut problems);
                let mut seconds = by_patient(&two.rows);
                let mut plans = Vec::new();
                for (k, table1) in firsts {
                    let supplement = supplement_for(&k, &table1, &supplements, one.index, &mut problems);
                    let Some(table2) = seconds.remove(&k) else {
                        let problem =
                            Problem::new(table1.line, 3, "no 居宅サービス計画2表 record for this 被保険者番号");
                        problems.push(Located { file: one.index, problem });
                        continue;
                    };
                    if let Some(supplement) = supplement {
                        plans.push(PlanRows { supplement, table1, table2 });
                    }
                }
                for rows in seconds.values() {
                    let problem = Problem::new(rows[0].line, 3, "no 居宅サービス計画1表 record for this 被保険者番号");
                    problems.push(Located { file: two.index, problem });
                }
                out.push(Unit::Plans { from, to, plans, files: [s.index, one.index, two.index] });
            }
            [FileKind::Supplement, FileKind::Usage6, FileKind::Usage7] => {
                let [s, six, seven] = [&group[0], &group[1], &group[2]];
                let month = six.name.month.clone().unwrap_or_default();
                for (file, other) in [(s, &s.name.month), (seven, &seven.name.month)] {
                    if other.as_deref() != Some(month.as_str()) {
                        problems.push(whole(file, "the send unit's files must name the same 対象年月"));
                    }
                }
                let iso = format!("{}-{}", &month[..4.min(month.len())], &month[4.min(month.len())..]);
                for file in [six, seven] {
                    for row in file.rows.iter().filter(|r| r.values["month"].as_str() != Some(iso.as_str())) {
                        let problem = Problem::new(row.line, 4, "対象年月 differs from the file name's");
                        problems.push(Located { file: file.index, problem });
                    }
                }
                let supplements = single(&s.rows, s.index, &mut problems);
                let mut sevens = by_patient(&seven.rows);
                let mut usages = Vec::new();
                for (k, planned) in by_patient(&six.rows) {
                    let (table7, total, order) = totals::split(sevens.remove(&k).unwrap_or_default());
                    let sums = total.as_ref().map(|t| totals::check(&table7, t)).unwrap_or_default();
                    problems
                        .extend(order.into_iter().chain(sums).map(|problem| Located { file: seven.index, problem }));
                    if let Some(supplement) = supplement_for(&k, &planned[0], &supplements, six.index, &mut problems) {
                        usages.push(UsageRows { supplement, month: iso.clone(), planned, table7, total });
                    }
                }
                for rows in sevens.values() {
                    let problem = Problem::new(rows[0].line, 3, "no 第6表 record for this 被保険者番号");
                    problems.push(Located { file: seven.index, problem });
                }
                out.push(Unit::Usage { from, to, usages, files: [s.index, six.index, seven.index] });
            }
            [FileKind::Actual] => {
                let file = &group[0];
                let month = file.name.month.clone().unwrap_or_default();
                let month = format!("{}-{}", &month[..4.min(month.len())], &month[4.min(month.len())..]);
                for row in file.rows.iter().filter(|r| r.values["provider_number"].as_str() != Some(from.as_str())) {
                    let problem = Problem::new(
                        row.line,
                        10,
                        "a provider sends its own 実績: the 事業所番号 must be the sender's",
                    );
                    problems.push(Located { file: file.index, problem });
                }
                let rows = by_patient(&file.rows).into_values().collect();
                out.push(Unit::Actual { from, to, month, rows, file: file.index });
            }
            [kind @ (FileKind::Plan1Delete | FileKind::Usage6Delete | FileKind::ActualDelete)] => {
                let file = &group[0];
                let rows = single(&file.rows, file.index, &mut problems).into_values().collect();
                out.push(Unit::Delete { kind: *kind, from, to, rows, file: file.index });
            }
            _ => {
                let names: Vec<&str> = group.iter().map(|f| f.name.kind.title()).collect();
                let reason = format!(
                    "a send unit is 1表+2表+補足, 6表+7表+補足, 実績, or one 削除 file; these share a 作成日時: {}",
                    names.join(", ")
                );
                problems.extend(group.iter().map(|f| whole(f, &reason)));
            }
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}
