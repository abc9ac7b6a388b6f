//! Console sessions and their cookie (issue 26, items 12 and 21a).

/// Console sessions: when they end, and how their cookie is sent.
#[derive(Debug, Clone, clap::Args)]
pub struct SessionSettings {
    /// Seconds without a request after which a console session ends (its token is then refused
    /// in the console and as an API bearer token); 0: only sign-out, an admin or `exp` end it.
    #[arg(long = "console-idle-secs", env = "CAREPATH_CONSOLE_IDLE_SECS", default_value_t = 1800)]
    pub console_idle_secs: u64,

    /// Mark the console's cookies `Secure` (sent over HTTPS only). Always, by default, whatever
    /// a client or proxy claims; `false` only for plain-HTTP development on loopback.
    #[arg(long = "console-secure-cookie", env = "CAREPATH_CONSOLE_SECURE_COOKIE", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub console_secure_cookie: bool,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self { console_idle_secs: 1800, console_secure_cookie: true }
    }
}
