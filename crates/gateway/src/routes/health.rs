//! Liveness, readiness and metrics (no authentication).

use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde_json::json;

#[utoipa::path(get, path = "/health/live", tag = "health", security(()), responses((status = 200, description = "The process answers", body = Object)))]
/// `GET /health/live`: the process answers.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

#[utoipa::path(get, path = "/health/ready", tag = "health", security(()), responses((status = 200, description = "The database answers", body = Object), (status = 503, description = "Database unavailable", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
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

#[utoipa::path(get, path = "/metrics", tag = "health", security(()), responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
/// `GET /metrics`: Prometheus text format.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&state.db))
}
