//! HTTP routes. One `configure` holds the route table; one module per area.

pub mod cvec;
pub mod health;
pub mod journal;
pub mod lp;
pub mod me;
pub mod opi;
pub mod pj;
pub mod referential;

use actix_web::web;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/live", web::get().to(health::live))
        .route("/health/ready", web::get().to(health::ready))
        .route("/metrics", web::get().to(health::metrics))
        .service(
            web::scope("/api/v1")
                .route("/me", web::get().to(me::get))
                .route("/referential", web::get().to(referential::tables))
                .route("/referential/{table}", web::get().to(referential::list))
                .route("/referential/{table}", web::put().to(referential::put))
                .route("/journal", web::get().to(journal::search))
                .route("/opi", web::get().to(opi::search))
                .route("/opi/duplicates", web::get().to(opi::duplicates))
                .route("/opi/batch", web::post().to(opi::batch))
                .route("/opi/{code}", web::put().to(opi::put))
                .route("/opi/{code}", web::get().to(opi::get))
                .route("/opi/{code}", web::delete().to(opi::delete))
                .route("/opi/{code}/voeux", web::delete().to(opi::delete_voeux))
                .configure(lp::configure)
                .configure(cvec::configure)
                .configure(pj::configure),
        )
        .configure(cvec::configure_root)
        .configure(pj::configure_root);
}

/// Pagination query parameters shared by list endpoints.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Page {
    /// Rows per page (1–1000, default 100).
    pub limit: Option<i64>,
    /// Rows skipped.
    pub offset: Option<i64>,
}

impl Page {
    /// `(limit, offset)` clamped to sane values.
    pub fn resolve(&self) -> (i64, i64) {
        (
            self.limit.unwrap_or(100).clamp(1, 1000),
            self.offset.unwrap_or(0).max(0),
        )
    }
}

/// `meta` of list answers.
#[derive(Debug, serde::Serialize)]
pub struct ListMeta {
    /// Matching rows in all pages.
    pub total: i64,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

/// The request's media type and parameters, lower-cased (`""` when absent).
pub fn content_type(req: &actix_web::HttpRequest) -> String {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// The `mode` of a batch: `partial` (default, `false`) or `atomic` (`true`).
pub fn atomic_mode(mode: Option<&str>) -> crate::error::ApiResult<bool> {
    match mode {
        None | Some("partial") => Ok(false),
        Some("atomic") => Ok(true),
        Some(other) => Err(crate::error::bad_request(
            "mode",
            format!("Mode inconnu : {other} (partial, atomic)"),
        )),
    }
}
