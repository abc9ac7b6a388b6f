//! Synthetic people: names drawn from common surnames and given names, combined at random, with
//! their katakana readings. No list entry is a person; a combination that matches one is chance.

use rand::Rng;
use rand::seq::SliceRandom;
use serde_json::{Value, json};

/// (kanji, katakana)
type Name = (&'static str, &'static str);

const SURNAMES: [Name; 30] = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("清水", "シミズ"),
    ("山崎", "ヤマザキ"),
    ("森", "モリ"),
    ("池田", "イケダ"),
    ("橋本", "ハシモト"),
    ("阿部", "アベ"),
    ("石川", "イシカワ"),
    ("前田", "マエダ"),
    ("藤田", "フジタ"),
    ("岡田", "オカダ"),
    ("後藤", "ゴトウ"),
    ("長谷川", "ハセガワ"),
    ("村上", "ムラカミ"),
];

/// Given names of people born in the 1920s to 1940s.
const OLDER_WOMEN: [Name; 12] = [
    ("花子", "ハナコ"),
    ("幸子", "サチコ"),
    ("和子", "カズコ"),
    ("節子", "セツコ"),
    ("久子", "ヒサコ"),
    ("文子", "フミコ"),
    ("千代", "チヨ"),
    ("静江", "シズエ"),
    ("春子", "ハルコ"),
    ("美代子", "ミヨコ"),
    ("清子", "キヨコ"),
    ("芳子", "ヨシコ"),
];
const OLDER_MEN: [Name; 12] = [
    ("一郎", "イチロウ"),
    ("清", "キヨシ"),
    ("茂", "シゲル"),
    ("実", "ミノル"),
    ("勇", "イサム"),
    ("博", "ヒロシ"),
    ("正雄", "マサオ"),
    ("武", "タケシ"),
    ("三郎", "サブロウ"),
    ("進", "ススム"),
    ("昭", "アキラ"),
    ("勝", "マサル"),
];
/// Given names of the working generation (staff, family members), by sex.
const YOUNGER_MEN: [Name; 10] = [
    ("健", "ケン"),
    ("亮", "リョウ"),
    ("翔", "ショウ"),
    ("大輔", "ダイスケ"),
    ("直樹", "ナオキ"),
    ("誠", "マコト"),
    ("拓也", "タクヤ"),
    ("修", "オサム"),
    ("浩二", "コウジ"),
    ("隆", "タカシ"),
];
const YOUNGER_WOMEN: [Name; 10] = [
    ("恵", "メグミ"),
    ("由美", "ユミ"),
    ("真理", "マリ"),
    ("彩", "アヤ"),
    ("美穂", "ミホ"),
    ("裕子", "ユウコ"),
    ("久美子", "クミコ"),
    ("陽子", "ヨウコ"),
    ("直子", "ナオコ"),
    ("智子", "トモコ"),
];

/// Whether a given name of these lists is a woman's (`None`: not one of them).
pub fn is_womans_name(given: &str) -> Option<bool> {
    let listed = |names: &[Name]| names.iter().any(|(kanji, _)| *kanji == given);
    if listed(&OLDER_WOMEN) || listed(&YOUNGER_WOMEN) {
        Some(true)
    } else if listed(&OLDER_MEN) || listed(&YOUNGER_MEN) {
        Some(false)
    } else {
        None
    }
}

/// A member of staff's name, not yet taken by anyone in `taken` (which it joins): a name names
/// one person of the region.
pub fn staff_name(rng: &mut impl Rng, taken: &mut std::collections::HashSet<String>) -> String {
    loop {
        let (surname, _) = pick(rng, &SURNAMES);
        let (given, _) = if rng.gen_bool(0.5) { pick(rng, &YOUNGER_MEN) } else { pick(rng, &YOUNGER_WOMEN) };
        let name = format!("{surname} {given}");
        if taken.insert(name.clone()) {
            return name;
        }
    }
}

/// A family member: the name, the relation to the patient (続柄) and the age, consistent with
/// each other and with the patient (a 長男 has a man's name; a spouse is of the patient's
/// generation and shares the surname).
pub struct Relative {
    pub name: String,
    pub relation: &'static str,
    pub age: i32,
}

/// The patient's key person: a spouse for some who do not live alone, else a son or daughter.
pub fn relative_of(
    rng: &mut impl Rng,
    surname: &str,
    (patient_female, age): (bool, i32),
    lives_alone: bool,
    staff: &std::collections::HashSet<String>,
) -> Relative {
    let spouse = !lives_alone && age < 90 && rng.gen_bool(0.4);
    let (relation, female, age) = if spouse {
        (if patient_female { "夫" } else { "妻" }, !patient_female, age + rng.gen_range(-3..=3))
    } else {
        let son = rng.gen_bool(0.5);
        let first = rng.gen_bool(0.7);
        let relation = match (son, first) {
            (true, true) => "長男",
            (true, false) => "次男",
            (false, true) => "長女",
            (false, false) => "次女",
        };
        (relation, !son, age - rng.gen_range(25..=35))
    };
    let names: &[Name] = match (spouse, female) {
        (true, true) => &OLDER_WOMEN,
        (true, false) => &OLDER_MEN,
        (false, true) => &YOUNGER_WOMEN,
        (false, false) => &YOUNGER_MEN,
    };
    // Never a name of the staff: one name, one person.
    let name = loop {
        let (given, _) = pick(rng, names);
        let name = format!("{surname} {given}");
        if !staff.contains(&name) {
            break name;
        }
    };
    Relative { name, relation, age }
}

fn pick<T: Copy>(rng: &mut impl Rng, from: &[T]) -> T {
    // The lists are constants and never empty.
    *from.choose(rng).unwrap_or(&from[0])
}

/// A municipality of the demo region: its name, prefecture and postal-code prefix.
pub struct Town {
    pub city: &'static str,
    pub postal_prefix: &'static str,
    pub districts: [&'static str; 4],
}

pub const PREFECTURE: &str = "岡山県";

pub const TOWNS: [Town; 2] = [
    Town { city: "新見市", postal_prefix: "718-00", districts: ["新見", "西方", "高尾", "上市"] },
    Town {
        city: "高梁市", postal_prefix: "716-00", districts: ["落合町", "中原町", "原田北町", "松原通"]
    },
];

/// Who a patient is: what the registration says and the story is drawn from.
pub struct Registered {
    /// The body of `POST /v1/patients`.
    pub body: Value,
    /// The family's surname.
    pub surname: String,
    pub female: bool,
    pub birth: time::Date,
}

/// A patient's registration. `town` picks the municipality.
pub fn patient(rng: &mut impl Rng, serial: u32, town: &Town, managing_org: &str, care_level: &str) -> Registered {
    let female = rng.gen_bool(0.6);
    let (surname, surname_kana) = pick(rng, &SURNAMES);
    let (given, given_kana) = pick(rng, if female { &OLDER_WOMEN } else { &OLDER_MEN });
    let (year, month, day) = (rng.gen_range(1926..=1946), rng.gen_range(1..=12u8), rng.gen_range(1..=28u8));
    let birth = time::Month::try_from(month)
        .ok()
        .and_then(|m| time::Date::from_calendar_date(year, m, day).ok())
        .unwrap_or(time::Date::MIN);
    let district = pick(rng, &town.districts);
    let body = json!({
        "name": format!("{surname} {given}"),
        "name_kana": format!("{surname_kana} {given_kana}"),
        "birth_date": crate::clock::format_day(birth),
        "sex": if female { "female" } else { "male" },
        "address": {
            "postal_code": format!("{}{:02}", town.postal_prefix, rng.gen_range(1..=99)),
            "prefecture": PREFECTURE,
            "city": town.city,
            "line": format!("{district}{}-{}", rng.gen_range(1..=30), rng.gen_range(1..=20)),
        },
        "phone": format!("0867-{:02}-{:04}", rng.gen_range(10..=99), rng.gen_range(0..=9999)),
        // Synthetic numbers: a serial under a made-up prefix, never a real insured person's.
        "ltc_insured_number": format!("99{serial:08}"),
        "health_insurance": {"insurer_number": "39339999", "symbol": format!("{:02}", serial % 97), "number": format!("{serial:06}")},
        "care_level": care_level,
        "managing_organization": managing_org,
    });
    Registered { body, surname: surname.to_owned(), female, birth }
}
