//! Names for the ids a page shows (organisations, practitioners), read from the directory as
//! `GET /v1/organizations/{id}` and `GET /v1/practitioners/{id}` read them. An id the directory
//! does not know (a token's `sub` that is no practitioner) is shown as itself.

use std::collections::HashMap;
use std::sync::Arc;

use crate::context::Context;
use crate::domain::directory;
use crate::state::AppState;

/// Looked-up names, by id.
#[derive(Default)]
pub struct Names(HashMap<String, String>);

impl Names {
    /// Looks up each organisation and practitioner once.
    pub async fn of(
        state: &Arc<AppState>,
        ctx: &Context,
        organizations: impl IntoIterator<Item = String>,
        practitioners: impl IntoIterator<Item = String>,
    ) -> Self {
        let mut names = HashMap::new();
        for id in organizations {
            if id.is_empty() || names.contains_key(&id) {
                continue;
            }
            if let Ok(org) = directory::get_organization(state, ctx.clone(), id.clone().into()).await {
                names.insert(id, org.name);
            }
        }
        for id in practitioners {
            if id.is_empty() || names.contains_key(&id) {
                continue;
            }
            if let Ok(p) = directory::get_practitioner(state, ctx.clone(), id.clone().into()).await {
                names.insert(id, p.name);
            }
        }
        Self(names)
    }

    /// The name of `id`, or `id` itself.
    pub fn get<'a>(&'a self, id: &'a str) -> &'a str {
        self.0.get(id).map_or(id, String::as_str)
    }
}
