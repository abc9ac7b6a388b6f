//! Bearer authentication through the whole HTTP stack: what a client sees when its token is
//! missing, malformed or stale, and that a good token gets through.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::test::{TestRequest, init_service};
use carepath::auth::{LOCAL_AUDIENCE, LOCAL_ISSUER, LOCAL_KEY_FILE, Role, issue_local_token};
use common::{Resp, TestApp, send};
use serde_json::json;

const ROUTE: &str = "/v1/organizations";

async fn get_organizations(t: &TestApp, headers: &[(&str, &[u8])]) -> Resp {
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let mut req = TestRequest::get().uri(ROUTE);
    for (name, value) in headers {
        req = req.insert_header((*name, *value));
    }
    send(&app, req).await
}

/// Asserts the 401 a client must be able to act on, and returns its detail.
fn unauthorized(resp: &Resp) -> String {
    let body = resp.problem(401);
    let challenge = resp.header("www-authenticate").expect("WWW-Authenticate on 401");
    assert!(challenge.starts_with("Bearer") && challenge.contains("invalid_token"), "{challenge}");
    body["detail"].as_str().unwrap().to_owned()
}

fn operator_token(t: &TestApp) -> String {
    issue_local_token(&t.state.settings.data_dir, "op-admin", Role::Admin, &t.state.settings.operator_org, 600).unwrap()
}

#[actix_web::test]
async fn no_authorization_header_is_401() {
    let t = TestApp::new();
    let resp = get_organizations(&t, &[]).await;
    assert_eq!(unauthorized(&resp), "missing Authorization header");
}

#[actix_web::test]
async fn basic_scheme_is_401() {
    let t = TestApp::new();
    let resp = get_organizations(&t, &[("authorization", b"Basic YWRtaW46YWRtaW4=")]).await;
    assert_eq!(unauthorized(&resp), "Authorization scheme must be Bearer");
}

#[actix_web::test]
async fn garbage_token_is_401() {
    let t = TestApp::new();
    for value in ["Bearer not-a-jwt", "Bearer a.b.c", "Bearer ", "Bearer"] {
        let resp = get_organizations(&t, &[("authorization", value.as_bytes())]).await;
        let detail = unauthorized(&resp);
        assert!(!detail.contains("not-a-jwt"), "detail echoes the token: {detail}");
    }
}

#[actix_web::test]
async fn expired_token_is_401() {
    let t = TestApp::new();
    // Make sure the local key exists, then sign with it as `carepath token` would have an hour ago.
    let _ = operator_token(&t);
    let pem = std::fs::read(t.state.settings.data_dir.join(LOCAL_KEY_FILE)).unwrap();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let claims = json!({
        "iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE, "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600,
        "sub": "op-admin", "org": t.state.settings.operator_org, "role": "admin",
    });
    let key = jsonwebtoken::EncodingKey::from_ed_pem(&pem).unwrap();
    let token =
        jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA), &claims, &key).unwrap();

    let resp = get_organizations(&t, &[("authorization", format!("Bearer {token}").as_bytes())]).await;
    assert_eq!(unauthorized(&resp), "token expired");
    assert!(!String::from_utf8_lossy(&resp.raw).contains(&token));
}

#[actix_web::test]
async fn token_of_an_unknown_issuer_key_is_401() {
    let t = TestApp::new();
    // A token from another installation's local issuer: same claims, another key.
    let elsewhere = tempfile::tempdir().unwrap();
    carepath::auth::Authenticator::load(&carepath::config::Settings::for_data_dir(elsewhere.path())).unwrap();
    let token =
        issue_local_token(elsewhere.path(), "op-admin", Role::Admin, &t.state.settings.operator_org, 600).unwrap();
    let resp = get_organizations(&t, &[("authorization", format!("Bearer {token}").as_bytes())]).await;
    assert_eq!(unauthorized(&resp), "unknown signing key");
}

#[actix_web::test]
async fn valid_operator_admin_token_is_200() {
    let t = TestApp::new();
    let token = operator_token(&t);
    let resp = get_organizations(&t, &[("authorization", format!("Bearer {token}").as_bytes())]).await;
    assert_eq!(resp.status.as_u16(), 200, "body: {}", resp.body);
    // The scheme is case-insensitive (RFC 9110), and a cached token is still good.
    let resp = get_organizations(&t, &[("authorization", format!("bearer {token}").as_bytes())]).await;
    assert_eq!(resp.status.as_u16(), 200, "body: {}", resp.body);
}

#[actix_web::test]
async fn malformed_purpose_header_is_422() {
    let t = TestApp::new();
    let token = operator_token(&t);
    let auth = format!("Bearer {token}");
    let resp = get_organizations(&t, &[("authorization", auth.as_bytes()), ("x-purpose", b"\xff\xfe")]).await;
    let body = resp.problem(422);
    assert_eq!(body["errors"][0]["pointer"], "/header/x-purpose");

    let purpose = "退院前カンファレンス".as_bytes();
    let resp = get_organizations(&t, &[("authorization", auth.as_bytes()), ("x-purpose", purpose)]).await;
    assert_eq!(resp.status.as_u16(), 200, "body: {}", resp.body);
}
