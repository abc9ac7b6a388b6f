//! Sealing whole files record by record (see "Sealed file" in the module above): a key of their
//! own per set of files, wrapped by the master keyring, and a writer and a reader that hold one
//! record in memory at a time, so a file of any size is sealed and opened in bounded memory.

use std::fmt;
use std::io::{self, Read, Write};

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use super::{CryptoError, FILE_DOMAIN, KEY_LEN, TAG_LEN};

/// The first bytes of every sealed file (format version 1).
pub const FILE_MAGIC: &[u8; 8] = b"CPSEAL1\n";
/// A record's plaintext is at most this long; a longer length field is refused unread.
pub const MAX_RECORD: usize = 64 * 1024 * 1024;

/// The key that seals one set of files (one export job). Its `Debug` shows nothing secret.
#[derive(Clone)]
pub struct FileKey(LessSafeKey);

impl fmt::Debug for FileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FileKey(<redacted>)")
    }
}

impl FileKey {
    pub(super) fn from_raw(raw: &[u8; KEY_LEN]) -> Result<Self, CryptoError> {
        let key = UnboundKey::new(&AES_256_GCM, raw).map_err(|_| CryptoError::Malformed("unusable file key"))?;
        Ok(Self(LessSafeKey::new(key)))
    }
}

/// `carepath:file:v1\0` ‖ name ‖ `\0` ‖ record index (8 bytes, big-endian) ‖ last (1 byte).
fn associated_data(name: &str, index: u64, last: bool) -> Vec<u8> {
    let mut ad = Vec::with_capacity(FILE_DOMAIN.len() + name.len() + 10);
    ad.extend_from_slice(FILE_DOMAIN);
    ad.extend_from_slice(name.as_bytes());
    ad.push(0);
    ad.extend_from_slice(&index.to_be_bytes());
    ad.push(u8::from(last));
    ad
}

fn bad(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// Writes a sealed file: the magic, then one sealed record per [`SealedWriter::record`], then an
/// empty last record on [`SealedWriter::finish`] (so a truncated file is told from a whole one).
pub struct SealedWriter<W: Write> {
    key: FileKey,
    name: String,
    out: W,
    index: u64,
}

impl<W: Write> SealedWriter<W> {
    /// Starts the file `name` (bound into every record: a record moved to another file, or to
    /// another place in this one, does not open).
    pub fn new(key: &FileKey, name: &str, mut out: W) -> io::Result<Self> {
        if name.as_bytes().contains(&0) {
            return Err(bad("a sealed file's name must not hold a zero byte"));
        }
        out.write_all(FILE_MAGIC)?;
        Ok(Self { key: key.clone(), name: name.to_owned(), out, index: 0 })
    }

    fn seal(&mut self, plain: &[u8], last: bool) -> io::Result<()> {
        if plain.len() > MAX_RECORD {
            return Err(bad("a record is larger than a sealed file allows"));
        }
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| io::Error::other("the system random number generator failed"))?;
        let mut buf = plain.to_vec();
        let ad = associated_data(&self.name, self.index, last);
        let tag = self
            .key
            .0
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(ad), &mut buf)
            .map_err(|_| io::Error::other("encryption failed"))?;
        let len = u32::try_from(buf.len() + TAG_LEN).map_err(|_| bad("record too large"))?;
        self.out.write_all(&[u8::from(last)])?;
        self.out.write_all(&len.to_be_bytes())?;
        self.out.write_all(&nonce)?;
        self.out.write_all(&buf)?;
        self.out.write_all(tag.as_ref())?;
        self.index += 1;
        Ok(())
    }

    /// Seals one record.
    pub fn record(&mut self, plain: &[u8]) -> io::Result<()> {
        self.seal(plain, false)
    }

    /// Writes the last record and returns the output, flushed.
    pub fn finish(mut self) -> io::Result<W> {
        self.seal(&[], true)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Reads a sealed file record by record; any altered, moved, dropped or truncated record fails.
pub struct SealedReader<R: Read> {
    key: FileKey,
    name: String,
    input: R,
    index: u64,
    done: bool,
}

impl<R: Read> SealedReader<R> {
    /// Opens the file `name` (the name it was sealed under).
    pub fn new(key: &FileKey, name: &str, mut input: R) -> io::Result<Self> {
        let mut magic = [0u8; FILE_MAGIC.len()];
        input.read_exact(&mut magic).map_err(|_| bad("not a sealed file"))?;
        if &magic != FILE_MAGIC {
            return Err(bad("not a sealed file"));
        }
        Ok(Self { key: key.clone(), name: name.to_owned(), input, index: 0, done: false })
    }

    /// The next record's plaintext; `None` after the last record.
    pub fn next_record(&mut self) -> io::Result<Option<Vec<u8>>> {
        if self.done {
            return Ok(None);
        }
        let mut head = [0u8; 5];
        self.input.read_exact(&mut head).map_err(|_| bad("the sealed file is truncated"))?;
        let last = match head[0] {
            0 => false,
            1 => true,
            _ => return Err(bad("a sealed record has an unknown kind")),
        };
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        if !(TAG_LEN..=MAX_RECORD + TAG_LEN).contains(&len) {
            return Err(bad("a sealed record has an impossible length"));
        }
        let mut nonce = [0u8; NONCE_LEN];
        self.input.read_exact(&mut nonce).map_err(|_| bad("the sealed file is truncated"))?;
        let mut buf = vec![0u8; len];
        self.input.read_exact(&mut buf).map_err(|_| bad("the sealed file is truncated"))?;
        let ad = associated_data(&self.name, self.index, last);
        let plain = self
            .key
            .0
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(ad), &mut buf)
            .map_err(|_| bad("a sealed record failed authentication"))?;
        let plain = plain.to_vec();
        self.index += 1;
        if last {
            self.done = true;
            let mut rest = [0u8; 1];
            if self.input.read(&mut rest)? != 0 {
                return Err(bad("bytes follow the last sealed record"));
            }
            return Ok(None);
        }
        Ok(Some(plain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Keyring;

    fn sealed(key: &FileKey, records: &[&[u8]]) -> Vec<u8> {
        let mut w = SealedWriter::new(key, "job/Patient", Vec::new()).unwrap();
        for r in records {
            w.record(r).unwrap();
        }
        w.finish().unwrap()
    }

    fn read_all(key: &FileKey, name: &str, bytes: &[u8]) -> io::Result<Vec<Vec<u8>>> {
        let mut r = SealedReader::new(key, name, bytes)?;
        let mut out = Vec::new();
        while let Some(rec) = r.next_record()? {
            out.push(rec);
        }
        Ok(out)
    }

    /// Builds a sealed file by hand from the format in the module documentation above.
    #[test]
    fn the_format_is_as_documented() {
        let raw = [0x33u8; KEY_LEN];
        let key = FileKey::from_raw(&raw).unwrap();
        let aes = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &raw).unwrap());
        let mut file = b"CPSEAL1\n".to_vec();
        for (index, (kind, plain)) in [(0u8, b"line\n".as_slice()), (1u8, b"".as_slice())].into_iter().enumerate() {
            let nonce = [0x44u8; 12];
            let mut ad = b"carepath:file:v1\0job/Patient\0".to_vec();
            ad.extend_from_slice(&(index as u64).to_be_bytes());
            ad.push(kind);
            let mut buf = plain.to_vec();
            aes.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(ad), &mut buf).unwrap();
            file.push(kind);
            file.extend_from_slice(&u32::try_from(buf.len()).unwrap().to_be_bytes());
            file.extend_from_slice(&nonce);
            file.extend_from_slice(&buf);
        }
        assert_eq!(read_all(&key, "job/Patient", &file).unwrap(), [b"line\n".to_vec()]);
    }

    #[test]
    fn round_trips_and_refuses_any_change() {
        let ring = Keyring::for_testing();
        let (key, wrapped) = ring.new_file_key("job").unwrap();
        let key_again = ring.unwrap_file_key("job", &wrapped).unwrap();
        assert!(ring.unwrap_file_key("other-job", &wrapped).is_err(), "bound to its subject");
        let bytes = sealed(&key, &[b"{\"a\":1}\n", b"", b"\xff\x00"]);
        assert_eq!(
            read_all(&key_again, "job/Patient", &bytes).unwrap(),
            [b"{\"a\":1}\n".to_vec(), vec![], vec![0xff, 0]]
        );
        assert!(!bytes.windows(7).any(|w| w == b"{\"a\":1}"), "no plaintext on disk");
        assert!(read_all(&key, "job/Condition", &bytes).is_err(), "bound to its name");
        for cut in [0, 8, 20, bytes.len() - 1] {
            assert!(read_all(&key, "job/Patient", &bytes[..cut]).is_err(), "truncated at {cut}");
        }
        for i in 0..bytes.len() {
            let mut altered = bytes.clone();
            altered[i] ^= 0x01;
            assert!(read_all(&key, "job/Patient", &altered).is_err(), "byte {i}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(read_all(&key, "job/Patient", &longer).is_err());
        let (other, _) = ring.new_file_key("job").unwrap();
        assert!(read_all(&other, "job/Patient", &bytes).is_err(), "another key");
    }
}
