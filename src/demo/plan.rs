//! What happens to each demo patient, decided up front from the seed: who manages and visits
//! them, what they consented to, which records exist. Deciding first and writing after keeps the
//! region the same for a seed however the writes interleave.

use rand::Rng;
use rand::seq::SliceRandom;
use serde_json::{Value, json};
use time::{Date, Duration};

use super::people::{self, TOWNS};
use super::region::Region;
use super::story::Story;
use crate::clock;

const CARE_PATH_1_0: &str = include_str!("../../schemas/care-path/examples/1.0.0-full.json");
const CARE_PATH_1_1: &str = include_str!("../../schemas/care-path/examples/1.1.0-full.json");
const NURSING_REPORT: &str = include_str!("../../schemas/visiting-nursing-report/examples/1.0.0-full.json");
const DISCHARGE: &str = include_str!("../../schemas/discharge-summary/examples/1.0.0-full.json");
const END_OF_LIFE: &str = include_str!("../../schemas/end-of-life-record/examples/1.0.0-home.json");

const CARE_LEVELS: [&str; 7] = ["support_1", "support_2", "care_1", "care_2", "care_3", "care_4", "care_5"];

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
    /// The team of a patient who died ended that day.
    pub until: Option<Date>,
}

pub struct SheetPlan {
    pub care_manager: usize,
    pub category: &'static str,
    pub body: &'static str,
    pub reply: Option<&'static str>,
    pub opened: bool,
    /// Sent this many days before today (within the consent and the care manager's time on
    /// the team), so the region's sheets spread over weeks and some are past their reply-by.
    pub sent_days_ago: i64,
    /// Hours the doctor took to answer (half of it to open), never past now.
    pub reply_after_hours: i64,
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
    /// A later version of the care path (the care level reviewed), for some: the diff to show.
    pub care_path_update: Option<Value>,
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
    let who = people::patient(rng, serial, &TOWNS[town], &region.orgs[clinic].id, care_level);
    let story = Story::draw(rng, &who, &region.names, today);
    let death = rng.gen_bool(0.12).then(|| today - Duration::days(rng.gen_range(1..300)));
    // Everyone joined before the end, and a team ends with its patient.
    let ago = |rng: &mut dyn rand::RngCore, max: i64| {
        let since = today - Duration::days(rng.gen_range(7..max));
        death.map_or(since, |d| since.min(d - Duration::days(30)))
    };

    let station = one_of(rng, &region.orgs_of("visiting_nurse_station", Some(town)));
    let office = one_of(rng, &region.orgs_of("care_management_office", Some(town)));
    let pharmacy = one_of(rng, &region.orgs_of("pharmacy", Some(town)));
    let nurse = staff_index(region, station, "nurse", rng);
    let care_manager = staff_index(region, office, "care_manager", rng);
    let mut team = vec![
        Member { org: station, staff: nurse, role: "nurse", since: ago(rng, 700), until: death },
        Member { org: office, staff: care_manager, role: "care_manager", since: ago(rng, 700), until: death },
        Member { org: pharmacy, staff: None, role: "pharmacist", since: ago(rng, 400), until: death },
    ];
    if rng.gen_bool(0.15) {
        let dental = one_of(rng, &region.orgs_of("dental_clinic", None));
        let dentist = staff_index(region, dental, "dentist", rng);
        team.push(Member { org: dental, staff: dentist, role: "dentist", since: ago(rng, 300), until: death });
    }

    let consent = match rng.gen_range(0..100) {
        0..=79 => ConsentPlan::Full,
        80..=87 => ConsentPlan::Limited,
        88..=94 => ConsentPlan::Revoked,
        _ => ConsentPlan::None,
    };
    let by_proxy = rng.gen_bool(0.3).then(|| story.key_person.name.clone());

    // Who the care path names as the team: people of the directory, as the directory has them.
    let contact = |staff: usize| {
        let s = &region.staff[staff];
        let org = &region.orgs[s.org];
        (s.name.clone(), org.name.to_owned(), s.role, org.phone.clone())
    };
    let contacts: Vec<_> =
        std::iter::once(managing_doctor).chain(team.iter().filter_map(|m| m.staff)).map(contact).collect();
    let version = if rng.gen_bool(0.33) { "1.0.0" } else { "1.1.0" };
    let content = if rng.gen_bool(0.1) {
        json!({"care_level": care_level, "diagnoses": story.diagnoses()})
    } else {
        let example = if version == "1.0.0" { CARE_PATH_1_0 } else { CARE_PATH_1_1 };
        story.care_path(example, care_level, &contacts, TOWNS[town].city, rng, today)
    };
    let care_path_update = (death.is_none() && rng.gen_bool(0.3)).then(|| reviewed(&content, care_level, today));
    let care_path = (version, content);
    let shared = consent == ConsentPlan::Full || consent == ConsentPlan::Revoked;
    let nursing_report = (consent != ConsentPlan::None && rng.gen_bool(0.7))
        .then(|| nurse.map(|n| (n, nursing_report(rng, region, (n, managing_doctor), &story, today))))
        .flatten();
    let mut discharge = None;
    if shared && death.is_none() && rng.gen_bool(0.3) {
        let hospital = one_of(rng, &region.orgs_of("hospital", Some(town)));
        if let Some(doctor) = staff_index(region, hospital, "physician", rng) {
            team.push(Member {
                org: hospital,
                staff: Some(doctor),
                role: "physician",
                since: ago(rng, 60),
                until: None,
            });
            discharge = Some((doctor, discharge_summary(rng, region, (doctor, managing_doctor), &story, today)));
        }
    }
    let end_of_life = death.map(|d| end_of_life(rng, region, managing_doctor, &story, d));
    let sheet = (consent == ConsentPlan::Full && death.is_none() && rng.gen_bool(0.35)).then(|| {
        let (category, body, reply) = QUESTIONS[rng.gen_range(0..QUESTIONS.len())];
        let state = rng.gen_range(0..3);
        // The consent began 30 days ago; the care manager joined at least 7 days ago.
        let joined = team.iter().find(|m| m.role == "care_manager").map_or(7, |m| (today - m.since).whole_days());
        let sent_days_ago = rng.gen_range(1..=joined.clamp(1, 28));
        let reply_after_hours = rng.gen_range(1..=72).min(sent_days_ago * 24 - 1);
        SheetPlan {
            care_manager: care_manager.unwrap_or_default(),
            category,
            body,
            reply: (state == 0).then_some(reply),
            opened: state < 2,
            sent_days_ago,
            reply_after_hours,
        }
    });
    Plan {
        town,
        registration: who.body,
        managing_doctor,
        team,
        consent,
        by_proxy,
        care_path,
        care_path_update,
        nursing_report,
        discharge,
        end_of_life,
        sheet,
    }
}

/// The care path after the care manager's review: the care level one step up, and why.
fn reviewed(content: &Value, care_level: &str, today: Date) -> Value {
    let mut next = content.clone();
    let step = CARE_LEVELS.iter().position(|l| *l == care_level).map_or(care_level, |i| CARE_LEVELS[(i + 1).min(6)]);
    next["care_level"] = json!(step);
    let note = format!("{} 区分変更申請の結果、要介護度を見直した。", clock::format_day(today - Duration::days(3)));
    // A minimal care path has no notes to add to: its care level alone changes.
    if let Some(before) = content["notes"].as_str() {
        next["notes"] = json!(format!("{before}{note}"));
    }
    next
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

/// The example with the patient's family named by its relation and its people from the
/// directory: (staff, family doctor).
fn example_of(example: &str, story: &Story) -> String {
    example.replace("長男", story.key_person.relation)
}

fn person(region: &Region, staff: usize) -> Value {
    let s = &region.staff[staff];
    let org = &region.orgs[s.org];
    json!({"name": s.name, "organization": org.name, "role": s.role, "phone": org.phone})
}

fn nursing_report(
    rng: &mut impl Rng,
    region: &Region,
    (nurse, doctor): (usize, usize),
    story: &Story,
    today: Date,
) -> Value {
    let text = example_of(NURSING_REPORT, story);
    let mut content = example_on(&text, "/period/end", today - Duration::days(rng.gen_range(1..45)));
    let station = &region.orgs[region.staff[nurse].org];
    content["station"] =
        json!({"name": station.name, "phone": station.phone, "nurse_in_charge": region.staff[nurse].name});
    content["addressed_to"] = person(region, doctor);
    content
}

/// Discharged in the last ten days, most of them shared within two days.
fn discharge_summary(
    rng: &mut impl Rng,
    region: &Region,
    (physician, family_doctor): (usize, usize),
    story: &Story,
    today: Date,
) -> Value {
    let text = example_of(DISCHARGE, story);
    let mut content = example_on(&text, "/discharge_date", today - Duration::days(rng.gen_range(0..10)));
    let hospital = &region.orgs[region.staff[physician].org];
    content["hospital"]["name"] = json!(hospital.name);
    content["hospital"]["phone"] = json!(hospital.phone);
    content["attending_physician"] = person(region, physician);
    if let Some(map) = content.as_object_mut() {
        map.remove("discharge_nurse");
    }
    if content.pointer("/follow_up/family_doctor").is_some() {
        content["follow_up"]["family_doctor"] = person(region, family_doctor);
    }
    content
}

/// Deaths of the last ten months: at home about half, in hospital a third, the rest in a facility.
fn end_of_life(rng: &mut impl Rng, region: &Region, doctor: usize, story: &Story, died: Date) -> Value {
    let mut content = example_on(END_OF_LIFE, "/date_of_death", died);
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
    content["attending_physician"] = person(region, doctor);
    if let Some(cause) = story.diagnoses().get(0) {
        content["cause_of_death"] = json!({"icd10_code": cause["icd10_code"], "name": cause["name"]});
    }
    content["notes"] = json!(format!("{}が付き添う中、穏やかに永眠", story.key_person.relation));
    content
}
