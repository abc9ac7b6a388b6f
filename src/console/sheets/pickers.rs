//! Choosing whom a sheet goes to, and about whom, by name instead of by id: the patient's care
//! team first (the people a care manager writes to most), then the region's directory; the
//! patients the caller may see, by name and kana. Each list is read through the domain call
//! its API route makes, so a choice the caller may not see is never offered.

use std::sync::Arc;

use super::super::{Names, Ui};
use crate::context::Context;
use crate::domain::directory::{self, OrganizationFilter, PractitionerFilter};
use crate::domain::patients::{self, PatientSearch};
use crate::domain::{care_team, paging};
use crate::state::AppState;

/// One choice of a select: the value the form sends and what the reader sees.
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// Choices under a heading (a label key).
pub struct Group {
    pub heading: &'static str,
    pub choices: Vec<Choice>,
}

/// An addressee as the form sends it: `pr:<practitioner id>` or `org:<organisation id>`.
pub fn addressee(value: &str) -> (Option<String>, Option<String>) {
    match value.split_once(':') {
        Some(("pr", id)) if !id.is_empty() => (None, Some(id.to_owned())),
        Some(("org", id)) if !id.is_empty() => (Some(id.to_owned()), None),
        _ => (None, None),
    }
}

fn all_organizations() -> OrganizationFilter {
    OrganizationFilter { kind: None, medical_institution_code: None, ltc_provider_number: None }
}

/// Everyone a sheet may go to, as groups: the patient's team (when a patient is chosen), the
/// directory's practitioners and its organisations. A list the caller may not read is left out.
pub async fn addressees(state: &Arc<AppState>, ctx: &Context, ui: &Ui, patient: Option<&str>) -> Vec<Group> {
    let limit = i64::from(paging::MAX_LIMIT);
    let orgs = directory::list_organizations(state, ctx.clone(), all_organizations(), None, limit)
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    let org_names = Names::known(orgs.iter().map(|o| (o.id.clone(), o.name.clone())));
    let mut groups = Vec::new();
    if let Some(patient) = patient.filter(|p| !p.is_empty())
        && let Ok(team) = care_team::get(state, ctx.clone(), patient.to_owned().into()).await
    {
        let people: Vec<String> = team.members.iter().filter_map(|m| m.member.practitioner.clone()).collect();
        let names = Names::of(state, ctx, Vec::new(), people).await;
        let choices = team
            .members
            .iter()
            .filter(|m| m.active)
            .map(|m| {
                let org = org_names.get(&m.member.organization);
                let role = ui.say_of("role", &m.member.role);
                match &m.member.practitioner {
                    Some(p) => {
                        Choice { value: format!("pr:{p}"), label: format!("{}（{role}・{org}）", names.get(p)) }
                    }
                    None => {
                        Choice { value: format!("org:{}", m.member.organization), label: format!("{org}（{role}）") }
                    }
                }
            })
            .collect();
        groups.push(Group { heading: "pick_team", choices });
    }
    let practitioners = directory::list_practitioners(
        state,
        ctx.clone(),
        PractitionerFilter { organization: None, profession: None },
        None,
        limit,
    )
    .await;
    if let Ok(page) = practitioners {
        let choices = page
            .items
            .iter()
            .map(|p| Choice {
                value: format!("pr:{}", p.id),
                label: format!(
                    "{}（{}・{}）",
                    p.name,
                    ui.say_of("role", &p.profession),
                    org_names.get(&p.organization)
                ),
            })
            .collect();
        groups.push(Group { heading: "pick_people", choices });
    }
    let choices = orgs
        .iter()
        .map(|o| Choice {
            value: format!("org:{}", o.id),
            label: format!("{}（{}）", o.name, ui.say_of("org_kind", &o.kind)),
        })
        .collect();
    groups.push(Group { heading: "pick_orgs", choices });
    groups
}

/// The patients the caller may see, by name with kana, for the sheet's patient.
pub async fn patients(state: &Arc<AppState>, ctx: &Context) -> Vec<Choice> {
    let search = PatientSearch::default();
    let page = patients::list(state, ctx.clone(), search, None, i64::from(paging::MAX_LIMIT)).await;
    page.map(|p| p.items)
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let kana = p.identity.name_kana.map(|k| format!("（{k}）")).unwrap_or_default();
            Choice { value: p.id, label: format!("{}{kana}", p.identity.name) }
        })
        .collect()
}
