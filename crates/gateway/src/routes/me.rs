//! `GET /api/v1/me`: who the caller is and what it may do.

use crate::auth::Caller;
use actix_web::HttpResponse;
use serde_json::json;

#[utoipa::path(get, path = "/api/v1/me", tag = "journal", responses((status = 200, description = "The caller and its scopes", body = Object), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// The authenticated client and its scopes.
pub async fn get(caller: Caller) -> HttpResponse {
    let scopes: Vec<&str> = caller.scopes.iter().map(|s| s.as_str()).collect();
    HttpResponse::Ok().json(json!({"client": caller.name, "scopes": scopes}))
}
