//! Shared application state.

use crate::auth::AuthCache;
use crate::config::Settings;
use crate::journal::Journal;
use crate::metrics::Metrics;
use apogee_db::Db;
use apogee_domain::Referential;
use std::sync::{Arc, RwLock};

/// Everything handlers need, in `web::Data`.
pub struct AppState {
    /// Database.
    pub db: Db,
    /// Effective configuration.
    pub settings: Settings,
    /// Current referential snapshot.
    pub referential: RwLock<Arc<Referential>>,
    /// Journal writer.
    pub journal: Journal,
    /// Metrics.
    pub metrics: Metrics,
    /// Verified-secret cache.
    pub auth_cache: AuthCache,
    /// CVEC upstream client (circuit breaker and cache).
    pub cvec: crate::cvec::CvecService,
}

impl AppState {
    /// The referential snapshot in effect.
    pub fn referential(&self) -> Arc<Referential> {
        self.referential
            .read()
            .map(|r| Arc::clone(&r))
            .unwrap_or_else(|poisoned| Arc::clone(&poisoned.into_inner()))
    }

    /// Reloads the referential from the database if its version changed.
    pub async fn refresh_referential(&self) -> Result<bool, apogee_db::DbError> {
        let known = self.referential().version;
        let fresh = self
            .db
            .read(move |c| crate::referential::load_if_newer(c, known))
            .await?;
        match fresh {
            Some(snapshot) => {
                tracing::info!(version = snapshot.version, "referential reloaded");
                if let Ok(mut slot) = self.referential.write() {
                    *slot = Arc::new(snapshot);
                }
                Ok(true)
            }
            None => Ok(false),
        }
    }
}
