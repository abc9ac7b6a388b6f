//! Tokens from identity providers (issue 30): RS256 and PS256 beside ES256; never HMAC or
//! `none`; RSA under 2048 bits refused; keys fetched from a `jwks_uri` (an in-test HTTP server)
//! and kept as `Cache-Control` says, fetched again on an unknown `kid` at most once a minute,
//! kept through a broken endpoint until they expire, a removed key refused after the refresh;
//! claims shaped as Entra ID and Keycloak send them mapped by the trust file's rules.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use actix_web::test::{TestRequest, init_service};
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::common::idp::{JwksServer, Key, jwks, now, trust_file};
use crate::common::{Resp, TestApp, auth, send};

const IDP: &str = "https://login.example.jp/tenant-1/v2.0";

/// GET /v1/organizations/{org} (or the list) with `token`.
async fn get_org(t: &TestApp, org: &str, token: &str) -> Resp {
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let uri = if org.is_empty() { "/v1/organizations".to_owned() } else { format!("/v1/organizations/{org}") };
    send(&app, TestRequest::get().uri(&uri).insert_header(auth(token))).await
}

async fn create_org(t: &TestApp) -> String {
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let op = t.operator();
    let req = TestRequest::post()
        .uri("/v1/organizations")
        .insert_header(auth(&op))
        .set_json(json!({"name": "新見クリニック", "kind": "clinic"}));
    send(&app, req).await.id()
}

fn detail(resp: &Resp) -> String {
    resp.problem(401)["detail"].as_str().unwrap().to_owned()
}

/// The operator's admin as an IdP would assert it (an entry bound to the operator exactly).
fn operator_claims(t: &TestApp, iss: &str) -> Value {
    json!({"iss": iss, "aud": "carepath", "exp": now() + 600, "iat": now(), "sub": "op-1",
        "org": t.state.settings.operator_org, "role": "admin", "jti": uuid::Uuid::new_v4().to_string()})
}

#[actix_web::test]
async fn rs256_and_ps256_are_accepted_and_hmac_and_none_refused() {
    let rsa = Key::rsa("rsa2048-a", "r1");
    let (dir, path) = trust_file(json!([{"issuer": IDP, "audience": "carepath", "jwks_file": "jwks.json",
        "organizations": ["carepath-operator"], "roles": ["admin"]}]));
    std::fs::write(dir.path().join("jwks.json"), jwks(&[&rsa]).to_string()).unwrap();
    let t = TestApp::with(|s| s.trust_file = Some(path));
    for alg in [Algorithm::RS256, Algorithm::PS256] {
        let resp = get_org(&t, "", &rsa.sign_as(alg, Some("r1"), &operator_claims(&t, IDP))).await;
        assert_eq!(resp.status.as_u16(), 200, "{alg:?}: {}", resp.body);
    }
    // HMAC keyed with the RSA modulus (the classic confusion), and `none`.
    let secret = rsa.jwk()["n"].as_str().unwrap().to_owned();
    let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
    header.kid = Some("r1".into());
    let hs = jsonwebtoken::encode(
        &header,
        &operator_claims(&t, IDP),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    assert_eq!(detail(&get_org(&t, "", &hs).await), "unsupported algorithm HS256");
    let b64 = |v: &Value| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, v.to_string());
    let none = format!("{}.{}.", b64(&json!({"alg": "none", "kid": "r1"})), b64(&operator_claims(&t, IDP)));
    assert_eq!(detail(&get_org(&t, "", &none).await), "unsupported algorithm none");
    // A key of another provider, posing under the same kid.
    let other = Key::rsa("rsa2048-b", "r1");
    assert_eq!(detail(&get_org(&t, "", &other.sign(&operator_claims(&t, IDP))).await), "unknown signing key");
    drop(dir);
}

#[actix_web::test]
async fn rsa_keys_under_2048_bits_are_refused() {
    let weak = Key::rsa("rsa1024", "weak");
    let (dir, path) = trust_file(json!([{"issuer": IDP, "audience": "carepath", "jwks_file": "jwks.json",
        "organizations": ["*"], "roles": ["nurse"]}]));
    std::fs::write(dir.path().join("jwks.json"), jwks(&[&weak]).to_string()).unwrap();
    let mut settings = crate::common::TestDb::new().settings();
    settings.trust_file = Some(path);
    let error =
        carepath::auth::Authenticator::load(&settings, carepath::clock::Clock::system()).unwrap_err().to_string();
    assert!(error.contains("RSA key of 1024 bits; at least 2048 are required"), "{error}");

    // Published beside a good key at a jwks_uri: the weak one is skipped, its tokens refused.
    let good = Key::rsa("rsa2048-a", "good");
    let server = JwksServer::start(&[&weak, &good], 300);
    let (_dir, path) = trust_file(json!([{"issuer": IDP, "audience": "carepath", "jwks_uri": server.jwks_uri(),
        "organizations": ["carepath-operator"], "roles": ["admin"]}]));
    let t = TestApp::with(|s| s.trust_file = Some(path));
    assert_eq!(get_org(&t, "", &good.sign(&operator_claims(&t, IDP))).await.status.as_u16(), 200);
    let resp = get_org(&t, "", &weak.sign(&operator_claims(&t, IDP))).await;
    assert_eq!(detail(&resp), "unknown signing key");
    drop(dir);
}

/// A TestApp trusting `IDP` with keys at `server`'s jwks_uri, for the operator's admin.
fn app_with_jwks_uri(server: &JwksServer) -> (TestApp, tempfile::TempDir) {
    let (dir, path) = trust_file(json!([{"issuer": IDP, "audience": "carepath", "jwks_uri": server.jwks_uri(),
        "organizations": ["carepath-operator"], "roles": ["admin"]}]));
    let t = TestApp::with(|s| s.trust_file = Some(path));
    // What the server's refresh task does at start.
    t.state.auth.refresh_due();
    (t, dir)
}

#[actix_web::test]
async fn an_unknown_kid_fetches_the_keys_again_at_most_once_a_minute() {
    let (a, b) = (Key::rsa("rsa2048-a", "a"), Key::p256("b"));
    let server = JwksServer::start(&[&a], 600);
    let (t, _dir) = app_with_jwks_uri(&server);
    // The first token fetches the keys (none held yet).
    assert_eq!(get_org(&t, "", &a.sign(&operator_claims(&t, IDP))).await.status.as_u16(), 200);
    assert_eq!(server.hits(), 1);
    assert_eq!(get_org(&t, "", &a.sign(&operator_claims(&t, IDP))).await.status.as_u16(), 200);
    assert_eq!(server.hits(), 1, "known keys are not fetched again");

    // The provider rotates in key b: its first token makes one fetch, and passes.
    server.serve_keys(&[&a, &b]);
    let resp = get_org(&t, "", &b.sign(&operator_claims(&t, IDP))).await;
    assert_eq!(resp.status.as_u16(), 200, "{}", resp.body);
    assert_eq!(server.hits(), 2);

    // A kid nobody published, within the minute: refused without a fetch.
    let stranger = Key::p256("c");
    for _ in 0..3 {
        assert_eq!(detail(&get_org(&t, "", &stranger.sign(&operator_claims(&t, IDP))).await), "unknown signing key");
    }
    assert_eq!(server.hits(), 2, "at most one on-demand fetch a minute");
    t.state.clock.advance(time::Duration::seconds(61));
    assert_eq!(detail(&get_org(&t, "", &stranger.sign(&operator_claims(&t, IDP))).await), "unknown signing key");
    assert_eq!(server.hits(), 3, "a minute later, one more");
}

#[actix_web::test]
async fn a_removed_key_stops_verifying_after_the_refresh() {
    let (a, b) = (Key::rsa("rsa2048-a", "a"), Key::rsa("rsa2048-b", "b"));
    let server = JwksServer::start(&[&a, &b], 300);
    let (t, _dir) = app_with_jwks_uri(&server);
    let old = a.sign(&operator_claims(&t, IDP));
    assert_eq!(get_org(&t, "", &old).await.status.as_u16(), 200);
    server.serve_keys(&[&b]);
    // Not yet due (300 s of max-age, refreshed after three quarters): a still verifies.
    t.state.auth.refresh_due();
    assert_eq!(server.hits(), 1);
    assert_eq!(get_org(&t, "", &a.sign(&operator_claims(&t, IDP))).await.status.as_u16(), 200);
    t.state.clock.advance(time::Duration::seconds(230));
    t.state.auth.refresh_due();
    assert_eq!(server.hits(), 2);
    // Refused: a fresh token of a, and the one verified (and cached) before the refresh.
    assert_eq!(detail(&get_org(&t, "", &a.sign(&operator_claims(&t, IDP))).await), "unknown signing key");
    assert_eq!(detail(&get_org(&t, "", &old).await), "unknown signing key");
    assert_eq!(get_org(&t, "", &b.sign(&operator_claims(&t, IDP))).await.status.as_u16(), 200);
}

#[actix_web::test]
async fn a_broken_endpoint_keeps_the_keys_until_they_expire() {
    let a = Key::p256("a");
    let server = JwksServer::start(&[&a], 120);
    let (t, _dir) = app_with_jwks_uri(&server);
    assert_eq!(get_org(&t, "", &a.sign(&operator_claims(&t, IDP))).await.status.as_u16(), 200);
    // Garbage, then an error status: the keys held still verify.
    server.serve(200, "<html>maintenance</html>");
    t.state.clock.advance(time::Duration::seconds(95));
    t.state.auth.refresh_due();
    assert_eq!(server.hits(), 2);
    assert_eq!(get_org(&t, "", &a.sign(&operator_claims(&t, IDP))).await.status.as_u16(), 200);
    server.serve(503, "down");
    t.state.clock.advance(time::Duration::seconds(30));
    // Past their 120 s: refused, naming the failure (one on-demand fetch was tried, and failed).
    let resp = get_org(&t, "", &a.sign(&operator_claims(&t, IDP))).await;
    let why = detail(&resp);
    assert!(why.contains("the keys of issuer") && why.contains("expired") && why.contains("HTTP 503"), "{why}");
    assert_eq!(server.hits(), 3);
    // Back up: the next fetch (the minute has passed) lets tokens in again.
    server.serve_keys(&[&a]);
    t.state.clock.advance(time::Duration::seconds(61));
    t.state.auth.refresh_due();
    assert_eq!(get_org(&t, "", &a.sign(&operator_claims(&t, IDP))).await.status.as_u16(), 200);
}

#[actix_web::test]
async fn entra_and_keycloak_shaped_claims_are_mapped() {
    let entra_key = Key::rsa("rsa2048-a", "entra");
    let keycloak_key = Key::rsa("rsa2048-b", "kc");
    const KEYCLOAK: &str = "https://sso.example.jp/realms/niimi";
    let server = JwksServer::start(&[&entra_key, &keycloak_key], 600);
    // The org id is not known before the app exists: the trust file is rewritten after.
    let (dir, path) = trust_file(json!([]));
    let write = |org: &str| {
        let entries = json!([
            {"issuer": IDP, "audience": "api://carepath", "jwks_uri": server.jwks_uri(),
             "organizations": [org], "roles": ["nurse", "physician"],
             "claims": {"sub": "oid", "role": "roles",
                        "role_values": {"Carepath.Nurse": "nurse", "Carepath.Physician": "physician", "Carepath.Admin": "admin"},
                        "org": "tid", "org_values": {"tenant-1": org}}},
            {"issuer": KEYCLOAK, "audience": "carepath", "jwks_uri": server.jwks_uri(),
             "organizations": [org], "roles": ["nurse", "physician"],
             "claims": {"role": "realm_access.roles", "org": "groups", "org_values": {"/niimi-clinic": org}}},
        ]);
        std::fs::write(&path, json!({"issuers": entries}).to_string()).unwrap();
    };
    write("placeholder");
    let t = TestApp::with(|s| s.trust_file = Some(path.clone()));
    let org = create_org(&t).await;
    write(&org);
    // The same database, opened again with the rewritten trust file (the first state closed).
    let TestApp { state, db } = t;
    let settings = state.settings.clone();
    drop(state);
    let t = TestApp { state: carepath::state::AppState::open(settings).unwrap(), db };

    let entra = json!({"iss": IDP, "aud": "api://carepath", "exp": now() + 600, "oid": "5e3b-oid",
        "tid": "tenant-1", "roles": ["Carepath.Nurse", "Other.App.Role"]});
    let resp = get_org(&t, &org, &entra_key.sign(&entra)).await;
    assert_eq!(resp.status.as_u16(), 200, "{}", resp.body);

    let keycloak = json!({"iss": KEYCLOAK, "aud": "carepath", "exp": now() + 600, "sub": "kc-user",
        "realm_access": {"roles": ["offline_access", "uma_authorization", "physician"]},
        "groups": ["/niimi-clinic", "/everyone"]});
    assert_eq!(get_org(&t, &org, &keycloak_key.sign(&keycloak)).await.status.as_u16(), 200);

    // A token the rules map to nothing: 401 naming the missing mapping.
    let no_roles =
        json!({"iss": KEYCLOAK, "aud": "carepath", "exp": now() + 600, "sub": "kc-user", "groups": ["/niimi-clinic"]});
    assert_eq!(
        detail(&get_org(&t, &org, &keycloak_key.sign(&no_roles)).await),
        format!("no role claim at realm_access.roles for issuer {KEYCLOAK}")
    );
    let unmapped = json!({"iss": IDP, "aud": "api://carepath", "exp": now() + 600, "oid": "x", "tid": "tenant-1",
        "roles": ["Other.App.Role"]});
    let why = detail(&get_org(&t, &org, &entra_key.sign(&unmapped)).await);
    assert!(why.contains("the role claim at roles (Other.App.Role) maps to no carepath role"), "{why}");
    let other_tenant = with(&entra, json!({"tid": "tenant-2"}));
    let why = detail(&get_org(&t, &org, &entra_key.sign(&other_tenant)).await);
    assert!(why.contains("the organisation claim at tid (tenant-2) maps to no carepath organisation"), "{why}");
    // Mapped, but beyond what the issuer is bound to: admin is not among its roles.
    let admin = with(&entra, json!({"roles": ["Carepath.Admin"]}));
    assert_eq!(
        detail(&get_org(&t, &org, &entra_key.sign(&admin)).await),
        "the token's issuer may not assert its organisation or role"
    );
    drop(dir);
}

fn with(base: &Value, changes: Value) -> Value {
    let mut out = base.clone();
    for (k, v) in changes.as_object().unwrap() {
        out[k] = v.clone();
    }
    out
}
