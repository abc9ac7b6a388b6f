//! Passwords of console accounts: Argon2id hashes (the `argon2` crate's defaults, m = 19 MiB,
//! t = 2, p = 1, the OWASP minimum), a length floor and a list of common passwords. A password
//! lives only in the request that carries it: it is never logged, stored or echoed.

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// Shortest password taken (with a second factor, NIST SP 800-63B asks for 8; 12 leaves room).
pub const MIN_LEN: usize = 12;
/// Longest: bounds the hashing work one request can ask for.
pub const MAX_LEN: usize = 256;

/// The 10,000 most common passwords (source named in the file's header).
const COMMON: &str = include_str!("../../assets/common-passwords.txt");

/// Why a new password is refused; the message is shown to the person choosing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    /// Fewer than [`MIN_LEN`] characters.
    #[error("the password must have at least {MIN_LEN} characters")]
    TooShort,
    /// More than [`MAX_LEN`] characters.
    #[error("the password must have at most {MAX_LEN} characters")]
    TooLong,
    /// On the list of common passwords.
    #[error("this password is among the most common ones; choose another")]
    Common,
    /// The login name itself.
    #[error("the password must not be the login name")]
    IsLogin,
}

/// Checks a new password against the length bounds and the common list (case-insensitively,
/// since "Password1234" guesses as fast as "password1234").
pub fn check_new(password: &str, login: &str) -> Result<(), WeakPassword> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Err(WeakPassword::TooShort);
    }
    if chars > MAX_LEN {
        return Err(WeakPassword::TooLong);
    }
    let lower = password.to_lowercase();
    if lower == login.to_lowercase() {
        return Err(WeakPassword::IsLogin);
    }
    if common().contains(lower.as_str()) {
        return Err(WeakPassword::Common);
    }
    Ok(())
}

fn common() -> &'static std::collections::HashSet<&'static str> {
    static SET: OnceLock<std::collections::HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect())
}

/// The Argon2id PHC string of `password`, with a fresh random salt.
pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()).map_err(|e| e.to_string())
}

/// Whether `password` matches the stored PHC string. With `None` (no such account, or no
/// password yet) a dummy hash is checked instead and the answer is `false`: the same work
/// either way, so the time of the answer does not tell whether the account exists.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let argon = Argon2::default();
    match stored {
        Some(phc) => argon.verify_password(password.as_bytes(), phc).is_ok(),
        None => {
            let _same_work = argon.verify_password(password.as_bytes(), dummy());
            false
        }
    }
}

/// A hash of a random password, made once, with the same parameters as real ones.
fn dummy() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash(&uuid::Uuid::new_v4().to_string()).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_and_round_trip() {
        assert_eq!(check_new("short", "x"), Err(WeakPassword::TooShort));
        assert_eq!(check_new("Qwerty123456", "x"), Err(WeakPassword::Common));
        assert_eq!(check_new("nurse.sato.01", "NURSE.SATO.01"), Err(WeakPassword::IsLogin));
        assert!(check_new("correct horse battery", "x").is_ok());
        assert!(common().len() >= 9_900, "the vendored list is read: {}", common().len());
        let phc = hash("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify("correct horse battery", Some(&phc)));
        assert!(!verify("correct horse batterz", Some(&phc)));
        assert!(!verify("correct horse battery", None));
    }
}
