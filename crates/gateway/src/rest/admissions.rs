//! `/api/v1/admissions` (LP-15): who may enrol where, by LP or vœu, and what blocks.

use crate::http::extract::{Caller, PageQuery};
use crate::http::journal;
use crate::http::openapi::Problems;
use crate::http::problem::{ApiResult, ProblemBody};
use actix_web::{HttpRequest, web};
use apogee_app::App;
use apogee_app::admissions::{self, Admissions, PersonAdmissions, Query};
use apogee_domain::Scope;

/// `GET /api/v1/admissions?codAnu=&codEtp=&codVrsVet=`: per person and VET, the source (LP or
/// vœu), the overridden vœu, the profile with its origin and the blocking reasons (LP-15).
#[utoipa::path(get, path = "/api/v1/admissions", tag = "laissez-passer", params(("codAnu" = Option<String>, Query, description = "default: the current year"), ("codEtp" = Option<String>, Query), ("codVrsVet" = Option<i32>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)), responses((status = 200, description = "One line per person and VET (LP-15)", body = Admissions), Problems))]
pub async fn list(
    caller: Caller,
    app: web::Data<App>,
    query: web::Query<Query>,
    PageQuery(page): PageQuery,
) -> ApiResult<web::Json<Admissions>> {
    caller.require(Scope::LpRead)?;
    Ok(web::Json(
        admissions::list(&app, &caller.call, query.into_inner(), page).await?,
    ))
}

/// `GET /api/v1/admissions/{key}?codAnu=`: the admissions of the persons an INE, an OPI code or
/// a student number designates.
#[utoipa::path(get, path = "/api/v1/admissions/{key}", tag = "laissez-passer", params(("key" = String, Path, description = "INE, OPI code or codEtu"), ("codAnu" = Option<String>, Query)), responses((status = 200, description = "The lines of the persons the key designates", body = PersonAdmissions), (status = 404, description = "Nobody matches", body = ProblemBody, content_type = "application/problem+json"), Problems))]
pub async fn of_key(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<String>,
    query: web::Query<Query>,
) -> ApiResult<web::Json<PersonAdmissions>> {
    caller.require(Scope::LpRead)?;
    journal::key(&req, "admission", path.as_str());
    let q = query.into_inner();
    Ok(web::Json(
        admissions::of_key(&app, &caller.call, &path, q).await?,
    ))
}
