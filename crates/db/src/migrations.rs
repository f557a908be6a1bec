//! Embedded migrations, one set per backend (`migrations/sqlite`, `migrations/postgres`), kept
//! equivalent: `tests/schema.rs` proves both end with the same tables and columns.

use crate::conn::AnyConnection;
use crate::error::DbError;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Applies the pending migrations; returns the names of those applied.
pub fn run_pending(conn: &mut AnyConnection) -> Result<Vec<String>, DbError> {
    let applied = match conn {
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE),
        AnyConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES),
    }
    .map_err(|e| DbError::Migration(e.to_string()))?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Reverts every applied migration (tests of the down scripts).
pub fn revert_all(conn: &mut AnyConnection) -> Result<(), DbError> {
    match conn {
        AnyConnection::Sqlite(c) => c.revert_all_migrations(SQLITE).map(|_| ()),
        AnyConnection::Postgresql(c) => c.revert_all_migrations(POSTGRES).map(|_| ()),
    }
    .map_err(|e| DbError::Migration(e.to_string()))
}
