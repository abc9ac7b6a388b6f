//! The outgoing HTTP client: ureq (blocking, small) over rustls with the ring provider, which the
//! tree already has for sealing. It connects only to addresses the SSRF policy allows (the
//! resolver below checks every address before ureq sees it), follows no redirects (a redirect
//! could lead anywhere), gives up after the configured time-out, and reads at most
//! [`MAX_ANSWER_BYTES`] of an answer.

use std::io;
use std::time::Duration;

use ureq::Agent;
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use super::ssrf::{self, Policy};
use crate::config::WebhookSettings;

/// The most of a receiver's answer read (then dropped): enough to keep the connection reusable.
pub const MAX_ANSWER_BYTES: u64 = 16 * 1024;

/// Resolves as usual, then refuses the whole answer if any address is not allowed: an endpoint
/// whose name resolves to a public and an internal address is refused, not half-trusted.
#[derive(Debug)]
struct CheckedResolver {
    policy: Policy,
    inner: DefaultResolver,
}

impl Resolver for CheckedResolver {
    fn resolve(&self, uri: &Uri, config: &Config, timeout: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let addrs = self.inner.resolve(uri, config, timeout)?;
        let https = uri.scheme_str() == Some("https");
        for addr in addrs.iter() {
            ssrf::check_address(addr.ip(), https, self.policy)
                .map_err(|reason| ureq::Error::Io(io::Error::new(io::ErrorKind::PermissionDenied, reason)))?;
        }
        Ok(addrs)
    }
}

/// One agent per delivery worker; it keeps connections to receivers open between deliveries.
#[derive(Clone)]
pub struct Client {
    agent: Agent,
}

impl Client {
    /// A client with the settings' time-out and SSRF policy.
    pub fn new(settings: &WebhookSettings) -> Self {
        let config = Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(settings.timeout_secs.max(1))))
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent("carepath-webhooks")
            .build();
        let resolver = CheckedResolver { policy: Policy::from(settings), inner: DefaultResolver::default() };
        Self { agent: Agent::with_parts(config, DefaultConnector::default(), resolver) }
    }

    /// POSTs a JSON body with the given headers; `Ok` on any 2xx answer, else why not (the
    /// status, or the connection's error), worded for the subscriber's `last_error`.
    pub fn post(&self, url: &str, headers: &[(&str, String)], body: &[u8]) -> Result<(), String> {
        let mut request = self.agent.post(url).header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let mut answer = request.send(body).map_err(describe)?;
        // Read (a bounded part of) the answer so the connection can be reused; its content is
        // not used, and one too long is simply cut.
        let _drained = answer.body_mut().with_config().limit(MAX_ANSWER_BYTES).read_to_vec();
        let status = answer.status();
        if status.is_success() { Ok(()) } else { Err(format!("the receiver answered {}", status.as_u16())) }
    }
}

fn describe(e: ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) if io.kind() == io::ErrorKind::PermissionDenied => format!("refused: {io}"),
        ureq::Error::Timeout(_) => "timed out".into(),
        other => format!("could not deliver: {other}"),
    }
}
