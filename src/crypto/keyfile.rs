//! Key files on disk: every key carepath keeps goes through here, so that the rules for them are
//! written once. A key file is never readable by others (directory 0700, file 0600), never seen
//! half-written (a temporary file, fsync, then rename or link), and a key another process just
//! made is never clobbered. Also the encodings key files use: PEM and hex.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{Ed25519KeyPair, KeyPair};

/// Lowercase hex, two digits per byte (key ids, blind indexes, hashes).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// Creates `dir` (and missing parents) with mode 0700. An existing directory is left as it is:
/// its mode is the operator's choice.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Writes `contents` to `path` atomically with mode 0600: a temporary file in the same directory,
/// fsync, then rename (`replace`) or hard link (`!replace`, which never clobbers a file that
/// appeared meanwhile). Returns false if `!replace` and `path` already exists.
pub fn write_atomic(path: &Path, contents: &[u8], replace: bool) -> io::Result<bool> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| io::Error::other("the path does not name a file"))?;
    let mut suffix = [0u8; 6];
    SystemRandom::new().fill(&mut suffix).map_err(|_| io::Error::other("the system random number generator failed"))?;
    let tmp = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), hex(&suffix)));

    let result = (|| {
        let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        // Exactly 0600 whatever the umask.
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        if replace {
            fs::rename(&tmp, path)?;
            return Ok(true);
        }
        match fs::hard_link(&tmp, path) {
            Ok(()) => {
                fs::remove_file(&tmp)?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                fs::remove_file(&tmp)?;
                Ok(false)
            }
            // A file system without hard links: fall back to rename.
            Err(_) if path.exists() => {
                fs::remove_file(&tmp)?;
                Ok(false)
            }
            Err(_) => {
                fs::rename(&tmp, path)?;
                Ok(true)
            }
        }
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    if let Ok(true) = result {
        // Make the rename itself durable; not every file system can sync a directory.
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    result
}

/// PEM text of `der` under `label` (`PRIVATE KEY`, `PUBLIC KEY`), 64 base64 characters a line.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

/// The DER inside the first `label` block of a PEM text. Errors name what was found instead
/// (another block's label), quoted with [`printable`] since the file may hold anything.
pub fn pem_decode(text: &str, label: &str) -> Result<Vec<u8>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let Some(start) = text.find(&begin) else {
        let found = text.lines().find(|l| l.starts_with("-----BEGIN ")).map(str::trim);
        return Err(match found {
            Some(other) => format!("expected a {begin} block, found {}", printable(other)),
            None => format!("not PEM (no {begin} line)"),
        });
    };
    let rest = &text[start + begin.len()..];
    let stop = rest.find(&end).ok_or_else(|| format!("no {end} line"))?;
    let body: String = rest[..stop].chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(body).map_err(|e| format!("bad base64 in the PEM block: {e}"))
}

/// Untrusted text made safe to quote in a message: short, one line, no control characters.
/// Here because PEM errors need it; the token checks quote claim values with it too.
pub fn printable(s: &str) -> String {
    const MAX: usize = 40;
    let mut out: String = s.chars().take(MAX).map(|c| if c.is_control() { '?' } else { c }).collect();
    if s.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}

/// An Ed25519 key pair kept as a PEM file (0600) in the data directory, made on first use: the
/// built-in token issuer's key, and the audit checkpoint signer's.
pub struct KeyFile {
    /// The private key, PKCS#8 DER as read from the file.
    pub pkcs8: Vec<u8>,
    /// The raw 32-byte public key.
    pub public: Vec<u8>,
    /// Derived from the public key (see [`KeyFile::open`]).
    pub kid: String,
}

impl KeyFile {
    /// Reads `data_dir/file_name`, creating it on first use. Creation goes through
    /// [`write_atomic`] without replacing, so a concurrent start (or `carepath token` run) sees
    /// either no key or a complete one, never half a file, and two creators cannot overwrite
    /// each other. Errors say what went wrong, not where (the caller knows the path).
    pub fn open(data_dir: &Path, file_name: &str, what: &str) -> Result<Self, String> {
        let path = data_dir.join(file_name);
        if let Some(existing) = Self::open_existing(data_dir, file_name)? {
            return Ok(existing);
        }
        create_private_dir(data_dir).map_err(|e| format!("cannot create the data directory: {e}"))?;
        let pkcs8 =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| "cannot generate a key".to_owned())?;
        let pem = pem_encode("PRIVATE KEY", pkcs8.as_ref());
        if write_atomic(&path, pem.as_bytes(), false).map_err(|e| format!("cannot create: {e}"))? {
            tracing::info!(path = %path.display(), "created the {what}");
            Self::from_pkcs8(pkcs8.as_ref())
        } else {
            // Someone else created it meanwhile: theirs wins.
            let text = fs::read_to_string(&path).map_err(|e| format!("cannot read: {e}"))?;
            Self::from_file(&path, &text)
        }
    }

    /// Reads `data_dir/file_name` if it is there; never creates it (`Ok(None)` when absent), for
    /// the commands that must use the key a server made and must not invent another.
    pub fn open_existing(data_dir: &Path, file_name: &str) -> Result<Option<Self>, String> {
        let path = data_dir.join(file_name);
        match fs::read_to_string(&path) {
            Ok(text) => Self::from_file(&path, &text).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read: {e}")),
        }
    }

    fn from_file(path: &Path, text: &str) -> Result<Self, String> {
        // Anyone who can read this file can sign tokens for any role, or audit checkpoints:
        // refuse, like ssh does.
        let mode = fs::metadata(path).map_err(|e| format!("cannot stat: {e}"))?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(format!("is readable by others (mode {:o}); run chmod 600 on it", mode & 0o777));
        }
        let der = pem_decode(text, "PRIVATE KEY")?;
        Self::from_pkcs8(&der)
    }

    fn from_pkcs8(der: &[u8]) -> Result<Self, String> {
        // "maybe unchecked" also accepts PKCS#8 v1 files (openssl genpkey), which lack the
        // public key; ring derives it.
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map_err(|e| format!("not an Ed25519 PKCS#8 private key ({e})"))?;
        let public = pair.public_key().as_ref().to_vec();
        let kid = key_id(&public);
        Ok(Self { pkcs8: der.to_vec(), public, kid })
    }
}

/// Derived, not stored: the same key always has the same `kid`, so issuing and verifying agree
/// without sharing anything but the key file. Also names the audit checkpoints' signing key.
pub fn key_id(public: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, public);
    hex(&digest.as_ref()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lowercase_two_digits_a_byte() {
        assert_eq!(hex(&[]), "");
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        let all: Vec<u8> = (0..=255).collect();
        let by_format: String = all.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex(&all), by_format);
    }

    #[test]
    fn pem_round_trips_and_names_what_it_found() {
        let der: Vec<u8> = (0..100).collect();
        let pem = pem_encode("PUBLIC KEY", &der);
        assert!(pem.lines().all(|l| l.len() <= 64), "{pem}");
        assert_eq!(pem_decode(&pem, "PUBLIC KEY").unwrap(), der);
        let error = pem_decode(&pem, "PRIVATE KEY").unwrap_err();
        assert_eq!(error, "expected a -----BEGIN PRIVATE KEY----- block, found -----BEGIN PUBLIC KEY-----");
        assert!(pem_decode("hello", "PUBLIC KEY").unwrap_err().starts_with("not PEM"));
    }

    #[test]
    fn write_atomic_never_clobbers_unless_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/key");
        create_private_dir(path.parent().unwrap()).unwrap();
        assert!(write_atomic(&path, b"first", false).unwrap());
        assert!(!write_atomic(&path, b"second", false).unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"first");
        assert!(write_atomic(&path, b"third", true).unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"third");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
        // No temporary files are left behind.
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }
}
