//! The groups a Bulk Data client exports (`Group/{id}/$export`): per organisation, the patients
//! it manages (`managed-{org}`) and the patients on whose care team it serves today
//! (`team-{org}`). A caller sees and exports only its own organisation's groups, and an export of
//! a group holds only those of its patients the caller may read one by one (the export's rule).
//! A Group lists no members: who is in it is disclosed patient by patient, by the export.

use serde_json::{Value, json};

use crate::access::{self, Action, Resource};
use crate::context::Context;
use crate::domain::exports::Scope;
use crate::error::ApiError;
use crate::fhir::{OURS, reference};

/// The scope of the group named `id` (`managed-{org}`, `team-{org}`), when it names one.
pub fn parse(id: &str) -> Option<Scope> {
    let (prefix, org) = id.split_once('-')?;
    let org = org.to_owned();
    match prefix {
        _ if org.is_empty() => None,
        "managed" => Some(Scope::Managed(org)),
        "team" => Some(Scope::Team(org)),
        _ => None,
    }
}

/// The group of the caller's organisation named `id`; any other is a 404, as a missing one.
pub fn owned(ctx: &Context, id: &str) -> Result<Scope, ApiError> {
    access::check(&ctx.caller, Resource::Patient, Action::Read)?;
    let ours = |scope: &Scope| matches!(scope, Scope::Managed(org) | Scope::Team(org) if *org == ctx.caller.org);
    parse(id).filter(ours).ok_or_else(|| ApiError::NotFound(format!("no group {id} here")))
}

/// The Group resource.
pub fn group(scope: &Scope) -> Value {
    let (prefix, org, name) = match scope {
        Scope::Managed(org) => ("managed", org.as_str(), "患者 (管理): the patients this organisation manages"),
        Scope::Team(org) => {
            ("team", org.as_str(), "患者 (ケアチーム): the patients on whose care team this organisation serves")
        }
        Scope::System | Scope::Patient => ("all", "", "every patient the caller may read"),
    };
    json!({
        "resourceType": "Group",
        "id": format!("{prefix}-{org}"),
        "identifier": [{"system": format!("{OURS}/sid/group"), "value": format!("{prefix}-{org}")}],
        "active": true,
        "type": "person",
        "actual": true,
        "name": name,
        "managingEntity": reference("Organization", org),
    })
}

/// `GET /v1/fhir/Group/{id}`.
pub fn read(ctx: &Context, id: &str) -> Result<Value, ApiError> {
    Ok(group(&owned(ctx, id)?))
}

/// `GET /v1/fhir/Group`: the groups the caller may export.
pub fn list(ctx: &Context) -> Result<Vec<Value>, ApiError> {
    access::check(&ctx.caller, Resource::Patient, Action::Read)?;
    let org = ctx.caller.org.clone();
    Ok([Scope::Managed(org.clone()), Scope::Team(org)].iter().map(group).collect())
}
