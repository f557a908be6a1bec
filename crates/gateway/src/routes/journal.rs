//! `GET /api/v1/journal`: the call journal, filtered and paginated (scope `journal:read`).

use super::{ListMeta, Page};
use crate::auth::Caller;
use crate::error::{ApiResult, bad_request};
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use apogee_db::repo::journal::{self, JournalFilter, JournalRow};
use apogee_domain::Scope;
use serde::{Deserialize, Serialize};

/// Query parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalQuery {
    /// Calls at or after (RFC 3339).
    pub from: Option<String>,
    /// Calls before (RFC 3339).
    pub to: Option<String>,
    /// Client name.
    pub client: Option<String>,
    /// Operation (`GET /api/v1/referential/{table}`, `mettreajourDonneesOpi_v10` …).
    pub operation: Option<String>,
    /// `ok`, `rejected` or `error`.
    pub outcome: Option<String>,
    /// Business key value.
    pub key: Option<String>,
    /// Apogée fault key.
    pub fault_key: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
    /// Page size.
    pub limit: Option<i64>,
    /// Rows skipped.
    pub offset: Option<i64>,
}

/// A page of the journal.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JournalList {
    /// Entries, newest first.
    pub entries: Vec<JournalEntry>,
    /// Pagination.
    pub meta: crate::openapi::ListMetaDoc,
}

/// One journal entry as served.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    id: i64,
    at: String,
    request_id: String,
    client: Option<String>,
    channel: String,
    operation: String,
    key_kind: Option<String>,
    key: Option<String>,
    outcome: String,
    http_status: i32,
    fault_key: Option<String>,
    message: Option<String>,
    warnings: Vec<String>,
    duration_ms: i32,
}

impl From<JournalRow> for JournalEntry {
    fn from(r: JournalRow) -> Self {
        JournalEntry {
            id: r.id,
            at: r
                .at
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            request_id: r.request_id,
            client: r.client_name,
            channel: r.channel,
            operation: r.operation,
            key_kind: r.key_kind,
            key: r.key_value,
            outcome: r.outcome,
            http_status: r.http_status,
            fault_key: r.fault_key,
            message: r.message,
            warnings: r
                .warnings
                .map(|w| w.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
            duration_ms: r.duration_ms,
        }
    }
}

fn time(field: &str, value: Option<&String>) -> ApiResult<Option<chrono::NaiveDateTime>> {
    value
        .map(|v| {
            chrono::DateTime::parse_from_rfc3339(v)
                .map(|t| t.naive_utc())
                .map_err(|_| {
                    bad_request(
                        field,
                        format!("{field} : date RFC 3339 attendue (2026-11-23T10:00:00Z)"),
                    )
                })
        })
        .transpose()
}

#[utoipa::path(get, path = "/api/v1/journal", tag = "journal", params(("from" = Option<String>, Query, description = "RFC 3339"), ("to" = Option<String>, Query, description = "RFC 3339"), ("client" = Option<String>, Query), ("operation" = Option<String>, Query), ("outcome" = Option<String>, Query, description = "ok, rejected or error"), ("key" = Option<String>, Query), ("faultKey" = Option<String>, Query), ("requestId" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)), responses((status = 200, description = "Entries, newest first", body = crate::routes::journal::JournalList), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `GET /api/v1/journal`
pub async fn search(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<JournalQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::JournalRead)?;
    let q = query.into_inner();
    if let Some(o) = &q.outcome {
        o.parse::<apogee_domain::journal::Outcome>()
            .map_err(|e| bad_request("outcome", e))?;
    }
    let filter = JournalFilter {
        from: time("from", q.from.as_ref())?,
        to: time("to", q.to.as_ref())?,
        client: q.client,
        operation: q.operation,
        outcome: q.outcome,
        key: q.key,
        fault_key: q.fault_key,
        request_id: q.request_id,
    };
    let (limit, offset) = Page {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve();
    let (rows, total) = state
        .db
        .read(move |c| journal::search(c, &filter, limit, offset).map_err(apogee_db::DbError::from))
        .await?;
    let entries: Vec<JournalEntry> = rows.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "entries": entries,
        "meta": ListMeta { total, limit, offset },
    })))
}
