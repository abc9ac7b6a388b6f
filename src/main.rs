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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(settings) => serve(settings),
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
