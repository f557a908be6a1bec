//! Building and running the server: startup (migrations, first-start bootstrap, referential),
//! background tasks, and the HTTP server with graceful shutdown.

use crate::config::Settings;
use crate::error::{ApiError, bad_request, problem_response};
use crate::journal::Journal;
use crate::metrics::Metrics;
use crate::state::AppState;
use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use apogee_db::repo::referential::Actor;
use apogee_db::{Db, PoolOptions, SqliteOptions, migrations};
use apogee_domain::{Error, ErrorKind, FaultKey, Referential};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Opens the database described by `settings` (without migrating).
pub fn open_db(settings: &Settings) -> anyhow::Result<Db> {
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("cannot create data dir {}", settings.data_dir.display()))?;
    let db = Db::connect(
        &settings.effective_database_url(),
        PoolOptions {
            max_size: settings.db.pool_size,
            connection_timeout: Duration::from_secs(settings.db.connection_timeout_secs),
        },
        SqliteOptions {
            busy_timeout_ms: settings.db.sqlite_busy_timeout_ms,
            synchronous: settings.db.sqlite_synchronous.clone(),
        },
    )?;
    Ok(db)
}

/// Applies pending migrations; returns their names.
pub fn migrate(db: &Db) -> anyhow::Result<Vec<String>> {
    let mut conn = db.conn().context("cannot connect to the database")?;
    Ok(migrations::run_pending(&mut conn)?)
}

/// First start of an empty database: admin client and token, demo referential.
pub fn bootstrap(db: &Db, settings: &Settings) -> anyhow::Result<()> {
    let mut conn = db.conn()?;
    if let Some(path) = crate::auth::bootstrap_admin(&mut conn, &settings.admin_token_path())? {
        tracing::warn!(path = %path.display(), "created API client `admin` with every scope; its secret is in this file (mode 0600)");
    }
    if settings.demo {
        let empty = apogee_db::repo::referential::version(&mut conn)? == 0
            && apogee_db::repo::meta::get(&mut conn, apogee_db::demo::SEEDED_KEY)?.is_none();
        if empty {
            let counts = db
                .write_blocking(|c| {
                    apogee_db::demo::seed(
                        c,
                        Actor {
                            client: Some("demo"),
                            trace_id: "demo-seed",
                            now: chrono::Utc::now().naive_utc(),
                        },
                    )
                })
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            tracing::warn!(
                rows = counts.created,
                "seeded the DEMO referential (crates/db/demo); start with --no-demo to skip it"
            );
            let students = db
                .write_blocking(|c| {
                    apogee_db::repo::students::seed_demo(
                        c,
                        Actor {
                            client: Some("demo"),
                            trace_id: "demo-seed",
                            now: chrono::Utc::now().naive_utc(),
                        },
                    )
                })
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            tracing::warn!(
                rows = students,
                "seeded the DEMO students (crates/db/demo/etudiants.csv)"
            );
            let cvec = db
                .write_blocking(|c| {
                    apogee_db::repo::cvec::seed_demo(
                        c,
                        Actor {
                            client: Some("demo"),
                            trace_id: "demo-seed",
                            now: chrono::Utc::now().naive_utc(),
                        },
                    )
                })
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            tracing::warn!(
                rows = cvec.created,
                "seeded the DEMO CVEC attestations (crates/db/demo/cvec-attestations.csv)"
            );
        }
    }
    Ok(())
}

/// A built server, bound and ready to run.
pub struct Application {
    server: Server,
    port: u16,
    state: web::Data<AppState>,
}

impl Application {
    /// Migrates, bootstraps, loads the referential and binds `settings.bind`. Must be called
    /// inside a Tokio/actix runtime.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = open_db(&settings)?;
        let applied = {
            let db = db.clone();
            tokio::task::spawn_blocking(move || migrate(&db)).await??
        };
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "database migrated");
        }
        {
            let (db, settings) = (db.clone(), settings.clone());
            tokio::task::spawn_blocking(move || bootstrap(&db, &settings)).await??;
        }
        let snapshot = {
            let db = db.clone();
            tokio::task::spawn_blocking(move || {
                crate::referential::load_if_newer(&mut *db.conn()?, -1)
            })
            .await??
            .unwrap_or_else(Referential::default)
        };
        let metrics = Metrics::new()?;
        let journal = Journal::start(
            db.clone(),
            metrics.clone(),
            Duration::from_millis(settings.journal.flush_interval_ms.max(1)),
            settings.journal.max_batch,
        );
        let state = web::Data::new(AppState {
            db,
            referential: RwLock::new(Arc::new(snapshot)),
            journal,
            metrics,
            auth_cache: crate::auth::AuthCache::default(),
            cvec: crate::cvec::CvecService::new(&settings.cvec)
                .context("cvec.upstream_url is not usable")?,
            settings: settings.clone(),
        });
        spawn_background_tasks(state.clone());
        crate::pj::start(&state)?;

        let data = state.clone();
        let limits = settings.limits.clone();
        let soap_paths = settings.soap.base_paths.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(limits.json_bytes)
                        .error_handler(|err, _| {
                            let status = err.to_string();
                            actix_web::Error::from(match err {
                                actix_web::error::JsonPayloadError::Overflow { .. }
                                | actix_web::error::JsonPayloadError::OverflowKnownLength {
                                    ..
                                } => ApiError(Error::new(
                                    ErrorKind::PayloadTooLarge,
                                    FaultKey::noncoherent("body"),
                                    "Corps de requête trop volumineux",
                                )),
                                actix_web::error::JsonPayloadError::ContentType => {
                                    ApiError(Error::new(
                                        ErrorKind::UnsupportedMediaType,
                                        FaultKey::noncoherent("contentType"),
                                        "Type de contenu attendu : application/json",
                                    ))
                                }
                                _ => bad_request("body", format!("JSON invalide : {status}")),
                            })
                        }),
                )
                .app_data(web::PayloadConfig::default().limit(limits.referential_bytes))
                .app_data(web::QueryConfig::default().error_handler(|err, _| {
                    bad_request("query", format!("Paramètres de requête invalides : {err}")).into()
                }))
                .app_data(web::PathConfig::default().error_handler(|err, _| {
                    bad_request("path", format!("Chemin invalide : {err}")).into()
                }))
                .wrap(
                    actix_web::middleware::ErrorHandlers::new()
                        .default_handler(crate::error::problem_for_framework_errors),
                )
                .wrap(actix_web::middleware::from_fn(crate::middleware::observe))
                .service(utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").url(
                    "/api-docs/openapi.json",
                    <crate::openapi::ApiDoc as utoipa::OpenApi>::openapi(),
                ))
                .configure(crate::routes::configure)
                .configure(|cfg| crate::soap::configure(cfg, &soap_paths, limits.soap_bytes))
                .default_service(web::to(|| async {
                    problem_response(&Error::not_found(
                        FaultKey::null_retrieve("route"),
                        "Ressource inconnue",
                    ))
                }))
        })
        .shutdown_timeout(settings.shutdown_timeout_secs);
        if let Some(workers) = settings.workers {
            server = server.workers(workers.max(1));
        }
        let server = server
            .bind(&settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let port = server.addrs().first().map_or(0, |a| a.port());
        Ok(Application {
            server: server.run(),
            port,
            state,
        })
    }

    /// The port actually bound (useful with `--bind 127.0.0.1:0`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (tests).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Handle to stop the server.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGINT/SIGTERM (or `handle().stop()`); in-flight requests finish; the
    /// journal is flushed before returning.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.state.journal.flush().await;
        tracing::info!("stopped");
        result
    }
}

fn spawn_background_tasks(state: web::Data<AppState>) {
    let refresher = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(10));
        loop {
            tick.tick().await;
            if let Err(e) = refresher.refresh_referential().await {
                tracing::warn!(error = %e, "referential refresh failed");
            }
        }
    });
    let retention_days = state.settings.journal.retention_days;
    if retention_days > 0 {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(3600));
            loop {
                tick.tick().await;
                let cutoff = chrono::Utc::now().naive_utc()
                    - chrono::Duration::days(i64::from(retention_days));
                let pruned = state
                    .db
                    .write(move |c| {
                        apogee_db::repo::journal::prune_before(c, cutoff)
                            .map_err(apogee_db::DbError::from)
                    })
                    .await;
                match pruned {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(rows = n, "journal retention: old rows deleted"),
                    Err(e) => tracing::warn!(error = %e, "journal retention failed"),
                }
                // LP batch reports are kept at least 30 days (LP-20).
                let before = chrono::Utc::now().naive_utc() - chrono::Duration::days(30);
                let pruned = state
                    .db
                    .write(move |c| {
                        apogee_db::repo::lp_import::prune(c, before)
                            .map_err(apogee_db::DbError::from)
                    })
                    .await;
                if let Err(e) = pruned {
                    tracing::warn!(error = %e, "LP batch retention failed");
                }
            }
        });
    }
}

/// A server started on its own thread (tests, benchmarks, tools embedding the gateway).
pub struct Spawned {
    /// Port bound (`bind = 127.0.0.1:0` picks a free one).
    pub port: u16,
    /// Handle to stop it.
    pub handle: actix_web::dev::ServerHandle,
    /// Its state.
    pub state: web::Data<AppState>,
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
                        let _ = tx.send(Ok((app.port(), app.handle(), app.state())));
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
    let (port, handle, state) = rx.recv()?.map_err(anyhow::Error::msg)?;
    Ok(Spawned {
        port,
        handle,
        state,
    })
}
