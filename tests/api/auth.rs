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
    carepath::auth::Authenticator::load(
        &carepath::config::Settings::for_data_dir(elsewhere.path()),
        carepath::clock::Clock::system(),
    )
    .unwrap();
    let token =
        issue_local_token(elsewhere.path(), "op-admin", Role::Admin, &t.state.settings.operator_org, 600).unwrap();
    let resp = get_organizations(&t, &[("authorization", format!("Bearer {token}").as_bytes())]).await;
    // It says how to mint one this service trusts (issue 35 item 4).
    let detail = unauthorized(&resp);
    assert!(detail.starts_with("unknown signing key"), "{detail}");
    assert!(detail.contains("another data directory") && detail.contains("carepath token --data-dir"), "{detail}");
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

/// An EHR vendor's issuer: a P-256 key, its PEM public key, and a trust file binding the issuer
/// to `organizations` and `roles` (none given: the entry is written without them).
struct Vendor {
    pkcs8: Vec<u8>,
    dir: tempfile::TempDir,
}

const VENDOR: &str = "https://ehr.example.jp";

impl Vendor {
    fn new(binding: Option<serde_json::Value>) -> Self {
        use base64::Engine;
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let mut der = vec![
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
            0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        ];
        der.extend_from_slice(pair.public_key().as_ref());
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
        let pem = format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ehr.pem"), pem).unwrap();
        let mut entry = json!({"issuer": VENDOR, "audience": "carepath", "public_key_pem_file": "ehr.pem"});
        if let Some(binding) = binding {
            for (k, v) in binding.as_object().unwrap() {
                entry[k] = v.clone();
            }
        }
        std::fs::write(dir.path().join("trust.json"), json!({"issuers": [entry]}).to_string()).unwrap();
        Self { pkcs8: pkcs8.as_ref().to_vec(), dir }
    }

    fn trust_file(&self) -> std::path::PathBuf {
        self.dir.path().join("trust.json")
    }

    fn token(&self, org: &str, role: &str) -> String {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let claims = json!({"iss": VENDOR, "aud": "carepath", "iat": now, "exp": now + 600,
            "sub": "ehr-user-1", "org": org, "role": role});
        let key = jsonwebtoken::EncodingKey::from_ec_der(&self.pkcs8);
        jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256), &claims, &key).unwrap()
    }
}

/// Issue 26, item 6: a trusted issuer asserts only the organisations and roles its trust-file
/// entry binds it to, and never the operator's organisation through a pattern.
#[actix_web::test]
async fn a_trusted_issuer_asserts_only_its_bound_organisations_and_roles() {
    let vendor = Vendor::new(Some(json!({"organizations": ["*"], "roles": ["physician", "nurse"]})));
    let t = TestApp::with(|s| s.trust_file = Some(vendor.trust_file()));
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let created = send(
        &app,
        TestRequest::post()
            .uri(ROUTE)
            .insert_header(("authorization", format!("Bearer {}", operator_token(&t))))
            .set_json(json!({"name": "新見クリニック", "kind": "clinic"})),
    )
    .await;
    let clinic = created.id();
    let bearer = |token: String| format!("Bearer {token}");
    let ok = get_organizations(&t, &[("authorization", bearer(vendor.token(&clinic, "physician")).as_bytes())]).await;
    assert_eq!(ok.status.as_u16(), 200, "{}", ok.body);
    for (org, role) in [(t.state.settings.operator_org.as_str(), "admin"), (&clinic, "admin"), (&clinic, "auditor")] {
        let resp = get_organizations(&t, &[("authorization", bearer(vendor.token(org, role)).as_bytes())]).await;
        assert_eq!(unauthorized(&resp), "the token's issuer may not assert its organisation or role", "{org} {role}");
    }
    // The operator's admin erases patients: the vendor's token for it gets nowhere near that.
    let erase = TestRequest::delete()
        .uri(&format!("/v1/patients/{}", uuid::Uuid::new_v4()))
        .insert_header(("authorization", bearer(vendor.token(&t.state.settings.operator_org, "admin"))));
    send(&app, erase).await.problem(401);
}

/// Issue 26, item 6: an entry naming the operator's organisation exactly may assert it (the
/// operator's own identity provider); an entry without a binding is refused at start, named.
#[actix_web::test]
async fn trust_entries_must_be_bound_and_only_an_exact_entry_asserts_the_operator() {
    let vendor = Vendor::new(Some(json!({"organizations": ["carepath-operator"], "roles": ["admin"]})));
    let t = TestApp::with(|s| s.trust_file = Some(vendor.trust_file()));
    let token = vendor.token(&t.state.settings.operator_org, "admin");
    let resp = get_organizations(&t, &[("authorization", format!("Bearer {token}").as_bytes())]).await;
    assert_eq!(resp.status.as_u16(), 200, "{}", resp.body);

    let unbound = Vendor::new(None);
    let db = common::TestDb::new();
    let mut settings = db.settings();
    settings.trust_file = Some(unbound.trust_file());
    let error = carepath::state::AppState::open(settings).err().expect("an unbound entry is refused").to_string();
    assert!(error.contains("issuers[0] (https://ehr.example.jp)") && error.contains("\"organizations\""), "{error}");
}
