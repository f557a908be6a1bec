//! Configuration: built-in defaults < TOML file (`--config` or `APOGEE_CONFIG`) < environment
//! (`APOGEE_<KEY>`, `APOGEE_<SECTION>__<KEY>`, and `DATABASE_URL`) < command-line flags.
//! Every key is documented in `apogee.example.toml`, which a test keeps in sync with the defaults.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Logging.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `text` or `json`.
    pub format: LogFormat,
    /// Filter directives (`info`, `apogee_gateway=debug,info` …); `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

/// Request body limits, in bytes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// JSON request bodies.
    pub json_bytes: usize,
    /// SOAP envelopes (PJ uploads included).
    pub soap_bytes: usize,
    /// Referential files (CSV or JSON).
    pub referential_bytes: usize,
    /// Batch uploads (OPI files), spooled to disk as they arrive.
    pub batch_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            json_bytes: 2 * 1024 * 1024,
            soap_bytes: 16 * 1024 * 1024,
            referential_bytes: 64 * 1024 * 1024,
            batch_bytes: 1024 * 1024 * 1024,
        }
    }
}

/// Database pool and SQLite settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DbSettings {
    /// Pooled connections (reads; writes too on PostgreSQL).
    pub pool_size: u32,
    /// Seconds a request waits for a free connection before answering 503.
    pub connection_timeout_secs: u64,
    /// SQLite `busy_timeout`, milliseconds.
    pub sqlite_busy_timeout_ms: u64,
    /// SQLite `synchronous`: `full` (every commit durable) or `normal`.
    pub sqlite_synchronous: String,
}

impl Default for DbSettings {
    fn default() -> Self {
        DbSettings {
            pool_size: 8,
            connection_timeout_secs: 5,
            sqlite_busy_timeout_ms: 5_000,
            sqlite_synchronous: "full".into(),
        }
    }
}

/// Call journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JournalSettings {
    /// Rows older than this many days are deleted (hourly). 0 keeps everything.
    pub retention_days: u32,
    /// Entries are written in batches at most this many milliseconds apart.
    pub flush_interval_ms: u64,
    /// Largest batch written at once.
    pub max_batch: usize,
}

impl Default for JournalSettings {
    fn default() -> Self {
        JournalSettings {
            retention_days: 730,
            flush_interval_ms: 50,
            max_batch: 500,
        }
    }
}

/// OPI intake.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpiSettings {
    /// On SOAP, store the valid vœux and drop the rejected ones (reported in the journal) instead
    /// of failing the call (OPI-17). REST asks per call with `?partial=true`.
    pub soap_partial_voeux: bool,
    /// Merge into an existing OPI with the same `codEtuOpi` (OPI-3 step 2).
    pub match_cod_etu: bool,
    /// Merge into an existing OPI with the same INE (OPI-3 step 3).
    pub match_ine: bool,
    /// Reject (instead of warning) a missing INE where the bac requires one (OPI-14).
    pub ine_required_is_error: bool,
}

impl Default for OpiSettings {
    fn default() -> Self {
        OpiSettings {
            soap_partial_voeux: false,
            match_cod_etu: true,
            match_ine: true,
            ine_required_is_error: false,
        }
    }
}

/// SOAP endpoints.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SoapSettings {
    /// Base paths the services answer on (`<base>/OpiMetier` …).
    pub base_paths: Vec<String>,
}

impl Default for SoapSettings {
    fn default() -> Self {
        SoapSettings {
            base_paths: vec![
                "/apo-commun-servicesMetiers/services".into(),
                "/services".into(),
            ],
        }
    }
}

/// The effective configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Listen address.
    pub bind: String,
    /// Where the SQLite database, `admin.token` and stored files live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default `sqlite://<data_dir>/apogee.db`.
    pub database_url: Option<String>,
    /// Externally visible base URL (used in served WSDLs), e.g. `https://apogee.univ.fr`.
    pub public_url: Option<String>,
    /// Seed the demo referential on the first start of an empty database.
    pub demo: bool,
    /// HTTP worker threads (default: one per core).
    pub workers: Option<usize>,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    pub shutdown_timeout_secs: u64,
    /// Logging.
    pub log: LogSettings,
    /// Body limits.
    pub limits: Limits,
    /// Database.
    pub db: DbSettings,
    /// Call journal.
    pub journal: JournalSettings,
    /// OPI intake.
    pub opi: OpiSettings,
    /// SOAP endpoints.
    pub soap: SoapSettings,
    /// CVEC checks.
    pub cvec: crate::cvec::CvecSettings,
    /// Attachments (PJ) and the PJ / INES facades.
    pub pj: crate::pj::PjSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            public_url: None,
            demo: true,
            workers: None,
            shutdown_timeout_secs: 30,
            log: LogSettings::default(),
            limits: Limits::default(),
            db: DbSettings::default(),
            journal: JournalSettings::default(),
            opi: OpiSettings::default(),
            soap: SoapSettings::default(),
            cvec: crate::cvec::CvecSettings::default(),
            pj: crate::pj::PjSettings::default(),
        }
    }
}

/// Values given on the command line; `None` leaves the lower layers' value.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlagOverrides {
    /// `--bind`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    /// `--data-dir`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--database-url`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `--no-demo` gives `Some(false)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demo: Option<bool>,
    /// `--log-format`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<LogOverride>,
}

/// `--log-format`
#[derive(Debug, Clone, Serialize)]
pub struct LogOverride {
    /// Format.
    pub format: LogFormat,
}

/// Top-level keys accepted from `APOGEE_*` variables (others, such as `APOGEE_CONFIG` or the
/// CLI's `APOGEE_URL`, are not configuration keys of the server).
const ENV_KEYS: &[&str] = &[
    "bind",
    "data_dir",
    "database_url",
    "public_url",
    "demo",
    "workers",
    "shutdown_timeout_secs",
    "log",
    "limits",
    "db",
    "journal",
    "opi",
    "soap",
    "cvec",
    "pj",
];

/// A configuration error.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Settings {
    /// Loads the layers. `config_file` is `--config`; when `None`, `APOGEE_CONFIG` is used if set.
    pub fn load(config_file: Option<&Path>, flags: FlagOverrides) -> Result<Self, ConfigError> {
        let file = config_file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("APOGEE_CONFIG").map(PathBuf::from));
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError(format!(
                    "config file {} does not exist",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        figment = figment
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database_url".into()),
            )
            .merge(
                Env::prefixed("APOGEE_")
                    .filter(|k| {
                        let k = k.as_str().to_ascii_lowercase();
                        let first = k.split("__").next().unwrap_or_default();
                        ENV_KEYS.contains(&first)
                    })
                    .split("__"),
            )
            .merge(Serialized::defaults(flags));
        figment.extract().map_err(|e| ConfigError(e.to_string()))
    }

    /// The database URL in effect.
    pub fn effective_database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("apogee.db").display()))
    }

    /// The configuration as TOML, with the database password masked.
    pub fn to_masked_toml(&self) -> String {
        let mut shown = self.clone();
        shown.database_url = Some(apogee_db::mask_password(&self.effective_database_url()));
        shown.pj = self.pj.masked();
        toml::to_string_pretty(&shown).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }

    /// Path of the admin token file.
    pub fn admin_token_path(&self) -> PathBuf {
        self.data_dir.join("admin.token")
    }
}
