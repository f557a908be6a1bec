//! CVEC under `/api/v1`: the enrolment check, the attestation register and the stored checks.
//! (The CNOUS-compatible `GET /api/attestation/{code}` is a facade: `facades/cnous.rs`.)

use crate::http::extract::{CSV, Caller, NDJSON, PageQuery, content_type, is_any};
use crate::http::journal;
use crate::http::openapi::Problems;
use crate::http::problem::ApiResult;
use actix_web::{HttpRequest, web};
use apogee_app::App;
use apogee_app::cvec::{
    self, AttestationList, AttestationsQuery, CheckList, CheckResponse, ChecksQuery, RegisterFormat,
};
use apogee_app::referential::ImportReport;
use apogee_domain::cvec::request::CheckRequest;
use apogee_domain::{Error, Scope};
use serde::Deserialize;

#[utoipa::path(post, path = "/api/v1/cvec/check", tag = "cvec", request_body(content = CheckRequest, description = "code (or number + surname), ine, names, birth date, year"), responses((status = 200, description = "Result (VALIDE, INVALIDE, NON_VERIFIEE, NON_REQUISE), reasons, exoneration, source", body = CheckResponse), Problems))]
/// `POST /api/v1/cvec/check` (scope `cvec:read`): the enrolment check (CVEC-11), stored and
/// journaled.
pub async fn check(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    body: web::Json<CheckRequest>,
) -> ApiResult<web::Json<CheckResponse>> {
    caller.require(Scope::CvecRead)?;
    let answer = cvec::check(&app, &caller.call, body.into_inner()).await?;
    let j = answer.journal();
    journal::note(&req, |n| {
        n.key = j.number.map(|v| ("attestation".into(), v));
        n.outcome = Some(j.outcome);
        n.fault = j.fault;
        n.warnings = j.warnings;
    });
    Ok(web::Json(answer))
}

/// Query of `PUT /api/v1/cvec/attestations`.
#[derive(Debug, Deserialize)]
pub struct LoadQuery {
    /// Write the valid lines even when some are refused.
    #[serde(default)]
    pub partial: bool,
}

fn register_format(content_type: &str) -> Result<RegisterFormat, Error> {
    if is_any(content_type, CSV) {
        Ok(RegisterFormat::Csv)
    } else if is_any(content_type, NDJSON) || content_type.starts_with("application/json") {
        Ok(RegisterFormat::Json)
    } else {
        Err(Error::unsupported_media_type(
            "Type de contenu attendu : text/csv, application/x-ndjson ou application/json",
        ))
    }
}

#[utoipa::path(put, path = "/api/v1/cvec/attestations", tag = "cvec", params(("partial" = Option<bool>, Query, description = "Write the valid lines even when some are refused")), request_body(content = String, description = "CSV or NDJSON", content_type = "text/csv"), responses((status = 200, description = "Per-line report", body = ImportReport), Problems))]
/// `PUT /api/v1/cvec/attestations[?partial=true]` (scope `admin`): CSV (`text/csv`) or NDJSON
/// (`application/x-ndjson`; `application/json` takes NDJSON or an array), upsert by campaign and
/// number, per-line report.
pub async fn load(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    query: web::Query<LoadQuery>,
    body: web::Bytes,
) -> ApiResult<web::Json<ImportReport>> {
    caller.require(Scope::Admin)?;
    let format = register_format(&content_type(&req))?;
    journal::key(&req, "table", "cvec-attestations");
    let report = cvec::load_register(&app, &caller.call, format, body, query.partial).await?;
    journal::rejected_lines(&req, report.rejected);
    Ok(web::Json(report))
}

#[utoipa::path(get, path = "/api/v1/cvec/attestations", tag = "cvec", params(("codAnu" = Option<String>, Query), ("numAttestation" = Option<String>, Query), ("ine" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)), responses((status = 200, description = "Attestation register", body = AttestationList), Problems))]
/// `GET /api/v1/cvec/attestations?codAnu=&numAttestation=&ine=` (scope `cvec:read`).
pub async fn attestations(
    caller: Caller,
    app: web::Data<App>,
    query: web::Query<AttestationsQuery>,
    PageQuery(page): PageQuery,
) -> ApiResult<web::Json<AttestationList>> {
    caller.require(Scope::CvecRead)?;
    Ok(web::Json(
        cvec::attestations(&app, query.into_inner(), page).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/cvec/checks", tag = "cvec", params(("codAnu" = Option<String>, Query), ("numAttestation" = Option<String>, Query), ("ine" = Option<String>, Query), ("result" = Option<String>, Query, description = "VALIDE, INVALIDE, NON_VERIFIEE or NON_REQUISE"), ("reason" = Option<String>, Query), ("codInd" = Option<i64>, Query), ("codIndOpi" = Option<i64>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)), responses((status = 200, description = "Stored checks", body = CheckList), Problems))]
/// `GET /api/v1/cvec/checks?…` (scope `cvec:read`): stored checks, newest first (CVEC-13,
/// REP-5: the `NON_VERIFIEE` backlog is `?result=NON_VERIFIEE`).
pub async fn checks(
    caller: Caller,
    app: web::Data<App>,
    query: web::Query<ChecksQuery>,
    PageQuery(page): PageQuery,
) -> ApiResult<web::Json<CheckList>> {
    caller.require(Scope::CvecRead)?;
    Ok(web::Json(
        cvec::checks(&app, query.into_inner(), page).await?,
    ))
}
