//! `/api/v1/referential`: list the tables, read one with filters and pagination, load one (CSV
//! or JSON, upsert, per-line errors).

use crate::http::extract::{CSV, Caller, PageQuery, content_type, is_any};
use crate::http::journal;
use crate::http::openapi::Problems;
use crate::http::problem::{ApiResult, ProblemBody};
use actix_web::{HttpRequest, web};
use apogee_app::App;
use apogee_app::referential::{self, Format, ImportReport, Rows, Tables};
use apogee_domain::{Error, Scope};
use serde::Deserialize;

#[utoipa::path(get, path = "/api/v1/referential", tag = "referential", responses((status = 200, description = "Tables, Apogée names, row counts", body = Tables), Problems))]
/// `GET /api/v1/referential`: the tables with their row counts.
pub async fn tables(_caller: Caller, app: web::Data<App>) -> web::Json<Tables> {
    web::Json(referential::tables(&app))
}

#[utoipa::path(get, path = "/api/v1/referential/{table}", tag = "referential", params(("table" = String, Path, description = "Table name (etapes, centres-gestion …)"), ("limit" = Option<i64>, Query, description = "Page size, 1–1000"), ("offset" = Option<i64>, Query, description = "Rows skipped")), responses((status = 200, description = "Rows (DTO field names) and meta; any column name filters by equality", body = Rows), (status = 404, description = "Unknown table", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `GET /api/v1/referential/{table}?<column>=<value>&limit=&offset=`
pub async fn list(
    req: HttpRequest,
    _caller: Caller,
    app: web::Data<App>,
    path: web::Path<String>,
    query: web::Query<Vec<(String, String)>>,
    PageQuery(page): PageQuery,
) -> ApiResult<web::Json<Rows>> {
    let table = referential::find_table(&path)?;
    journal::key(&req, "table", table.name);
    let filters: Vec<(String, String)> = query
        .into_inner()
        .into_iter()
        .filter(|(k, _)| k != "limit" && k != "offset")
        .collect();
    Ok(web::Json(
        referential::list(&app, table, &filters, page).await?,
    ))
}

/// Query of `PUT /api/v1/referential/{table}`.
#[derive(Debug, Deserialize)]
pub struct PutQuery {
    /// Write the valid rows even when some are refused.
    #[serde(default)]
    pub partial: bool,
}

#[utoipa::path(put, path = "/api/v1/referential/{table}", tag = "referential", params(("table" = String, Path, description = "Table name"), ("partial" = Option<bool>, Query, description = "Write the valid rows even when some are refused")), request_body(content = String, description = "CSV (text/csv, header line) or JSON array (application/json)", content_type = "text/csv"), responses((status = 200, description = "Import report", body = ImportReport), (status = 404, description = "Unknown table", body = ProblemBody, content_type = "application/problem+json"), (status = 415, description = "Not CSV or JSON", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `PUT /api/v1/referential/{table}` with a CSV (`text/csv`) or JSON (`application/json`) body.
pub async fn put(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<String>,
    query: web::Query<PutQuery>,
    body: web::Bytes,
) -> ApiResult<web::Json<ImportReport>> {
    caller.require(Scope::RefWrite)?;
    let table = referential::find_table(&path)?;
    journal::key(&req, "table", table.name);
    let format = format_of(&content_type(&req))?;
    let report =
        referential::import(&app, &caller.call, table, format, body, query.partial).await?;
    journal::rejected_lines(&req, report.rejected);
    Ok(web::Json(report))
}

fn format_of(content_type: &str) -> Result<Format, Error> {
    if content_type.starts_with("application/json") {
        Ok(Format::Json)
    } else if is_any(content_type, CSV) {
        Ok(Format::Csv)
    } else {
        Err(Error::unsupported_media_type(
            "Type de contenu attendu : text/csv ou application/json",
        ))
    }
}
