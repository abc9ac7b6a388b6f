//! The demo region's directory: a medical association's clinics, two hospitals, visiting-nurse
//! stations, care-management offices, a consultation desk, pharmacies, short-stay facilities and
//! two municipalities (the guide's cast), with their staff, contact hours and vacancy postings.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use rand::Rng;
use serde_json::{Value, json};

use super::api::{Api, Caller, id};
use super::people::{self, TOWNS};
use super::{DemoError, Tokens};

/// One organisation of the table below: name, kind, town (index into `TOWNS`), staff by role.
struct OrgSpec {
    name: &'static str,
    kind: &'static str,
    town: usize,
    staff: &'static [(&'static str, u32)],
}

#[rustfmt::skip]
const ORGS: [OrgSpec; 20] = [
    OrgSpec { name: "やまびこ内科クリニック", kind: "clinic", town: 0, staff: &[("physician", 2), ("nurse", 1)] },
    OrgSpec { name: "みどりの丘診療所", kind: "clinic", town: 0, staff: &[("physician", 1), ("nurse", 1)] },
    OrgSpec { name: "高梁さくら内科", kind: "clinic", town: 1, staff: &[("physician", 2), ("nurse", 1)] },
    OrgSpec { name: "成羽ファミリークリニック", kind: "clinic", town: 1, staff: &[("physician", 1)] },
    OrgSpec { name: "新見中央病院", kind: "hospital", town: 0, staff: &[("physician", 2), ("nurse", 1), ("social_worker", 1)] },
    OrgSpec { name: "高梁地域医療センター", kind: "hospital", town: 1, staff: &[("physician", 1), ("social_worker", 1)] },
    OrgSpec { name: "新見さくら訪問看護ステーション", kind: "visiting_nurse_station", town: 0, staff: &[("nurse", 3), ("therapist", 1)] },
    OrgSpec { name: "高梁ひまわり訪問看護ステーション", kind: "visiting_nurse_station", town: 1, staff: &[("nurse", 2), ("therapist", 1)] },
    OrgSpec { name: "居宅介護支援事業所みどり", kind: "care_management_office", town: 0, staff: &[("care_manager", 3)] },
    OrgSpec { name: "高梁ケアプランセンター", kind: "care_management_office", town: 1, staff: &[("care_manager", 2)] },
    OrgSpec { name: "新見市地域包括支援センター", kind: "community_support_center", town: 0, staff: &[("care_manager", 1), ("social_worker", 1)] },
    OrgSpec { name: "新見・高梁 在宅医療介護連携相談室", kind: "consultation_desk", town: 0, staff: &[("nurse", 1), ("social_worker", 1)] },
    OrgSpec { name: "あおば薬局 新見店", kind: "pharmacy", town: 0, staff: &[("pharmacist", 2)] },
    OrgSpec { name: "高梁つばさ薬局", kind: "pharmacy", town: 1, staff: &[("pharmacist", 1)] },
    OrgSpec { name: "新見ひだまり歯科", kind: "dental_clinic", town: 0, staff: &[("dentist", 1)] },
    OrgSpec { name: "特別養護老人ホーム 新見荘", kind: "care_facility", town: 0, staff: &[("care_worker", 1), ("nurse", 1)] },
    OrgSpec { name: "介護老人保健施設 たかはし", kind: "care_facility", town: 1, staff: &[("care_worker", 1), ("nurse", 1)] },
    OrgSpec { name: "ショートステイ 成羽の里", kind: "care_facility", town: 1, staff: &[("care_worker", 1)] },
    OrgSpec { name: "新見市 健康福祉部", kind: "municipality", town: 0, staff: &[] },
    OrgSpec { name: "高梁市 保健福祉課", kind: "municipality", town: 1, staff: &[] },
];

/// Short-stay postings: (facility, service).
const POSTINGS: [(&str, &str); 3] = [
    ("特別養護老人ホーム 新見荘", "daily_living"),
    ("介護老人保健施設 たかはし", "medical_care"),
    ("ショートステイ 成羽の里", "daily_living"),
];

pub struct Org {
    pub id: String,
    pub name: &'static str,
    pub kind: &'static str,
    pub town: usize,
    pub phone: String,
}

pub struct Staff {
    pub id: String,
    pub name: String,
    pub role: &'static str,
    pub org: usize,
    pub caller: Caller,
}

/// The directory as registered, with a caller for every member of staff.
pub struct Region {
    pub orgs: Vec<Org>,
    pub staff: Vec<Staff>,
    /// Every member of staff's name: each names one person.
    pub names: std::collections::HashSet<String>,
}

impl Region {
    /// The organisations of one kind in one town (any town with `None`).
    pub fn orgs_of(&self, kind: &str, town: Option<usize>) -> Vec<usize> {
        (0..self.orgs.len())
            .filter(|&i| self.orgs[i].kind == kind && town.is_none_or(|t| self.orgs[i].town == t))
            .collect()
    }

    /// The staff of one organisation with one role.
    pub fn staff_of(&self, org: usize, role: &str) -> Vec<&Staff> {
        self.staff.iter().filter(|s| s.org == org && s.role == role).collect()
    }

    /// The first member of staff with this role at this organisation.
    pub fn one(&self, org: usize, role: &str) -> Result<&Staff, DemoError> {
        self.staff_of(org, role)
            .into_iter()
            .next()
            .ok_or_else(|| DemoError::Call(format!("no {role} at {}", self.orgs[org].name)))
    }

    pub fn by_name(&self, name: &str) -> Result<usize, DemoError> {
        self.orgs.iter().position(|o| o.name == name).ok_or_else(|| DemoError::Call(format!("no organisation {name}")))
    }
}

/// Registers every organisation and member of staff (as the operator's admin), then publishes
/// the clinics' contact hours and the short-stay facilities' vacancies (as their own staff).
pub async fn register<S, B>(api: &Api<S>, tokens: &Tokens, rng: &mut impl Rng) -> Result<Region, DemoError>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let admin = tokens.operator()?;
    let mut region = Region { orgs: Vec::new(), staff: Vec::new(), names: Default::default() };
    for (index, spec) in ORGS.iter().enumerate() {
        let town = &TOWNS[spec.town];
        let phone = format!("0867-{:02}-{:04}", 70 + index, 1000 + index * 111);
        let body = json!({
            "name": spec.name, "kind": spec.kind, "phone": phone,
            "address": {"postal_code": format!("{}{:02}", town.postal_prefix, 10 + index), "prefecture": people::PREFECTURE, "city": town.city},
        });
        let org = id(&api.post(&admin, "/v1/organizations", body).await?)?;
        region.orgs.push(Org { id: org.clone(), name: spec.name, kind: spec.kind, town: spec.town, phone });
        for &(role, count) in spec.staff {
            for _ in 0..count {
                let name = people::staff_name(rng, &mut region.names);
                let body = json!({"name": name, "profession": role, "organization": org});
                let id = id(&api.post(&admin, "/v1/practitioners", body).await?)?;
                let caller = tokens.caller(&id, role, &org, &format!("{name} ({role}, {})", spec.name))?;
                region.staff.push(Staff { id, name, role, org: index, caller });
            }
        }
    }
    publish_contact_hours(api, &region).await?;
    publish_vacancies(api, tokens, &region, rng).await?;
    Ok(region)
}

/// Every clinic physician's ケアマネタイム: a weekday hour for care managers, FAX hours for all.
async fn publish_contact_hours<S, B>(api: &Api<S>, region: &Region) -> Result<(), DemoError>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    const DAYS: [&str; 5] = ["monday", "tuesday", "wednesday", "thursday", "friday"];
    for (n, doctor) in region.staff.iter().filter(|s| s.role == "physician").enumerate() {
        if region.orgs[doctor.org].kind != "clinic" {
            continue;
        }
        let body = json!({"slots": [
            {"weekday": DAYS[n % 5], "start": "13:00", "end": "14:00", "channel": "phone", "audience": "care_managers",
             "notes": "受付で「ケアマネタイム」とお伝えください"},
            {"weekday": DAYS[(n + 2) % 5], "start": "08:30", "end": "09:30", "channel": "fax", "audience": "all"},
        ]});
        api.put(&doctor.caller, &format!("/v1/practitioners/{}/contact-hours", doctor.id), body, &[]).await?;
    }
    Ok(())
}

/// Two weeks of beds from today for each short-stay facility, published by its own staff.
async fn publish_vacancies<S, B>(
    api: &Api<S>,
    tokens: &Tokens,
    region: &Region,
    rng: &mut impl Rng,
) -> Result<(), DemoError>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    for (name, service) in POSTINGS {
        let facility = region.by_name(name)?;
        let staff = &region.one(facility, "care_worker")?.caller;
        let days: Vec<Value> = (0..14)
            .map(|d| {
                let accepts: &[&str] = if service == "medical_care" {
                    &["suction", "tube_feeding", "insulin", "home_oxygen", "gastrostomy", "urinary_catheter"]
                } else if d % 3 == 0 {
                    &["insulin", "urinary_catheter"]
                } else {
                    &["insulin", "dementia_bpsd"]
                };
                json!({
                    "date": tokens.day(d),
                    "beds": [
                        {"room": "shared", "sex": "female", "free": rng.gen_range(0..=2)},
                        {"room": "shared", "sex": "male", "free": rng.gen_range(0..=1)},
                        {"room": "private", "sex": "any", "free": rng.gen_range(0..=1)},
                    ],
                    "accepts": accepts,
                })
            })
            .collect();
        let body = json!({"days": days, "contact": {"name": "生活相談員", "phone": "0867-72-0000"}, "notes": "送迎は市内のみ"});
        let path = format!("/v1/organizations/{}/vacancies/{service}", region.orgs[facility].id);
        api.put(staff, &path, body, &[]).await?;
    }
    Ok(())
}
