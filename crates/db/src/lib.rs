//! Storage of the Apogée gateway: Diesel schema, embedded migrations, repositories and pools, on
//! SQLite (default) or PostgreSQL, chosen by the database URL.

pub mod compat_sql;
pub mod conn;
pub mod db;
pub mod demo;
pub mod error;
pub mod migrations;
pub mod repo;
pub mod schema;
pub mod schema_cvec;
pub mod schema_lp;
pub mod schema_pj;
pub mod schema_report;
pub mod schema_student;
#[cfg(feature = "testing")]
pub mod testing;

pub use conn::{AnyConnection, Backend, DatabaseUrl, PoolOptions, SqliteOptions, mask_password};
pub use db::{Db, PoolState, write_transaction};
pub use diesel::result::Error as DieselError;
pub use error::{DbError, Transient, WriteError};

/// Who writes, and when: fills the DM-4 columns (`created_by`, `last_trace_id`, timestamps) of
/// every repository write.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// API client name.
    pub client: Option<&'a str>,
    /// Trace id of the call.
    pub trace_id: &'a str,
    /// Write time (UTC).
    pub now: chrono::NaiveDateTime,
}

/// Runs `f` in a savepoint of the current transaction (a transaction when there is none): its
/// error rolls back its own writes only.
pub fn savepoint<T, E, F>(conn: &mut AnyConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    diesel::Connection::transaction(conn, f)
}

/// Runs `$body` with `$c` bound to the concrete connection of either backend, for statements
/// Diesel cannot build through [`AnyConnection`] (upserts, multi-row inserts, `RETURNING`).
#[macro_export]
macro_rules! with_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::AnyConnection::Sqlite($c) => $body,
            $crate::AnyConnection::Postgresql($c) => $body,
        }
    };
}
