//! The test harness: the real application on a fresh database per test. The backend is SQLite
//! in a temporary directory, or PostgreSQL when `CAREPATH_TEST_DATABASE_URL` names a server
//! (each test then gets a database of its own, dropped at the end).

use std::sync::Arc;

use actix_web::test::TestRequest;
use diesel::{Connection, PgConnection, RunQueryDsl};

use carepath::config::Settings;
use carepath::state::AppState;

pub mod care_plan_files;
pub mod fhir_world;
pub mod idp;
mod request;
pub mod world;

pub use request::{Resp, auth, call, get, id, post, send};
pub use world::{World, hanako};

pub const PG_ENV: &str = "CAREPATH_TEST_DATABASE_URL";

/// A database that exists for one test.
pub struct TestDb {
    pub dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let pg = std::env::var(PG_ENV).ok().filter(|u| !u.is_empty()).map(|admin_url| {
            let name = format!("carepath_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = PgConnection::establish(&admin_url).expect("connect to the test PostgreSQL server");
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).expect("create test database");
            (admin_url, name)
        });
        Self { dir, pg }
    }

    /// Settings that point at this database, with the data directory inside the temp dir.
    pub fn settings(&self) -> Settings {
        let mut settings = Settings::for_data_dir(self.dir.path().join("data"));
        settings.database_url = self.pg.as_ref().map(|(admin, name)| with_database(admin, name));
        settings
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// For a test that has nothing to check on this backend: it says so, in
    /// `target/tmp/skipped-tests.txt` (CI prints the list), rather than passing in silence.
    pub fn skip(&self, test: &str, why: &str) {
        use std::io::Write;
        let backend = if self.is_postgres() { "PostgreSQL" } else { "SQLite" };
        let line = format!("skipped on {backend}: {test}: {why}\n");
        eprint!("{line}");
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("skipped-tests.txt");
        if let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = file.write_all(line.as_bytes());
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.pg
            && let Ok(mut conn) = PgConnection::establish(admin_url)
        {
            let _dropped = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn);
        }
    }
}

/// The same server URL with another database name (the path), keeping the query (`sslmode`).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let server = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

/// The application on its own database.
pub struct TestApp {
    pub state: Arc<AppState>,
    pub db: TestDb,
}

impl TestApp {
    pub fn new() -> Self {
        Self::with(|_| {})
    }

    /// The application with adjusted settings.
    pub fn with(adjust: impl FnOnce(&mut Settings)) -> Self {
        let db = TestDb::new();
        let mut settings = db.settings();
        adjust(&mut settings);
        let state = AppState::open(settings).expect("open app state");
        Self { state, db }
    }
}

impl TestApp {
    /// A token from the local issuer for `role` at `org`.
    pub fn token(&self, role: &str, org: &str) -> String {
        let role = role.parse().expect("known role");
        carepath::auth::issue_local_token(&self.state.settings.data_dir, &format!("{role:?}-tester"), role, org, 600)
            .expect("issue token")
    }

    /// The operator's administrator, who may create the first organisations.
    pub fn operator(&self) -> String {
        self.token("admin", &self.state.settings.operator_org.clone())
    }
}

/// Every byte the database holds for patients, as text: the SQLite files (WAL included) or,
/// on PostgreSQL, every row of every table.
pub fn raw_database_text(t: &TestApp) -> String {
    match t.state.settings.database_url.as_deref() {
        None => {
            let mut all = Vec::new();
            for entry in std::fs::read_dir(&t.state.settings.data_dir).unwrap() {
                let path = entry.unwrap().path();
                if path.file_name().unwrap().to_string_lossy().starts_with("carepath.db") {
                    all.extend(std::fs::read(path).unwrap());
                }
            }
            String::from_utf8_lossy(&all).into_owned()
        }
        Some(url) => {
            #[derive(diesel::QueryableByName)]
            struct Row {
                #[diesel(sql_type = diesel::sql_types::Text)]
                t: String,
            }
            let mut conn = PgConnection::establish(url).unwrap();
            let tables: Vec<Row> = diesel::sql_query(
                "SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .load(&mut conn)
            .unwrap();
            let mut all = String::new();
            for table in tables {
                let rows: Vec<Row> =
                    diesel::sql_query(format!("SELECT row_to_json(x)::text AS t FROM \"{}\" x", table.t))
                        .load(&mut conn)
                        .unwrap();
                for row in rows {
                    all.push_str(&row.t);
                    all.push('\n');
                }
            }
            all
        }
    }
}

/// Signs in to the console with a token through the form, as a browser does; returns the
/// session cookie (`name=value`). The app needs `sessions.console_token_sign_in`.
pub async fn console_sign_in<S, B>(app: &S, token: &str) -> String
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let cookies = |res: &Resp| -> Vec<String> {
        res.headers
            .get_all("set-cookie")
            .filter_map(|v| v.to_str().ok())
            .map(|c| c.split(';').next().unwrap_or("").to_owned())
            .collect()
    };
    let form = send(app, TestRequest::get().uri("/console/login")).await;
    let nonce = cookies(&form).into_iter().find(|c| c.starts_with("cp_login=")).expect("a sign-in nonce");
    let page = String::from_utf8_lossy(&form.raw).into_owned();
    let field = "name=\"csrf\" value=\"";
    let csrf = page[page.find(field).expect("a csrf field") + field.len()..].split('"').next().unwrap().to_owned();
    let req = TestRequest::post()
        .uri("/console/login")
        .insert_header(("cookie", nonce))
        .set_form([("token", token), ("csrf", csrf.as_str())]);
    let res = send(app, req).await;
    assert_eq!(res.status, 303, "{}", String::from_utf8_lossy(&res.raw));
    cookies(&res).into_iter().find(|c| c.starts_with("cp_session=")).expect("a session cookie")
}

/// A response's body as the page's text.
pub fn page_text(res: &Resp) -> String {
    String::from_utf8_lossy(&res.raw).into_owned()
}

/// The value of a page's first `name="csrf"` field.
pub fn csrf_of(page: &str) -> String {
    let field = "name=\"csrf\" value=\"";
    let at = page.find(field).expect("a CSRF field") + field.len();
    page[at..].split('"').next().unwrap_or_default().to_owned()
}
