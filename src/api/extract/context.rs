//! The `Context` extractor: an authenticated caller plus the request facts the audit log keeps.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use crate::auth::Caller;
use crate::context::Context;
use crate::error::ApiError;
use crate::request_id::RequestId;

const X_BREAK_GLASS: &str = "x-break-glass";

/// A handler that takes a `Context` is authenticated exactly as one that takes a `Caller`.
impl FromRequest for Context {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
        let break_glass = req.headers().get(X_BREAK_GLASS).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        Box::pin(async move { Ok(Context { caller: caller.await?, request_id, break_glass }) })
    }
}
