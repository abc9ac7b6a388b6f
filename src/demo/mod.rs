//! The demo region: `carepath demo` (and `carepath serve --demo`) fills an empty data directory
//! with a believable home-care region modelled on the guide's examples, every name synthetic and
//! every choice drawn from `--demo-seed`, and hands out a token per role to try it with.

mod api;
mod people;
mod plan;
mod records;
mod region;
mod story;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::future::join_all;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::config::Settings;
use crate::state::{AppState, StartError};
use api::{Api, Caller};
pub use people::is_womans_name;
pub use records::Counts;

/// Patients written at once: their writes share the committer's batches.
const CONCURRENT_PATIENTS: usize = 16;

/// How long the printed tokens last.
const TOKEN_TTL_SECS: u64 = 30 * 24 * 3600;

/// The file in the data directory that says the demo region is there, and who is in it.
const MANIFEST: &str = "demo.json";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error(
        "the data directory {0} already holds records that are not the demo region's; give the demo an empty one (--data-dir)"
    )]
    NotEmpty(String),
    #[error("{what} was refused with {status}: {body}")]
    Refused { what: String, status: u16, body: String },
    #[error("demo region: {0}")]
    Call(String),
    #[error("demo region: cannot issue a token: {0}")]
    Token(String),
    #[error("demo region: {path}: {source}")]
    Manifest { path: String, source: std::io::Error },
}

/// Someone to try the region as.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoUser {
    pub role: Role,
    /// The token subject: the practitioner id (or a made-up one for admin and auditor).
    pub sub: String,
    pub name: String,
    pub organization: String,
    pub organization_name: String,
}

/// What `demo.json` holds: the region's seed, what was written, who to try it as.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub seed: u64,
    pub counts: serde_json::Value,
    pub users: Vec<DemoUser>,
}

/// The demo region's people, when this data directory holds the demo region (for the console's
/// sign-in page); empty otherwise.
pub fn users(data_dir: &Path) -> Vec<DemoUser> {
    read_manifest(data_dir).map(|m| m.users).unwrap_or_default()
}

fn manifest_path(data_dir: &Path) -> PathBuf {
    data_dir.join(MANIFEST)
}

fn read_manifest(data_dir: &Path) -> Option<Manifest> {
    let text = std::fs::read_to_string(manifest_path(data_dir)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Issues the tokens of the demo's callers with the local issuer of the data directory.
pub struct Tokens {
    data_dir: PathBuf,
    operator_org: String,
    today: time::Date,
}

impl Tokens {
    fn caller(&self, sub: &str, role: &str, org: &str, who: &str) -> Result<Caller, DemoError> {
        let role: Role = role.parse().map_err(|_| DemoError::Token(format!("unknown role {role}")))?;
        let token = crate::auth::issue_local_token(&self.data_dir, sub, role, org, TOKEN_TTL_SECS)
            .map_err(|e| DemoError::Token(e.to_string()))?;
        Ok(Caller { token, who: who.to_owned() })
    }

    fn operator(&self) -> Result<Caller, DemoError> {
        self.caller("demo-operator", "admin", &self.operator_org, "the operator's admin")
    }

    /// `today + days` in the region, as `YYYY-MM-DD`.
    fn day(&self, days: i64) -> String {
        crate::clock::format_day(self.today + time::Duration::days(days))
    }
}

/// Refuses `serve --demo` on an address other than loopback unless `--demo-public` says so: the
/// demo's sign-in page hands a token to whoever opens it. A host name other than `localhost`
/// counts as public (it may resolve anywhere).
pub fn check_bind(settings: &Settings) -> Result<(), String> {
    if !settings.demo.enabled || settings.demo.public {
        return Ok(());
    }
    let bind = settings.bind.trim();
    let loopback = match bind.parse::<std::net::SocketAddr>() {
        Ok(addr) => addr.ip().is_loopback(),
        Err(_) => bind.rsplit_once(':').is_some_and(|(host, _)| host.eq_ignore_ascii_case("localhost")),
    };
    if loopback {
        Ok(())
    } else {
        Err(format!(
            "--demo hands out tokens on its sign-in page: it serves on a loopback address only, not {bind}; \
             add --demo-public to serve the demo region to the network anyway"
        ))
    }
}

/// The demo region the data directory already holds, if any.
pub fn existing(settings: &Settings) -> Option<Manifest> {
    read_manifest(&settings.data_dir)
}

/// The state the loader writes through: its own, without per-caller limits (a few thousand
/// writes by a few dozen callers in seconds is the loader's normal, not abuse). The serving
/// state is opened afresh afterwards.
pub fn loading_state(settings: &Settings) -> Result<Arc<AppState>, DemoError> {
    let mut loading = settings.clone();
    loading.rate_limit_per_minute = 0;
    loading.org_rate_limit_per_minute = 0;
    Ok(AppState::open(loading)?)
}

/// Fills an empty data directory with the demo region through `app`, the application on
/// `state` in process (the wiring builds it: `startup::load_demo`, so the demo never imports the
/// wiring). Refuses a directory with other records in it.
pub async fn fill<S, B>(settings: &Settings, state: &AppState, app: S) -> Result<Manifest, DemoError>
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let api = Api::new(app);
    let tokens = Tokens {
        data_dir: settings.data_dir.clone(),
        operator_org: settings.operator_org.clone(),
        today: state.calendar.today(),
    };
    let existing = api.get(&tokens.operator()?, "/v1/organizations?limit=1", &[]).await?;
    if existing["items"].as_array().is_some_and(|items| !items.is_empty()) {
        return Err(DemoError::NotEmpty(settings.data_dir.display().to_string()));
    }

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(settings.demo.seed);
    let region = region::register(&api, &tokens, &mut rng).await?;
    let plans: Vec<plan::Plan> =
        (1..=settings.demo.patients).map(|serial| plan::patient(&mut rng, &region, serial, tokens.today)).collect();
    let mut written = Vec::with_capacity(plans.len());
    for chunk in plans.chunks(CONCURRENT_PATIENTS) {
        for result in join_all(chunk.iter().map(|p| records::write(&api, &region, p, tokens.today))).await {
            written.push(result?);
        }
    }
    for (plan, (patient, counts)) in plans.iter().zip(written.iter_mut()) {
        if plan.sheet.is_some() {
            records::sheet(&api, &region, plan, patient, &state.clock).await?;
            counts.contact_sheets += 1;
        }
    }
    if let (Some((patient, _)), Some(first)) = (written.first(), plans.first()) {
        records::break_glass(&api, &region, patient, first.town).await?;
    }
    records::annual_plan(&api, &tokens, &region).await?;
    let counts = Counts::sum(written.iter().map(|(_, c)| c));
    let manifest = Manifest {
        seed: settings.demo.seed,
        counts: serde_json::to_value(&counts).unwrap_or_default(),
        users: demo_users(&region, settings),
    };
    let path = manifest_path(&settings.data_dir);
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    std::fs::write(&path, text).map_err(|source| DemoError::Manifest { path: path.display().to_string(), source })?;
    Ok(manifest)
}

/// One person per role, from the organisations a newcomer would look at first.
fn demo_users(region: &region::Region, settings: &Settings) -> Vec<DemoUser> {
    let mut users = Vec::new();
    for (role, kind) in [
        ("physician", "clinic"),
        ("nurse", "visiting_nurse_station"),
        ("care_manager", "care_management_office"),
        ("pharmacist", "pharmacy"),
        ("therapist", "visiting_nurse_station"),
        ("dentist", "dental_clinic"),
        ("social_worker", "hospital"),
        ("care_worker", "care_facility"),
    ] {
        let Some(staff) = region.staff.iter().find(|s| s.role == role && region.orgs[s.org].kind == kind) else {
            continue;
        };
        let org = &region.orgs[staff.org];
        users.push(DemoUser {
            role: role.parse().unwrap_or(Role::Nurse),
            sub: staff.id.clone(),
            name: staff.name.clone(),
            organization: org.id.clone(),
            organization_name: org.name.to_owned(),
        });
    }
    users.push(DemoUser {
        role: Role::Admin,
        sub: "demo-operator".into(),
        name: "運営事務局".into(),
        organization: settings.operator_org.clone(),
        organization_name: "carepath operator".into(),
    });
    // The town hall audits, and its secretariat of the council reads the reports.
    if let Some(&town_hall) = region.orgs_of("municipality", Some(0)).first() {
        let org = &region.orgs[town_hall];
        for (role, sub, name) in
            [(Role::Auditor, "demo-auditor", "監査担当"), (Role::Analyst, "demo-analyst", "協議会事務局")]
        {
            users.push(DemoUser {
                role,
                sub: sub.into(),
                name: name.into(),
                organization: org.id.clone(),
                organization_name: org.name.to_owned(),
            });
        }
    }
    users
}

/// The lines `carepath demo` and `serve --demo` print: what is there, and a token per role.
pub fn describe(manifest: &Manifest, data_dir: &Path) -> String {
    let mut out = format!(
        "demo region (seed {}): {}\nTokens (valid 30 days; `carepath token --sub SUB --role ROLE --org ORG` makes more):\n",
        manifest.seed, manifest.counts
    );
    for user in &manifest.users {
        let token = crate::auth::issue_local_token(data_dir, &user.sub, user.role, &user.organization, TOKEN_TTL_SECS)
            .unwrap_or_else(|e| format!("(cannot issue: {e})"));
        out.push_str(&format!(
            "  {:<13} {} / {}\n  export DEMO_{}={token}\n",
            user.role.as_str(),
            user.name,
            user.organization_name,
            user.role.as_str().to_uppercase()
        ));
    }
    out
}
