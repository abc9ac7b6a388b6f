//! A patient's identity (氏名, 生年月日, 住所, 保険): its types, its checks, and the sealing of every
//! field on its own under the patient's data key, bound to its place in the record.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::clock;
use crate::crypto::{DataKey, FieldContext};
use crate::db::patients::PatientRow;
use crate::domain::fields::{self, Address, Errors};
use crate::domain::params;
use crate::error::ApiError;
use crate::state::AppState;

params::words!(
    /// 要介護度: the long-term-care certification level.
    CareLevel, "care level", [
        /// 要支援1
        #[serde(rename = "support_1")]
        Support1 = "support_1",
        /// 要支援2
        #[serde(rename = "support_2")]
        Support2 = "support_2",
        /// 要介護1
        #[serde(rename = "care_1")]
        Care1 = "care_1",
        /// 要介護2
        #[serde(rename = "care_2")]
        Care2 = "care_2",
        /// 要介護3
        #[serde(rename = "care_3")]
        Care3 = "care_3",
        /// 要介護4
        #[serde(rename = "care_4")]
        Care4 = "care_4",
        /// 要介護5
        #[serde(rename = "care_5")]
        Care5 = "care_5",
        /// 非該当: assessed and not certified as needing support or care.
        NotCertified = "not_certified",
        /// 申請中: certification applied for, not yet decided.
        Pending = "pending",
    ]
);

/// The patient's sex (性別) as recorded.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// Male.
    Male,
    /// Female.
    Female,
    /// Neither male nor female.
    Other,
    /// Not known or not recorded.
    Unknown,
}

/// 医療保険: insurer number (保険者番号), symbol (記号), number (番号) and branch number (枝番).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthInsurance {
    /// 6 digits (national health insurance) or 8 digits.
    #[schema(pattern = r"^([0-9]{6}|[0-9]{8})$", example = "39331234")]
    pub insurer_number: String,
    /// 記号, at most 20 characters; absent when the card has none.
    #[schema(
        min_length = 1,
        max_length = 20,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub symbol: Option<String>,
    /// 番号, at most 20 characters.
    #[schema(
        min_length = 1,
        max_length = 20,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub number: String,
    /// 枝番: the 2-digit branch number printed on cards since 2021; absent when not known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[0-9]{2}$", example = "01")]
    pub branch: Option<String>,
}

/// The identifying part of a patient: every field here is sealed at rest.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// 氏名: not blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// 氏名カナ: full-width katakana (U+30A0–U+30FF), with spaces between words.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[\u30A0-\u30FF \u3000]*[\u30A0-\u30FF][\u30A0-\u30FF \u3000]*$",
        example = "ヤマダ ハナコ"
    )]
    pub name_kana: Option<String>,
    /// A real date from 1890-01-01 on, not in the future (the upper bound is today, so it is
    /// not in the schema: a later date is a 422 naming `/birth_date`).
    #[schema(format = Date, example = "1939-04-01")]
    pub birth_date: String,
    /// 性別
    pub sex: Sex,
    /// Home address (住所), where care is delivered.
    pub address: Option<Address>,
    /// Digits and hyphens, an optional leading `+`; at least 7 digits, 7 to 20 characters.
    #[schema(min_length = 7, max_length = 20, pattern = r"^\+?-*[0-9](-*[0-9]){6,}-*$")]
    pub phone: Option<String>,
    /// 介護保険被保険者番号: 10 digits.
    #[schema(pattern = r"^[0-9]{10}$", example = "9876543210")]
    pub ltc_insured_number: Option<String>,
    /// 介護保険の保険者番号: 6 digits (the municipality that insures the patient). With the insured
    /// number it names the patient in the care-plan exchange files.
    #[schema(pattern = r"^[0-9]{6}$", example = "332106")]
    pub ltc_insurer_number: Option<String>,
    /// 医療保険 card details.
    pub health_insurance: Option<HealthInsurance>,
}

impl Identity {
    /// `today` is the region's date: a birth date may not be after it.
    pub(super) fn check(&self, today: time::Date, errors: &mut Errors) {
        errors.text("/name", &self.name, 200);
        if let Some(kana) = &self.name_kana {
            errors.text("/name_kana", kana, 200);
            if !fields::is_katakana(kana) {
                errors.add("/name_kana", "must be full-width katakana");
            }
        }
        match clock::parse_day(&self.birth_date) {
            None => errors.add("/birth_date", "must be a real date, YYYY-MM-DD"),
            Some(day) if day > today => errors.add("/birth_date", "must not be in the future"),
            Some(day) if day.year() < 1890 => errors.add("/birth_date", "must be after 1890"),
            Some(_) => {}
        }
        if let Some(address) = &self.address {
            address.check("/address", errors);
        }
        if let Some(phone) = &self.phone {
            errors.phone("/phone", phone);
        }
        if let Some(number) = &self.ltc_insured_number {
            errors.digits("/ltc_insured_number", number, &[10]);
        }
        if let Some(number) = &self.ltc_insurer_number {
            errors.digits("/ltc_insurer_number", number, &[6]);
        }
        if let Some(hi) = &self.health_insurance {
            errors.digits("/health_insurance/insurer_number", &hi.insurer_number, &[6, 8]);
            errors.text("/health_insurance/number", &hi.number, 20);
            if let Some(symbol) = &hi.symbol {
                errors.text("/health_insurance/symbol", symbol, 20);
            }
            if let Some(branch) = &hi.branch {
                errors.digits("/health_insurance/branch", branch, &[2]);
            }
        }
    }

    /// Seals every field on its own, bound to its place in this patient's record.
    pub(super) fn seal(&self, data_key: &DataKey, patient_id: &str) -> Result<String, ApiError> {
        let Value::Object(plain) = serde_json::to_value(self).map_err(ApiError::internal)? else {
            return Err(ApiError::internal("identity is not an object"));
        };
        let mut sealed = Map::new();
        for (name, value) in plain {
            if value.is_null() {
                continue;
            }
            let pointer = format!("/{name}");
            let at = FieldContext { patient_id, document_id: "patient", version: 1, pointer: &pointer };
            sealed.insert(name, Value::String(data_key.seal(&at, &value).map_err(ApiError::internal)?));
        }
        Ok(Value::Object(sealed).to_string())
    }

    pub(super) fn open(state: &AppState, row: &PatientRow) -> Result<Self, ApiError> {
        let data_key = state.data_key(row)?;
        let Value::Object(sealed) = serde_json::from_str(&row.sealed).map_err(ApiError::internal)? else {
            return Err(ApiError::internal("stored identity is not an object"));
        };
        let mut plain = Map::new();
        for (name, value) in sealed {
            let pointer = format!("/{name}");
            let at = FieldContext { patient_id: &row.id, document_id: "patient", version: 1, pointer: &pointer };
            let Value::String(s) = value else { return Err(ApiError::internal("stored field is not sealed")) };
            plain.insert(name, data_key.open(&at, &s).map_err(ApiError::internal)?);
        }
        serde_json::from_value(Value::Object(plain)).map_err(ApiError::internal)
    }
}

/// The patient's municipality (prefecture and city of the home address), opening that one field
/// and nothing else: what the region's indicators are broken down by.
pub(crate) fn municipality(state: &AppState, row: &PatientRow) -> Result<Option<String>, ApiError> {
    let Value::Object(sealed) = serde_json::from_str(&row.sealed).map_err(ApiError::internal)? else {
        return Err(ApiError::internal("stored identity is not an object"));
    };
    let Some(Value::String(text)) = sealed.get("address") else { return Ok(None) };
    let data_key = state.data_key(row)?;
    let at = FieldContext { patient_id: &row.id, document_id: "patient", version: 1, pointer: "/address" };
    let address: Address =
        serde_json::from_value(data_key.open(&at, text).map_err(ApiError::internal)?).map_err(ApiError::internal)?;
    Ok(address.city.map(|city| format!("{}{city}", address.prefecture.unwrap_or_default())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_care_levels_are_the_wire_words() {
        for level in CareLevel::ALL {
            assert_eq!(serde_json::to_value(level).unwrap(), Value::String(level.as_str().to_owned()));
            assert_eq!(level.as_str().parse::<CareLevel>().unwrap(), *level);
        }
        assert!("care_6".parse::<CareLevel>().is_err());
    }
}
