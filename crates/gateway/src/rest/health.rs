//! Liveness, readiness and metrics (no authentication).

use crate::http::problem::{ApiResult, ProblemBody};
use actix_web::{HttpResponse, web};
use apogee_app::App;
use apogee_app::health::{self, Readiness};
use serde::Serialize;
use utoipa::ToSchema;

/// `{"status": "ok"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Live {
    /// `ok`.
    pub status: &'static str,
}

#[utoipa::path(get, path = "/health/live", tag = "health", security(()), responses((status = 200, description = "The process answers", body = Live)))]
/// `GET /health/live`: the process answers.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Live { status: "ok" })
}

#[utoipa::path(get, path = "/health/ready", tag = "health", security(()), responses((status = 200, description = "The database answers", body = Readiness), (status = 503, description = "Database unavailable", body = ProblemBody, content_type = "application/problem+json")))]
/// `GET /health/ready`: the database answers.
pub async fn ready(app: web::Data<App>) -> ApiResult<web::Json<Readiness>> {
    Ok(web::Json(health::ready(&app).await?))
}

#[utoipa::path(get, path = "/metrics", tag = "health", security(()), responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
/// `GET /metrics`: Prometheus text format.
pub async fn metrics(app: web::Data<App>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(health::metrics(&app))
}
