//! The residents' page (the guide's section G: awareness among residents): public, without
//! sign-in, so off unless the region switches it on.

/// The public page for residents.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ResidentsSettings {
    /// Serve the residents' page at `/residents/` (and lead `/` to it): each municipality's
    /// published indicators and where to ask, for anyone, without sign-in. Off by default: what
    /// a region publishes is its council's decision.
    #[arg(long = "residents-page", env = "CAREPATH_RESIDENTS_PAGE", default_value_t = false,
          action = clap::ArgAction::Set)]
    pub residents_page: bool,
}
