//! Writes each planned patient through the API as its care team would: the managing physician
//! registers the patient, forms the team and records consent; each member writes its own records;
//! the care manager asks the doctor on a contact sheet.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use serde_json::json;

use super::DemoError;
use super::api::{Api, id};
use super::plan::{ConsentPlan, Plan};
use super::region::Region;
use crate::clock;

/// What the demo wrote, for the summary it prints.
#[derive(Debug, Default, serde::Serialize)]
pub struct Counts {
    pub patients: u32,
    pub documents: u32,
    pub consents: u32,
    pub consents_limited: u32,
    pub consents_revoked: u32,
    pub contact_sheets: u32,
    pub deaths: u32,
    /// Care paths given a second version (so that the console can show a difference).
    pub care_path_versions: u32,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.patients += other.patients;
        self.documents += other.documents;
        self.consents += other.consents;
        self.consents_limited += other.consents_limited;
        self.consents_revoked += other.consents_revoked;
        self.contact_sheets += other.contact_sheets;
        self.deaths += other.deaths;
        self.care_path_versions += other.care_path_versions;
    }

    pub fn sum<'a>(all: impl IntoIterator<Item = &'a Counts>) -> Counts {
        let mut total = Counts::default();
        all.into_iter().for_each(|c| total.add(c));
        total
    }
}

/// Writes one patient's plan; answers the patient id and what was written.
pub async fn write<S, B>(
    api: &Api<S>,
    region: &Region,
    plan: &Plan,
    today: time::Date,
) -> Result<(String, Counts), DemoError>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let mut counts = Counts { patients: 1, ..Counts::default() };
    let doctor = &region.staff[plan.managing_doctor];
    let patient = id(&api.post(&doctor.caller, "/v1/patients", plan.registration.clone()).await?)?;
    let members: Vec<_> = plan
        .team
        .iter()
        .map(|m| {
            let mut member =
                json!({"organization": region.orgs[m.org].id, "role": m.role, "since": clock::format_day(m.since)});
            if let Some(staff) = m.staff {
                member["practitioner"] = json!(region.staff[staff].id);
            }
            member
        })
        .collect();
    let team = format!("/v1/patients/{patient}/care-team");
    api.put(&doctor.caller, &team, json!({"members": members.clone()}), &[]).await?;

    let consent = match plan.consent {
        ConsentPlan::None => None,
        kind => {
            let mut body = json!({
                "status": "active", "organizations": "care_team", "purposes": ["treatment", "care_coordination"],
                "period": {"start": clock::format_day(today - time::Duration::days(30))},
                "obtained_by": "signed_form",
            });
            if kind == ConsentPlan::Limited {
                body["permitted_types"] = json!(["care-path", "visiting-nursing-report"]);
                counts.consents_limited += 1;
            }
            if let Some(proxy) = &plan.by_proxy {
                body["obtained_by"] = json!("proxy");
                body["proxy"] = json!({"name": proxy, "relation": "other_relative"});
            }
            counts.consents += 1;
            Some(id(&api.post(&doctor.caller, &format!("/v1/patients/{patient}/consents"), body).await?)?)
        }
    };

    let documents = format!("/v1/patients/{patient}/documents");
    let (version, content) = &plan.care_path;
    let doc = json!({"type": "care-path", "schema_version": version, "content": content});
    let care_path = id(&api.post(&doctor.caller, &documents, doc).await?)?;
    counts.documents += 1;
    if let Some(content) = &plan.care_path_update {
        let doc = json!({"type": "care-path", "schema_version": version, "content": content});
        api.put(&doctor.caller, &format!("/v1/documents/{care_path}"), doc, &[("if-match", "\"1\"")]).await?;
        counts.care_path_versions += 1;
    }
    if let Some((nurse, content)) = &plan.nursing_report {
        let doc = json!({"type": "visiting-nursing-report", "schema_version": "1.0.0", "content": content});
        api.post(&region.staff[*nurse].caller, &documents, doc).await?;
        counts.documents += 1;
    }
    if let Some((physician, content)) = &plan.discharge {
        let doc = json!({"type": "discharge-summary", "schema_version": "1.0.0", "content": content});
        api.post(&region.staff[*physician].caller, &documents, doc).await?;
        counts.documents += 1;
    }
    if let Some(content) = &plan.end_of_life {
        let doc = json!({"type": "end-of-life-record", "schema_version": "1.0.0", "content": content});
        api.post(&doctor.caller, &documents, doc).await?;
        counts.documents += 1;
        counts.deaths += 1;
    }

    // A team ends with its patient: once the records are written, each membership gets its end.
    if plan.team.iter().any(|m| m.until.is_some()) {
        let ended: Vec<_> = members
            .into_iter()
            .zip(&plan.team)
            .map(|(mut member, m)| {
                if let Some(until) = m.until {
                    member["until"] = json!(clock::format_day(until));
                }
                member
            })
            .collect();
        api.put(&doctor.caller, &team, json!({"members": ended}), &[]).await?;
    }

    if let (ConsentPlan::Revoked, Some(consent)) = (plan.consent, consent) {
        let path = format!("/v1/patients/{patient}/consents/{consent}/revoke");
        api.post(&doctor.caller, &path, json!({"reason": "家族の意向により共有を中止"})).await?;
        counts.consents_revoked += 1;
    }
    Ok((patient, counts))
}

/// The care manager's contact sheet to the managing doctor, written in the region's past: the
/// loader's clock stands `sent_days_ago` back while it is sent, and moves on by the hours the
/// doctor took to open and answer it; it stands at now again when this returns. Sheets are
/// written one at a time (the clock is the loading state's, shared by its requests).
pub async fn sheet<S, B>(
    api: &Api<S>,
    region: &Region,
    plan: &Plan,
    patient: &str,
    clock: &clock::Clock,
) -> Result<(), DemoError>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let Some(sheet) = &plan.sheet else { return Ok(()) };
    let doctor = &region.staff[plan.managing_doctor];
    let cm = &region.staff[sheet.care_manager].caller;
    let sent_at = time::Duration::days(sheet.sent_days_ago);
    clock.set_offset(-sent_at);
    let reply_by = clock.now() + time::Duration::days(2);
    let body = json!({
        "patient_id": patient, "to": {"practitioner": doctor.id}, "category": sheet.category,
        "urgency": "soon", "body": sheet.body, "reply_by": clock::format(reply_by),
    });
    let result = async {
        let sent = id(&api.post(cm, "/v1/contact-sheets", body).await?)?;
        if sheet.opened {
            clock.set_offset(-sent_at + time::Duration::hours(sheet.reply_after_hours / 2));
            api.get(&doctor.caller, &format!("/v1/contact-sheets/{sent}"), &[]).await?;
        }
        if let Some(reply) = sheet.reply {
            clock.set_offset(-sent_at + time::Duration::hours(sheet.reply_after_hours));
            api.post(&doctor.caller, &format!("/v1/contact-sheets/{sent}/reply"), json!({"body": reply})).await?;
        }
        Ok(())
    }
    .await;
    clock.set_offset(time::Duration::ZERO);
    result
}

/// A hospital physician outside the team opens the first patient's record in an emergency: the
/// break-glass access an auditor finds waiting for review.
pub async fn break_glass<S, B>(api: &Api<S>, region: &Region, patient: &str, town: usize) -> Result<(), DemoError>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let hospital = region.orgs_of("hospital", Some(1 - town)).first().copied().unwrap_or_default();
    let doctor = region.one(hospital, "physician")?;
    let reason: String = form_urlencoded::byte_serialize("救急搬送時の既往歴確認".as_bytes()).collect();
    let header = format!("UTF-8''{reason}");
    api.get(&doctor.caller, &format!("/v1/patients/{patient}"), &[("x-break-glass", &header)]).await?;
    api.get(&doctor.caller, &format!("/v1/patients/{patient}/documents"), &[("x-break-glass", &header)]).await?;
    Ok(())
}

/// The council's annual plan for this 年度 (fiscal year, from April), kept by the secretariat
/// (the town hall's analyst), each item linked to the indicators that judge it: so
/// `GET /v1/plans/{year}` answers with the plan and its values side by side.
pub async fn annual_plan<S, B>(api: &Api<S>, tokens: &super::Tokens, region: &Region) -> Result<i32, DemoError>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let Some(&town_hall) = region.orgs_of("municipality", Some(0)).first() else {
        return Err(DemoError::Call("no town hall for the annual plan".into()));
    };
    let secretariat = tokens.caller("demo-analyst", "analyst", &region.orgs[town_hall].id, "協議会事務局")?;
    let today = tokens.today;
    let year = if today.month() >= time::Month::April { today.year() } else { today.year() - 1 };
    let ids =
        |kind: &str| -> Vec<String> { region.orgs_of(kind, None).iter().map(|&i| region.orgs[i].id.clone()).collect() };
    let body = json!({"items": [
        {"area": "A", "what": "在宅医療・介護連携推進協議会の開催", "by": ids("municipality"), "schedule": "6月・10月・2月",
         "times": 3, "status": "in_progress",
         "indicators": [{"indicator": "organizations_active", "group": "structure"}]},
        {"area": "C", "what": "退院時の情報共有（退院時サマリーの2日以内共有）", "by": ids("hospital"), "status": "in_progress",
         "indicators": [{"indicator": "discharge_summaries_within_2_days_share", "group": "process", "target": 0.8}]},
        {"area": "D", "what": "ケアマネタイムと連絡票による医師・ケアマネ連携", "by": ids("care_management_office"), "status": "in_progress",
         "indicators": [{"indicator": "contact_sheets_answered", "group": "process"},
                        {"indicator": "contact_sheets_median_reply_hours", "group": "process", "target": 24.0}]},
        {"area": "H", "what": "在宅看取りの推進（ACP・人生会議の普及啓発）", "by": ids("clinic"), "schedule": "通年", "status": "planned",
         "indicators": [{"indicator": "home_death_rate", "group": "outcome", "target": 0.5},
                        {"indicator": "family_doctors_active", "group": "structure"}]},
    ]});
    api.put(&secretariat, &format!("/v1/plans/{year}"), body, &[]).await?;
    Ok(year)
}
