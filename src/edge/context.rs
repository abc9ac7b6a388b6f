//! The `Context` extractor: an authenticated caller plus the request facts the audit log keeps.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use crate::auth::Caller;
use crate::context::Context;
use crate::edge::request_id::RequestId;
use crate::error::ApiError;

const X_BREAK_GLASS: &str = "x-break-glass";

/// A handler that takes a `Context` is authenticated exactly as one that takes a `Caller`.
impl FromRequest for Context {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
        let break_glass = req.headers().get(X_BREAK_GLASS).map(|v| break_glass_reason(v.as_bytes()));
        Box::pin(async move {
            let caller = caller.await?;
            let break_glass = break_glass.transpose()?;
            Ok(Context { caller, request_id, break_glass })
        })
    }
}

/// The `X-Break-Glass` reason: as sent, or, in the RFC 8187 form a browser's `fetch` can carry
/// (`UTF-8''` then the percent-encoded UTF-8 text, a language tag allowed between the quotes),
/// decoded. A malformed encoded form is a 422 at `/header/X-Break-Glass`.
fn break_glass_reason(value: &[u8]) -> Result<String, ApiError> {
    const CHARSET: &[u8] = b"utf-8'";
    let encoded = value
        .get(..CHARSET.len())
        .filter(|head| head.eq_ignore_ascii_case(CHARSET))
        .and_then(|_| value[CHARSET.len()..].iter().position(|&b| b == b'\'').map(|q| &value[CHARSET.len() + q + 1..]));
    let Some(encoded) = encoded else { return Ok(String::from_utf8_lossy(value).into_owned()) };
    let invalid = || {
        ApiError::field(
            "/header/X-Break-Glass",
            "after UTF-8'' the reason must be percent-encoded UTF-8 (as encodeURIComponent makes it)",
        )
    };
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut rest = encoded.iter();
    while let Some(&b) = rest.next() {
        if b != b'%' {
            bytes.push(b);
            continue;
        }
        let hex = |d: Option<&u8>| d.and_then(|&d| char::from(d).to_digit(16));
        match (hex(rest.next()), hex(rest.next())) {
            (Some(hi), Some(lo)) => bytes.push(u8::try_from(hi * 16 + lo).map_err(|_| invalid())?),
            _ => return Err(invalid()),
        }
    }
    String::from_utf8(bytes).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::break_glass_reason;

    #[test]
    fn an_rfc_8187_reason_is_decoded_and_a_plain_one_kept() {
        let encoded = b"UTF-8''%E6%95%91%E6%80%A5%20ok";
        assert_eq!(break_glass_reason(encoded).unwrap(), "救急 ok");
        assert_eq!(break_glass_reason(b"utf-8'ja'%E6%95%91").unwrap(), "救");
        assert_eq!(break_glass_reason(b"SpO2 85%, unconscious").unwrap(), "SpO2 85%, unconscious");
        for bad in [&b"UTF-8''%E6%95"[..], b"UTF-8''%zz", b"UTF-8''%4"] {
            assert!(break_glass_reason(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
