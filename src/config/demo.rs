//! The demo region's flags (`carepath demo`, `carepath serve --demo`).

/// The demo region (`carepath demo`, `carepath serve --demo`).
#[derive(Debug, Clone, clap::Args)]
pub struct DemoSettings {
    /// With `serve`: fill a fresh data directory with the demo region first (as `carepath demo`),
    /// then serve it. A directory that already holds the demo region is served as it is.
    #[arg(long = "demo", env = "CAREPATH_DEMO")]
    pub enabled: bool,

    /// The demo region's seed: the same seed makes the same region (names, records, choices).
    #[arg(long = "demo-seed", env = "CAREPATH_DEMO_SEED", default_value_t = 1)]
    pub seed: u64,

    /// Patients in the demo region.
    #[arg(long = "demo-patients", env = "CAREPATH_DEMO_PATIENTS", default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(1..=5000))]
    pub patients: u32,

    /// Allow `serve --demo` on an address other than loopback. The demo's sign-in page hands a
    /// token to whoever opens it, so by default it is served to this machine only.
    #[arg(long = "demo-public", env = "CAREPATH_DEMO_PUBLIC")]
    pub public: bool,
}

impl Default for DemoSettings {
    fn default() -> Self {
        Self { enabled: false, seed: 1, patients: 200, public: false }
    }
}

/// The flags of `carepath demo`: where the store and its keys are, what the region's calendar
/// and operator are, and the region's seed and size. Nothing of serving (`--bind`, limits,
/// `--demo`, `--demo-public`), which would mean nothing to a command that fills and exits.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub store: super::StoreArgs,

    #[command(flatten)]
    pub keys: super::KeyFileArgs,

    /// The organisation id of the network operator (its admin writes the region's directory).
    #[arg(long, env = "CAREPATH_OPERATOR_ORG", default_value = "carepath-operator")]
    pub operator_org: String,

    /// The region's time zone (IANA name): the demo's dates are relative to today there.
    #[arg(long, env = "CAREPATH_TIME_ZONE", default_value = "Asia/Tokyo")]
    pub time_zone: String,

    /// The demo region's seed: the same seed makes the same region (names, records, choices).
    #[arg(long = "demo-seed", env = "CAREPATH_DEMO_SEED", default_value_t = 1)]
    pub seed: u64,

    /// Patients in the demo region.
    #[arg(long = "demo-patients", env = "CAREPATH_DEMO_PATIENTS", default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(1..=5000))]
    pub patients: u32,
}

impl DemoArgs {
    /// The [`super::Settings`] the loader runs with: these flags, everything else as `serve`'s
    /// defaults.
    pub fn into_settings(self) -> super::Settings {
        let mut settings = self.store.into_settings(Some(self.keys));
        settings.operator_org = self.operator_org;
        settings.time_zone = self.time_zone;
        settings.demo.seed = self.seed;
        settings.demo.patients = self.patients;
        settings
    }
}
