//! Readiness and metrics.

use crate::App;
use apogee_db::DbError;
use apogee_domain::Error;
use serde::Serialize;

/// The answer of `GET /health/ready`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    /// `ready`.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    /// The referential snapshot's version.
    pub referential_version: i64,
}

/// The database answers.
pub async fn ready(app: &App) -> Result<Readiness, Error> {
    let checked = app
        .db
        .read(|c| apogee_db::repo::meta::ping(c).map_err(DbError::from))
        .await;
    match checked {
        Ok(()) => Ok(Readiness {
            status: "ready",
            database: app.db.backend().as_str(),
            referential_version: app.referential().version,
        }),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(Error::unavailable("Base de données indisponible"))
        }
    }
}

/// The Prometheus text exposition, pool gauges read now.
pub fn metrics(app: &App) -> String {
    app.metrics.render(&app.db)
}
