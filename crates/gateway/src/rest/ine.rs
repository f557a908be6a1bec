//! `GET /api/v1/ine/{ine}` (INE-13): the offline verdict of INE-1 … INE-9.

use crate::http::extract::Caller;
use crate::http::problem::ProblemBody;
use actix_web::web;
use serde::Serialize;
use utoipa::ToSchema;

/// The verdict.
#[derive(Debug, Serialize, ToSchema)]
pub struct IneVerdict {
    /// `true`, `false` or `remote` (an INES key is checked by the INES service, INE-8).
    pub valid: &'static str,
    /// `INES`, `BEA`, `NNE36`, `INCONNU` …
    pub family: &'static str,
    /// The normalised value.
    pub normalized: String,
    /// Why (`OK`, `CLE_INVALIDE` …).
    pub reason: &'static str,
}

#[utoipa::path(get, path = "/api/v1/ine/{ine}", tag = "pj", params(("ine" = String, Path, description = "INE, any case and white space")), responses((status = 200, description = "The verdict (INE-1 … INE-9)", body = IneVerdict), (status = 401, description = "Missing or invalid credentials", body = ProblemBody, content_type = "application/problem+json")))]
/// `GET /api/v1/ine/{ine}`: `valid` is `true`, `false` or `remote`. The INE is never logged nor
/// journaled.
pub async fn get(_caller: Caller, path: web::Path<String>) -> web::Json<IneVerdict> {
    let checked = apogee_domain::ine::check(&path.into_inner());
    web::Json(IneVerdict {
        valid: checked.valid.as_str(),
        family: checked.family.as_str(),
        normalized: checked.normalized,
        reason: checked.reason.as_str(),
    })
}
