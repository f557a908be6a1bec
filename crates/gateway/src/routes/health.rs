//! Liveness, readiness and metrics (no authentication).

use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde_json::json;

/// `GET /health/live`: the process answers.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// `GET /health/ready`: the database answers.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let checked = state
        .db
        .read(|c| apogee_db::repo::meta::ping(c).map_err(apogee_db::DbError::from))
        .await;
    match checked {
        Ok(()) => HttpResponse::Ok().json(json!({
            "status": "ready",
            "database": state.db.backend().as_str(),
            "referentialVersion": state.referential().version,
        })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            crate::error::problem_response(&apogee_domain::Error::unavailable(
                "Base de données indisponible",
            ))
        }
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&state.db))
}
