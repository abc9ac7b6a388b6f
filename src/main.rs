//! The `carepath` command line: parses arguments and hands over to the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use carepath::config::{DataDirArgs, DemoArgs, KeyFileArgs, Settings, StoreArgs};
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
    /// Fill an empty data directory with a demo region (synthetic names, `--demo-seed`), print
    /// a token per role, and exit. `serve --demo` does the same, then serves it.
    Demo(Box<DemoArgs>),
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
    /// Back up the SQLite store while it serves: a consistent snapshot and a manifest (audit
    /// head, master key ids in use, checksums) into an empty directory. No key is written.
    Backup(BackupArgs),
    /// Restore a backup into an empty data directory, refusing one whose checksums or audit
    /// chain do not verify.
    Restore(RestoreArgs),
}

#[derive(clap::Args)]
struct BackupArgs {
    /// The directory to write the backup to; created, or empty.
    #[arg(long)]
    to: std::path::PathBuf,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(clap::Args)]
struct RestoreArgs {
    /// The backup directory (`carepath backup --to`).
    #[arg(long)]
    from: std::path::PathBuf,
    /// The checkpoint public key, kept apart from the backup (as for `audit verify`): it checks
    /// the manifest's signature and the checkpoints. Without it, the keys the manifest names,
    /// and a warning on stderr (a re-signed backup would pass).
    #[arg(long)]
    public_key: Option<std::path::PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    keys: KeyFileArgs,
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
    /// Make a new checkpoint signing key current: later checkpoints are signed with it, earlier
    /// ones keep verifying with the old key, whose validity ends here. A running server picks
    /// the new key up at its next checkpoint.
    RotateSigningKey(StoreArgs),
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// An NDJSON export (`GET /v1/audit-events/export`) to check instead of the live database.
    #[arg(long, requires = "public_key")]
    export: Option<std::path::PathBuf>,
    /// The checkpoint public key: base64 of the raw Ed25519 key, or the JSON of
    /// `GET /v1/audit-events/public-key` (which lists every key with its validity, for an export
    /// spanning a rotation).
    #[arg(long)]
    public_key: Option<std::path::PathBuf>,
    /// A consent-log NDJSON export (`GET /v1/consent-log/export`) to check against `--export`:
    /// each version must match the digest of the audit event it names.
    #[arg(long, requires = "export")]
    consent_log: Option<std::path::PathBuf>,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(clap::Args)]
struct TokenArgs {
    /// Subject: the practitioner id, or an integration's client id.
    #[arg(long)]
    sub: String,
    /// Role: physician, dentist, pharmacist, nurse, therapist, care_manager, care_worker,
    /// social_worker, admin, auditor, analyst.
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
        Command::Demo(args) => {
            let settings = args.into_settings();
            // No request log: the loader's thousands of in-process requests would bury the tokens.
            let loaded = actix_web::rt::System::new().block_on(async { carepath::startup::load_demo(&settings).await });
            match loaded {
                Ok(manifest) => {
                    eprint!("{}", carepath::demo::describe(&manifest, &settings.data_dir));
                    print_json(Ok(manifest.counts), |_| true)
                }
                Err(e) => {
                    eprintln!("carepath: {e}");
                    ExitCode::FAILURE
                }
            }
        }
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
        Command::Backup(args) => {
            telemetry::init();
            let settings = args.store.into_settings(None);
            print_json(carepath::backup::backup(&settings, &args.to).map_err(|e| e.to_string()), |_| true)
        }
        Command::Restore(args) => {
            telemetry::init();
            let public_key = match args.public_key.as_deref().map(read_public_key).transpose() {
                Ok(key) => key,
                Err(e) => {
                    eprintln!("carepath: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let settings = args.store.into_settings(Some(args.keys));
            let report = carepath::backup::restore(&settings, &args.from, public_key);
            if report.as_ref().is_ok_and(|r| !r.signature_checked_against_kept_key) {
                eprintln!("carepath: {}", carepath::backup::UNCHECKED_SIGNATURE_WARNING);
            }
            print_json(report.map_err(|e| e.to_string()), |_| true)
        }
        Command::Audit(AuditCommand::RotateSigningKey(store)) => {
            telemetry::init();
            let settings = store.into_settings(None);
            let rotated = (|| {
                let mut conn = carepath::db::connect(&settings).map_err(|e| e.to_string())?;
                carepath::audit::rotate_signing_key(&settings.data_dir, &mut conn).map_err(|e| e.to_string())
            })();
            print_json(rotated.map(|key_id| serde_json::json!({ "key_id": key_id })), |_| true)
        }
        Command::Openapi => {
            print!("{}", openapi::spec_json());
            ExitCode::SUCCESS
        }
    }
}

/// A checkpoint public key file: base64 of the raw Ed25519 key, or the JSON of
/// `GET /v1/audit-events/public-key` (with every key and its validity).
fn read_public_key(path: &std::path::Path) -> Result<carepath::audit::KeySet, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    carepath::audit::KeySet::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn verify_audit(args: &VerifyArgs) -> Result<carepath::audit::Verification, String> {
    let given = args.public_key.as_deref().map(read_public_key).transpose()?;
    match &args.export {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let keys = given.ok_or("--export needs --public-key")?;
            let mut result = carepath::audit::verify_export_with(&text, &keys)?;
            if let Some(log) = &args.consent_log {
                let consents = std::fs::read_to_string(log).map_err(|e| format!("{}: {e}", log.display()))?;
                carepath::audit::check_consent_log(&text, &consents, &mut result)?;
            }
            Ok(result)
        }
        None => {
            // The signing key first: without one, nothing (not even a database) is created.
            let own = match given {
                Some(_) => None,
                None => Some(carepath::audit::Signer::open_existing(&args.store.dir.data_dir)?.public_key()),
            };
            let settings = args.store.clone().into_settings(None);
            let mut conn = carepath::db::connect(&settings).map_err(|e| e.to_string())?;
            let keys = match (given, own) {
                (Some(keys), _) => keys,
                (None, own) => {
                    carepath::audit::registered_keys(&mut conn, &own.unwrap_or_default()).map_err(|e| e.to_string())?
                }
            };
            carepath::audit::verify_with(&mut conn, &keys).map_err(|e| e.to_string())
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
    // Before anything is created: a typo in --bind should not leave a data directory behind.
    if let Err(e) = carepath::startup::check_bind(&settings) {
        eprintln!("carepath: {e}");
        return ExitCode::FAILURE;
    }
    if settings.demo.enabled {
        // Before the request log starts: the loader's in-process requests are not the server's.
        let loaded = actix_web::rt::System::new().block_on(async { carepath::startup::load_demo(&settings).await });
        match loaded {
            Ok(manifest) => eprint!("{}", carepath::demo::describe(&manifest, &settings.data_dir)),
            Err(e) => {
                eprintln!("carepath: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    telemetry::init();
    let result = actix_web::rt::System::new().block_on(async move {
        let state = AppState::open(settings)?;
        let Application { port, metrics_port, server, webhooks } = Application::build(state)?;
        tracing::info!(port, metrics_port, "carepath is serving");
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
