//! Test databases: a SQLite file in a temporary directory, or a fresh PostgreSQL schema per test
//! (`APOGEE_TEST_PG_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`), dropped at the
//! end. With `CI=true`, an unreachable PostgreSQL fails the test instead of skipping it.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use std::sync::atomic::{AtomicU32, Ordering};

/// Default admin URL of the test PostgreSQL server.
pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database owned by one test.
#[derive(Debug)]
pub struct TestDatabase {
    /// URL to give the gateway.
    pub url: String,
    pg_cleanup: Option<(String, String)>,
}

impl TestDatabase {
    /// A SQLite database file inside `dir`.
    pub fn sqlite(dir: &std::path::Path) -> Self {
        TestDatabase {
            url: format!("sqlite://{}", dir.join("apogee-test.db").display()),
            pg_cleanup: None,
        }
    }

    /// A fresh PostgreSQL schema, or `None` (with a message) when no server answers and `CI` is
    /// not `true`.
    ///
    /// # Panics
    /// When PostgreSQL is unreachable and `CI=true`: a broken setup must not look green.
    #[allow(clippy::panic)]
    pub fn postgres() -> Option<Self> {
        let admin = std::env::var("APOGEE_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.into());
        let mut conn = match PgConnection::establish(&admin) {
            Ok(c) => c,
            Err(e) => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("CI=true and PostgreSQL is unreachable at {admin}: {e}");
                }
                eprintln!("skipping PostgreSQL test: {e} (set APOGEE_TEST_PG_URL)");
                return None;
            }
        };
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let schema = format!(
            "t_{}_{}_{}",
            std::process::id(),
            chrono::Utc::now().timestamp_micros(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        if let Err(e) = conn.batch_execute(&format!("CREATE SCHEMA {schema}")) {
            panic!("cannot create test schema {schema}: {e}");
        }
        let sep = if admin.contains('?') { '&' } else { '?' };
        Some(TestDatabase {
            url: format!("{admin}{sep}options=-csearch_path%3D{schema}"),
            pg_cleanup: Some((admin, schema)),
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, schema)) = &self.pg_cleanup
            && let Ok(mut conn) = PgConnection::establish(admin)
        {
            let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

/// Connects to `url` (default pool and SQLite options) and applies the migrations.
pub fn migrated(url: &str) -> Result<crate::Db, crate::DbError> {
    let db = crate::Db::connect(
        url,
        crate::PoolOptions::default(),
        crate::SqliteOptions::default(),
    )?;
    crate::migrations::run_pending(&mut *db.conn()?)?;
    Ok(db)
}

/// Runs `test` on a fresh SQLite database in `dir`, then on a fresh PostgreSQL schema when one is
/// available (see [`TestDatabase::postgres`]).
pub fn each_backend<E: From<crate::DbError>>(
    dir: &std::path::Path,
    test: impl Fn(&crate::Db) -> Result<(), E>,
) -> Result<(), E> {
    test(&migrated(&TestDatabase::sqlite(dir).url)?)?;
    if let Some(pg) = TestDatabase::postgres() {
        test(&migrated(&pg.url)?)?;
    }
    Ok(())
}
