//! What happens to each demo patient, decided up front from the seed: who manages and visits
//! them, what they consented to, which records exist. Deciding first and writing after keeps the
//! region the same for a seed however the writes interleave.

use rand::Rng;
use rand::seq::SliceRandom;
use serde_json::{Value, json};
use time::{Date, Duration};

use super::people::{self, TOWNS};
use super::region::Region;
use crate::clock;

const CARE_PATH_1_0: &str = include_str!("../../schemas/care-path/examples/1.0.0-full.json");
const CARE_PATH_1_1: &str = include_str!("../../schemas/care-path/examples/1.1.0-full.json");
const NURSING_REPORT: &str = include_str!("../../schemas/visiting-nursing-report/examples/1.0.0-full.json");
const DISCHARGE: &str = include_str!("../../schemas/discharge-summary/examples/1.0.0-full.json");
const END_OF_LIFE: &str = include_str!("../../schemas/end-of-life-record/examples/1.0.0-home.json");

const CARE_LEVELS: [&str; 7] = ["support_1", "support_2", "care_1", "care_2", "care_3", "care_4", "care_5"];

#[rustfmt::skip]
const DIAGNOSES: [(&str, &str); 10] = [
    ("I50.0", "うっ血性心不全"), ("G30.1", "アルツハイマー型認知症"), ("I63.9", "脳梗塞後遺症"),
    ("E11.9", "2型糖尿病"), ("J44.9", "慢性閉塞性肺疾患"), ("C34.9", "肺癌"), ("M81.0", "骨粗鬆症"),
    ("N18.5", "慢性腎臓病"), ("G20", "パーキンソン病"), ("C16.9", "胃癌"),
];

#[rustfmt::skip]
const QUESTIONS: [(&str, &str, &str); 4] = [
    ("question", "血圧が高めです。デイサービスでの入浴は可能でしょうか", "入浴は可です。収縮期160以上なら中止してください"),
    ("report", "昨日から食事量が半分程度に減っています。発熱はありません", "明日の訪問診療で診察します。水分摂取を促してください"),
    ("request", "ショートステイ利用のため、診療情報提供書をお願いします", "来週月曜までに作成してFAXします"),
    ("question", "夜間の不眠が続き、ご家族が疲れています。薬の調整は可能でしょうか", "次回受診時に眠剤を調整します"),
];

/// How the patient consented to sharing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ConsentPlan {
    /// Not recorded yet: only the managing organisation sees the record.
    None,
    /// The whole care team, every document type.
    Full,
    /// The care team, only the care path and the nursing reports.
    Limited,
    /// Given, then withdrawn by the family.
    Revoked,
}

pub struct Member {
    pub org: usize,
    pub staff: Option<usize>,
    pub role: &'static str,
    pub since: Date,
}

pub struct SheetPlan {
    pub care_manager: usize,
    pub category: &'static str,
    pub body: &'static str,
    pub reply: Option<&'static str>,
    pub opened: bool,
}

pub struct Plan {
    /// Index into `TOWNS`.
    pub town: usize,
    pub registration: Value,
    pub managing_doctor: usize,
    pub team: Vec<Member>,
    pub consent: ConsentPlan,
    pub by_proxy: Option<String>,
    pub care_path: (&'static str, Value),
    /// (nurse, content)
    pub nursing_report: Option<(usize, Value)>,
    /// (hospital physician, content)
    pub discharge: Option<(usize, Value)>,
    pub end_of_life: Option<Value>,
    pub sheet: Option<SheetPlan>,
}

fn staff_index(region: &Region, org: usize, role: &str, rng: &mut impl Rng) -> Option<usize> {
    let all: Vec<usize> =
        (0..region.staff.len()).filter(|&i| region.staff[i].org == org && region.staff[i].role == role).collect();
    all.choose(rng).copied()
}

fn one_of(rng: &mut impl Rng, orgs: &[usize]) -> usize {
    orgs.choose(rng).copied().unwrap_or_default()
}

/// The plan of patient number `serial`.
pub fn patient(rng: &mut impl Rng, region: &Region, serial: u32, today: Date) -> Plan {
    let town = if rng.gen_bool(0.55) { 0 } else { 1 };
    let clinic = one_of(rng, &region.orgs_of("clinic", Some(town)));
    let managing_doctor = staff_index(region, clinic, "physician", rng).unwrap_or_default();
    let care_level = CARE_LEVELS[rng.gen_range(0..CARE_LEVELS.len())];
    let (registration, surname) = people::patient(rng, serial, &TOWNS[town], &region.orgs[clinic].id, care_level);
    let ago = |rng: &mut dyn rand::RngCore, max: i64| today - Duration::days(rng.gen_range(7..max));

    let station = one_of(rng, &region.orgs_of("visiting_nurse_station", Some(town)));
    let office = one_of(rng, &region.orgs_of("care_management_office", Some(town)));
    let pharmacy = one_of(rng, &region.orgs_of("pharmacy", Some(town)));
    let nurse = staff_index(region, station, "nurse", rng);
    let care_manager = staff_index(region, office, "care_manager", rng);
    let mut team = vec![
        Member { org: station, staff: nurse, role: "nurse", since: ago(rng, 700) },
        Member { org: office, staff: care_manager, role: "care_manager", since: ago(rng, 700) },
        Member { org: pharmacy, staff: None, role: "pharmacist", since: ago(rng, 400) },
    ];
    if rng.gen_bool(0.15) {
        let dental = one_of(rng, &region.orgs_of("dental_clinic", None));
        team.push(Member { org: dental, staff: None, role: "dentist", since: ago(rng, 300) });
    }

    let consent = match rng.gen_range(0..100) {
        0..=79 => ConsentPlan::Full,
        80..=87 => ConsentPlan::Limited,
        88..=94 => ConsentPlan::Revoked,
        _ => ConsentPlan::None,
    };
    let by_proxy = rng.gen_bool(0.3).then(|| people::relative(rng, &surname));

    let care_path = care_path(rng, care_level, &surname, town, today);
    let shared = consent == ConsentPlan::Full || consent == ConsentPlan::Revoked;
    let nursing_report = (consent != ConsentPlan::None && rng.gen_bool(0.7))
        .then(|| nurse.map(|n| (n, nursing_report(rng, today))))
        .flatten();
    let mut discharge = None;
    if shared && rng.gen_bool(0.3) {
        let hospital = one_of(rng, &region.orgs_of("hospital", Some(town)));
        if let Some(doctor) = staff_index(region, hospital, "physician", rng) {
            team.push(Member { org: hospital, staff: Some(doctor), role: "physician", since: ago(rng, 60) });
            discharge = Some((doctor, discharge_summary(rng, region.orgs[hospital].name, today)));
        }
    }
    let end_of_life = rng.gen_bool(0.12).then(|| end_of_life(rng, today));
    let sheet = (consent == ConsentPlan::Full && rng.gen_bool(0.35)).then(|| {
        let (category, body, reply) = QUESTIONS[rng.gen_range(0..QUESTIONS.len())];
        let state = rng.gen_range(0..3);
        SheetPlan {
            care_manager: care_manager.unwrap_or_default(),
            category,
            body,
            reply: (state == 0).then_some(reply),
            opened: state < 2,
        }
    });
    Plan {
        town,
        registration,
        managing_doctor,
        team,
        consent,
        by_proxy,
        care_path,
        nursing_report,
        discharge,
        end_of_life,
        sheet,
    }
}

fn day(d: Date) -> Value {
    Value::String(clock::format_day(d))
}

/// A care path from the shipped full examples (schema 1.0.0 for a third of the patients, as an
/// older tablet would write), with this patient's care level, diagnoses and family; one in ten
/// only the required fields.
fn care_path(rng: &mut impl Rng, care_level: &str, surname: &str, town: usize, today: Date) -> (&'static str, Value) {
    let version = if rng.gen_bool(0.33) { "1.0.0" } else { "1.1.0" };
    let how_many = rng.gen_range(1..=3);
    let mut diagnoses: Vec<Value> = DIAGNOSES
        .choose_multiple(rng, how_many)
        .map(|(code, name)| json!({"icd10_code": code, "name": name}))
        .collect();
    diagnoses[0]["primary"] = Value::Bool(true);
    if rng.gen_bool(0.1) {
        return (version, json!({"care_level": care_level, "diagnoses": diagnoses}));
    }
    let example = if version == "1.0.0" { CARE_PATH_1_0 } else { CARE_PATH_1_1 };
    let mut content: Value = serde_json::from_str(example).unwrap_or_default();
    content["care_level"] = json!(care_level);
    content["diagnoses"] = Value::Array(diagnoses);
    let start = today - Duration::days(rng.gen_range(30..300));
    content["certification_period"] = json!({"start": day(start), "end": day(start + Duration::days(364))});
    content["key_person"]["name"] = json!(people::relative(rng, surname));
    content["key_person"]["address"]["city"] = json!(TOWNS[town].city);
    content["living_situation"]["lives_alone"] = json!(rng.gen_bool(0.3));
    if let Some(map) = content.as_object_mut() {
        for optional in ["home_procedures", "infections", "oral_care", "nutrition", "advance_care_planning"] {
            if rng.gen_bool(0.4) {
                map.remove(optional);
            }
        }
    }
    (version, content)
}

/// Moves every `YYYY-MM-DD` string of an example by the same number of days, so that its dates
/// stay consistent with each other.
fn shift_dates(value: &mut Value, by: Duration) {
    match value {
        Value::String(s) => {
            if let Some(d) = clock::parse_day(s).filter(|_| s.len() == 10) {
                *s = clock::format_day(d + by);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| shift_dates(v, by)),
        Value::Object(map) => map.values_mut().for_each(|v| shift_dates(v, by)),
        _ => {}
    }
}

/// Moves the example so that the date at `pointer` falls on `on`.
fn example_on(example: &str, pointer: &str, on: Date) -> Value {
    let mut content: Value = serde_json::from_str(example).unwrap_or_default();
    if let Some(at) = content.pointer(pointer).and_then(Value::as_str).and_then(clock::parse_day) {
        shift_dates(&mut content, on - at);
    }
    content
}

fn nursing_report(rng: &mut impl Rng, today: Date) -> Value {
    example_on(NURSING_REPORT, "/period/end", today - Duration::days(rng.gen_range(1..45)))
}

/// Discharged in the last ten days, most of them shared within two days.
fn discharge_summary(rng: &mut impl Rng, hospital: &str, today: Date) -> Value {
    let mut content = example_on(DISCHARGE, "/discharge_date", today - Duration::days(rng.gen_range(0..10)));
    content["hospital"]["name"] = json!(hospital);
    content
}

/// Deaths of the last ten months: at home about half, in hospital a third, the rest in a facility.
fn end_of_life(rng: &mut impl Rng, today: Date) -> Value {
    let mut content = example_on(END_OF_LIFE, "/date_of_death", today - Duration::days(rng.gen_range(1..300)));
    let place = match rng.gen_range(0..100) {
        0..=47 => "home",
        48..=79 => "hospital",
        _ => "care_facility",
    };
    content["place_of_death"] = json!(place);
    if place != "home"
        && let Some(map) = content.as_object_mut()
    {
        map.remove("place_of_death_detail");
    }
    content["preferred_place_met"] = json!(place == "home" || rng.gen_bool(0.3));
    content
}
