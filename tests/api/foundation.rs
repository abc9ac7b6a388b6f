//! The base every feature stands on: health, request ids, the OpenAPI document, Swagger UI, and
//! problem+json for every failure the framework produces.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]

use crate::common;

use actix_web::test::{TestRequest, init_service};
use common::{TestApp, send};

#[actix_web::test]
async fn healthz_reports_the_database() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let res = send(&app, TestRequest::get().uri("/healthz")).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body, serde_json::json!({"status": "ok", "database": "ok"}));
}

#[actix_web::test]
async fn healthz_is_503_problem_when_the_database_is_unreachable() {
    let t = TestApp::new();
    // Same app, but its pool points at a port where no database listens.
    let mut settings = t.state.settings.clone();
    settings.database_url = Some("postgres://carepath@127.0.0.1:1/none".into());
    settings.db_timeout_secs = 1;
    let state = carepath::state::AppState::lazy(settings).unwrap();
    let app = init_service(carepath::startup::app(state)).await;
    let res = send(&app, TestRequest::get().uri("/healthz")).await;
    res.problem(503);
}

#[actix_web::test]
async fn every_response_has_a_request_id() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let generated = send(&app, TestRequest::get().uri("/healthz")).await;
    let id = generated.header("x-request-id").expect("generated id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");

    let echoed = send(&app, TestRequest::get().uri("/healthz").insert_header(("x-request-id", "abc-123"))).await;
    assert_eq!(echoed.header("x-request-id"), Some("abc-123"));

    // A header that could smuggle text into logs is replaced, not echoed.
    let odd = send(&app, TestRequest::get().uri("/nope").insert_header(("x-request-id", "a b\"<script>"))).await;
    assert_ne!(odd.header("x-request-id"), Some("a b\"<script>"));
    assert!(odd.header("x-request-id").is_some(), "error responses carry the id too");
}

#[actix_web::test]
async fn unknown_route_is_404_problem() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    send(&app, TestRequest::get().uri("/no/such/thing")).await.problem(404);
}

#[actix_web::test]
async fn wrong_method_is_405_problem() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    send(&app, TestRequest::delete().uri("/healthz")).await.problem(405);
}

#[actix_web::test]
async fn openapi_is_served_and_matches_the_committed_file() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let res = send(&app, TestRequest::get().uri("/openapi.json")).await;
    assert_eq!(res.status, 200);
    assert!(res.body["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(res.body["paths"]["/healthz"]["get"].is_object());

    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
        .expect("openapi/openapi.json is committed");
    assert!(
        committed == carepath::openapi::spec_json(),
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json`"
    );
    let committed: serde_json::Value = serde_json::from_str(&committed).unwrap();
    assert_eq!(committed, res.body, "the served spec is the committed one");
}

#[actix_web::test]
async fn swagger_ui_is_served_from_the_binary() {
    let t = TestApp::new();
    let app = init_service(carepath::startup::app(t.state.clone())).await;
    let res = send(&app, TestRequest::get().uri("/docs/")).await;
    assert_eq!(res.status, 200);
    assert!(String::from_utf8_lossy(&res.raw).contains("swagger-ui"));
    let bare = send(&app, TestRequest::get().uri("/docs")).await;
    assert!(bare.status.is_redirection() || bare.status == 200, "{:?}", bare.status);
}

#[actix_web::test]
async fn postgres_uses_tls_when_the_url_asks_for_it() {
    let t = TestApp::new();
    let Some(url) = t.state.settings.database_url.clone() else {
        eprintln!("SQLite backend: no TLS to check");
        return;
    };
    use diesel::{Connection, PgConnection, RunQueryDsl, sql_types::Bool};
    #[derive(diesel::QueryableByName)]
    struct Ssl {
        #[diesel(sql_type = Bool)]
        ssl: bool,
    }
    let mut conn = PgConnection::establish(&url).unwrap();
    let row: Ssl =
        diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").get_result(&mut conn).unwrap();
    assert_eq!(row.ssl, url.contains("sslmode=require"), "TLS in use must follow sslmode in {url}");
}
