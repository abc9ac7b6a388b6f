//! The binary as an operator meets it: help text, first and second start, graceful shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_carepath");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A plain HTTP/1.1 GET, so this test needs no client library: (status, body).
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    Some((status, body))
}

fn start(db: &common::TestDb, data_dir: &Path, port: u16) -> Child {
    let mut cmd = Command::new(BIN);
    cmd.arg("serve").arg("--data-dir").arg(data_dir).arg("--bind").arg(format!("127.0.0.1:{port}"));
    if let Some(url) = db.settings().database_url {
        cmd.env("CAREPATH_DATABASE_URL", url);
    }
    cmd.env("CAREPATH_LOG", "warn").stdout(Stdio::null()).stderr(Stdio::inherit()).spawn().unwrap()
}

fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some((200, body)) = get(port, "/healthz") {
            assert!(body.contains(r#""database":"ok""#), "{body}");
            return;
        }
        // Spaces the polls of a condition the loop checks; no outcome waits on the time itself.
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("carepath did not become healthy on port {port}");
}

fn terminate(mut child: Child) {
    let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(exit) = child.try_wait().unwrap() {
            assert!(exit.success(), "carepath exited with {exit} after SIGTERM");
            return;
        }
        assert!(Instant::now() < deadline, "carepath did not stop after SIGTERM");
        // Spaces the polls of a condition the loop checks; no outcome waits on the time itself.
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn help_names_every_setting() {
    let out = Command::new(BIN).args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--data-dir",
        "CAREPATH_DATA_DIR",
        "--bind",
        "CAREPATH_BIND",
        "--database-url",
        "CAREPATH_DATABASE_URL",
        "./carepath-data",
        "127.0.0.1:8080",
    ] {
        assert!(help.contains(needle), "serve --help lacks {needle}:\n{help}");
    }
    let top = Command::new(BIN).arg("--help").output().unwrap();
    let top = String::from_utf8(top.stdout).unwrap();
    for command in ["serve", "openapi"] {
        assert!(top.contains(command), "--help lacks {command}");
    }
}

fn help(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).arg("--help").output().unwrap();
    assert!(out.status.success(), "{args:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn each_command_lists_only_the_flags_it_uses() {
    let serve = help(&["serve"]);
    let rotate = help(&["keys", "rotate"]);
    let verify = help(&["audit", "verify"]);
    let public_key = help(&["audit", "public-key"]);
    for flag in ["--bind", "--body-limit", "--trust-file", "--workers", "--audit-checkpoint-every"] {
        assert!(serve.contains(flag), "serve --help lacks {flag}:\n{serve}");
        for (command, text) in [("keys rotate", &rotate), ("audit verify", &verify), ("audit public-key", &public_key)]
        {
            assert!(!text.contains(flag), "{command} --help lists the serve flag {flag}:\n{text}");
        }
    }
    // The store flags: the same names and environment variables as serve's.
    for flag in ["--data-dir", "CAREPATH_DATA_DIR", "--database-url", "CAREPATH_DATABASE_URL", "--db-pool-size"] {
        assert!(serve.contains(flag), "serve --help lacks {flag}");
        assert!(rotate.contains(flag), "keys rotate --help lacks {flag}:\n{rotate}");
        assert!(verify.contains(flag), "audit verify --help lacks {flag}:\n{verify}");
    }
    for flag in ["--master-key-file", "CAREPATH_MASTER_KEY_FILE", "--index-key-file"] {
        assert!(serve.contains(flag) && rotate.contains(flag), "serve or keys rotate --help lacks {flag}");
        assert!(!verify.contains(flag), "audit verify --help lists {flag}, which it does not use");
    }
    for flag in ["--export", "--public-key"] {
        assert!(verify.contains(flag), "audit verify --help lacks {flag}");
    }
    assert!(public_key.contains("--data-dir"), "{public_key}");
    assert!(!public_key.contains("--database-url"), "audit public-key --help lists --database-url:\n{public_key}");
}

#[test]
fn first_start_creates_the_data_dir_and_a_second_start_reuses_it() {
    let db = common::TestDb::new();
    let data_dir = db.dir.path().join("fresh").join("carepath-data");
    let port = free_port();

    let first = start(&db, &data_dir, port);
    wait_healthy(port);
    let mode = std::fs::metadata(&data_dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "data directory mode");
    let (status, spec) = get(port, "/openapi.json").unwrap();
    assert_eq!(status, 200);
    assert!(spec.contains("\"openapi\""));
    terminate(first);

    let second = start(&db, &data_dir, port);
    wait_healthy(port);
    terminate(second);
}

#[test]
fn openapi_command_prints_the_committed_spec() {
    let out = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(out.status.success());
    let committed = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json")).unwrap();
    assert!(out.stdout == committed, "run `cargo run -- openapi > openapi/openapi.json`");
}

/// Runs the binary in `cwd` with no `CAREPATH_*` settings from the environment: (ok, stdout, stderr).
fn run_in(cwd: &Path, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd).args(args);
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("CAREPATH_")) {
        cmd.env_remove(name);
    }
    let out = cmd.output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// Issue 22 item 6: `carepath token` run where no server made a key (no data directory, or one
/// without the issuer key) says so, naming the path, and creates nothing; with the server's key
/// it signs tokens that server accepts.
#[test]
fn token_never_creates_an_issuer_key() {
    let dir = tempfile::tempdir().unwrap();
    let token = ["token", "--sub", "op", "--role", "admin", "--org", "carepath-operator"];
    // From another directory, with the default ./carepath-data.
    let (ok, _, stderr) = run_in(dir.path(), &token);
    assert!(!ok, "token must fail without a data directory");
    for needle in ["carepath-data/local-issuer", "no data directory", "carepath serve", "--data-dir"] {
        assert!(stderr.contains(needle), "lacks {needle:?}: {stderr}");
    }
    assert!(!dir.path().join("carepath-data").exists(), "token made a data directory");

    // A data directory without the key.
    let data = dir.path().join("empty");
    std::fs::create_dir(&data).unwrap();
    let with_dir = [&token[..], &["--data-dir", data.to_str().unwrap()]].concat();
    let (ok, _, stderr) = run_in(dir.path(), &with_dir);
    assert!(!ok, "token must fail without a key");
    let key_path = data.join(carepath::auth::LOCAL_KEY_FILE);
    assert!(stderr.contains(key_path.to_str().unwrap()) && stderr.contains("carepath serve"), "{stderr}");
    assert_eq!(std::fs::read_dir(&data).unwrap().count(), 0, "token made a file");

    // Once a server made the key, token signs with it.
    let server = carepath::auth::Authenticator::load(
        &carepath::config::Settings::for_data_dir(&data),
        carepath::clock::Clock::system(),
    )
    .unwrap();
    let (ok, stdout, stderr) = run_in(dir.path(), &with_dir);
    assert!(ok, "{stderr}");
    assert_eq!(server.verify(stdout.trim()).unwrap().org, "carepath-operator");
}

/// Issue 22 item 5: the audit commands that need the server's signing key never make one.
#[test]
fn audit_commands_never_create_a_signing_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let data_arg = data.to_str().unwrap();
    for args in [&["audit", "public-key", "--data-dir", data_arg][..], &["audit", "verify", "--data-dir", data_arg]] {
        let (ok, stdout, stderr) = run_in(dir.path(), args);
        assert!(!ok, "{args:?} must fail: {stdout}");
        assert!(stderr.contains("audit-signing.pem") && stderr.contains("carepath serve"), "{args:?}: {stderr}");
        assert_eq!(std::fs::read_dir(&data).unwrap().count(), 0, "{args:?} made a file");
    }
}

/// Issue 35 item 6: a stop does not wait out the 30 s grace for an open vacancy stream or a
/// change-feed long-poll: both end at once (the stream closes, the long-poll answers), and the
/// process exits within a few seconds.
#[test]
fn sigterm_ends_open_streams_and_long_polls_at_once() {
    let db = common::TestDb::new();
    let data_dir = db.dir.path().join("carepath-data");
    let port = free_port();
    let mut child = start(&db, &data_dir, port);
    wait_healthy(port);
    let data = data_dir.to_str().unwrap();
    let mint = |sub: &str, role: &str, org: &str| {
        let (ok, token, stderr) =
            run_in(db.dir.path(), &["token", "--data-dir", data, "--sub", sub, "--role", role, "--org", org]);
        assert!(ok, "{stderr}");
        token.trim().to_owned()
    };
    // A clinic and its physician, who may follow both the board and the change feed.
    let admin = mint("ops", "admin", "carepath-operator");
    let mut post = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let body = r#"{"name":"新見クリニック","kind":"clinic"}"#;
    write!(
        post,
        "POST /v1/organizations HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut created = String::new();
    post.read_to_string(&mut created).unwrap();
    let json: serde_json::Value = serde_json::from_str(created.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    let token = mint("dr-1", "physician", json["id"].as_str().unwrap());
    let open = |path: &str| {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .unwrap();
        stream
    };
    let mut board = open("/v1/vacancies/stream");
    let mut first = [0u8; 512];
    let n = board.read(&mut first).unwrap();
    let head = String::from_utf8_lossy(&first[..n]).into_owned();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let mut poll = open("/v1/changes?wait=60");
    // The long-poll is waiting (no answer yet) when the stop comes: the server's gauge says so.
    let waiting = || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            stream,
            "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer {admin}\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        answer.lines().any(|l| l == "carepath_changes_long_poll_waiters 1")
    };
    let asked = Instant::now();
    while !waiting() {
        assert!(asked.elapsed() < Duration::from_secs(20), "the long-poll never waited");
        // Spaces the polls of a condition the loop checks; no outcome waits on the time itself.
        std::thread::sleep(Duration::from_millis(20));
    }

    let stopped_at = Instant::now();
    assert!(Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap().success());
    let mut rest = Vec::new();
    board.read_to_end(&mut rest).expect("the stream ends rather than time out");
    let mut answer = String::new();
    poll.read_to_string(&mut answer).expect("the long-poll answers rather than time out");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(stopped_at.elapsed() < Duration::from_secs(10), "still running 10 s after SIGTERM");
        // Spaces the polls of a condition the loop checks; no outcome waits on the time itself.
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "carepath exited with {exit}");
    // Well under the 30 s grace that in-flight requests get.
    assert!(stopped_at.elapsed() < Duration::from_secs(5), "stopping took {:?}", stopped_at.elapsed());
}
