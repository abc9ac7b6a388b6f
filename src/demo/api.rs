//! The demo region is written through the public API, in process: every record goes through the
//! same parsing, access rule, validation, sealing and audit as a vendor's would, and a demo that
//! drifts from the API fails loudly instead of writing what the API would refuse.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::Method;
use actix_web::test::{self, TestRequest};
use serde_json::Value;

use super::DemoError;

/// One caller of the demo: a token, and what to call it in an error.
#[derive(Clone)]
pub struct Caller {
    pub token: String,
    pub who: String,
}

/// The application, called like a client would call it.
pub struct Api<S> {
    app: S,
}

impl<S, B> Api<S>
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    pub fn new(app: S) -> Self {
        Self { app }
    }

    pub async fn post(&self, caller: &Caller, path: &str, body: Value) -> Result<Value, DemoError> {
        self.call(caller, Method::POST, path, Some(body), &[]).await
    }

    pub async fn put(
        &self,
        caller: &Caller,
        path: &str,
        body: Value,
        headers: &[(&str, &str)],
    ) -> Result<Value, DemoError> {
        self.call(caller, Method::PUT, path, Some(body), headers).await
    }

    pub async fn get(&self, caller: &Caller, path: &str, headers: &[(&str, &str)]) -> Result<Value, DemoError> {
        self.call(caller, Method::GET, path, None, headers).await
    }

    /// A request that must succeed (2xx); its JSON answer.
    async fn call(
        &self,
        caller: &Caller,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Result<Value, DemoError> {
        let mut req = TestRequest::default()
            .method(method.clone())
            .uri(path)
            .insert_header(("authorization", format!("Bearer {}", caller.token)));
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        if let Some(body) = body {
            req = req.set_json(body);
        }
        let res = self.app.call(req.to_request()).await.map_err(|e| DemoError::Call(e.to_string()))?;
        let status = res.status();
        let raw = test::read_body(res).await;
        if !status.is_success() {
            return Err(DemoError::Refused {
                what: format!("{method} {path} as {}", caller.who),
                status: status.as_u16(),
                body: String::from_utf8_lossy(&raw).chars().take(600).collect(),
            });
        }
        Ok(serde_json::from_slice(&raw).unwrap_or(Value::Null))
    }
}

/// The `id` of a created resource.
pub fn id(created: &Value) -> Result<String, DemoError> {
    created["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| DemoError::Call(format!("an answer without an id: {created}")))
}
