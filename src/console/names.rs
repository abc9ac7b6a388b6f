//! People's and organisations' names for the ids a page would otherwise show.

use crate::context::Context;

/// Names for the ids a page shows (organisations, practitioners), read from the directory as
/// `GET /v1/organizations/{id}` and `GET /v1/practitioners/{id}` read them (unaudited there too).
/// An id the directory does not know (a token's `sub` that is no practitioner) shows as itself.
#[derive(Default)]
pub struct Names(std::collections::HashMap<String, String>);

impl Names {
    /// Looks up each organisation and practitioner once.
    pub async fn of(
        state: &std::sync::Arc<crate::state::AppState>,
        ctx: &Context,
        organizations: impl IntoIterator<Item = String>,
        practitioners: impl IntoIterator<Item = String>,
    ) -> Self {
        let mut names = std::collections::HashMap::new();
        for id in organizations {
            if id.is_empty() || names.contains_key(&id) {
                continue;
            }
            if let Ok(org) = crate::domain::directory::get_organization(state, ctx.clone(), id.clone().into()).await {
                names.insert(id, org.name);
            }
        }
        for id in practitioners {
            if id.is_empty() || names.contains_key(&id) {
                continue;
            }
            if let Ok(p) = crate::domain::directory::get_practitioner(state, ctx.clone(), id.clone().into()).await {
                names.insert(id, p.name);
            }
        }
        Self(names)
    }

    /// Names the caller already read (with a record, say), by id.
    pub fn known(names: impl IntoIterator<Item = (String, String)>) -> Self {
        Self(names.into_iter().collect())
    }

    /// Adds names the page read otherwise (patients, say).
    pub fn extend(&mut self, names: impl IntoIterator<Item = (String, String)>) {
        self.0.extend(names);
    }

    /// The name of `id`, or `id` itself.
    pub fn get<'a>(&'a self, id: &'a str) -> &'a str {
        self.0.get(id).map_or(id, String::as_str)
    }
}
