// Embedded migrations and schemas are read at compile time; rebuild when they change. The schema
// files are listed into `$OUT_DIR/schemas.rs` so the binary carries them (no files needed at run time).
use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=schemas");
    // Read at run time, not compiled in: a target directory copied from another checkout would
    // otherwise keep embedding that checkout's schemas.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let root = Path::new(&manifest).join("schemas");
    let mut files = Vec::new();
    if let Ok(types) = std::fs::read_dir(&root) {
        for ty in types.flatten().filter(|e| e.path().is_dir()) {
            println!("cargo:rerun-if-changed={}", ty.path().display());
            for file in std::fs::read_dir(ty.path()).into_iter().flatten().flatten() {
                let path = file.path();
                if path.extension().is_some_and(|e| e == "json") {
                    let rel = format!("{}/{}", ty.file_name().to_string_lossy(), file.file_name().to_string_lossy());
                    files.push((rel, path.display().to_string()));
                }
            }
        }
    }
    files.sort();
    let mut out = String::from(
        "/// Every schema file under `schemas/`: (path relative to it, contents).\npub const EMBEDDED: &[(&str, &str)] = &[\n",
    );
    for (rel, abs) in files {
        let _ = writeln!(out, "    ({rel:?}, include_str!({abs:?})),");
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("schemas.rs");
    if let Err(e) = std::fs::write(&dest, out) {
        panic!("cannot write {}: {e}", dest.display());
    }
}
