//! Building and running the server: the application (`apogee_app::App::start`: migrations,
//! first-start bootstrap, referential, background tasks), then the HTTP server with every
//! adapter, and graceful shutdown.

use crate::http::fallback::{self, Renderers};
use crate::http::problem::{ApiError, bad_request, problem_response};
use actix_web::dev::Server;
use actix_web::{App as HttpApp, HttpRequest, HttpServer, web};
use anyhow::Context;
use apogee_app::{App, Settings};
use apogee_domain::{Error, FaultKey};
use std::sync::Arc;
use std::time::Duration;

/// A built server, bound and ready to run.
pub struct Application {
    server: Server,
    port: u16,
    app: web::Data<App>,
}

fn json_error(err: actix_web::error::JsonPayloadError, req: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError;
    let message = err.to_string();
    actix_web::Error::from(match err {
        JsonPayloadError::Payload(e) if crate::http::guard::is_idle_cut(&e) => {
            let idle = req
                .app_data::<web::Data<App>>()
                .map_or(Duration::from_secs(1), |app| crate::http::body::idle(app));
            ApiError(apogee_app::upload::timed_out(idle))
        }
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError(Error::payload_too_large("Corps de requête trop volumineux"))
        }
        JsonPayloadError::ContentType => ApiError(Error::unsupported_media_type(
            "Type de contenu attendu : application/json",
        )),
        _ => bad_request("body", format!("JSON invalide : {message}")),
    })
}

/// Every route, extractor configuration and middleware of the server.
fn configure(cfg: &mut web::ServiceConfig, settings: &Settings) {
    let limits = &settings.limits;
    cfg.app_data(
        web::JsonConfig::default()
            .limit(limits.json_bytes)
            .error_handler(json_error),
    )
    .app_data(web::PayloadConfig::default().limit(limits.referential_bytes))
    .app_data(web::QueryConfig::default().error_handler(|err, _| {
        bad_request("query", format!("Paramètres de requête invalides : {err}")).into()
    }))
    .app_data(
        web::PathConfig::default()
            .error_handler(|err, _| bad_request("path", format!("Chemin invalide : {err}")).into()),
    )
    .app_data(web::Data::new(
        Renderers::default()
            .with(crate::soap::framework_fault)
            .with(crate::facades::cnous::framework_error)
            .with(crate::facades::framework_error),
    ))
    .service(utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").url(
        "/api-docs/openapi.json",
        <crate::openapi::ApiDoc as utoipa::OpenApi>::openapi(),
    ))
    .configure(crate::rest::configure)
    .configure(crate::ui::configure)
    .configure(crate::facades::configure)
    .configure(|cfg| crate::soap::configure(cfg, &settings.soap.base_paths, limits.soap_bytes));
}

impl Application {
    /// Starts the application and binds `settings.bind`. Must be called inside a Tokio/actix
    /// runtime.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let app = App::start(settings).await?;
        app.spawn_background_tasks();
        let data = web::Data::from(Arc::clone(&app));
        let shared = data.clone();
        let mut server = HttpServer::new(move || {
            let settings = shared.settings.clone();
            HttpApp::new()
                .app_data(shared.clone())
                .configure(|cfg| configure(cfg, &settings))
                .wrap(actix_web::middleware::from_fn(
                    crate::http::guard::idle_bodies,
                ))
                .wrap(
                    actix_web::middleware::ErrorHandlers::new()
                        .default_handler(fallback::framework_errors),
                )
                .wrap(actix_web::middleware::from_fn(
                    crate::http::middleware::observe,
                ))
                .default_service(web::to(|| async {
                    problem_response(&Error::not_found(
                        FaultKey::null_retrieve("route"),
                        "Ressource inconnue",
                    ))
                }))
        })
        .shutdown_timeout(app.settings.shutdown_timeout_secs)
        .client_request_timeout(Duration::from_secs(app.settings.limits.head_timeout_secs))
        .keep_alive(Duration::from_secs(app.settings.limits.keep_alive_secs));
        if let Some(workers) = app.settings.workers {
            server = server.workers(workers.max(1));
        }
        let server = server
            .bind(&app.settings.bind)
            .with_context(|| format!("cannot listen on {}", app.settings.bind))?;
        let port = server.addrs().first().map_or(0, |a| a.port());
        Ok(Application {
            server: server.run(),
            port,
            app: data,
        })
    }

    /// The port actually bound (useful with `--bind 127.0.0.1:0`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The application (tests).
    pub fn app(&self) -> web::Data<App> {
        self.app.clone()
    }

    /// Handle to stop the server.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM (or `handle().stop()`); in-flight requests finish; the
    /// journal is flushed before returning.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.app.journal.flush().await;
        tracing::info!("stopped");
        result
    }
}

/// A server started on its own thread (tests, benchmarks, tools embedding the gateway).
pub struct Spawned {
    /// Port bound (`bind = 127.0.0.1:0` picks a free one).
    pub port: u16,
    /// Handle to stop it.
    pub handle: actix_web::dev::ServerHandle,
    /// Its application.
    pub app: web::Data<App>,
}

/// Builds and runs the server on a new thread with its own actix system; returns once it listens.
pub fn spawn_in_thread(settings: Settings) -> anyhow::Result<Spawned> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("apogee-gateway".into())
        .spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                match Application::build(settings).await {
                    Ok(app) => {
                        let _ = tx.send(Ok((app.port(), app.handle(), app.app())));
                        if let Err(e) = app.run_until_stopped().await {
                            tracing::error!(error = %e, "server stopped with an error");
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(format!("{e:#}")));
                    }
                }
            })
        })?;
    let (port, handle, app) = rx.recv()?.map_err(anyhow::Error::msg)?;
    Ok(Spawned { port, handle, app })
}
