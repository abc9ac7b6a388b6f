//! Outgoing HTTP to identity providers: discovery documents, JWKS, and the console's code
//! exchange. Blocking (ureq), so callers run it off the async workers (a background task or
//! `web::block`). The URLs come from the operator's trust file, not from callers, so they are
//! not checked against private ranges the way webhook targets are (an IdP is often internal).

use std::time::Duration;

use ureq::Agent;

/// A JWKS or discovery document is a few KB; this bounds what a broken endpoint can send.
const MAX_BODY: u64 = 256 * 1024;
/// Seconds one exchange with the provider may take.
const TIMEOUT_SECS: u64 = 10;

fn agent() -> Agent {
    let config = Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(TIMEOUT_SECS)))
        .max_redirects(0)
        .http_status_as_error(false)
        .user_agent("carepath-auth")
        .build();
    Agent::new_with_config(config)
}

/// A JSON document and how long it may be cached (`Cache-Control: max-age`, if given; `no-store`
/// and `no-cache` count as 0).
pub(super) struct Fetched {
    pub(super) body: Vec<u8>,
    pub(super) max_age: Option<u64>,
}

fn describe(e: ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timed out".into(),
        other => other.to_string(),
    }
}

/// GETs `url`; an answer other than 200 is an error naming the status.
pub(super) fn get_json(url: &str) -> Result<Fetched, String> {
    let mut resp = agent().get(url).header("accept", "application/json").call().map_err(describe)?;
    let status = resp.status().as_u16();
    if status != 200 {
        return Err(format!("answered HTTP {status}"));
    }
    let max_age = resp.headers().get("cache-control").and_then(|v| v.to_str().ok()).and_then(max_age);
    let body = resp.body_mut().with_config().limit(MAX_BODY).read_to_vec().map_err(describe)?;
    Ok(Fetched { body, max_age })
}

/// POSTs a form (`application/x-www-form-urlencoded`); the status and body, whatever the status.
pub fn post_form(url: &str, form: &[(&str, &str)]) -> Result<(u16, Vec<u8>), String> {
    let mut resp =
        agent().post(url).header("accept", "application/json").send_form(form.iter().copied()).map_err(describe)?;
    let status = resp.status().as_u16();
    let body = resp.body_mut().with_config().limit(MAX_BODY).read_to_vec().map_err(describe)?;
    Ok((status, body))
}

/// `max-age` of a `Cache-Control` value; `no-store` / `no-cache` mean 0.
fn max_age(value: &str) -> Option<u64> {
    let mut age = None;
    for directive in value.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(0);
        }
        if let Some(secs) = lower.strip_prefix("max-age=") {
            age = secs.trim_matches('"').parse().ok();
        }
    }
    age
}

#[cfg(test)]
mod tests {
    use super::max_age;

    #[test]
    fn cache_control_is_read() {
        assert_eq!(max_age("public, max-age=3600"), Some(3600));
        assert_eq!(max_age("max-age=\"60\""), Some(60));
        assert_eq!(max_age("no-store"), Some(0));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }
}
