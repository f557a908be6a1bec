//! `GET /api/v1/me`: who the caller is and what it may do.

use crate::http::extract::Caller;
use crate::http::openapi::Problems;
use actix_web::web;
use serde::Serialize;
use utoipa::ToSchema;

/// The authenticated client and its scopes.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// Client name.
    pub client: String,
    /// Granted scopes.
    pub scopes: Vec<&'static str>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "journal", responses((status = 200, description = "The caller and its scopes", body = Me), Problems))]
/// The authenticated client and its scopes.
pub async fn get(caller: Caller) -> web::Json<Me> {
    web::Json(Me {
        scopes: caller.scopes.iter().map(|s| s.as_str()).collect(),
        client: caller.name,
    })
}
