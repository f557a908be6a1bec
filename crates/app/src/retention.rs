//! Retention: journal rows older than `journal.retention_days`, LP batch reports older than 30
//! days (LP-20), completed idempotency keys older than `idempotency.retention_days`.

use crate::App;
use apogee_db::DbError;

/// One retention pass (hourly), logged, never failing.
pub async fn prune(app: &App) {
    let days = i64::from(app.settings.journal.retention_days);
    if days > 0 {
        let cutoff = chrono::Utc::now().naive_utc() - chrono::Duration::days(days);
        let pruned = app
            .db
            .write(move |c| {
                apogee_db::repo::journal::prune_before(c, cutoff).map_err(DbError::from)
            })
            .await;
        match pruned {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "journal retention: old rows deleted"),
            Err(e) => tracing::warn!(error = %e, "journal retention failed"),
        }
    }
    let before = chrono::Utc::now().naive_utc() - chrono::Duration::days(30);
    let pruned = app
        .db
        .write(move |c| apogee_db::repo::lp_import::prune(c, before).map_err(DbError::from))
        .await;
    if let Err(e) = pruned {
        tracing::warn!(error = %e, "LP batch retention failed");
    }
    let days = i64::from(app.settings.idempotency.retention_days);
    let before = chrono::Utc::now().naive_utc() - chrono::Duration::days(days);
    let pruned = app
        .db
        .write(move |c| apogee_db::repo::idempotency::prune(c, before).map_err(DbError::from))
        .await;
    if let Err(e) = pruned {
        tracing::warn!(error = %e, "idempotency key retention failed");
    }
}
