//! The keyring's two files, `master.key` and `index.key`: where they are, when they may be
//! created (see "When key files are created" in the module above), and their formats, parsed
//! strictly and written atomically.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use super::keyfile::{create_private_dir, write_atomic};
use super::keyring::{Keyring, MasterKey};
use super::{KEY_LEN, KeyError};
use crate::config::Settings;

const MAX_KID_LEN: usize = 64;

/// One key file to load or create, with the words its errors use.
struct KeyFileSpec<'a> {
    what: &'static str,
    env: &'static str,
    consequence: &'static str,
    path: PathBuf,
    configured: bool,
    data_dir: &'a Path,
}

impl<'a> KeyFileSpec<'a> {
    fn master(settings: &'a Settings) -> Self {
        Self {
            what: "master key",
            env: "CAREPATH_MASTER_KEY_FILE",
            consequence: "sealed under a master key that is not here (a new key would leave that data unreadable)",
            path: Keyring::master_key_path(settings),
            configured: settings.master_key_file.is_some(),
            data_dir: &settings.data_dir,
        }
    }

    fn index(settings: &'a Settings) -> Self {
        Self {
            what: "blind-index key",
            env: "CAREPATH_INDEX_KEY_FILE",
            consequence: "indexed under a blind-index key that is not here (a new key would make every lookup miss)",
            path: settings.index_key_file.clone().unwrap_or_else(|| settings.data_dir.join("index.key")),
            configured: settings.index_key_file.is_some(),
            data_dir: &settings.data_dir,
        }
    }

    fn display(&self) -> String {
        self.path.display().to_string()
    }

    fn malformed(&self, problem: impl Into<String>) -> KeyError {
        KeyError::Malformed { what: self.what, path: self.display(), problem: problem.into() }
    }

    /// The file's bytes, or `None` if it does not exist. Warns if others may read it.
    fn read(&self) -> Result<Option<Vec<u8>>, KeyError> {
        match fs::read(&self.path) {
            Ok(bytes) => {
                if let Ok(meta) = fs::metadata(&self.path) {
                    let mode = meta.permissions().mode() & 0o777;
                    if mode & 0o077 != 0 {
                        tracing::warn!(
                            path = %self.path.display(),
                            mode = format!("{mode:o}"),
                            "the {} file can be read by group or others; chmod 600 it",
                            self.what
                        );
                    }
                }
                Ok(Some(bytes))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(KeyError::Read { what: self.what, path: self.display(), source }),
        }
    }

    /// Reads the file, or creates it with `generate()` where the creation rule allows.
    fn read_or_create(
        &self,
        db_has_data: bool,
        generate: impl FnOnce() -> Result<Vec<u8>, KeyError>,
    ) -> Result<Vec<u8>, KeyError> {
        if let Some(bytes) = self.read()? {
            return Ok(bytes);
        }
        if db_has_data {
            return Err(KeyError::MissingWithData {
                what: self.what,
                path: self.display(),
                env: self.env,
                consequence: self.consequence,
            });
        }
        if self.configured {
            return Err(KeyError::MissingConfigured { what: self.what, path: self.display(), env: self.env });
        }
        create_private_dir(self.data_dir)
            .map_err(|source| KeyError::DataDir { path: self.data_dir.display().to_string(), source })?;
        let contents = generate()?;
        let created = write_atomic(&self.path, &contents, false).map_err(|source| KeyError::Write {
            what: self.what,
            path: self.display(),
            source,
        })?;
        if created {
            tracing::info!(path = %self.path.display(), "created the {} file", self.what);
            Ok(contents)
        } else {
            // Another process created it between our look and our write: use theirs.
            self.read()?.ok_or_else(|| KeyError::Read {
                what: self.what,
                path: self.display(),
                source: io::ErrorKind::NotFound.into(),
            })
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyringFile {
    current: String,
    keys: Vec<KeyringEntry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyringEntry {
    kid: String,
    key: String,
}

fn keyring_json(masters: &[MasterKey], current: &str) -> io::Result<Vec<u8>> {
    let file = KeyringFile {
        current: current.to_owned(),
        keys: masters.iter().map(|k| KeyringEntry { kid: k.kid.clone(), key: STANDARD.encode(k.raw) }).collect(),
    };
    let mut out = serde_json::to_vec_pretty(&file)?;
    out.push(b'\n');
    Ok(out)
}

fn parse_keyring(spec: &KeyFileSpec<'_>, bytes: &[u8]) -> Result<(Vec<MasterKey>, String), KeyError> {
    // serde_json's messages may quote the input (key material): report the place only.
    let file: KeyringFile = serde_json::from_slice(bytes).map_err(|e| {
        spec.malformed(match e.classify() {
            serde_json::error::Category::Data => format!(
                "does not have the keyring shape {{\"current\": \"<kid>\", \"keys\": [{{\"kid\": \"<kid>\", \
                 \"key\": \"<base64 of 32 bytes>\"}}]}} (line {}, column {})",
                e.line(),
                e.column()
            ),
            _ => format!("is not valid JSON (line {}, column {})", e.line(), e.column()),
        })
    })?;
    if file.keys.is_empty() {
        return Err(spec.malformed("holds no keys"));
    }
    let mut masters: Vec<MasterKey> = Vec::with_capacity(file.keys.len());
    for (i, entry) in file.keys.into_iter().enumerate() {
        if !valid_kid(&entry.kid) {
            return Err(spec.malformed(format!(
                "has an invalid kid in keys[{i}]: kids are 1 to {MAX_KID_LEN} printable ASCII characters without spaces"
            )));
        }
        if masters.iter().any(|k| k.kid == entry.kid) {
            return Err(spec.malformed(format!("lists kid {} twice", entry.kid)));
        }
        let decoded = STANDARD
            .decode(entry.key.as_bytes())
            .map_err(|_| spec.malformed(format!("has a key for kid {} that is not valid base64", entry.kid)))?;
        let raw: [u8; KEY_LEN] = decoded.as_slice().try_into().map_err(|_| {
            spec.malformed(format!(
                "has a key of {} bytes for kid {}; a master key is {KEY_LEN} bytes (256 bits)",
                decoded.len(),
                entry.kid
            ))
        })?;
        let key = MasterKey::new(entry.kid, raw).map_err(|_| spec.malformed("has an unusable key"))?;
        masters.push(key);
    }
    if !masters.iter().any(|k| k.kid == file.current) {
        return Err(spec.malformed(format!("names current kid {:?}, which is not among its keys", file.current)));
    }
    Ok((masters, file.current))
}

fn parse_index_key(spec: &KeyFileSpec<'_>, bytes: &[u8]) -> Result<hmac::Key, KeyError> {
    let text = bytes.trim_ascii();
    if text.is_empty() {
        return Err(spec.malformed("is empty; it should hold the base64 of 32 random bytes"));
    }
    let decoded =
        STANDARD.decode(text).map_err(|_| spec.malformed("is not valid base64; it should hold 32 random bytes"))?;
    if decoded.len() != KEY_LEN {
        return Err(spec.malformed(format!(
            "holds a key of {} bytes; the blind-index key is {KEY_LEN} bytes (256 bits)",
            decoded.len()
        )));
    }
    Ok(hmac::Key::new(hmac::HMAC_SHA256, &decoded))
}

fn valid_kid(kid: &str) -> bool {
    !kid.is_empty() && kid.len() <= MAX_KID_LEN && kid.bytes().all(|b| b.is_ascii_graphic())
}

impl Keyring {
    /// Loads the master keyring and the blind-index key; creates them on first start.
    /// `db_has_data`: the database already holds patients. Then a missing master key file is an
    /// error (never create a new master key over existing data).
    ///
    /// A key file is created only when it is at its default place in the data directory, is
    /// missing, and `db_has_data` is false (see the module documentation).
    pub fn load_or_create(settings: &Settings, db_has_data: bool) -> Result<Self, KeyError> {
        let rng = SystemRandom::new();

        let master = KeyFileSpec::master(settings);
        let bytes = master.read_or_create(db_has_data, || {
            let key = MasterKey::generate(&rng, &[])?;
            let kid = key.kid.clone();
            keyring_json(&[key], &kid).map_err(|source| KeyError::Write {
                what: master.what,
                path: master.display(),
                source,
            })
        })?;
        let (masters, current) = parse_keyring(&master, &bytes)?;

        let index = KeyFileSpec::index(settings);
        let bytes = index.read_or_create(db_has_data, || {
            let mut raw = [0u8; KEY_LEN];
            rng.fill(&mut raw).map_err(|_| KeyError::Random)?;
            let mut text = STANDARD.encode(raw).into_bytes();
            text.push(b'\n');
            Ok(text)
        })?;
        let index_key = parse_index_key(&index, &bytes)?;

        Ok(Self { masters, current, index_key, path: Some(master.path) })
    }

    /// Where the master keyring lives: the configured file (`CAREPATH_MASTER_KEY_FILE`), else
    /// `master.key` in the data directory. Anything that watches the file must agree with the
    /// loader, hence one function.
    pub fn master_key_path(settings: &Settings) -> PathBuf {
        settings.master_key_file.clone().unwrap_or_else(|| settings.data_dir.join("master.key"))
    }

    pub(super) fn save(&self, masters: &[MasterKey], current: &str) -> Result<(), KeyError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let write_error = |source| KeyError::Write { what: "master key", path: path.display().to_string(), source };
        let contents = keyring_json(masters, current).map_err(write_error)?;
        write_atomic(path, &contents, true).map_err(write_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_support::{mode, settings};

    #[test]
    fn first_start_creates_key_files_and_second_start_reads_them() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(&dir);
        assert!(!settings.data_dir.exists());
        let first = Keyring::load_or_create(&settings, false).unwrap();

        assert_eq!(mode(&settings.data_dir), 0o700);
        let master = settings.data_dir.join("master.key");
        let index = settings.data_dir.join("index.key");
        assert_eq!(mode(&master), 0o600);
        assert_eq!(mode(&index), 0o600);
        let mut names: Vec<_> =
            fs::read_dir(&settings.data_dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, ["index.key", "master.key"]);

        let file: serde_json::Value = serde_json::from_slice(&fs::read(&master).unwrap()).unwrap();
        let kid = file["current"].as_str().unwrap();
        assert_eq!(kid, first.current_kid());
        assert!(kid.starts_with("mk-") && kid.len() == 11, "{kid}");
        assert_eq!(file["keys"][0]["kid"], kid);
        assert_eq!(STANDARD.decode(file["keys"][0]["key"].as_str().unwrap()).unwrap().len(), 32);
        let index_text = fs::read_to_string(&index).unwrap();
        assert_eq!(STANDARD.decode(index_text.trim()).unwrap().len(), 32);

        let second = Keyring::load_or_create(&settings, true).unwrap();
        assert_eq!(second.current_kid(), first.current_kid());
        assert_eq!(second.blind_index("phone", "0312345678"), first.blind_index("phone", "0312345678"));
        let (_, wrapped) = first.new_data_key("pat-1").unwrap();
        assert!(second.unwrap_data_key("pat-1", &wrapped).is_ok());
    }

    #[test]
    fn missing_key_over_existing_data_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(&dir);
        let err = Keyring::load_or_create(&settings, true).unwrap_err();
        assert!(matches!(err, KeyError::MissingWithData { what: "master key", .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("master.key"), "{message}");
        assert!(message.contains("CAREPATH_MASTER_KEY_FILE"), "{message}");
        assert!(message.contains("database already holds patient data"), "{message}");
        assert!(!settings.data_dir.join("master.key").exists());

        // The master key is there but the blind-index key is not.
        Keyring::load_or_create(&settings, false).unwrap();
        fs::remove_file(settings.data_dir.join("index.key")).unwrap();
        let err = Keyring::load_or_create(&settings, true).unwrap_err();
        assert!(matches!(err, KeyError::MissingWithData { what: "blind-index key", .. }), "{err:?}");
        assert!(err.to_string().contains("CAREPATH_INDEX_KEY_FILE"));
    }

    #[test]
    fn configured_key_files_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = settings(&dir);
        settings.master_key_file = Some(dir.path().join("secrets/master.json"));
        let err = Keyring::load_or_create(&settings, false).unwrap_err();
        assert!(matches!(err, KeyError::MissingConfigured { what: "master key", .. }), "{err:?}");
        assert!(err.to_string().contains("secrets/master.json"));
        assert!(!dir.path().join("secrets/master.json").exists());

        // Made once at the default place, then moved where the setting points: used from there.
        let defaults = Settings::for_data_dir(dir.path().join("data"));
        let made = Keyring::load_or_create(&defaults, false).unwrap();
        fs::create_dir(dir.path().join("secrets")).unwrap();
        fs::rename(defaults.data_dir.join("master.key"), dir.path().join("secrets/master.json")).unwrap();
        settings.index_key_file = Some(dir.path().join("secrets/index.key"));
        fs::rename(defaults.data_dir.join("index.key"), dir.path().join("secrets/index.key")).unwrap();
        let mut loaded = Keyring::load_or_create(&settings, true).unwrap();
        assert_eq!(loaded.current_kid(), made.current_kid());
        assert_eq!(loaded.blind_index("k", "v"), made.blind_index("k", "v"));
        // Rotation saves to the configured file.
        let kid = loaded.add_master_key().unwrap();
        assert!(fs::read_to_string(dir.path().join("secrets/master.json")).unwrap().contains(&kid));
        assert!(!defaults.data_dir.join("master.key").exists());
    }

    #[test]
    fn malformed_key_files_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(&dir);
        Keyring::load_or_create(&settings, false).unwrap();
        let master = settings.data_dir.join("master.key");
        let index = settings.data_dir.join("index.key");
        let good = fs::read(&master).unwrap();
        let secret = STANDARD.encode([7u8; 32]);
        let short = STANDARD.encode([7u8; 16]);

        let cases = [
            ("{not json".to_owned(), "is not valid JSON"),
            (format!(r#"{{"current": "mk-1", "keys": "{secret}"}}"#), "keyring shape"),
            (format!(r#"{{"current": "mk-1", "keys": [{{"kid": "mk-1", "key": "{secret}", "x": 1}}]}}"#), "shape"),
            (r#"{"current": "mk-1", "keys": []}"#.to_owned(), "holds no keys"),
            (format!(r#"{{"current": "mk-1", "keys": [{{"kid": "mk-1", "key": "{short}"}}]}}"#), "16 bytes"),
            (r#"{"current": "mk-1", "keys": [{"kid": "mk-1", "key": "%%%"}]}"#.to_owned(), "not valid base64"),
            (format!(r#"{{"current": "mk-2", "keys": [{{"kid": "mk-1", "key": "{secret}"}}]}}"#), "not among"),
            (format!(r#"{{"current": "mk 1", "keys": [{{"kid": "mk 1", "key": "{secret}"}}]}}"#), "invalid kid"),
            (
                format!(
                    r#"{{"current": "mk-1", "keys": [{{"kid": "mk-1", "key": "{secret}"}}, {{"kid": "mk-1", "key": "{secret}"}}]}}"#
                ),
                "twice",
            ),
        ];
        for (contents, expected) in cases {
            fs::write(&master, &contents).unwrap();
            let err = Keyring::load_or_create(&settings, true).unwrap_err();
            let message = err.to_string();
            assert!(matches!(err, KeyError::Malformed { what: "master key", .. }), "{contents}: {err:?}");
            assert!(message.contains(&master.display().to_string()), "{message}");
            assert!(message.contains(expected), "{contents}: {message}");
            assert!(!message.contains(&secret), "key material in {message}");
        }
        fs::write(&master, &good).unwrap();

        for (contents, expected) in [("", "is empty"), ("%%%\n", "not valid base64"), (short.as_str(), "16 bytes")] {
            fs::write(&index, contents).unwrap();
            let err = Keyring::load_or_create(&settings, true).unwrap_err();
            assert!(matches!(err, KeyError::Malformed { what: "blind-index key", .. }), "{err:?}");
            assert!(err.to_string().contains("index.key") && err.to_string().contains(expected), "{err}");
        }
    }
}
