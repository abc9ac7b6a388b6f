//! Service clients (issue 30): registered by the organisation's admin only; the token endpoint
//! trades a signed client assertion (RFC 7523 `private_key_jwt`) for a short-lived token that
//! works on the API; a replayed `jti`, a wrong `aud`, an expired assertion and an unknown client
//! are refused and audited; `/.well-known/smart-configuration` says how.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use actix_web::test::{TestRequest, init_service};
use serde_json::{Value, json};

use crate::common::idp::{Key, jwks, now};
use crate::common::{Resp, TestApp, auth, send};

const ORIGIN: &str = "https://carepath.test";
const TOKEN_URL: &str = "https://carepath.test/v1/auth/token";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn app() -> TestApp {
    TestApp::with(|s| s.public_url = Some(ORIGIN.into()))
}

async fn call(t: &TestApp, req: TestRequest) -> Resp {
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    send(&app, req).await
}

async fn create_org(t: &TestApp, name: &str) -> String {
    let req = TestRequest::post()
        .uri("/v1/organizations")
        .insert_header(auth(&t.operator()))
        .set_json(json!({"name": name, "kind": "clinic"}));
    call(t, req).await.id()
}

async fn register(t: &TestApp, org: &str, token: &str, body: Value) -> Resp {
    let req = TestRequest::post()
        .uri(&format!("/v1/organizations/{org}/service-clients"))
        .insert_header(auth(token))
        .set_json(body);
    call(t, req).await
}

fn assertion(key: &Key, client: &str, aud: &str, exp: u64, jti: &str) -> String {
    key.sign(&json!({"iss": client, "sub": client, "aud": aud, "exp": exp, "jti": jti}))
}

async fn token_request(t: &TestApp, assertion: &str, scope: Option<&str>) -> Resp {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    call(t, TestRequest::post().uri("/v1/auth/token").set_form(form)).await
}

#[actix_web::test]
async fn a_registered_client_trades_a_signed_assertion_for_a_token() {
    let t = app();
    let clinic = create_org(&t, "新見クリニック").await;
    let other = create_org(&t, "ほかの病院").await;
    let key = Key::p256("ehr-2026");
    let body = json!({"name": "電子カルテ連携", "role": "physician", "scopes": ["system/*.rs"], "jwks": jwks(&[&key])});

    // Only the organisation's admin (or the operator's) registers its clients.
    let nurse = t.token("nurse", &clinic);
    assert_eq!(register(&t, &clinic, &nurse, body.clone()).await.problem(403)["status"], 403);
    let stranger = t.token("admin", &other);
    assert_eq!(register(&t, &clinic, &stranger, body.clone()).await.problem(403)["status"], 403);
    let bad = json!({"name": "x", "role": "physician", "scopes": ["patient/*.read"], "public_key_pem": "nope"});
    let errors = register(&t, &clinic, &t.token("admin", &clinic), bad).await.problem(422)["errors"].clone();
    let pointers: Vec<&str> = errors.as_array().unwrap().iter().map(|e| e["pointer"].as_str().unwrap()).collect();
    assert_eq!(pointers, ["/scopes/0", "/public_key_pem"]);
    let resp = register(&t, &clinic, &t.token("admin", &clinic), body.clone()).await;
    assert_eq!(resp.status.as_u16(), 201, "{}", resp.body);
    let client = resp.body["client_id"].as_str().unwrap().to_owned();
    assert_eq!(resp.body["scopes"], json!(["system/*.rs"]));

    // The token: short-lived, with the scopes, and good on the API as the client's organisation.
    let resp = token_request(&t, &assertion(&key, &client, TOKEN_URL, now() + 120, "jti-1"), None).await;
    assert_eq!(resp.status.as_u16(), 200, "{}", resp.body);
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    assert_eq!((resp.body["token_type"].as_str(), resp.body["expires_in"].as_u64()), (Some("bearer"), Some(300)));
    assert_eq!(resp.body["scope"], "system/*.rs");
    let token = resp.body["access_token"].as_str().unwrap().to_owned();
    let caller = t.state.auth.verify(&token).unwrap();
    assert_eq!((caller.sub.as_str(), caller.org.as_str()), (client.as_str(), clinic.as_str()));
    let resp =
        call(&t, TestRequest::get().uri(&format!("/v1/organizations/{clinic}")).insert_header(auth(&token))).await;
    assert_eq!(resp.status.as_u16(), 200, "{}", resp.body);

    // Refused, each naming why: the same jti again, another audience, expired, too long,
    // another key, a scope not registered, an unknown client.
    let refused = |resp: &Resp| resp.problem(401)["detail"].as_str().unwrap().to_owned();
    let replay = token_request(&t, &assertion(&key, &client, TOKEN_URL, now() + 120, "jti-1"), None).await;
    assert!(refused(&replay).contains("was used before"), "{}", replay.body);
    let wrong_aud =
        token_request(&t, &assertion(&key, &client, "https://elsewhere/token", now() + 120, "j2"), None).await;
    assert!(refused(&wrong_aud).contains("aud must be the token endpoint"), "{}", wrong_aud.body);
    let expired = token_request(&t, &assertion(&key, &client, TOKEN_URL, now() - 120, "j3"), None).await;
    assert!(refused(&expired).contains("expired"), "{}", expired.body);
    let long = token_request(&t, &assertion(&key, &client, TOKEN_URL, now() + 3600, "j4"), None).await;
    assert!(refused(&long).contains("more than 300 seconds"), "{}", long.body);
    let forged =
        token_request(&t, &assertion(&Key::p256("ehr-2026"), &client, TOKEN_URL, now() + 60, "j5"), None).await;
    assert!(refused(&forged).contains("not signed by a key registered"), "{}", forged.body);
    let scope = token_request(&t, &assertion(&key, &client, TOKEN_URL, now() + 60, "j6"), Some("system/*.cruds")).await;
    assert!(scope.problem(422)["errors"][0]["message"].as_str().unwrap().contains("invalid_scope"));
    let unknown = token_request(&t, &assertion(&key, "no-such-client", TOKEN_URL, now() + 60, "j7"), None).await;
    assert_eq!(refused(&unknown), "invalid_client: no such client");
    let grant = call(&t, TestRequest::post().uri("/v1/auth/token").set_form([("grant_type", "password")])).await;
    assert!(grant.problem(422)["errors"][0]["message"].as_str().unwrap().contains("unsupported_grant_type"));

    // The refusals are in the audit log, with the client they claimed.
    let auditor = t.token("auditor", &clinic);
    let uri = "/v1/audit-events?action=service_client.token";
    let resp = call(&t, TestRequest::get().uri(uri).insert_header(auth(&auditor))).await;
    assert_eq!(resp.status.as_u16(), 200, "{}", resp.body);
    let events = resp.body["items"].as_array().cloned().unwrap_or_default();
    let tokens: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["action"] == "service_client.token")
        .map(|e| (e["outcome"].as_str().unwrap(), e["actor_sub"].as_str().unwrap()))
        .collect();
    assert_eq!(tokens.iter().filter(|(o, _)| *o == "allowed").count(), 1, "{tokens:?}");
    assert!(tokens.iter().filter(|(o, _)| *o == "denied").count() >= 6, "{tokens:?}");
    assert!(tokens.contains(&("denied", "no-such-client")), "{tokens:?}");
}

#[actix_web::test]
async fn an_rsa_client_registered_by_pem_signs_rs256() {
    let t = app();
    let clinic = create_org(&t, "新見クリニック").await;
    let pem = {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        let text = std::fs::read_to_string(format!("{}/tests/api/fixtures/rsa2048-a.pem", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
        rsa::RsaPrivateKey::from_pkcs1_pem(&text).unwrap().to_public_key().to_public_key_pem(LineEnding::LF).unwrap()
    };
    let body = json!({"name": "bulk export", "role": "physician", "scopes": ["system/*.rs"], "public_key_pem": pem});
    let resp = register(&t, &clinic, &t.token("admin", &clinic), body).await;
    assert_eq!(resp.status.as_u16(), 201, "{}", resp.body);
    let client = resp.body["client_id"].as_str().unwrap().to_owned();
    let key = Key::rsa("rsa2048-a", "any");
    let resp = token_request(&t, &assertion(&key, &client, TOKEN_URL, now() + 60, "r1"), Some("system/*.rs")).await;
    assert_eq!(resp.status.as_u16(), 200, "{}", resp.body);
}

#[actix_web::test]
async fn the_smart_configuration_describes_the_token_endpoint() {
    let t = app();
    let resp = call(&t, TestRequest::get().uri("/.well-known/smart-configuration")).await;
    assert_eq!(resp.status.as_u16(), 200);
    assert_eq!(resp.body["token_endpoint"], TOKEN_URL);
    assert_eq!(resp.body["token_endpoint_auth_methods_supported"], json!(["private_key_jwt"]));
    assert_eq!(resp.body["grant_types_supported"], json!(["client_credentials"]));
    let algs = resp.body["token_endpoint_auth_signing_alg_values_supported"].as_array().unwrap();
    assert!(algs.contains(&json!("RS256")) && algs.contains(&json!("ES256")));
    assert!(resp.body["capabilities"].as_array().unwrap().contains(&json!("client-confidential-asymmetric")));
    assert!(resp.body["scopes_supported"].as_array().unwrap().contains(&json!("system/*.rs")));
}
