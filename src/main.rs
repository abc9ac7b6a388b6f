//! The `carepath` command line: parses arguments and hands over to the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use carepath::config::Settings;
use carepath::startup::{AppState, Application};
use carepath::{openapi, telemetry};

/// carepath: the shared care-path record of a home-care team.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API. First start creates the data directory, database and keys.
    Serve(Settings),
    /// Print the OpenAPI 3.1 document (the content of openapi/openapi.json).
    Openapi,
    /// Print a token signed by the local issuer (`carepath-local`), for trying the API.
    Token(TokenArgs),
}

#[derive(clap::Args)]
struct TokenArgs {
    /// Subject: the practitioner id, or an integration's client id.
    #[arg(long)]
    sub: String,
    /// Role: physician, dentist, pharmacist, nurse, therapist, care_manager, care_worker,
    /// social_worker, admin, auditor.
    #[arg(long)]
    role: carepath::auth::Role,
    /// Organisation id (for admin, the operator's id `carepath-operator` works before any exist).
    #[arg(long)]
    org: String,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    ttl: u64,
    /// Data directory holding the local issuer key.
    #[arg(long, env = "CAREPATH_DATA_DIR", default_value = "./carepath-data")]
    data_dir: std::path::PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(settings) => serve(settings),
        Command::Token(args) => {
            match carepath::auth::issue_local_token(&args.data_dir, &args.sub, args.role, &args.org, args.ttl) {
                Ok(token) => {
                    println!("{token}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("carepath: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Openapi => {
            print!("{}", openapi::spec_json());
            ExitCode::SUCCESS
        }
    }
}

fn serve(settings: Settings) -> ExitCode {
    telemetry::init();
    let result = actix_web::rt::System::new().block_on(async move {
        let state = AppState::open(settings)?;
        let app = Application::build(state)?;
        tracing::info!(port = app.port, "carepath is serving");
        app.server.await.map_err(|e| carepath::startup::StartError::Bind { bind: "server".into(), source: e })
    });
    match result {
        Ok(()) => {
            tracing::info!("carepath stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("carepath: {e}");
            ExitCode::FAILURE
        }
    }
}
