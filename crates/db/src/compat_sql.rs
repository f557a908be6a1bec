//! The Apogée-compatible SQL schema (PostgreSQL only, migration `2026-12-02-000010_apogee_compat`,
//! `apogee-sql-compat.md`): the privileges of the role eCandidat connects with (SQL-52, SQL-53).

use crate::conn::AnyConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

/// Schema of the views (`currentSchema` of eCandidat's JDBC URL).
pub const SCHEMA: &str = "apogee";
/// Schema of the bac check function.
pub const FUNCTION_SCHEMA: &str = "pkb_bac";

/// Why the grants could not be given.
#[derive(Debug, thiserror::Error)]
pub enum CompatError {
    /// The database is SQLite.
    #[error(
        "the Apogée-compatible SQL schema exists only on PostgreSQL: this gateway uses SQLite, which eCandidat cannot reach over the network (set database_url to a postgres:// URL)"
    )]
    Sqlite,
    /// The role name is empty or too long.
    #[error("invalid role name `{0}` (1 to 63 characters)")]
    InvalidRole(String),
    /// No such role.
    #[error("role `{0}` does not exist: create it first, e.g. CREATE ROLE {0} LOGIN PASSWORD '…'")]
    UnknownRole(String),
    /// The migration that creates the schema has not run.
    #[error("schema `apogee` is missing: run `apogee-gateway migrate` first")]
    NoSchema,
    /// A statement failed (e.g. the gateway's user may not grant on the views).
    #[error("database: {0}")]
    Query(#[from] diesel::result::Error),
}

/// What [`grant`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantReport {
    /// The role.
    pub role: String,
    /// The database it may connect to.
    pub database: String,
    /// Views it may read (schema `apogee`).
    pub views: usize,
    /// Whether `ALTER ROLE … SET search_path = apogee` succeeded (it needs `CREATEROLE`);
    /// otherwise the JDBC URL must carry `currentSchema=apogee`.
    pub search_path_set: bool,
}

#[derive(QueryableByName)]
struct Quoted {
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Text)]
    database: String,
    #[diesel(sql_type = Bool)]
    role_exists: bool,
    #[diesel(sql_type = Bool)]
    schema_exists: bool,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    views: i64,
}

/// Creates or updates the grants of SQL-52 for the existing role `role`: `CONNECT` on the
/// database, `USAGE` on `apogee` and `pkb_bac`, `SELECT` on every view of `apogee` (`dual` and
/// `opi_pj` included), `DELETE` on `apogee.opi_pj` only, `EXECUTE` on the `pkb_bac` functions
/// (revoked from `PUBLIC`), search path `apogee`. Privileges on `apogee` given before and not in
/// this list are revoked; nothing is granted on the gateway's own tables.
pub fn grant(conn: &mut AnyConnection, role: &str) -> Result<GrantReport, CompatError> {
    let AnyConnection::Postgresql(pg) = conn else {
        return Err(CompatError::Sqlite);
    };
    if role.is_empty() || role.len() > 63 {
        return Err(CompatError::InvalidRole(role.to_owned()));
    }
    let facts: Quoted = diesel::sql_query(
        "SELECT quote_ident($1) AS role, quote_ident(current_database()) AS database, \
                EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS role_exists, \
                EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'apogee') AS schema_exists, \
                (SELECT count(*) FROM pg_views WHERE schemaname = 'apogee') AS views",
    )
    .bind::<Text, _>(role)
    .get_result(pg)?;
    if !facts.role_exists {
        return Err(CompatError::UnknownRole(role.to_owned()));
    }
    if !facts.schema_exists {
        return Err(CompatError::NoSchema);
    }
    let (r, db) = (&facts.role, &facts.database);
    pg.transaction(|c| {
        diesel::connection::SimpleConnection::batch_execute(
            c,
            &format!(
                "GRANT CONNECT ON DATABASE {db} TO {r};\n\
                 GRANT USAGE ON SCHEMA apogee, pkb_bac TO {r};\n\
                 REVOKE ALL ON ALL TABLES IN SCHEMA apogee FROM {r};\n\
                 GRANT SELECT ON ALL TABLES IN SCHEMA apogee TO {r};\n\
                 GRANT DELETE ON apogee.opi_pj TO {r};\n\
                 REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA pkb_bac FROM PUBLIC;\n\
                 GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pkb_bac TO {r};"
            ),
        )
    })?;
    let search_path_set = pg
        .transaction(|c| {
            diesel::connection::SimpleConnection::batch_execute(
                c,
                &format!("ALTER ROLE {r} SET search_path = apogee"),
            )
        })
        .is_ok();
    Ok(GrantReport {
        role: role.to_owned(),
        database: facts.database.trim_matches('"').to_owned(),
        views: usize::try_from(facts.views).unwrap_or_default(),
        search_path_set,
    })
}
