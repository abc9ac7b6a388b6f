//! Ending a user's sessions: an organisation's admin (or the operator's) ends every console
//! session (`db::console_sessions`) and bearer token of one of its users, e.g. when a device is lost or someone leaves.
//! The token check itself is in `auth`; the ending is also kept in the database (`db::sessions`).

use std::sync::Arc;

use serde::Deserialize;
use utoipa::ToSchema;

use crate::access::{self, DirectoryWrite};
use crate::audit::Event;
use crate::context::Context;
use crate::db::sessions::EndedUserRow;
use crate::domain::fields::Errors;
use crate::error::ApiError;
use crate::ids::OrganizationId;
use crate::state::AppState;

/// Whose sessions to end.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndSessionsInput {
    /// The user's token subject (`sub`; the practitioner id), at most 256 characters.
    #[schema(example = "3f1c2d4e-0000-4000-8000-000000000001")]
    pub sub: String,
}

impl EndSessionsInput {
    fn check(&self) -> Result<(), ApiError> {
        let mut errors = Errors::default();
        errors.text("/sub", &self.sub, 256);
        errors.finish()
    }
}

/// Ends every session of `input.sub` of organisation `org`: tokens of that user issued until
/// now are refused from now on, in the console and as bearer tokens. Audited, refusals too.
pub async fn end_user_sessions(
    state: &Arc<AppState>,
    ctx: Context,
    org: OrganizationId,
    input: EndSessionsInput,
) -> Result<(), ApiError> {
    let event = Event::new(&ctx, "sessions.end").resource("organization", org.as_str());
    let at = state.clock.now().unix_timestamp();
    let row = super::write(state, event, 204, move |tx, st, _| {
        access::may_write_directory(
            &ctx.caller,
            &st.settings.operator_org,
            DirectoryWrite::ReplaceOrganization { id: org.as_str() },
        )?;
        input.check()?;
        // Kept with its audit event, so that a restart does not revive the user's tokens.
        let row = EndedUserRow { organization_id: org.clone().into_string(), sub: input.sub.clone(), ended_at: at };
        row.upsert(tx)?;
        crate::db::console_sessions::SessionRow::end_all_of(tx, &row.organization_id, &row.sub, at)?;
        Ok(row)
    })
    .await?;
    state.auth.end_user_sessions(&row.organization_id, &row.sub, u64::try_from(at).unwrap_or(0));
    state.console_sessions.forget_user(&row.organization_id, &row.sub);
    Ok(())
}
