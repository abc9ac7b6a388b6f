//! HTTP handlers, one file per resource. Handlers parse, authorise, call the domain, map the result.

pub mod health;
pub mod json;

use actix_web::web;

/// Every route, in one table. Resources (not method-guarded routes) so that a known path with
/// the wrong method answers 405, not 404.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").get(health::healthz));
}
