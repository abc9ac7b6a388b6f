//! `ApiJson<T>`: the JSON body extractor every handler uses. Unlike actix's `Json` it reports
//! *where* a body is wrong: syntax errors are 400, a well-formed body of the wrong shape is 422
//! with a JSON Pointer to the field (`/members/0/since`).

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub struct ApiJson<T>(pub T);

/// `application/json` or any `application/*+json`.
fn is_json(req: &HttpRequest) -> bool {
    let Some(ct) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Turns a serde path (`members[0].since`) into a JSON Pointer (`/members/0/since`).
pub(crate) fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push('/');
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Unknown => {}
        }
    }
    out
}

/// Parses a body into `T`, mapping every failure to the error a client can act on.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let pointer = pointer_of(e.path());
        classify(pointer, e.into_inner())
    })?;
    de.end().map_err(|e| classify(String::new(), e))?;
    Ok(value)
}

fn classify(pointer: String, error: serde_json::Error) -> ApiError {
    if error.classify() != serde_json::error::Category::Data {
        return ApiError::BadRequest(format!("the body is not valid JSON: {error}"));
    }
    let message = error.to_string();
    field_error(pointer, message.split(" at line ").next().unwrap_or(&message).to_owned())
}

/// A 422 for a value serde rejected at `pointer`. serde reports a missing field at its parent;
/// this names the field itself.
pub(crate) fn field_error(pointer: String, message: String) -> ApiError {
    let pointer = match message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
        Some(field) => format!("{pointer}/{field}"),
        None => pointer,
    };
    ApiError::field(pointer, message)
}

/// The body as JSON, as the whole: refused as [`ApiJson`] refuses it.
fn body(req: &HttpRequest, payload: &mut Payload) -> impl Future<Output = Result<web::Bytes, ApiError>> + use<> {
    let json = is_json(req);
    let bytes = web::Bytes::from_request(req, payload);
    async move {
        if !json {
            return Err(ApiError::UnsupportedMediaType("send the body as application/json".into()));
        }
        bytes.await.map_err(|e| {
            if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge("the request body is over the size limit".into())
            } else {
                ApiError::BadRequest("the request body could not be read".into())
            }
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = body(req, payload);
        Box::pin(async move { Ok(ApiJson(parse(&bytes.await?)?)) })
    }
}

/// A JSON body parsed, with its text exactly as sent: for a document whose bytes are evidence
/// (a signed clinical document is kept and returned as it came).
pub struct ApiJsonText<T>(pub T, pub String);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJsonText<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = body(req, payload);
        Box::pin(async move {
            let bytes = bytes.await?;
            let value = parse(&bytes)?;
            let text = String::from_utf8(bytes.to_vec())
                .map_err(|_| ApiError::BadRequest("the request body is not UTF-8".into()))?;
            Ok(ApiJsonText(value, text))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields exist to be deserialised")]
    struct Outer {
        members: Vec<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields exist to be deserialised")]
    struct Inner {
        since: u32,
        role: String,
    }

    fn pointer(body: &str) -> String {
        match parse::<Outer>(body.as_bytes()) {
            Err(ApiError::Validation(errors)) => errors[0].pointer.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn wrong_type_points_at_the_field() {
        assert_eq!(pointer(r#"{"members":[{"since":"x","role":"a"}]}"#), "/members/0/since");
    }

    #[test]
    fn missing_field_points_at_the_field() {
        assert_eq!(pointer(r#"{"members":[{"since":1}]}"#), "/members/0/role");
    }

    #[test]
    fn syntax_error_is_bad_request() {
        assert!(matches!(parse::<Outer>(b"{\"members\": ["), Err(ApiError::BadRequest(_))));
        assert!(matches!(parse::<Outer>(br#"{"members":[]} trailing"#), Err(ApiError::BadRequest(_))));
        assert!(matches!(parse::<Outer>(b"\xff\xfe"), Err(ApiError::BadRequest(_))));
    }
}
