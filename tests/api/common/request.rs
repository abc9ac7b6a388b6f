//! Requests as a client makes them: one call through the real HTTP stack, read whole, and the
//! few questions every test asks of an answer (its status, its id, its problem).

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::test::{self, TestRequest};
use serde_json::Value;

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Resp {
    /// The `id` of the resource the answer carries (a create's, most often).
    pub fn id(&self) -> String {
        match self.body["id"].as_str() {
            Some(id) => id.to_owned(),
            None => panic!("no id in the answer ({}): {}", self.status, self.body),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json answer with this status, and returns its body.
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "not problem+json: {self:?}");
        assert_eq!(self.body["status"], status);
        assert!(self.body["type"].is_string() && self.body["title"].is_string() && self.body["detail"].is_string());
        &self.body
    }
}

impl Resp {
    /// Asserts a FHIR OperationOutcome answer with this status (every error of `/v1/fhir`), and
    /// returns its first issue.
    pub fn outcome(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        assert_eq!(self.header("content-type"), Some("application/fhir+json"), "not FHIR JSON: {self:?}");
        assert_eq!(self.body["resourceType"], "OperationOutcome", "{}", self.body);
        let issue = &self.body["issue"][0];
        assert!(issue["severity"].is_string() && issue["code"].is_string() && issue["diagnostics"].is_string());
        issue
    }
}

pub async fn send<S, B>(app: &S, req: TestRequest) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let headers = res.headers().clone();
    let raw = test::read_body(res).await.to_vec();
    let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    Resp { status, headers, body, raw }
}

pub fn auth(token: &str) -> (&'static str, String) {
    ("authorization", format!("Bearer {token}"))
}

/// The `id` a body carries (a create's answer, most often); panics with the body when none.
pub fn id(body: &Value) -> String {
    match body["id"].as_str() {
        Some(id) => id.to_owned(),
        None => panic!("no id in {body}"),
    }
}

/// One request with a bearer token and, when given, a JSON body.
pub async fn call<S, B>(app: &S, method: &str, uri: &str, token: &str, body: Option<Value>) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = match method {
        "GET" => TestRequest::get(),
        "PUT" => TestRequest::put(),
        "PATCH" => TestRequest::patch(),
        "DELETE" => TestRequest::delete(),
        "POST" => TestRequest::post(),
        other => panic!("no such method in the tests: {other}"),
    }
    .uri(uri)
    .insert_header(auth(token));
    send(app, if let Some(body) = body { req.set_json(body) } else { req }).await
}

pub async fn get<S, B>(app: &S, token: &str, uri: &str) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    call(app, "GET", uri, token, None).await
}

pub async fn post<S, B>(app: &S, token: &str, uri: &str, body: Value) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    call(app, "POST", uri, token, Some(body)).await
}
