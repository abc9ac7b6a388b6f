//! Console sessions and their cookie (issue 26, items 12 and 21a; server-side since issue 30).

/// Console sessions: when they end, how their cookie is sent, and who may sign in how.
#[derive(Debug, Clone, clap::Args)]
pub struct SessionSettings {
    /// Seconds without a request after which a console session ends; 0: only sign-out, an
    /// admin or the absolute time-out end it.
    #[arg(long = "console-idle-secs", env = "CAREPATH_CONSOLE_IDLE_SECS", default_value_t = 1800)]
    pub console_idle_secs: u64,

    /// Seconds after sign-in at which a console session ends, however busy (the absolute time-out).
    #[arg(long = "console-absolute-secs", env = "CAREPATH_CONSOLE_ABSOLUTE_SECS", default_value_t = 43_200)]
    pub console_absolute_secs: u64,

    /// Mark the console's cookies `Secure` (sent over HTTPS only). Always, by default, whatever
    /// a client or proxy claims; `false` only for plain-HTTP development on loopback.
    #[arg(long = "console-secure-cookie", env = "CAREPATH_CONSOLE_SECURE_COOKIE", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub console_secure_cookie: bool,

    /// Offer sign-in to the console by pasting a bearer token (development and scripts); off
    /// by default, where people sign in with an account. `serve --demo` offers it anyway.
    #[arg(long = "console-token-sign-in", env = "CAREPATH_CONSOLE_TOKEN_SIGN_IN", default_value_t = false,
          action = clap::ArgAction::Set)]
    pub console_token_sign_in: bool,

    /// Hours an invitation (or a second-factor reset's code) stays usable.
    #[arg(long = "invite-ttl-hours", env = "CAREPATH_INVITE_TTL_HOURS", default_value_t = 72)]
    pub invite_ttl_hours: u64,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            console_idle_secs: 1800,
            console_absolute_secs: 43_200,
            console_secure_cookie: true,
            console_token_sign_in: false,
            invite_ttl_hours: 72,
        }
    }
}
