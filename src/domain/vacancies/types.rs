//! The board's words and shapes: services, care needs, rooms, and the posting as sent and shown.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::ToSchema;

use crate::clock;
use crate::domain::directory::OrganizationKind;
use crate::domain::fields::{Address, Errors};
use crate::domain::params::words;

words!(
    /// The short-stay service a posting is for.
    ShortStayService, "service", [
        /// 短期入所生活介護: a short stay for daily-living care (特養, short-stay homes).
        DailyLiving = "daily_living",
        /// 短期入所療養介護: a short stay with medical care (老健, 介護医療院, hospitals and clinics).
        MedicalCare = "medical_care",
    ]
);

words!(
    /// Medical care a facility can take on. The words of the care path's home procedures
    /// (`home_procedure.kind` in the common schema, a test keeps them in step), with tube feeding
    /// (the care path's `tube_feeding` diet form) and dementia with BPSD added.
    CareNeed, "care need", [
        /// 在宅酸素
        HomeOxygen = "home_oxygen",
        /// 胃ろう
        Gastrostomy = "gastrostomy",
        /// 経管栄養（経鼻）
        TubeFeeding = "tube_feeding",
        /// 留置カテーテル
        UrinaryCatheter = "urinary_catheter",
        /// 褥瘡処置
        PressureUlcerCare = "pressure_ulcer_care",
        /// インスリン
        Insulin = "insulin",
        /// 喀痰吸引
        Suction = "suction",
        /// 気管切開
        Tracheostomy = "tracheostomy",
        /// 透析（送迎を含む）
        Dialysis = "dialysis",
        /// 点滴
        IvInfusion = "iv_infusion",
        /// ストーマ
        Stoma = "stoma",
        /// 認知症（BPSDあり）
        DementiaBpsd = "dementia_bpsd",
    ]
);

words!(
    /// The kind of room a bed is in.
    RoomType, "room type", [
        /// 従来型個室
        Private = "private",
        /// 多床室
        Shared = "shared",
        /// ユニット型個室
        UnitPrivate = "unit_private",
        /// ユニット型個室的多床室
        UnitShared = "unit_shared",
    ]
);

words!(
    /// Who a bed is for, where the facility separates men and women.
    BedSex, "bed sex", [
        /// 女性
        Female = "female",
        /// 男性
        Male = "male",
        /// Either.
        Any = "any",
    ]
);

/// Free beds of one room type, for one sex (or either).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Bed {
    /// The room type.
    pub room: RoomType,
    /// Who the beds are for.
    pub sex: BedSex,
    /// How many are free, 0 to 999.
    #[schema(minimum = 0, maximum = 999)]
    pub free: u16,
}

/// Who to call about a booking.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VacancyContact {
    /// The person or desk, at most 200 characters (e.g. 生活相談員).
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Digits and hyphens, an optional leading `+`; at least 7 digits, 7 to 20 characters.
    #[schema(min_length = 7, max_length = 20, pattern = r"^\+?-*[0-9](-*[0-9]){6,}-*$")]
    pub phone: String,
}

/// One day of a posting as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VacancyDayInput {
    /// The day, `YYYY-MM-DD`; today (in the region) or later.
    #[schema(format = Date, example = "2026-12-01")]
    pub date: String,
    /// Free beds by room type and sex; each pair at most once, at most 16 entries.
    #[schema(max_items = 16)]
    pub beds: Vec<Bed>,
    /// Care the facility can take on that day; each word at most once.
    pub accepts: Vec<CareNeed>,
}

/// A facility's posting for one service, as published (it replaces the previous one whole).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VacancyPostingInput {
    /// The days it covers, each at most once, at most 400. Days not listed have no beds free.
    #[schema(max_items = 400)]
    pub days: Vec<VacancyDayInput>,
    /// Who to call.
    pub contact: VacancyContact,
    /// Free text for care managers (e.g. 送迎範囲), at most 2000 characters.
    #[schema(min_length = 1, max_length = 2000)]
    pub notes: Option<String>,
}

/// A posted day as answered.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct DayVacancy {
    /// The day, `YYYY-MM-DD`.
    #[schema(format = Date)]
    pub date: String,
    /// Beds free that day, all room types and sexes together.
    pub beds_free: i32,
    /// Free beds by room type and sex.
    pub beds: Vec<Bed>,
    /// Care the facility can take on that day.
    pub accepts: Vec<CareNeed>,
}

/// A facility's posting for one service.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VacancyPosting {
    /// The facility (an organisation id).
    pub facility: String,
    /// The service.
    pub service: ShortStayService,
    /// The version; the `ETag` is it in quotes.
    pub version: i32,
    /// Who to call.
    pub contact: VacancyContact,
    /// Free text for care managers.
    pub notes: Option<String>,
    /// Days from today on; past days drop out.
    pub days: Vec<DayVacancy>,
    /// When the facility last published or confirmed it; RFC 3339 in UTC.
    pub confirmed_at: String,
    /// Not confirmed for longer than the board's freshness limit (default 24 hours).
    pub stale: bool,
    /// When it was last published; RFC 3339 in UTC.
    pub updated_at: String,
}

impl VacancyPosting {
    /// The `ETag` of this version.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// A facility as a search answer names it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VacancyFacility {
    /// The organisation id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What kind of organisation it is.
    pub kind: OrganizationKind,
    /// Its address.
    pub address: Option<Address>,
    /// Its phone number.
    pub phone: Option<String>,
}

/// A search hit: a facility's posting with beds free on every day asked, and those days.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Vacancy {
    /// The facility.
    pub facility: VacancyFacility,
    /// The service.
    pub service: ShortStayService,
    /// The posting's version.
    pub version: i32,
    /// When the facility last published or confirmed it; RFC 3339 in UTC.
    pub confirmed_at: String,
    /// Not confirmed for longer than the board's freshness limit: call before relying on it.
    pub stale: bool,
    /// Who to call.
    pub contact: VacancyContact,
    /// Free text for care managers.
    pub notes: Option<String>,
    /// The days asked, each with beds free.
    pub days: Vec<DayVacancy>,
}

impl VacancyPostingInput {
    /// Every failing field at once; days must lie from `today` to `MAX_DAYS_AHEAD` after it.
    pub(super) fn check(&self, today: Date) -> Result<(), crate::error::ApiError> {
        let mut errors = Errors::default();
        if self.days.len() > 400 {
            errors.add("/days", "must list at most 400 days");
        }
        let last = today.saturating_add(time::Duration::days(super::MAX_DAYS_AHEAD));
        let mut seen = HashSet::new();
        for (i, day) in self.days.iter().enumerate() {
            match clock::parse_day(&day.date) {
                None => errors.add(format!("/days/{i}/date"), "must be a real date, YYYY-MM-DD"),
                Some(d) if d < today => errors
                    .add(format!("/days/{i}/date"), format!("must not be before today ({})", clock::format_day(today))),
                Some(d) if d > last => errors.add(format!("/days/{i}/date"), "must be within 400 days from today"),
                Some(d) if !seen.insert(d) => errors.add(format!("/days/{i}/date"), "is listed twice"),
                Some(_) => {}
            }
            if day.beds.len() > 16 {
                errors.add(format!("/days/{i}/beds"), "must list at most 16 entries");
            }
            let mut pairs = HashSet::new();
            for (j, bed) in day.beds.iter().enumerate() {
                if bed.free > 999 {
                    errors.add(format!("/days/{i}/beds/{j}/free"), "must be from 0 to 999");
                }
                if !pairs.insert((bed.room, bed.sex)) {
                    errors.add(format!("/days/{i}/beds/{j}"), "this room type and sex are listed twice");
                }
            }
            let mut needs = HashSet::new();
            for (j, need) in day.accepts.iter().enumerate() {
                if !needs.insert(*need) {
                    errors.add(format!("/days/{i}/accepts/{j}"), "is listed twice");
                }
            }
        }
        if let Some(name) = &self.contact.name {
            errors.text("/contact/name", name, 200);
        }
        errors.phone("/contact/phone", &self.contact.phone);
        if let Some(notes) = &self.notes {
            errors.text("/notes", notes, 2000);
        }
        errors.finish()
    }
}

/// Needs as stored: `,a,b,` (`,` for none), so one LIKE finds a word on either backend.
pub(super) fn needs_text(needs: &[CareNeed]) -> String {
    let mut text = String::from(",");
    for need in needs {
        text.push_str(need.as_str());
        text.push(',');
    }
    text
}

/// The stored needs back as words; an unknown word is a fault of the database.
pub(super) fn needs_from_text(text: &str) -> Result<Vec<CareNeed>, crate::error::ApiError> {
    text.split(',').filter(|w| !w.is_empty()).map(|w| w.parse().map_err(crate::error::ApiError::internal)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_words_are_the_wire_words() {
        for s in ShortStayService::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
        }
        for n in CareNeed::ALL {
            assert_eq!(serde_json::to_value(n).unwrap(), serde_json::json!(n.as_str()));
            assert_eq!(n.as_str().parse::<CareNeed>().unwrap(), *n);
        }
        for r in RoomType::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), serde_json::json!(r.as_str()));
        }
        for x in BedSex::ALL {
            assert_eq!(serde_json::to_value(x).unwrap(), serde_json::json!(x.as_str()));
        }
    }

    #[test]
    fn care_needs_share_the_care_paths_procedure_words() {
        let common: serde_json::Value =
            serde_json::from_str(include_str!("../../../schemas/common/1.0.0.json")).unwrap();
        let kinds = common["$defs"]["home_procedure"]["properties"]["kind"]["enum"].as_array().unwrap();
        for kind in kinds.iter().filter_map(|k| k.as_str()).filter(|k| *k != "other") {
            assert!(kind.parse::<CareNeed>().is_ok(), "home procedure {kind} is not a care need");
        }
        let care_path = include_str!("../../../schemas/care-path/1.1.0.json");
        assert!(care_path.contains("\"tube_feeding\""));
    }

    #[test]
    fn needs_round_trip_through_their_stored_text() {
        let needs = vec![CareNeed::Suction, CareNeed::DementiaBpsd];
        assert_eq!(needs_text(&needs), ",suction,dementia_bpsd,");
        assert_eq!(needs_from_text(&needs_text(&needs)).unwrap(), needs);
        assert_eq!(needs_from_text(",").unwrap(), vec![]);
    }
}
