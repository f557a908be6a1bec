//! `GET /api/v1/journal`: the call journal, filtered and paginated (scope `journal:read`).

use crate::http::extract::{Caller, PageQuery};
use crate::http::openapi::Problems;
use crate::http::problem::ApiResult;
use actix_web::web;
use apogee_app::App;
use apogee_app::journal::{self, JournalList, Search};
use apogee_domain::Scope;

#[utoipa::path(get, path = "/api/v1/journal", tag = "journal", params(("from" = Option<String>, Query, description = "RFC 3339"), ("to" = Option<String>, Query, description = "RFC 3339"), ("client" = Option<String>, Query), ("operation" = Option<String>, Query), ("outcome" = Option<String>, Query, description = "ok, rejected or error"), ("key" = Option<String>, Query), ("faultKey" = Option<String>, Query), ("requestId" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)), responses((status = 200, description = "Entries, newest first", body = JournalList), Problems))]
/// `GET /api/v1/journal`
pub async fn search(
    caller: Caller,
    app: web::Data<App>,
    query: web::Query<Search>,
    PageQuery(page): PageQuery,
) -> ApiResult<web::Json<JournalList>> {
    caller.require(Scope::JournalRead)?;
    Ok(web::Json(
        journal::search(&app, query.into_inner(), page).await?,
    ))
}
