//! `/api/v1/referential`: list the tables, read one with filters and pagination, load one (CSV
//! or JSON, upsert, per-line errors).

use super::{ListMeta, Page};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, bad_request};
use crate::journal::note;
use crate::referential::{Format, ImportReport, import};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_db::repo::referential::{self, Actor};
use apogee_domain::referential::{TABLES, TableDef, record, table};
use apogee_domain::{Error, FaultKey, Scope};
use serde_json::json;
use std::collections::HashMap;

fn find_table(name: &str) -> ApiResult<&'static TableDef> {
    table(name).ok_or_else(|| {
        let names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        ApiError(Error::not_found(
            FaultKey::null_retrieve("table"),
            format!(
                "Table de référentiel inconnue : {name} (tables : {})",
                names.join(", ")
            ),
        ))
    })
}

#[utoipa::path(get, path = "/api/v1/referential", tag = "referential", responses((status = 200, description = "Tables, Apogée names, row counts", body = Object), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `GET /api/v1/referential`: the tables with their row counts.
pub async fn tables(_caller: Caller, state: web::Data<AppState>) -> HttpResponse {
    let snapshot = state.referential();
    let tables: Vec<_> = snapshot
        .counts()
        .into_iter()
        .map(|(t, rows)| {
            json!({
                "name": t.name,
                "apogeeTable": t.apogee_table,
                "label": t.label,
                "rows": rows,
                "columns": t.columns.iter().map(|c| json!({"name": c.name, "key": c.key, "required": c.required})).collect::<Vec<_>>(),
            })
        })
        .collect();
    HttpResponse::Ok().json(json!({"tables": tables, "meta": {"version": snapshot.version}}))
}

#[utoipa::path(get, path = "/api/v1/referential/{table}", tag = "referential", params(("table" = String, Path, description = "Table name (etapes, centres-gestion …)"), ("limit" = Option<i64>, Query, description = "Page size, 1–1000"), ("offset" = Option<i64>, Query, description = "Rows skipped")), responses((status = 200, description = "Rows (DTO field names) and meta; any column name filters by equality", body = Object), (status = 404, description = "Unknown table", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `GET /api/v1/referential/{table}?<column>=<value>&limit=&offset=`
pub async fn list(
    req: HttpRequest,
    _caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let table = find_table(&path)?;
    note(&req, |n| n.key = Some(("table".into(), table.name.into())));
    let mut filters = Vec::new();
    let mut page = Page {
        limit: None,
        offset: None,
    };
    for (k, v) in query.iter() {
        match k.as_str() {
            "limit" => {
                page.limit = Some(
                    v.parse()
                        .map_err(|_| bad_request("limit", "limit doit être un entier"))?,
                )
            }
            "offset" => {
                page.offset = Some(
                    v.parse()
                        .map_err(|_| bad_request("offset", "offset doit être un entier"))?,
                )
            }
            name => {
                let (i, col) = table.column(name).ok_or_else(|| {
                    bad_request(name, format!("Colonne inconnue pour le filtre : {name}"))
                })?;
                let value = record::parse_value(col, Some(v))
                    .map_err(|e| ApiError(Error::validation(vec![e])))?;
                filters.push((i, value));
            }
        }
    }
    let (limit, offset) = page.resolve();
    let (rows, total) = state
        .db
        .read(move |c| {
            referential::list(c, table, &filters, limit, offset).map_err(apogee_db::DbError::from)
        })
        .await?;
    let rows: Vec<_> = rows.iter().map(|r| r.to_json()).collect();
    Ok(HttpResponse::Ok().json(json!({
        "rows": rows,
        "meta": ListMeta { total, limit, offset },
    })))
}

/// Query of `PUT /api/v1/referential/{table}`.
#[derive(Debug, serde::Deserialize)]
pub struct PutQuery {
    /// Write the valid rows even when some are refused.
    #[serde(default)]
    pub partial: bool,
}

#[utoipa::path(put, path = "/api/v1/referential/{table}", tag = "referential", params(("table" = String, Path, description = "Table name"), ("partial" = Option<bool>, Query, description = "Write the valid rows even when some are refused")), request_body(content = String, description = "CSV (text/csv, header line) or JSON array (application/json)", content_type = "text/csv"), responses((status = 200, description = "Import report", body = crate::referential::ImportReport), (status = 404, description = "Unknown table", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 415, description = "Not CSV or JSON", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `PUT /api/v1/referential/{table}` with a CSV (`text/csv`) or JSON (`application/json`) body.
pub async fn put(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<PutQuery>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::RefWrite)?;
    let table = find_table(&path)?;
    note(&req, |n| n.key = Some(("table".into(), table.name.into())));
    let content_type = super::content_type(&req);
    let format = if content_type.starts_with("application/json") {
        Format::Json
    } else if content_type.starts_with("text/csv") || content_type.starts_with("text/plain") {
        Format::Csv
    } else {
        return Err(ApiError(Error::new(
            apogee_domain::ErrorKind::UnsupportedMediaType,
            FaultKey::noncoherent("contentType"),
            "Type de contenu attendu : text/csv ou application/json",
        )));
    };
    let trace_id = crate::error::current_request_id().unwrap_or_default();
    let partial = query.partial;
    let client = caller.name.clone();
    let report: ImportReport = state
        .db
        .write(move |c| {
            import(
                c,
                table,
                format,
                &body,
                partial,
                Actor {
                    client: Some(&client),
                    trace_id: &trace_id,
                    now: chrono::Utc::now().naive_utc(),
                },
            )
        })
        .await?;
    if report.written {
        state.refresh_referential().await?;
    }
    if report.rejected > 0 {
        note(&req, |n| {
            n.outcome = Some(apogee_domain::journal::Outcome::Rejected);
            n.warnings
                .push(format!("LIGNES_REJETEES:{}", report.rejected));
        });
    }
    Ok(HttpResponse::Ok().json(report))
}
