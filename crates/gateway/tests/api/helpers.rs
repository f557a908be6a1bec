//! `spawn_app`: the real server on `127.0.0.1:0` with its own database (a SQLite file in a
//! temporary directory, or a PostgreSQL database), driven with reqwest.

use apogee_app::App;
use apogee_db::testing::TestDatabase;
use apogee_gateway::Settings;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub admin_token: String,
    pub state: actix_web::web::Data<App>,
    handle: actix_web::dev::ServerHandle,
    pub db: TestDatabase,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// Starts a server, or `None` when PostgreSQL is wanted but unavailable (outside CI).
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(
        backend: Backend,
        tweak: impl FnOnce(&mut Settings),
    ) -> Option<TestApp> {
        let dir = tempfile::tempdir().ok()?;
        let db = match backend {
            Backend::Sqlite => TestDatabase::sqlite(dir.path()),
            Backend::Postgres => TestDatabase::postgres()?,
        };
        let mut settings = Settings {
            bind: "127.0.0.1:0".into(),
            data_dir: dir.path().to_path_buf(),
            database_url: Some(db.url.clone()),
            workers: Some(2),
            ..Settings::default()
        };
        tweak(&mut settings);
        let apogee_gateway::startup::Spawned {
            port,
            handle,
            app: state,
        } = match apogee_gateway::startup::spawn_in_thread(settings) {
            Ok(s) => s,
            Err(e) => panic!("server did not start: {e:#}"),
        };
        let admin_token = std::fs::read_to_string(dir.path().join("admin.token"))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default();
        Some(TestApp {
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            admin_token,
            state,
            handle,
            db,
            _dir: dir,
        })
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path)).bearer_auth(&self.admin_token)
    }

    pub fn put(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.put(self.url(path)).bearer_auth(&self.admin_token)
    }

    /// Creates a client with `scopes` and returns its secret.
    pub async fn client_with(&self, name: &str, scopes: &str) -> String {
        let scopes = apogee_domain::Scopes::parse(scopes).unwrap_or_default();
        let name = name.to_owned();
        let created = self
            .state
            .db
            .read(move |c| {
                apogee_app::clients::create(c, &name, &scopes)
                    .map_err(|e| apogee_db::DbError::Migration(e.message))
            })
            .await;
        match created {
            Ok((_, secret)) => secret,
            Err(e) => panic!("cannot create client: {e}"),
        }
    }

    /// Waits until the journal holds every call answered so far.
    pub async fn flush_journal(&self) {
        self.state.journal.flush().await;
    }

    /// POSTs a SOAP envelope to `<base>/<service>` with HTTP Basic admin credentials.
    pub async fn soap(
        &self,
        service: &str,
        xml: impl Into<String>,
    ) -> Result<(u16, String), reqwest::Error> {
        let res = self
            .http
            .post(self.url(&format!("/apo-commun-servicesMetiers/services/{service}")))
            .basic_auth("admin", Some(&self.admin_token))
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", "\"\"")
            .body(xml.into())
            .send()
            .await?;
        let status = res.status().as_u16();
        Ok((status, res.text().await?))
    }

    /// Loads the referential rows of the contract's examples (tests/fixtures/spec-examples).
    pub async fn load_example_referential(&self) -> TestResult {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/spec-examples");
        for table in apogee_domain::referential::TABLES {
            let file = format!("{dir}/{}.csv", table.name);
            if let Ok(csv) = std::fs::read_to_string(&file) {
                let res = self
                    .put(&format!("/api/v1/referential/{}", table.name))
                    .header("content-type", "text/csv")
                    .body(csv)
                    .send()
                    .await?;
                assert_eq!(res.status(), 200, "{file}: {}", res.text().await?);
            }
        }
        Ok(())
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

/// Runs `$body(backend)` once per backend, as `<name>::sqlite` and `<name>::postgres` (for
/// tests that start their own gateway, e.g. with other settings).
#[macro_export]
macro_rules! on_both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() -> $crate::helpers::TestResult {
                super::$body($crate::helpers::Backend::Sqlite).await
            }

            #[tokio::test]
            async fn postgres() -> $crate::helpers::TestResult {
                super::$body($crate::helpers::Backend::Postgres).await
            }
        }
    };
}

/// Declares one test per backend: `<name>_sqlite` and `<name>_postgres`.
#[macro_export]
macro_rules! both_backends {
    ($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($app: &$crate::helpers::TestApp) -> $crate::helpers::TestResult $body

            #[tokio::test]
            async fn sqlite() -> $crate::helpers::TestResult {
                let Some(app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await else { return Ok(()) };
                let result = run(&app).await;
                app.stop().await;
                result
            }

            #[tokio::test]
            async fn postgres() -> $crate::helpers::TestResult {
                let Some(app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await else { return Ok(()) };
                let result = run(&app).await;
                app.stop().await;
                result
            }
        }
    };
}
