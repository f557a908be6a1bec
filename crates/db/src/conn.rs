//! Connections: one enum over SQLite and PostgreSQL, chosen by the URL scheme, and an r2d2
//! manager that keeps libpq's and SQLite's own error messages.

use crate::error::DbError;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};
use std::time::Duration;

/// A connection to either backend. Most queries run through it unchanged; statements Diesel
/// cannot build through a multi-connection (upserts, multi-row inserts, `RETURNING`) match on it.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// PostgreSQL (15 or later).
    Postgresql(PgConnection),
    /// SQLite (bundled), WAL mode.
    Sqlite(SqliteConnection),
}

/// Which database engine a URL designates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://path`
    Sqlite,
    /// `postgres://…` or `postgresql://…`
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A parsed database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    /// The engine.
    pub backend: Backend,
    /// What the driver receives: a file path for SQLite, the URL itself for PostgreSQL.
    pub target: String,
}

impl DatabaseUrl {
    /// Parses `sqlite://<path>` (also `sqlite:<path>`) or `postgres[ql]://…`.
    pub fn parse(url: &str) -> Result<Self, DbError> {
        let url = url.trim();
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if rest.is_empty() || rest.contains(":memory:") {
                return Err(DbError::Url(
                    "a SQLite database needs a file path (sqlite://path/to/apogee.db); in-memory databases are not shared between pooled connections".into(),
                ));
            }
            return Ok(DatabaseUrl {
                backend: Backend::Sqlite,
                target: rest.to_owned(),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl {
                backend: Backend::Postgres,
                target: url.to_owned(),
            });
        }
        Err(DbError::Url(format!(
            "unsupported database URL `{}`: use sqlite://<path> or postgres://…",
            mask_password(url)
        )))
    }
}

/// The URL with any password replaced by `***`, for logs and `config` output.
pub fn mask_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &authority[..colon],
            &rest[at..]
        ),
        _ => url.to_owned(),
    }
}

/// SQLite settings applied to every connection.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// `PRAGMA busy_timeout`, milliseconds.
    pub busy_timeout_ms: u64,
    /// `PRAGMA synchronous`: `FULL` (durable commits, default) or `NORMAL`.
    pub synchronous: String,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            busy_timeout_ms: 5_000,
            synchronous: "FULL".into(),
        }
    }
}

/// Opens one connection.
pub fn establish(url: &DatabaseUrl, sqlite: &SqliteOptions) -> Result<AnyConnection, DbError> {
    match url.backend {
        Backend::Postgres => PgConnection::establish(&url.target)
            .map(AnyConnection::Postgresql)
            .map_err(|e| DbError::Connect(e.to_string())),
        Backend::Sqlite => {
            if let Some(parent) = std::path::Path::new(&url.target).parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).map_err(|e| {
                    DbError::Connect(format!("cannot create {}: {e}", parent.display()))
                })?;
            }
            let mut conn = SqliteConnection::establish(&url.target)
                .map_err(|e| DbError::Connect(e.to_string()))?;
            let synchronous = match sqlite.synchronous.to_ascii_uppercase().as_str() {
                "NORMAL" => "NORMAL",
                "OFF" => "OFF",
                _ => "FULL",
            };
            conn.batch_execute(&format!(
                "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON;",
                sqlite.busy_timeout_ms
            ))
            .map_err(|e| DbError::Connect(e.to_string()))?;
            Ok(AnyConnection::Sqlite(conn))
        }
    }
}

/// r2d2 manager for [`AnyConnection`].
#[derive(Debug, Clone)]
pub struct Manager {
    url: DatabaseUrl,
    sqlite: SqliteOptions,
}

impl Manager {
    /// A manager opening connections to `url`.
    pub fn new(url: DatabaseUrl, sqlite: SqliteOptions) -> Self {
        Manager { url, sqlite }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = DbError;

    fn connect(&self) -> Result<AnyConnection, DbError> {
        establish(&self.url, &self.sqlite)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), DbError> {
        conn.batch_execute("SELECT 1").map_err(DbError::from)
    }

    fn has_broken(&self, _conn: &mut AnyConnection) -> bool {
        false
    }
}

/// Pool settings.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// Maximum connections.
    pub max_size: u32,
    /// How long a caller waits for a free connection.
    pub connection_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_size: 8,
            connection_timeout: Duration::from_secs(5),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() -> Result<(), DbError> {
        let u = DatabaseUrl::parse("sqlite://./data/apogee.db")?;
        assert_eq!(
            (u.backend, u.target.as_str()),
            (Backend::Sqlite, "./data/apogee.db")
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/x.db")?.target,
            "/tmp/x.db"
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db")?.backend,
            Backend::Postgres
        );
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("sqlite://:memory:").is_err());
        assert_eq!(
            mask_password("postgres://gw:s3cret@db:5432/apogee?sslmode=require"),
            "postgres://gw:***@db:5432/apogee?sslmode=require"
        );
        assert_eq!(mask_password("postgres://gw@db/x"), "postgres://gw@db/x");
        Ok(())
    }
}
