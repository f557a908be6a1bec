//! Test databases: a SQLite file in a temporary directory, or a fresh PostgreSQL database per
//! test (created through `APOGEE_TEST_PG_URL`, default
//! `postgres://postgres@127.0.0.1:5432/postgres`, whose role needs `CREATEDB`), dropped at the
//! end. A database rather than a schema: the Apogée-compatible schema (`apogee`, `pkb_bac`) has
//! fixed names, so two tests cannot share a database. With `CI=true`, an unreachable PostgreSQL
//! fails the test instead of skipping it.

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

    /// A fresh PostgreSQL database, or `None` (with a message) when no server answers and `CI`
    /// is not `true`.
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
        let name = format!(
            "t_{}_{}_{}",
            std::process::id(),
            chrono::Utc::now().timestamp_micros(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        if let Err(e) = conn.batch_execute(&format!("CREATE DATABASE {name}")) {
            panic!("cannot create test database {name}: {e}");
        }
        Some(TestDatabase {
            url: with_database(&admin, &name),
            pg_cleanup: Some((admin, name)),
        })
    }
}

/// `url` (`postgres://…/db?query`) naming the database `name` instead.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let host = match base[authority_end..].find('/') {
        Some(i) => &base[..authority_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host}/{name}?{q}"),
        None => format!("{host}/{name}"),
    }
}

impl TestDatabase {
    /// The admin URL (the server's superuser or `CREATEDB` role) of a PostgreSQL test
    /// database, and the database's name.
    pub fn postgres_admin(&self) -> Option<(&str, &str)> {
        self.pg_cleanup
            .as_ref()
            .map(|(admin, name)| (admin.as_str(), name.as_str()))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg_cleanup
            && let Ok(mut conn) = PgConnection::establish(admin)
        {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
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

/// Runs `test` on a fresh SQLite database in `dir`, then on a fresh PostgreSQL database when one is
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
