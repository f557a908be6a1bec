//! Routes (filled by their issue).

use actix_web::web;

/// Routes under `/api/v1`.
pub fn configure(_cfg: &mut web::ServiceConfig) {}
