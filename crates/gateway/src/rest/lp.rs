//! `/api/v1/laissez-passer` (LP-10): single PUT, GET, DELETE and a filtered list.

use crate::http::extract::{Caller, PageQuery};
use crate::http::journal;
use crate::http::openapi::Problems;
use crate::http::problem::{ApiResult, ProblemBody};
use crate::http::reply::created_or_ok;
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_app::lp::{self, Applied, ListQuery, LpList, LpPath, LpView, PathSegments};
use apogee_app::{App, Call};
use apogee_domain::Scope;
use apogee_domain::lp::{LpParams, LpVersion};
use apogee_domain::opi::Warning;
use serde::Serialize;
use utoipa::ToSchema;

/// The answer of a single PUT.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LpPutResponse {
    /// `created`, `updated` or `unchanged`.
    pub status: &'static str,
    /// Trace id of the call.
    pub trace_id: String,
    /// `COD_IND_OPI` (IAPRIMO).
    pub cod_ind_opi: Option<i64>,
    /// `COD_IND` (REINS).
    pub cod_ind: Option<i64>,
    /// Warnings (LP-3, LP-11, `LP_ATTRIBUT_EFFACE`).
    pub warnings: Vec<Warning>,
    /// The LP as stored.
    pub laissez_passer: LpView,
}

impl LpPutResponse {
    fn of(call: &Call, applied: Applied) -> Self {
        LpPutResponse {
            status: applied.status,
            trace_id: call.trace_id.clone(),
            cod_ind_opi: applied.laissez_passer.cod_ind_opi,
            cod_ind: applied.laissez_passer.cod_ind,
            warnings: applied.warnings,
            laissez_passer: applied.laissez_passer,
        }
    }
}

/// `PUT /api/v1/laissez-passer/{typLpa}/{numOPI|codEtu}/{codAnu}/{codEtp}/{codVrsVet}` with the
/// other attributes as JSON (V2 semantics: an absent attribute clears the stored one).
#[utoipa::path(put, path = "/api/v1/laissez-passer/{typLpa}/{id}/{codAnu}/{codEtp}/{codVrsVet}", tag = "laissez-passer", params(("typLpa" = String, Path, description = "IAPRIMO or REINS"), ("id" = String, Path, description = "numOPI (IAPRIMO) or codEtu (REINS)"), ("codAnu" = String, Path), ("codEtp" = String, Path), ("codVrsVet" = i32, Path)), request_body(content = LpParams, description = "The other parameters (codDip, codVrsVdi, codRgi, codStu, libCmtLpa, codCatOuiSi, mtfCat, codCatExoExt); an absent one clears the stored value"), responses((status = 201, description = "Created", body = LpPutResponse), (status = 200, description = "Updated or unchanged", body = LpPutResponse), Problems))]
pub async fn put(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<PathSegments>,
    body: web::Json<LpParams>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::LpWrite)?;
    let params = lp::params_at(path.into_inner(), body.into_inner())?;
    if let Some(key) = lp::journal_key(&params) {
        journal::note(&req, |n| n.key = Some(key));
    }
    let applied = lp::put(&app, &caller.call, &params, LpVersion::V2).await?;
    let mut codes = lp::warning_codes(&applied);
    codes.push(lp::outcome_code(&applied));
    journal::note(&req, |n| n.warnings = codes);
    Ok(created_or_ok(
        applied.status == "created",
        LpPutResponse::of(&caller.call, applied),
    ))
}

/// `GET /api/v1/laissez-passer/{typLpa}/{numOPI|codEtu}/{codAnu}/{codEtp}/{codVrsVet}`
#[utoipa::path(get, path = "/api/v1/laissez-passer/{typLpa}/{id}/{codAnu}/{codEtp}/{codVrsVet}", tag = "laissez-passer", params(("typLpa" = String, Path, description = "IAPRIMO or REINS"), ("id" = String, Path, description = "numOPI (IAPRIMO) or codEtu (REINS)"), ("codAnu" = String, Path), ("codEtp" = String, Path), ("codVrsVet" = i32, Path)), responses((status = 200, description = "The LP", body = LpView), (status = 404, description = "Unknown person or LP", body = ProblemBody, content_type = "application/problem+json"), Problems))]
pub async fn get(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<PathSegments>,
) -> ApiResult<web::Json<LpView>> {
    caller.require(Scope::LpRead)?;
    let p = LpPath::parse(path.into_inner())?;
    journal::note(&req, |n| n.key = Some(p.journal_key()));
    Ok(web::Json(lp::get(&app, &p).await?))
}

/// `DELETE /api/v1/laissez-passer/{typLpa}/{numOPI|codEtu}/{codAnu}/{codEtp}/{codVrsVet}`
/// (Apogée has no deletion operation; LP-10).
#[utoipa::path(delete, path = "/api/v1/laissez-passer/{typLpa}/{id}/{codAnu}/{codEtp}/{codVrsVet}", tag = "laissez-passer", params(("typLpa" = String, Path, description = "IAPRIMO or REINS"), ("id" = String, Path, description = "numOPI (IAPRIMO) or codEtu (REINS)"), ("codAnu" = String, Path), ("codEtp" = String, Path), ("codVrsVet" = i32, Path)), responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown person or LP", body = ProblemBody, content_type = "application/problem+json"), Problems))]
pub async fn delete(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<PathSegments>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::LpWrite)?;
    let p = LpPath::parse(path.into_inner())?;
    journal::note(&req, |n| n.key = Some(p.journal_key()));
    lp::delete(&app, &p).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/v1/laissez-passer?typLpa=&codAnu=&numOpi=&codEtu=&codEtp=&codVrsVet=&limit=&offset=`
#[utoipa::path(get, path = "/api/v1/laissez-passer", tag = "laissez-passer", params(("typLpa" = Option<String>, Query), ("codAnu" = Option<String>, Query), ("numOpi" = Option<String>, Query, description = "OPI code or alias"), ("codEtu" = Option<String>, Query), ("codEtp" = Option<String>, Query), ("codVrsVet" = Option<i32>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)), responses((status = 200, description = "LPs, IAPRIMO then REINS", body = LpList), Problems))]
pub async fn list(
    caller: Caller,
    app: web::Data<App>,
    query: web::Query<ListQuery>,
    PageQuery(page): PageQuery,
) -> ApiResult<web::Json<LpList>> {
    caller.require(Scope::LpRead)?;
    Ok(web::Json(lp::list(&app, query.into_inner(), page).await?))
}
