//! Wiring: the actix `App` (routes, middleware, framework error mapping) and the server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, ResponseError, web};
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::db;
use crate::error::ApiError;
use crate::state::{AppState, StartError};
use crate::{api, edge, openapi};

/// The whole application: used by `serve` and, unchanged, by the tests.
pub fn app(
    state: Arc<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let metrics_here = state.settings.metrics_bind.is_none();
    App::new()
        .app_data(web::PayloadConfig::new(state.settings.body_limit))
        .app_data(web::Data::from(state))
        .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound("no such resource".into()).into()))
        .configure(api::routes)
        .configure(crate::console::routes)
        .configure(|cfg| {
            if metrics_here {
                cfg.service(web::resource("/metrics").get(api::metrics::metrics_on_api));
            }
        })
        // A person who types the server's address meets the console (its sign-in when signed out),
        // or the residents' page when the region publishes one.
        .service(web::resource("/").get(crate::console::residents::front_door))
        .service(web::redirect("/docs", "/docs/"))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi::ApiDoc::openapi()))
        .default_service(web::to(|| async { ApiError::NotFound("no such resource".into()).error_response() }))
        .wrap(ErrorHandlers::new().default_handler(edge::problem::bare_error_as_problem))
        .wrap(from_fn(edge::limits::time_limit))
        .wrap(from_fn(edge::request_id::middleware))
        .wrap(from_fn(edge::limits::bounded_head))
        .wrap(from_fn(edge::metrics::track))
}

/// `GET /metrics` alone, for a separate (private) address: `--metrics-bind`.
fn metrics_app(
    state: Arc<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::from(state))
        .service(web::resource("/metrics").get(api::metrics::metrics))
        .default_service(web::to(|| async { ApiError::NotFound("no such resource".into()).error_response() }))
}

/// Signs the audit chain's head every `audit_checkpoint_every` events or `audit_checkpoint_secs`
/// seconds, whichever comes first. A failure is logged and retried on the next tick.
async fn checkpoints(state: Arc<AppState>) {
    let mut tick = actix_web::rt::time::interval(std::time::Duration::from_secs(5));
    loop {
        tick.tick().await;
        let st = state.clone();
        let every = i64::try_from(state.settings.audit_checkpoint_every).unwrap_or(i64::MAX);
        let max_age = time::Duration::seconds(i64::try_from(state.settings.audit_checkpoint_secs).unwrap_or(60));
        let result = db::run(&state.pool, move |conn| st.audit_signer.checkpoint(conn, every, max_age)).await;
        match result {
            Ok(Some(c)) => tracing::debug!(seq = c.seq, "audit checkpoint signed"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "audit checkpoint failed"),
        }
    }
}

/// Takes in, every second, the sessions other instances ended (sign-outs, admins' endings): an
/// ending served by one instance is refused by all within about a second. A failure is logged and
/// retried on the next tick.
async fn endings(state: Arc<AppState>) {
    let mut tick = actix_web::rt::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Err(e) = state.refresh_endings().await {
            tracing::warn!(error = %e, "ended sessions not read");
        }
    }
}

/// Indexes the health-insurance cards of patients registered before the card index existed
/// (`domain::health_index::backfill`), once at start; an interrupted backfill resumes next start.
async fn card_index(state: Arc<AppState>) {
    match crate::domain::health_index::backfill(&state).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(patients = n, "indexed the health-insurance cards of earlier patients"),
        Err(e) => {
            tracing::warn!(error = %e, "the health-insurance card backfill stopped; it resumes at the next start")
        }
    }
}

/// Fetches identity providers' keys when due (at start, then as `Cache-Control` says), on a
/// blocking thread: a slow or down provider never holds an async worker. Failures are logged
/// by `auth` and retried a minute later; the keys held are kept until they expire.
async fn key_refresh(state: Arc<AppState>) {
    let mut tick = actix_web::rt::time::interval(std::time::Duration::from_secs(5));
    loop {
        tick.tick().await;
        let st = state.clone();
        if web::block(move || st.auth.refresh_due()).await.is_err() {
            tracing::warn!("the key refresh task's thread failed");
        }
    }
}

/// Checks that `--bind` is an address `serve` may and can listen on, before it creates anything:
/// a bare port gets the address it probably meant, `--demo` keeps to loopback
/// (`demo::check_bind`), and the address is bound once to see that it can be.
pub fn check_bind(settings: &crate::config::Settings) -> Result<(), String> {
    let bind = settings.bind.trim();
    if !bind.is_empty() && bind.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "--bind {bind} is a port without an address: give 127.0.0.1:{bind} (this machine only) or \
             0.0.0.0:{bind} (every interface)"
        ));
    }
    crate::demo::check_bind(settings)?;
    // Let go at once: the server binds it again a moment later.
    TcpListener::bind(bind).map(drop).map_err(|e| format!("cannot listen on {bind}: {e}"))
}

/// SIGTERM or SIGINT (Ctrl-C): both stop gracefully. Without a handler this never resolves
/// (rather than stopping a server that merely cannot hear signals).
async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        tracing::warn!("cannot listen for SIGTERM/SIGINT: stop the server by other means");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
        _ = int.recv() => tracing::info!("SIGINT: stopping"),
    }
}

/// A server bound and ready to run; `port` tells which port a `:0` bind received, and
/// `metrics_port` the port of `--metrics-bind`, if given.
pub struct Application {
    pub port: u16,
    pub metrics_port: Option<u16>,
    pub server: Server,
    /// Delivers webhooks in the background; stop it once the server has stopped.
    pub webhooks: crate::webhooks::Worker,
}

impl Application {
    pub fn build(state: Arc<AppState>) -> Result<Self, StartError> {
        let bind = state.settings.bind.clone();
        let listener = TcpListener::bind(&bind).map_err(|source| StartError::Bind { bind: bind.clone(), source })?;
        let port = listener.local_addr().map_err(|source| StartError::Bind { bind: bind.clone(), source })?.port();
        let workers = state.settings.workers;
        let state_for_workers = state.clone();
        let stopping = state.clone();
        let mut server = HttpServer::new(move || app(state_for_workers.clone()))
            // Streams and long-polls end first: they would otherwise count as in flight.
            .shutdown_signal(async move {
                stop_signal().await;
                stopping.stop_streams();
            })
            // In-flight requests get this long to finish after SIGTERM/SIGINT.
            .shutdown_timeout(30);
        if let Some(n) = workers {
            server = server.workers(n);
        }
        let server = server.listen(listener).map_err(|source| StartError::Bind { bind, source })?.run();
        let metrics_port = match state.settings.metrics_bind.clone() {
            Some(bind) => Some(Self::serve_metrics(state.clone(), bind)?),
            None => None,
        };
        let webhooks = crate::webhooks::Worker::start(state.clone());
        actix_web::rt::spawn(crate::domain::exports::sweeper(state.clone()));
        actix_web::rt::spawn(endings(state.clone()));
        actix_web::rt::spawn(card_index(state.clone()));
        if state.auth.fetches_keys() {
            actix_web::rt::spawn(key_refresh(state.clone()));
        }
        actix_web::rt::spawn(checkpoints(state));
        Ok(Self { port, metrics_port, server, webhooks })
    }

    /// Serves `GET /metrics` on its own address, beside the API; returns the bound port.
    fn serve_metrics(state: Arc<AppState>, bind: String) -> Result<u16, StartError> {
        let listener = TcpListener::bind(&bind).map_err(|source| StartError::Bind { bind: bind.clone(), source })?;
        let port = listener.local_addr().map_err(|source| StartError::Bind { bind: bind.clone(), source })?.port();
        let server = HttpServer::new(move || metrics_app(state.clone()))
            .workers(1)
            .shutdown_timeout(5)
            .listen(listener)
            .map_err(|source| StartError::Bind { bind, source })?
            .run();
        actix_web::rt::spawn(server);
        Ok(port)
    }
}

/// Fills the data directory with the demo region, unless it holds it already, writing every
/// record through this application in process (`demo::fill`).
pub async fn load_demo(settings: &crate::config::Settings) -> Result<crate::demo::Manifest, crate::demo::DemoError> {
    if let Some(manifest) = crate::demo::existing(settings) {
        return Ok(manifest);
    }
    let state = crate::demo::loading_state(settings)?;
    let service = actix_web::test::init_service(app(Arc::clone(&state))).await;
    crate::demo::fill(settings, &state, service).await
}
