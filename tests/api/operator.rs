//! The command line as an operator meets it on the first hour (issue 35 item 5): the README's
//! configuration table against `serve --help`, `demo`'s own flags, and the errors that say
//! what to do (a bare port, an unknown role, a backup that failed).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_carepath");

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

/// Each flag of a `--help` text with the rest of its entry (env and default), on one line.
fn help_flags(args: &[&str]) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    let (ok, help, stderr) = run_in(dir.path(), &[args, &["--help"]].concat());
    assert!(ok, "{stderr}");
    let mut flags = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in help.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if (2..=6).contains(&indent) && trimmed.starts_with("--") {
            let flag = trimmed.split([' ', '=']).next().unwrap().to_owned();
            flags.insert(flag.clone(), String::new());
            current = Some(flag);
        } else if let Some(flag) = &current {
            let entry = flags.get_mut(flag).unwrap();
            entry.push(' ');
            entry.push_str(trimmed);
        }
    }
    flags.remove("--help");
    flags
}

/// `[env: NAME=...]` and `[default: VALUE]` of a help entry.
fn bracket(entry: &str, key: &str) -> Option<String> {
    let start = entry.find(&format!("[{key}: "))? + key.len() + 3;
    let end = start + entry[start..].find(']')?;
    Some(entry[start..end].trim_end_matches('=').split('=').next().unwrap_or("").to_owned())
}

/// The README's configuration table: flag → (environment variable, default as written).
fn readme_table() -> BTreeMap<String, (String, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme.split("## Configuration").nth(1).unwrap().split("\n## ").next().unwrap();
    let cell = |c: &str| c.trim().trim_matches('`').to_owned();
    section
        .lines()
        .filter(|l| l.starts_with("| `--"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').collect();
            (cell(cells[1]), (cell(cells[2]), cells[3].trim().to_owned()))
        })
        .collect()
}

#[test]
fn the_readme_configuration_table_is_serve_help() {
    let help = help_flags(&["serve"]);
    let table = readme_table();
    let missing: Vec<&String> = help.keys().filter(|f| !table.contains_key(*f)).collect();
    let unknown: Vec<&String> = table.keys().filter(|f| !help.contains_key(*f)).collect();
    assert!(missing.is_empty(), "serve flags missing from the README's configuration table: {missing:?}");
    assert!(unknown.is_empty(), "README table rows that are no serve flag: {unknown:?}");
    for (flag, (env, default)) in &table {
        let entry = &help[flag];
        assert_eq!(bracket(entry, "env").as_deref(), Some(env.as_str()), "{flag}: environment variable");
        // A literal default in the table (`1048576`) is the one clap applies.
        if let (Some(literal), Some(applied)) =
            (default.strip_prefix('`').and_then(|d| d.strip_suffix('`')), bracket(entry, "default"))
        {
            assert_eq!(literal, applied, "{flag}: default");
        }
    }
}

#[test]
fn demo_help_lists_only_what_demo_uses() {
    let demo = help_flags(&["demo"]);
    for flag in ["--data-dir", "--database-url", "--master-key-file", "--demo-seed", "--demo-patients", "--time-zone"] {
        assert!(demo.contains_key(flag), "demo --help lacks {flag}: {demo:?}");
    }
    for flag in ["--bind", "--demo", "--demo-public", "--rate-limit-per-minute", "--webhook-retry-secs", "--workers"] {
        assert!(!demo.contains_key(flag), "demo --help lists {flag}, which means nothing to demo");
    }
}

#[test]
fn a_bare_port_is_refused_before_anything_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for extra in [&[][..], &["--demo"][..]] {
        let args = [&["serve", "--data-dir", data.to_str().unwrap(), "--bind", "8080"][..], extra].concat();
        let (ok, _, stderr) = run_in(dir.path(), &args);
        assert!(!ok, "serve --bind 8080 must fail");
        assert!(stderr.contains("127.0.0.1:8080"), "the error suggests an address: {stderr}");
        assert!(!data.exists(), "a refused bind created the data directory ({args:?})");
    }
    // An address this machine cannot listen on is refused before the store is made, too.
    let (ok, _, stderr) = run_in(dir.path(), &["serve", "--data-dir", data.to_str().unwrap(), "--bind", "192.0.2.1:1"]);
    assert!(!ok && stderr.contains("cannot listen on 192.0.2.1:1"), "{stderr}");
    assert!(!data.exists(), "an unbindable address created the data directory");
}

#[test]
fn an_unknown_role_lists_the_roles() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, stderr) = run_in(dir.path(), &["token", "--sub", "x", "--role", "doctor", "--org", "o"]);
    assert!(!ok);
    for &role in carepath::auth::Role::ALL {
        assert!(stderr.contains(role.as_str()), "lacks {}: {stderr}", role.as_str());
    }
}

#[test]
fn a_failed_backup_leaves_no_directory_it_made() {
    let dir = tempfile::tempdir().unwrap();
    // No data directory, so no signing key: the backup is refused.
    let to = dir.path().join("backup-1");
    let (ok, _, stderr) = run_in(dir.path(), &["backup", "--to", to.to_str().unwrap(), "--data-dir", "nowhere"]);
    assert!(!ok, "{stderr}");
    assert!(!to.exists(), "the failed backup left {} behind", to.display());
    // An empty directory that was given stays.
    std::fs::create_dir(&to).unwrap();
    let (ok, _, _) = run_in(dir.path(), &["backup", "--to", to.to_str().unwrap(), "--data-dir", "nowhere"]);
    assert!(!ok);
    assert!(to.is_dir(), "the given directory was removed");
}
