//! One patient's story, drawn once from the seed: sex and age, conditions with the medicines and
//! home procedures that go with them, the household and the key person. The care path is written
//! from it, so that every field of a patient's record says the same thing about the patient (no
//! "87歳女性" for a man born in 1930, no 長男 named 久美子, no insulin without diabetes).

use std::collections::HashSet;

use rand::Rng;
use rand::seq::SliceRandom;
use serde_json::{Value, json};
use time::{Date, Duration};

use super::people::{self, Relative};
use crate::clock;

/// A condition, with what treating it at home looks like.
struct Condition {
    code: &'static str,
    name: &'static str,
    /// (drug, dose, route, frequency)
    medication: Option<(&'static str, &'static str, &'static str, &'static str)>,
    /// (kind, detail): drawn with the condition, and only with it.
    procedure: Option<(&'static str, &'static str)>,
}

#[rustfmt::skip]
const CONDITIONS: [Condition; 10] = [
    Condition { code: "I50.0", name: "うっ血性心不全", medication: Some(("フロセミド錠20mg", "1錠", "oral", "1日1回朝食後")), procedure: None },
    Condition { code: "G30.1", name: "アルツハイマー型認知症", medication: Some(("ドネペジル塩酸塩OD錠5mg", "1錠", "oral", "1日1回朝食後")), procedure: None },
    Condition { code: "I63.9", name: "脳梗塞後遺症", medication: Some(("クロピドグレル錠75mg", "1錠", "oral", "1日1回朝食後")), procedure: Some(("gastrostomy", "胃ろう（20Fr）。半固形栄養剤 1日3回、家族と訪問看護で注入")) },
    Condition { code: "E11.9", name: "2型糖尿病", medication: Some(("インスリン グラルギン BS注ミリオペン", "6単位", "subcutaneous", "1日1回朝")), procedure: Some(("insulin", "持効型インスリン 1日1回朝6単位。血糖自己測定は介助で実施")) },
    Condition { code: "J44.9", name: "慢性閉塞性肺疾患", medication: Some(("スピリーバ吸入用カプセル18μg", "1吸入", "inhalation", "1日1回")), procedure: Some(("home_oxygen", "酸素濃縮器 安静時1L/分、労作時2L/分。火気厳禁")) },
    Condition { code: "C34.9", name: "肺癌", medication: Some(("オキシコンチンTR錠5mg", "1錠", "oral", "1日2回12時間毎")), procedure: Some(("home_oxygen", "酸素濃縮器 2L/分（経鼻）。呼吸苦時は3L/分まで")) },
    Condition { code: "M81.0", name: "骨粗鬆症", medication: Some(("エルデカルシトールカプセル0.75μg", "1カプセル", "oral", "1日1回朝食後")), procedure: None },
    Condition { code: "N31.9", name: "神経因性膀胱", medication: None, procedure: Some(("urinary_catheter", "膀胱留置カテーテル 16Fr、4週毎に訪問看護で交換")) },
    Condition { code: "G20", name: "パーキンソン病", medication: Some(("レボドパ・カルビドパ配合錠100", "1錠", "oral", "1日3回毎食後")), procedure: None },
    Condition { code: "C16.9", name: "胃癌", medication: Some(("フェントステープ1mg", "1枚", "transdermal", "1日1回貼り替え")), procedure: None },
];

/// Index of 神経因性膀胱 in `CONDITIONS`: the one that brings a urinary catheter.
const CATHETER: usize = 7;

/// The facts every document of one patient is written from.
pub struct Story {
    female: bool,
    /// Age today, in whole years.
    age: i32,
    conditions: Vec<usize>,
    lives_alone: bool,
    /// The family member the team calls (the consent's proxy, too, when there is one).
    pub key_person: Relative,
}

impl Story {
    /// Draws a patient's story; a relative never takes a name of `staff`.
    pub fn draw(rng: &mut impl Rng, who: &people::Registered, staff: &HashSet<String>, today: Date) -> Self {
        let (female, birth) = (who.female, who.birth);
        let mut age = today.year() - birth.year();
        if (today.month(), today.day()) < (birth.month(), birth.day()) {
            age -= 1;
        }
        let how_many = rng.gen_range(1..=3);
        let all: Vec<usize> = (0..CONDITIONS.len()).collect();
        let mut conditions: Vec<usize> = all.choose_multiple(rng, how_many).copied().collect();
        // A few more catheters than chance gives: the short-stay board has a bed that takes them.
        if !conditions.contains(&CATHETER) && rng.gen_bool(0.08) {
            conditions.push(CATHETER);
        }
        let lives_alone = rng.gen_bool(0.3);
        let key_person = people::relative_of(rng, &who.surname, (female, age), lives_alone, staff);
        Self { female, age, conditions, lives_alone, key_person }
    }

    fn sex_word(&self) -> &'static str {
        if self.female { "女性" } else { "男性" }
    }

    /// `[{icd10_code, name, primary}]`, the first primary.
    pub fn diagnoses(&self) -> Value {
        let list: Vec<Value> = self
            .conditions
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let mut d = json!({"icd10_code": CONDITIONS[c].code, "name": CONDITIONS[c].name});
                if i == 0 {
                    d["primary"] = Value::Bool(true);
                }
                d
            })
            .collect();
        Value::Array(list)
    }

    fn has(&self, code: &str) -> bool {
        self.conditions.iter().any(|&c| CONDITIONS[c].code == code)
    }

    /// The care path's content: the shipped full example for its structure, every fact about the
    /// patient from the story. `team` is who to contact: (name, organisation, role, phone).
    pub fn care_path(
        &self,
        example: &str,
        care_level: &str,
        team: &[(String, String, &'static str, String)],
        city: &str,
        rng: &mut impl Rng,
        today: Date,
    ) -> Value {
        let mut c: Value = serde_json::from_str(example).unwrap_or_default();
        let kp = &self.key_person;
        c["care_level"] = json!(care_level);
        c["diagnoses"] = self.diagnoses();
        let start = today - Duration::days(rng.gen_range(30..300));
        c["certification_period"] = json!({"start": day(start), "end": day(start + Duration::days(364))});
        let medications: Vec<Value> = self
            .conditions
            .iter()
            .filter_map(|&i| CONDITIONS[i].medication)
            .map(|(name, dose, route, frequency)| json!({"name": name, "dose": dose, "route": route, "frequency": frequency}))
            .collect();
        c["medications"] = Value::Array(medications);
        let since = day(today - Duration::days(rng.gen_range(60..900)));
        let procedures: Vec<Value> = self
            .conditions
            .iter()
            .filter_map(|&i| CONDITIONS[i].procedure)
            .map(|(kind, detail)| json!({"kind": kind, "detail": detail, "since": since}))
            .collect();
        c["home_procedures"] = Value::Array(procedures);
        c["key_person"] = json!({"name": kp.name, "relation": kp.relation, "phone": format!("090-{:04}-{:04}", rng.gen_range(1000..9999), rng.gen_range(0..9999)),
            "address": {"prefecture": people::PREFECTURE, "city": city}});
        c["living_situation"]["lives_alone"] = json!(self.lives_alone);
        c["living_situation"]["household"] = json!(if self.lives_alone {
            format!("独居。{}（{}歳）が近くに住み週2回来訪", kp.relation, kp.age)
        } else {
            format!("{}（{}歳）と二人暮らし", kp.relation, kp.age)
        });
        c["living_situation"]["daytime_alone"] = json!(self.lives_alone || rng.gen_bool(0.5));
        c["living_situation"]["notes"] = json!(format!("キーパーソンは{}", kp.relation));
        c["advance_care_planning"]["family_wishes"] = json!(format!("{}は本人の希望を尊重したい", kp.relation));
        c["advance_care_planning"]["participants"] =
            json!(format!("本人、{}、主治医、訪問看護師、ケアマネジャー", kp.relation));
        let contacts: Vec<Value> = team
            .iter()
            .map(|(name, org, role, phone)| json!({"name": name, "organization": org, "role": role, "phone": phone}))
            .collect();
        if let Some(doctor) = contacts.first() {
            c["emergency_plan"]["first_contact"] = doctor.clone();
            // `get_mut`: indexing would add a `contact_hours: null` to a 1.0.0 care path.
            for hours in c.get_mut("contact_hours").and_then(Value::as_array_mut).into_iter().flatten() {
                hours["contact"] = doctor.clone();
            }
        }
        c["team_contacts"] = Value::Array(contacts);
        c["services_in_use"] = json!([]);
        // Schema 1.0.0 has no oral care or nutrition: only what the example has is filled in.
        if let Some(oral) = c.get_mut("oral_care").and_then(Value::as_object_mut) {
            match team.iter().find(|t| t.2 == "dentist") {
                Some((name, org, _, phone)) => {
                    oral.insert(
                        "dentist".into(),
                        json!({"name": name, "organization": org, "role": "dentist", "phone": phone}),
                    );
                }
                None => {
                    oral.remove("dentist");
                }
            }
            oral.insert("notes".into(), json!(format!("義歯は夕食後に外して洗浄（{}が確認）", kp.relation)));
        }
        if let Some(nutrition) = c.get_mut("nutrition").and_then(Value::as_object_mut) {
            let (height, weight) = if self.female { (148.0, 45.2) } else { (160.0, 55.4) };
            nutrition.insert("height_cm".into(), json!(height));
            nutrition.insert("weight_kg".into(), json!(weight));
        }
        let mut notes = format!("{}歳{}。", self.age, self.sex_word());
        if self.has("I50.0") {
            notes.push_str("心不全の増悪予防のため毎朝体重測定。");
        }
        if self.has("C34.9") || self.has("C16.9") {
            notes.push_str("疼痛コントロール中。レスキュー使用時は訪問看護へ連絡。");
        }
        c["notes"] = json!(notes);
        if let Some(map) = c.as_object_mut() {
            if !self.has("G30.1") {
                map.remove("cognition_behaviour");
                map.insert("dementia_independence".into(), json!("I"));
            }
            if rng.gen_bool(0.5) {
                map.remove("infections");
            }
            for optional in ["oral_care", "nutrition", "advance_care_planning", "allergies", "medical_history"] {
                if rng.gen_bool(0.3) {
                    map.remove(optional);
                }
            }
        }
        c
    }
}

fn day(d: Date) -> Value {
    Value::String(clock::format_day(d))
}
