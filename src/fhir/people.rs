//! Patient, Organization, Practitioner, PractitionerRole and CareTeam.

use serde_json::{Value, json};

use super::{OURS, meta, ours, reference};
use crate::db::directory::{OrganizationRow, PractitionerRow};
use crate::domain::care_team::CareTeam;
use crate::domain::patients::Patient;

/// The ISO 21090 name-representation extension JP Core uses to tell kanji (IDE) from kana (SYL).
pub(super) const REPRESENTATION: &str = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";

/// JP Core's insured-person identifier (`insurer:symbol:number`), as carepath wrote it before
/// JP-CLINS; still understood on the way in.
pub const INSURED_PERSON: &str = "http://jpfhir.jp/fhir/core/IdSystem/insured-person-identifier";

/// JP-CLINS' insured-person identifier: `insurer:symbol:number:branch` (保険者番号:記号:番号:枝番).
pub const INSURANCE_MEMBER_ID: &str = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID";

/// The facility patient id's system, `urn:oid:1.2.392.100495.20.3.51.1` + the managing
/// organisation's 保険医療機関コード (10 digits).
pub const FACILITY_PATIENT_ID: &str = "urn:oid:1.2.392.100495.20.3.51.1";

/// The managing organisation's 保険医療機関コード (10 digits), which makes the facility patient
/// id's system (`FACILITY_PATIENT_ID` + code); none without one.
pub fn institution_code(managing: Option<&OrganizationRow>) -> Option<String> {
    managing.and_then(|o| o.medical_institution_code.clone())
}

fn human_name(text: &str, representation: &str) -> Value {
    let mut name = json!({
        "extension": [{ "url": REPRESENTATION, "valueCode": representation }],
        "use": "official",
        "text": text,
    });
    // Japanese names are written family name first, a space between.
    let parts: Vec<&str> = text.split([' ', '\u{3000}']).filter(|p| !p.is_empty()).collect();
    if parts.len() >= 2 {
        name["family"] = json!(parts[0]);
        name["given"] = json!(parts[1..]);
    }
    name
}

/// FHIR's `gender` for our sex: the same words (`male`, `female`, `other`, `unknown`).
pub(super) fn gender(sex: crate::domain::identity::Sex) -> Option<String> {
    serde_json::to_value(sex).ok().and_then(|v| v.as_str().map(str::to_owned))
}

/// The patient: identifiers, kanji and kana names, birth date, sex, address, phone.
/// `managing` is the managing organisation as the directory has it, for the facility patient id.
pub fn patient(p: &Patient, managing: Option<&OrganizationRow>) -> Value {
    let id = &p.identity;
    let mut identifiers = vec![json!({ "system": format!("{OURS}/sid/patient"), "value": p.id })];
    if let Some(code) = institution_code(managing) {
        identifiers.push(json!({ "system": format!("{FACILITY_PATIENT_ID}{code}"), "value": p.id }));
    }
    if let Some(n) = &id.ltc_insured_number {
        identifiers.push(json!({ "system": format!("{OURS}/sid/ltc-insured-number"), "value": n }));
    }
    if let Some(hi) = &id.health_insurance {
        // Four parts always, an unknown symbol or branch left empty, as the guide writes them.
        let value = format!(
            "{}:{}:{}:{}",
            hi.insurer_number,
            hi.symbol.as_deref().unwrap_or(""),
            hi.number,
            hi.branch.as_deref().unwrap_or("")
        );
        identifiers.push(json!({ "system": INSURANCE_MEMBER_ID, "value": value }));
    }
    let mut names = vec![human_name(&id.name, "IDE")];
    if let Some(kana) = &id.name_kana {
        names.push(human_name(kana, "SYL"));
    }
    let gender = gender(id.sex);
    let mut r = json!({
        "resourceType": "Patient",
        "id": p.id,
        "meta": meta(Some("JP_Patient"), None, false),
        "identifier": identifiers,
        "active": true,
        "name": names,
        "gender": gender,
        "birthDate": id.birth_date,
        "managingOrganization": reference("Organization", &p.managing_organization),
    });
    if let Some(level) = p.care_level {
        r["extension"] = json!([{
            "url": format!("{OURS}/StructureDefinition/care-level"),
            "valueCoding": ours("care-level", level.as_str()),
        }]);
    }
    if let Some(phone) = &id.phone {
        r["telecom"] = json!([{ "system": "phone", "value": phone, "use": "home" }]);
    }
    if let Some(a) = &id.address {
        let mut addr = json!({ "use": "home", "country": "JP" });
        let text: Vec<&str> = [&a.prefecture, &a.city, &a.line].iter().filter_map(|s| s.as_deref()).collect();
        if !text.is_empty() {
            addr["text"] = json!(text.concat());
        }
        if let Some(v) = &a.postal_code {
            addr["postalCode"] = json!(v);
        }
        if let Some(v) = &a.prefecture {
            addr["state"] = json!(v);
        }
        if let Some(v) = &a.city {
            addr["city"] = json!(v);
        }
        if let Some(v) = &a.line {
            addr["line"] = json!([v]);
        }
        r["address"] = json!([addr]);
    }
    r
}

/// An organisation of the directory.
pub fn organization(o: &OrganizationRow) -> Value {
    let mut r = json!({
        "resourceType": "Organization",
        "id": o.id,
        "meta": meta(Some("JP_Organization"), None, false),
        "identifier": [{ "system": format!("{OURS}/sid/organization"), "value": o.id }],
        "active": true,
        "type": [{ "coding": [ours("organization-kind", &o.kind)] }],
        "name": o.name,
    });
    if let Some(phone) = &o.phone {
        r["telecom"] = json!([{ "system": "phone", "value": phone, "use": "work" }]);
    }
    if let Some(text) = &o.address {
        r["address"] = json!([{ "text": text, "country": "JP" }]);
    }
    r
}

/// A practitioner of the directory; the profession goes on each PractitionerRole.
pub fn practitioner(p: &PractitionerRow) -> Value {
    json!({
        "resourceType": "Practitioner",
        "id": p.id,
        "meta": meta(Some("JP_Practitioner"), None, false),
        "identifier": [{ "system": format!("{OURS}/sid/practitioner"), "value": p.id }],
        "active": true,
        "name": [human_name(&p.name, "IDE")],
        "qualification": [{ "code": { "coding": [ours("profession", &p.profession)] } }],
    })
}

fn role_id(team: &CareTeam, position: usize) -> String {
    super::derived_id(&team.patient_id, &format!("role{position}"))
}

fn period(since: &str, until: Option<&str>) -> Value {
    match until {
        Some(end) => json!({ "start": since, "end": end }),
        None => json!({ "start": since }),
    }
}

/// One PractitionerRole per membership: who, for which organisation, in which profession, when.
pub fn roles(team: &CareTeam) -> Vec<Value> {
    team.members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut r = json!({
                "resourceType": "PractitionerRole",
                "id": role_id(team, i),
                "meta": meta(Some("JP_PractitionerRole"), None, false),
                "active": m.active,
                "period": period(&m.member.since, m.member.until.as_deref()),
                "organization": reference("Organization", &m.member.organization),
                "code": [{ "coding": [ours("profession", m.member.role.as_str())] }],
            });
            if let Some(p) = &m.member.practitioner {
                r["practitioner"] = reference("Practitioner", p);
            }
            r
        })
        .collect()
}

/// The care team: every membership as a participant, the managing organisation as manager.
/// The member is the PractitionerRole, which names the organisation itself: R4's ctm-1 allows
/// `onBehalfOf` only beside a Practitioner member, so it is not written.
pub fn care_team(team: &CareTeam, managing: &str) -> Value {
    let participants: Vec<Value> = team
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| {
            json!({
                "role": [{ "coding": [ours("profession", m.member.role.as_str())] }],
                "member": reference("PractitionerRole", &role_id(team, i)),
                "period": period(&m.member.since, m.member.until.as_deref()),
            })
        })
        .collect();
    let mut r = json!({
        "resourceType": "CareTeam",
        "id": team.patient_id,
        "status": "active",
        "name": "在宅医療・介護連携チーム",
        "subject": reference("Patient", &team.patient_id),
        "managingOrganization": [reference("Organization", managing)],
    });
    if !participants.is_empty() {
        r["participant"] = json!(participants);
    }
    r
}
