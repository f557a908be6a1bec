//! `/api/v1/inscriptions`: administrative enrolment (primo from an OPI, re-enrolment), its
//! cancellation and its batch.

use crate::http::body::spool;
use crate::http::extract::{Caller, content_type};
use crate::http::openapi::Problems;
use crate::http::problem::{ApiResult, ProblemBody};
use crate::http::reply::created_or_ok;
use crate::http::{idempotency, journal};
use crate::rest::students::batch_format;
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_app::App;
use apogee_app::enrolment::{self, BatchReport, Cancellation, Enrolled};
use apogee_app::idempotency::Once;
use apogee_domain::Scope;
use apogee_domain::enrolment::InscriptionDto;

/// `POST /api/v1/inscriptions`: enrols a person in a VET for a year.
#[utoipa::path(post, path = "/api/v1/inscriptions", tag = "inscriptions", request_body(content = InscriptionDto, description = "`codOpiIntEpo` (primo) or `codEtu` (re-enrolment), `codAnu`, `codEtp`, `codVrsVet`, optional `codRgi`, `codStu`, `etaPmtIae`"), responses((status = 201, description = "Enrolled (a primo enrolment allocates the codEtu)", body = Enrolled), (status = 200, description = "Already enrolled: the same codEtu", body = Enrolled), (status = 404, description = "Unknown OPI or student", body = ProblemBody, content_type = "application/problem+json"), (status = 409, description = "Refused: every blocking reason in `errors` (functionnal.borules.inscription.ACCES_…)", body = ProblemBody, content_type = "application/problem+json"), Problems))]
pub async fn post(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    body: web::Json<InscriptionDto>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::IaWrite)?;
    let dto = body.into_inner();
    match (&dto.cod_opi_int_epo, &dto.cod_etu) {
        (Some(code), _) => journal::key(&req, "codOpiIntEpo", code),
        (None, Some(etu)) => journal::key(&req, "codEtu", etu),
        (None, None) => {}
    }
    let done = enrolment::enrol(&app, &caller.call, dto).await?;
    Ok(created_or_ok(done.status == "created", done))
}

/// `DELETE /api/v1/inscriptions/{codEtu}/{codAnu}`: cancels every enrolment of the year.
#[utoipa::path(delete, path = "/api/v1/inscriptions/{codEtu}/{codAnu}", tag = "inscriptions", params(("codEtu" = String, Path), ("codAnu" = String, Path)), responses((status = 200, description = "Cancelled (ETA_IAE and ETA_IAA = A)", body = Cancellation), (status = 404, description = "Unknown student, or nothing enrolled that year", body = ProblemBody, content_type = "application/problem+json"), Problems))]
pub async fn cancel_year(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<(String, String)>,
) -> ApiResult<web::Json<Cancellation>> {
    caller.require(Scope::IaWrite)?;
    let (etu, anu) = path.into_inner();
    journal::key(&req, "codEtu", &etu);
    Ok(web::Json(
        enrolment::cancel(&app, &caller.call, &etu, &anu, None).await?,
    ))
}

/// `DELETE /api/v1/inscriptions/{codEtu}/{codAnu}/{codEtp}/{codVrsVet}`: cancels one étape
/// enrolment (and the yearly one when it was the last).
#[utoipa::path(delete, path = "/api/v1/inscriptions/{codEtu}/{codAnu}/{codEtp}/{codVrsVet}", tag = "inscriptions", params(("codEtu" = String, Path), ("codAnu" = String, Path), ("codEtp" = String, Path), ("codVrsVet" = String, Path)), responses((status = 200, description = "Cancelled", body = Cancellation), (status = 404, description = "Unknown student, or not enrolled in that VET", body = ProblemBody, content_type = "application/problem+json"), Problems))]
pub async fn cancel_vet(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<(String, String, String, String)>,
) -> ApiResult<web::Json<Cancellation>> {
    caller.require(Scope::IaWrite)?;
    let (etu, anu, etp, vet) = path.into_inner();
    journal::key(&req, "codEtu", &etu);
    let vet = Some((etp.as_str(), vet.as_str()));
    Ok(web::Json(
        enrolment::cancel(&app, &caller.call, &etu, &anu, vet).await?,
    ))
}

/// The route an enrolment batch's `Idempotency-Key` is bound to.
const ROUTE: &str = "POST /api/v1/inscriptions/batch";

/// `POST /api/v1/inscriptions/batch`: CSV or NDJSON, one enrolment per line; 200 with the
/// per-line report.
#[utoipa::path(post, path = "/api/v1/inscriptions/batch", tag = "inscriptions", params(("Idempotency-Key" = Option<String>, Header, description = "the same key and body return the first report (Idempotent-Replayed: true); another body: 422")), request_body(content = String, description = "CSV (codOpiIntEpo,codEtu,codAnu,codEtp,codVrsVet,codRgi,codStu,etaPmtIae) or NDJSON, streamed", content_type = "text/csv"), responses((status = 200, description = "Per-line report", body = BatchReport), (status = 409, description = "A request with this Idempotency-Key is running (Retry-After)", body = ProblemBody, content_type = "application/problem+json"), (status = 415, description = "Unsupported media type", body = ProblemBody, content_type = "application/problem+json"), (status = 422, description = "This Idempotency-Key was used for another body", body = ProblemBody, content_type = "application/problem+json"), (status = 503, description = "Too many batches at once (Retry-After)", body = ProblemBody, content_type = "application/problem+json"), Problems))]
pub async fn batch(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::IaWrite)?;
    let format = batch_format(&content_type(&req))?;
    let _permit = app.permits.batch(&caller.name)?;
    let report = if idempotency::key(&req)?.is_none() {
        enrolment::batch_stream(&app, &caller.call, payload, format).await?
    } else {
        let upload = spool(payload, &app).await?;
        let keyed = idempotency::keyed(&req, &caller, ROUTE, upload.sha256)?;
        let run = || enrolment::batch(&app, &caller.call, upload.file, format, async { Ok(()) });
        match apogee_app::idempotency::once(&app, keyed, run).await? {
            Once::Ran(report) => report,
            Once::Replayed(stored) => return Ok(idempotency::replayed(stored)),
        }
    };
    journal::rejected_lines(&req, report.counts.rejected);
    Ok(HttpResponse::Ok().json(report))
}
