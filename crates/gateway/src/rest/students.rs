//! `/api/v1/etudiants`: the student register (PUT, GET, search, streamed batch).

use crate::http::body::spool;
use crate::http::extract::{CSV, Caller, NDJSON, PageQuery, content_type, is_any};
use crate::http::openapi::Problems;
use crate::http::problem::{ApiResult, ProblemBody};
use crate::http::reply::created_or_ok;
use crate::http::{idempotency, journal};
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_app::idempotency::Once;
use apogee_app::students::{
    self, Applied, BatchFormat, BatchReport, ListQuery, StudentList, StudentView,
};
use apogee_app::{App, Call};
use apogee_domain::lp::etudiant::EtudiantDto;
use apogee_domain::opi::Warning;
use apogee_domain::{Error, Scope};
use serde::Serialize;
use utoipa::ToSchema;

/// The answer of a PUT.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StudentPutResponse {
    /// `created`, `updated` or `unchanged`.
    pub status: &'static str,
    /// Student number.
    pub cod_etu: i64,
    /// `COD_IND`.
    pub cod_ind: i64,
    /// Warnings (validation and storage: `INE_EFFACE`).
    pub warnings: Vec<Warning>,
    /// Trace id of the call.
    pub trace_id: String,
}

impl StudentPutResponse {
    fn of(call: &Call, a: Applied) -> Self {
        StudentPutResponse {
            status: a.status,
            cod_etu: a.cod_etu,
            cod_ind: a.cod_ind,
            warnings: a.warnings,
            trace_id: call.trace_id.clone(),
        }
    }
}

/// `PUT /api/v1/etudiants/{codEtu}` with the student as JSON.
#[utoipa::path(put, path = "/api/v1/etudiants/{codEtu}", tag = "etudiants", params(("codEtu" = String, Path)), request_body(content = EtudiantDto, description = "The student: identity, inscriptionsAnnuelles, inscriptionsEtapes, blocages"), responses((status = 201, description = "Created", body = StudentPutResponse), (status = 200, description = "Updated or unchanged", body = StudentPutResponse), Problems))]
pub async fn put(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<String>,
    body: web::Json<EtudiantDto>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::LpWrite)?;
    journal::key(&req, "codEtu", path.as_str());
    let applied = students::put(&app, &caller.call, &path, body.into_inner()).await?;
    let codes = applied.warnings.iter().map(|w| w.code.clone()).collect();
    journal::note(&req, |n| n.warnings = codes);
    Ok(created_or_ok(
        applied.status == "created",
        StudentPutResponse::of(&caller.call, applied),
    ))
}

/// `GET /api/v1/etudiants/{codEtu}`: identity, enrolments and bans.
#[utoipa::path(get, path = "/api/v1/etudiants/{codEtu}", tag = "etudiants", params(("codEtu" = String, Path)), responses((status = 200, description = "The student with enrolments and bans", body = StudentView), (status = 404, description = "Unknown student", body = ProblemBody, content_type = "application/problem+json"), Problems))]
pub async fn get(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<String>,
) -> ApiResult<web::Json<StudentView>> {
    caller.require(Scope::LpRead)?;
    journal::key(&req, "codEtu", path.as_str());
    Ok(web::Json(students::get(&app, &path).await?))
}

/// `GET /api/v1/etudiants?ine=&limit=&offset=`
#[utoipa::path(get, path = "/api/v1/etudiants", tag = "etudiants", params(("ine" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)), responses((status = 200, description = "Students", body = StudentList), Problems))]
pub async fn list(
    caller: Caller,
    app: web::Data<App>,
    query: web::Query<ListQuery>,
    PageQuery(page): PageQuery,
) -> ApiResult<web::Json<StudentList>> {
    caller.require(Scope::LpRead)?;
    Ok(web::Json(
        students::list(&app, query.into_inner(), page).await?,
    ))
}

pub(crate) fn batch_format(content_type: &str) -> Result<BatchFormat, Error> {
    if is_any(content_type, CSV) {
        Ok(BatchFormat::Csv)
    } else if is_any(content_type, NDJSON) {
        Ok(BatchFormat::Ndjson)
    } else {
        Err(Error::unsupported_media_type(
            "Type de contenu attendu : text/csv ou application/x-ndjson",
        ))
    }
}

/// The route a student batch's `Idempotency-Key` is bound to.
const ROUTE: &str = "POST /api/v1/etudiants/batch";

/// `POST /api/v1/etudiants/batch`: CSV (`text/csv`) or NDJSON (`application/x-ndjson`),
/// streamed (spooled first when it carries an `Idempotency-Key`); 200 with the per-line report
/// (valid lines written, invalid ones reported).
#[utoipa::path(post, path = "/api/v1/etudiants/batch", tag = "etudiants", params(("Idempotency-Key" = Option<String>, Header, description = "the same key and body return the first report (Idempotent-Replayed: true); another body: 422")), request_body(content = String, description = "CSV (codEtu,ine,libNomPatInd,libNomUsuInd,libPr1Ind,dateNaiInd) or NDJSON, streamed", content_type = "text/csv"), responses((status = 200, description = "Per-line report", body = BatchReport), (status = 409, description = "A request with this Idempotency-Key is running (Retry-After)", body = ProblemBody, content_type = "application/problem+json"), (status = 415, description = "Unsupported media type", body = ProblemBody, content_type = "application/problem+json"), (status = 422, description = "This Idempotency-Key was used for another body", body = ProblemBody, content_type = "application/problem+json"), (status = 503, description = "Too many batches at once (Retry-After)", body = ProblemBody, content_type = "application/problem+json"), Problems))]
pub async fn batch(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::LpWrite)?;
    let format = batch_format(&content_type(&req))?;
    let _permit = app.permits.batch(&caller.name)?;
    if idempotency::key(&req)?.is_none() {
        let report = students::batch(&app, &caller.call, payload, format).await?;
        journal::rejected_lines(&req, report.counts.rejected);
        return Ok(HttpResponse::Ok().json(report));
    }
    let upload = spool(payload, &app).await?;
    let keyed = idempotency::keyed(&req, &caller, ROUTE, upload.sha256)?;
    let run = || students::batch_file(&app, &caller.call, upload.file, format);
    match apogee_app::idempotency::once(&app, keyed, run).await? {
        Once::Ran(report) => {
            journal::rejected_lines(&req, report.counts.rejected);
            Ok(HttpResponse::Ok().json(report))
        }
        Once::Replayed(stored) => Ok(idempotency::replayed(stored)),
    }
}
