//! The Apogée-compatible SQL schema for eCandidat (PostgreSQL only): giving a database role the
//! privileges of `apogee-sql-compat.md` SQL-52 (`apogee-gateway compat-sql grant --role NAME`).

use crate::Call;
use crate::settings::Settings;
use crate::state::{self, StartError};
use apogee_db::{Backend, DatabaseUrl, DbError};

pub use apogee_db::compat_sql::{CompatError, GrantReport};

/// Why `grant` failed.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The grants were refused.
    #[error(transparent)]
    Compat(#[from] CompatError),
}

/// Gives `role` (an existing PostgreSQL role) read access to the `apogee` schema, `DELETE` on
/// `apogee.opi_pj` and `EXECUTE` on `pkb_bac`, and nothing else; journaled (channel `cli`).
/// Refused on SQLite before the database is opened.
pub fn grant(settings: &Settings, role: &str) -> Result<GrantReport, GrantError> {
    let url = DatabaseUrl::parse(&settings.effective_database_url()).map_err(StartError::from)?;
    if url.backend == Backend::Sqlite {
        return Err(CompatError::Sqlite.into());
    }
    let db = state::open_db(settings)?;
    state::migrate(&db)?;
    let call = Call::system("cli");
    let started = std::time::Instant::now();
    let result = db
        .conn()
        .map_err(|e| GrantError::Start(StartError::from(e)))
        .and_then(|mut c| Ok(apogee_db::compat_sql::grant(&mut c, role)?));
    let mut entry = crate::journal::cli_entry(
        &call,
        "compat-sql grant",
        ("role", role),
        result.is_ok(),
        started,
    );
    entry.message = result
        .as_ref()
        .err()
        .map(|e| e.to_string().chars().take(1000).collect());
    if let Err(e) = crate::journal::record_now(&db, &entry) {
        tracing::warn!(error = %e.message, "the grant was not journaled");
    }
    result
}

impl From<DbError> for GrantError {
    fn from(e: DbError) -> Self {
        GrantError::Start(StartError::from(e))
    }
}
