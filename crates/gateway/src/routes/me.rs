//! `GET /api/v1/me`: who the caller is and what it may do.

use crate::auth::Caller;
use actix_web::HttpResponse;
use serde_json::json;

/// The authenticated client and its scopes.
pub async fn get(caller: Caller) -> HttpResponse {
    let scopes: Vec<&str> = caller.scopes.iter().map(|s| s.as_str()).collect();
    HttpResponse::Ok().json(json!({"client": caller.name, "scopes": scopes}))
}
