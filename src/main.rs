//! The `carepath` command line: parses arguments and hands over to the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use carepath::config::{DataDirArgs, KeyFileArgs, Settings, StoreArgs};
use carepath::{openapi, telemetry};
use carepath::{startup::Application, state::AppState};

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
    Serve(Box<Settings>),
    /// Print the OpenAPI 3.1 document (the content of openapi/openapi.json).
    Openapi,
    /// Print a token signed by the local issuer (`carepath-local`), for trying the API.
    Token(TokenArgs),
    /// Master key management.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Audit log tools.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a new master key current and re-wrap every patient's data key under it, while the
    /// service runs. Safe to interrupt and run again; the old key is dropped once unused.
    Rotate(RotateArgs),
}

#[derive(clap::Args)]
struct RotateArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    keys: KeyFileArgs,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the audit log's hash chain and check its signed checkpoints, in the live
    /// database or in an export file; exit status 1 naming the first broken sequence.
    Verify(VerifyArgs),
    /// Print the public key that verifies audit checkpoints.
    PublicKey(DataDirArgs),
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// An NDJSON export (`GET /v1/audit-events/export`) to check instead of the live database.
    #[arg(long, requires = "public_key")]
    export: Option<std::path::PathBuf>,
    /// The checkpoint public key: base64 of the raw Ed25519 key, or the JSON of
    /// `GET /v1/audit-events/public-key`.
    #[arg(long)]
    public_key: Option<std::path::PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
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
        Command::Serve(settings) => serve(*settings),
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
        Command::Keys(KeysCommand::Rotate(args)) => {
            telemetry::init();
            let settings = args.store.into_settings(Some(args.keys));
            let report = carepath::rotation::rotate(&settings, |done, remaining| {
                eprintln!("re-wrapped {done} data keys, {remaining} to go");
            });
            print_json(report.map_err(|e| e.to_string()), |_| true)
        }
        Command::Audit(AuditCommand::Verify(args)) => {
            let result = verify_audit(&args);
            if let Ok(v) = &result
                && !v.ok
            {
                let reason = v.reason.as_deref().unwrap_or("the log does not verify");
                eprintln!("carepath: {reason} (verified through sequence {})", v.verified_through);
            }
            print_json(result, |v| v.ok)
        }
        Command::Audit(AuditCommand::PublicKey(args)) => match carepath::audit::Signer::open_existing(&args.data_dir) {
            Ok(signer) => {
                println!("{}", signer.public_key_base64());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("carepath: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Openapi => {
            print!("{}", openapi::spec_json());
            ExitCode::SUCCESS
        }
    }
}

fn verify_audit(args: &VerifyArgs) -> Result<carepath::audit::Verification, String> {
    use base64::Engine;
    let public_key = match &args.public_key {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let b64 = match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(v) => v["public_key"].as_str().unwrap_or_default().to_owned(),
                Err(_) => text.trim().to_owned(),
            };
            base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => carepath::audit::Signer::open_existing(&args.store.dir.data_dir)?.public_key(),
    };
    match &args.export {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            carepath::audit::verify_export(&text, &public_key)
        }
        None => {
            let settings = args.store.clone().into_settings(None);
            let pool = carepath::db::open(&settings).map_err(|e| e.to_string())?;
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            carepath::audit::verify(&mut conn, &public_key).map_err(|e| e.to_string())
        }
    }
}

/// Prints a report as JSON; the exit status says whether it is good news.
fn print_json<T: serde::Serialize>(result: Result<T, String>, good: impl Fn(&T) -> bool) -> ExitCode {
    match result {
        Ok(report) => {
            println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            if good(&report) { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Err(e) => {
            eprintln!("carepath: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: Settings) -> ExitCode {
    telemetry::init();
    let result = actix_web::rt::System::new().block_on(async move {
        let state = AppState::open(settings)?;
        let Application { port, server, webhooks } = Application::build(state)?;
        tracing::info!(port, "carepath is serving");
        let served = server.await;
        webhooks.stop().await;
        served.map_err(|e| carepath::state::StartError::Bind { bind: "server".into(), source: e })
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
