//! `/api/v1/reports/…` (REP-2 … REP-9, scope `journal:read`): refused calls by cause and the
//! journal rows behind each cause, calls per day and client, the dashboard counters, duplicate
//! suspects, CVEC checks, LP batches. JSON, or CSV with `Accept: text/csv`.

use crate::http::extract::{Caller, PageQuery};
use crate::http::openapi::Problems;
use crate::http::problem::{ApiResult, ProblemBody};
use crate::http::reply::{Format, table};
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_app::App;
use apogee_app::opi::{self, Duplicates};
use apogee_app::reports::{
    self, ActivityReport, CauseRows, Counters, CvecReport, LpBatches, RejectsReport, ReportQuery,
};
use apogee_domain::Scope;

#[utoipa::path(get, path = "/api/v1/reports/counters", tag = "reports", params(("campaign" = Option<String>, Query, description = "codAnu (default: the current campaign)"), ("client" = Option<String>, Query)), responses((status = 200, description = "Accepted writes per area and refused calls, today and in the campaign", content((Counters = "application/json"), (String = "text/csv"))), (status = 406, description = "Accept allows neither JSON nor CSV", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `GET /api/v1/reports/counters`
pub async fn counters(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    query: web::Query<ReportQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::JournalRead)?;
    let format = Format::of(&req)?;
    let report = reports::counters(&app, &query).await?;
    Ok(table(format, "compteurs", &report))
}

#[utoipa::path(get, path = "/api/v1/reports/rejects", tag = "reports", params(ReportQuery), responses((status = 200, description = "Refused calls by cause, with the fault keys behind each", content((RejectsReport = "application/json"), (String = "text/csv"))), (status = 406, description = "Accept allows neither JSON nor CSV", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `GET /api/v1/reports/rejects`
pub async fn rejects(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    query: web::Query<ReportQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::JournalRead)?;
    let format = Format::of(&req)?;
    let report = reports::rejects(&app, &query).await?;
    Ok(table(format, "rejets-par-cause", &report))
}

#[utoipa::path(get, path = "/api/v1/reports/rejects/{cause}", tag = "reports", params(ReportQuery, ("cause" = String, Path, description = "boursiers, profil, ine, cvec, doublons, formation-non-ouverte, code-inconnu, autre"), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)), responses((status = 200, description = "The journal rows of the cause, newest first", content((CauseRows = "application/json"), (String = "text/csv"))), (status = 406, description = "Accept allows neither JSON nor CSV", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `GET /api/v1/reports/rejects/{cause}`
pub async fn cause_rows(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<String>,
    query: web::Query<ReportQuery>,
    PageQuery(page): PageQuery,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::JournalRead)?;
    let format = Format::of(&req)?;
    let rows = reports::cause_rows(&app, &path, &query, page).await?;
    Ok(table(format, &format!("rejets-{}", rows.cause), &rows))
}

#[utoipa::path(get, path = "/api/v1/reports/activity", tag = "reports", params(ReportQuery), responses((status = 200, description = "Calls and refused calls per day and per client", content((ActivityReport = "application/json"), (String = "text/csv"))), (status = 406, description = "Accept allows neither JSON nor CSV", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `GET /api/v1/reports/activity`
pub async fn activity(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    query: web::Query<ReportQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::JournalRead)?;
    let format = Format::of(&req)?;
    let report = reports::activity(&app, &query).await?;
    Ok(table(format, "activite", &report))
}

#[utoipa::path(get, path = "/api/v1/reports/duplicates", tag = "reports", params(("limit" = Option<i64>, Query)), responses((status = 200, description = "Duplicate suspects (REP-6), the list of GET /api/v1/opi/duplicates", content((Duplicates = "application/json"), (String = "text/csv"))), (status = 406, description = "Accept allows neither JSON nor CSV", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `GET /api/v1/reports/duplicates`
pub async fn duplicates(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    PageQuery(page): PageQuery,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::JournalRead)?;
    let format = Format::of(&req)?;
    let report = opi::duplicates(&app, page).await?;
    Ok(table(format, "doublons", &report))
}

#[utoipa::path(get, path = "/api/v1/reports/cvec", tag = "reports", params(("campaign" = Option<String>, Query, description = "codAnu of the checks"), ("limit" = Option<i64>, Query, description = "Backlog page size"), ("offset" = Option<i64>, Query)), responses((status = 200, description = "CVEC checks by result and reason, and the NON_VERIFIEE backlog (REP-5)", content((CvecReport = "application/json"), (String = "text/csv"))), (status = 406, description = "Accept allows neither JSON nor CSV", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `GET /api/v1/reports/cvec`
pub async fn cvec(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    query: web::Query<ReportQuery>,
    PageQuery(page): PageQuery,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::JournalRead)?;
    let format = Format::of(&req)?;
    let report = reports::cvec_checks(&app, &query, page).await?;
    Ok(table(format, "cvec", &report))
}

#[utoipa::path(get, path = "/api/v1/reports/lp-batches", tag = "reports", params(("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)), responses((status = 200, description = "LP batches, newest first, with status, counts and report link", content((LpBatches = "application/json"), (String = "text/csv"))), (status = 406, description = "Accept allows neither JSON nor CSV", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `GET /api/v1/reports/lp-batches`
pub async fn lp_batches(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    PageQuery(page): PageQuery,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::JournalRead)?;
    let format = Format::of(&req)?;
    let report = reports::lp_batches(&app, page).await?;
    Ok(table(format, "lots-laissez-passer", &report))
}
