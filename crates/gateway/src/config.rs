//! Configuration layers: built-in defaults < TOML file (`--config` or `APOGEE_CONFIG`) <
//! environment (`APOGEE_<KEY>`, `APOGEE_<SECTION>__<KEY>`, and `DATABASE_URL`) < command-line
//! flags. The keys are `apogee_app::Settings`'; every one is documented in
//! `apogee.example.toml`, which a test keeps in sync with the defaults.

use apogee_app::Settings;
use apogee_app::settings::LogFormat;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::Serialize;
use std::path::{Path, PathBuf};

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

/// Top-level keys accepted from `APOGEE_*` variables: the sections and keys of [`Settings`]
/// (others, such as `APOGEE_CONFIG` or the CLI's `APOGEE_URL`, are not configuration keys of
/// the server). Read from the settings themselves, so that a new section is configurable from
/// the environment as soon as it exists.
fn env_keys() -> Vec<String> {
    match serde_json::to_value(Settings::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// A configuration error.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

/// Loads the layers. `config_file` is `--config`; when `None`, `APOGEE_CONFIG` is used if set.
pub fn load(config_file: Option<&Path>, flags: FlagOverrides) -> Result<Settings, ConfigError> {
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
    let env_keys = env_keys();
    figment = figment
        .merge(
            Env::raw()
                .only(&["DATABASE_URL"])
                .map(|_| "database_url".into()),
        )
        .merge(
            Env::prefixed("APOGEE_")
                .filter(move |k| {
                    let k = k.as_str().to_ascii_lowercase();
                    let first = k.split("__").next().unwrap_or_default();
                    env_keys.iter().any(|e| e == first)
                })
                .split("__"),
        )
        .merge(Serialized::defaults(flags));
    figment.extract().map_err(|e| ConfigError(e.to_string()))
}
