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
/// Given names of the working generation (staff, family members).
const YOUNGER: [Name; 14] = [
    ("健", "ケン"),
    ("亮", "リョウ"),
    ("恵", "メグミ"),
    ("由美", "ユミ"),
    ("真理", "マリ"),
    ("翔", "ショウ"),
    ("彩", "アヤ"),
    ("大輔", "ダイスケ"),
    ("美穂", "ミホ"),
    ("直樹", "ナオキ"),
    ("裕子", "ユウコ"),
    ("誠", "マコト"),
    ("久美子", "クミコ"),
    ("拓也", "タクヤ"),
];

/// A member of staff's name.
pub fn staff_name(rng: &mut impl Rng) -> String {
    let (surname, _) = pick(rng, &SURNAMES);
    let (given, _) = pick(rng, &YOUNGER);
    format!("{surname} {given}")
}

/// A family member sharing the patient's surname.
pub fn relative(rng: &mut impl Rng, surname: &str) -> String {
    let (given, _) = pick(rng, &YOUNGER);
    format!("{surname} {given}")
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

/// A patient's registration (the body of `POST /v1/patients`) and the surname that family members
/// share. `town` picks the municipality.
pub fn patient(rng: &mut impl Rng, serial: u32, town: &Town, managing_org: &str, care_level: &str) -> (Value, String) {
    let female = rng.gen_bool(0.6);
    let (surname, surname_kana) = pick(rng, &SURNAMES);
    let (given, given_kana) = pick(rng, if female { &OLDER_WOMEN } else { &OLDER_MEN });
    let birth = format!("{}-{:02}-{:02}", rng.gen_range(1926..=1946), rng.gen_range(1..=12), rng.gen_range(1..=28));
    let district = pick(rng, &town.districts);
    let body = json!({
        "name": format!("{surname} {given}"),
        "name_kana": format!("{surname_kana} {given_kana}"),
        "birth_date": birth,
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
    (body, surname.to_owned())
}
