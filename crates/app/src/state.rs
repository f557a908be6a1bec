//! The application: what every use case works with (database, configuration, referential
//! snapshot, journal writer, metrics, the CNOUS client, the attachment store), how it starts
//! (migrations, first-start bootstrap, referential load) and its background tasks.

use crate::call::Call;
use crate::clients::AuthCache;
use crate::cvec::CvecService;
use crate::journal::Journal;
use crate::metrics::Metrics;
use crate::pj::storage::Storage;
use crate::settings::Settings;
use apogee_db::{DbError, PoolOptions, SqliteOptions, migrations};

pub use apogee_db::{AnyConnection, Db, WriteError};
use apogee_domain::{Error, Referential};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Db(#[from] DbError),
    /// A file or directory could not be used.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A setting cannot be honoured.
    #[error("configuration: {0}")]
    Config(String),
    /// A start-up write was refused.
    #[error("{0}")]
    Domain(#[from] Error),
    /// A background task could not run.
    #[error("start-up task failed: {0}")]
    Task(String),
}

impl From<apogee_db::WriteError> for StartError {
    fn from(e: apogee_db::WriteError) -> Self {
        StartError::Domain(e.into())
    }
}

impl StartError {
    /// An IO failure on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        StartError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Everything the use cases need; shared by the adapters (`Arc`).
pub struct App {
    /// Database.
    pub db: Db,
    /// Effective configuration.
    pub settings: Settings,
    referential: RwLock<Arc<Referential>>,
    /// Journal writer.
    pub journal: Journal,
    /// Metrics.
    pub metrics: Metrics,
    /// Verified-secret cache.
    pub auth_cache: AuthCache,
    /// Dashboard sessions (in memory, per process).
    pub sessions: crate::sessions::Sessions,
    /// CVEC upstream client (circuit breaker and cache).
    pub cvec: CvecService,
    /// The attachment files.
    pub storage: Storage,
    /// The batch uploads admitted at once.
    pub permits: crate::permits::Permits,
}

/// Opens the database described by `settings` (without migrating).
pub fn open_db(settings: &Settings) -> Result<Db, StartError> {
    std::fs::create_dir_all(&settings.data_dir)
        .map_err(|e| StartError::io(&settings.data_dir, e))?;
    Ok(Db::connect(
        &settings.effective_database_url(),
        PoolOptions {
            max_size: settings.db.pool_size,
            connection_timeout: Duration::from_secs(settings.db.connection_timeout_secs),
        },
        SqliteOptions {
            busy_timeout_ms: settings.db.sqlite_busy_timeout_ms,
            synchronous: settings.db.sqlite_synchronous.clone(),
        },
    )?)
}

/// Applies pending migrations; returns their names.
pub fn migrate(db: &Db) -> Result<Vec<String>, StartError> {
    let mut conn = db.conn()?;
    let applied = migrations::run_pending(&mut conn)?;
    record_version(&mut conn);
    Ok(applied)
}

/// Key of `gateway_meta` holding the version of the last gateway started on the database (read
/// by `apogee.version_apo`, PostgreSQL).
pub const VERSION_KEY: &str = "gateway_version";

/// PostgreSQL: records this gateway's version for `apogee.version_apo` (a failure is logged, not
/// fatal: two processes may start together).
fn record_version(conn: &mut AnyConnection) {
    if !matches!(conn, AnyConnection::Postgresql(_)) {
        return;
    }
    let version = env!("CARGO_PKG_VERSION");
    let current = apogee_db::repo::meta::get(conn, VERSION_KEY);
    if current
        .as_ref()
        .is_ok_and(|v| v.as_deref() == Some(version))
    {
        return;
    }
    if let Err(e) = apogee_db::repo::meta::set(conn, VERSION_KEY, version) {
        tracing::warn!(error = %e, "cannot record the gateway version");
    }
}

/// First start of an empty database: client `admin` and its token file; the demo referential,
/// students and CVEC attestations unless `demo` is off.
pub fn bootstrap(db: &Db, settings: &Settings) -> Result<(), StartError> {
    let mut conn = db.conn()?;
    let token = settings.admin_token_path();
    if crate::clients::bootstrap_admin(&mut conn, &token)? {
        tracing::warn!(path = %token.display(), "created API client `admin` with every scope; its secret is in this file (mode 0600)");
    }
    if settings.demo && crate::referential::is_empty(&mut conn)? {
        crate::referential::seed_demo(db, &Call::new("demo", "demo-seed"))?;
    }
    Ok(())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StartError> + Send + 'static,
) -> Result<T, StartError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StartError::Task(e.to_string()))?
}

impl App {
    /// Opens and migrates the database, bootstraps a first start, loads the referential, checks
    /// the settings, and starts the journal writer. Must be called inside a Tokio runtime; the
    /// background tasks start with [`App::spawn_background_tasks`].
    pub async fn start(settings: Settings) -> Result<Arc<App>, StartError> {
        settings.pj.check(&settings).map_err(StartError::Config)?;
        settings.auth.check(&settings).map_err(StartError::Config)?;
        let db = open_db(&settings)?;
        let applied = {
            let db = db.clone();
            blocking(move || migrate(&db)).await?
        };
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "database migrated");
        }
        {
            let (db, settings) = (db.clone(), settings.clone());
            blocking(move || bootstrap(&db, &settings)).await?;
        }
        let snapshot = {
            let db = db.clone();
            blocking(move || Ok(crate::referential::load_if_newer(&mut *db.conn()?, -1)?)).await?
        }
        .unwrap_or_default();
        let metrics = Metrics::new().map_err(|e| StartError::Config(e.to_string()))?;
        {
            let (db, dir) = (db.clone(), settings.data_dir.clone());
            let loaded = blocking(move || Ok(crate::journal::load_unwritten(&db, &dir)?)).await?;
            if loaded > 0 {
                tracing::warn!(entries = loaded, "journal entries of a previous run loaded");
            }
        }
        let journal = Journal::start(
            db.clone(),
            metrics.clone(),
            Duration::from_millis(settings.journal.flush_interval_ms.max(1)),
            settings.journal.max_batch,
            settings.data_dir.clone(),
        );
        let cvec = CvecService::new(&settings.cvec)
            .map_err(|e| StartError::Config(format!("cvec.upstream_url is not usable: {e}")))?;
        let storage = Storage::new(settings.pj_storage_dir());
        storage
            .init()
            .map_err(|e| StartError::io(storage.root(), e))?;
        Ok(Arc::new(App {
            db,
            referential: RwLock::new(Arc::new(snapshot)),
            journal,
            metrics,
            auth_cache: AuthCache::default(),
            sessions: crate::sessions::Sessions::default(),
            cvec,
            storage,
            permits: crate::permits::Permits::new(
                settings.limits.batches,
                settings.limits.batches_per_client,
            ),
            settings,
        }))
    }

    /// The referential snapshot in effect.
    pub fn referential(&self) -> Arc<Referential> {
        self.referential
            .read()
            .map(|r| Arc::clone(&r))
            .unwrap_or_else(|poisoned| Arc::clone(&poisoned.into_inner()))
    }

    /// Reloads the referential from the database if its version changed (an import by this
    /// process, another instance or the command line).
    pub async fn refresh_referential(&self) -> Result<bool, Error> {
        let known = self.referential().version;
        let fresh = self
            .db
            .read(move |c| crate::referential::load_if_newer(c, known))
            .await?;
        match fresh {
            Some(snapshot) => {
                tracing::info!(version = snapshot.version, "referential reloaded");
                if let Ok(mut slot) = self.referential.write() {
                    *slot = Arc::new(snapshot);
                }
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Starts the periodic tasks: referential refresh (10 s), journal and LP batch retention
    /// (hourly), attachment cleanup (now, then every `pj.cleanup_interval_secs`).
    pub fn spawn_background_tasks(self: &Arc<Self>) {
        let app = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(10));
            loop {
                tick.tick().await;
                if let Err(e) = app.refresh_referential().await {
                    tracing::warn!(error = %e, "referential refresh failed");
                }
            }
        });
        let app = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(3600));
            loop {
                tick.tick().await;
                crate::retention::prune(&app).await;
            }
        });
        let app = Arc::clone(self);
        tokio::spawn(async move {
            let every = Duration::from_secs(app.settings.pj.cleanup_interval_secs.max(60));
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                crate::pj::cleanup_now(&app).await;
            }
        });
    }
}
