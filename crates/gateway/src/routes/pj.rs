//! Routes (filled by their issue).

use actix_web::web;

/// Routes under `/api/v1`.
pub fn configure(_cfg: &mut web::ServiceConfig) {}

/// Routes outside `/api/v1` (the Apogée PJ REST and INES check facades).
pub fn configure_root(_cfg: &mut web::ServiceConfig) {}
