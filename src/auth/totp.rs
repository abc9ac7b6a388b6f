//! The second factor: RFC 6238 time-based codes (SHA-1, 6 digits, 30-second steps, one step of
//! skew either way: what every authenticator app does), and the `otpauth://` URI its QR code
//! carries. Replays are refused by the caller, who keeps the last step accepted per account.

use totp_rs::{Builder, Secret, Totp};

/// Bytes of a TOTP secret: 160 bits, as RFC 4226 recommends (apps expect it).
pub const SECRET_LEN: usize = 20;
/// Seconds per step.
pub const STEP: u64 = 30;

fn totp(secret: &[u8]) -> Result<Totp, String> {
    Builder::new().with_secret(secret.to_vec()).build().map_err(|e| e.to_string())
}

/// The step a code is valid for at `now` (the current one, or one either side), if it is.
pub fn check(secret: &[u8], code: &str, now: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret).ok()?.check(&code, now)
}

/// The code for `now` (tests and the enrolment page's check).
pub fn code_at(secret: &[u8], now: u64) -> Option<String> {
    Some(totp(secret).ok()?.generate(now).to_string())
}

/// The secret in base32, as an app takes it typed in.
pub fn base32(secret: &[u8]) -> String {
    Secret::from(secret.to_vec()).to_base32()
}

/// The key URI an authenticator app reads from the QR code
/// (`otpauth://totp/ISSUER:LOGIN?secret=…&issuer=ISSUER`).
pub fn uri(issuer: &str, login: &str, secret: &[u8]) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period={STEP}",
        enc(issuer),
        enc(login),
        base32(secret),
        enc(issuer)
    )
}

/// The QR code of `text` as an SVG document (inline in the page: no script, no image request).
pub fn qr_svg(text: &str) -> Result<String, String> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| e.to_string())?;
    Ok(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_vectors_and_skew() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890" (the 8-digit values, last six).
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, 59).unwrap(), "287082");
        assert_eq!(code_at(secret, 1_111_111_109).unwrap(), "081804");
        assert_eq!(check(secret, "081804", 1_111_111_109), Some(1_111_111_109 / STEP));
        assert!(check(secret, "081804", 1_111_111_109 + STEP).is_some(), "one step late");
        assert!(check(secret, "081804", 1_111_111_109 + 3 * STEP).is_none(), "too late");
        assert!(check(secret, "08180", 1_111_111_109).is_none());
        assert!(uri("carepath", "sato nurse", secret).starts_with("otpauth://totp/carepath:sato%20nurse?secret=GEZD"));
        assert!(qr_svg("otpauth://totp/x").unwrap().contains("<svg"));
    }
}
