//! The CNOUS-compatible CVEC API: `GET /api/attestation/{code}` (its contract, not ours:
//! `CertificateDto` / `CertificateErrorDto` bodies, open unless configured).

use crate::http::extract::authenticate;
use crate::http::journal;
use crate::http::problem::{FaultNote, status_of};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_app::App;
use apogee_app::cvec::{self, CnousReply};
use apogee_domain::cvec::check::Finding;
use apogee_domain::cvec::dto::{CertificateErrorDto, MISSING_CODE_MESSAGE};
use apogee_domain::cvec::{CvecCode, is_valid_number, parse, parse_parts};
use apogee_domain::{FaultKey, Scope};
use std::collections::HashMap;

const OPERATION: &str = "GET /api/attestation/{code}";

/// Routes outside `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/attestation").to(missing_code))
        .service(
            web::resource("/api/attestation/{code:.*}")
                .route(web::get().to(attestation))
                .default_service(web::to(method_not_allowed)),
        );
}

/// Whether `path` belongs to the CNOUS-compatible API (its errors keep the CNOUS body).
pub fn is_cnous_path(path: &str) -> bool {
    path == "/api/attestation" || path.starts_with("/api/attestation/")
}

/// The fallback renderer of framework errors on the CNOUS paths.
pub fn framework_error(req: &HttpRequest, status: StatusCode) -> Option<HttpResponse> {
    is_cnous_path(req.path()).then(|| error(status, "Requête invalide"))
}

/// A `CertificateErrorDto` response. The `FaultNote` keeps the framework's error handler away
/// and gives the journal its fault key and message.
pub fn error(status: StatusCode, message: &str) -> HttpResponse {
    error_with(status, message, None)
}

fn error_with(status: StatusCode, message: &str, reason: Option<&Finding>) -> HttpResponse {
    let body = CertificateErrorDto {
        code: status.as_u16().to_string(),
        message: message.to_owned(),
    };
    let mut res = HttpResponse::build(status);
    res.insert_header((
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    ));
    if status == StatusCode::UNAUTHORIZED {
        res.insert_header((
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"apogee-gateway\""),
        ));
    }
    let mut res = res.body(serde_json::to_vec(&body).unwrap_or_default());
    let (fault_key, message) = match reason {
        Some(r) => (
            cvec::fault_key_for(&r.code).to_string(),
            format!("{} : {}", r.code, r.message),
        ),
        None => (
            FaultKey::noncoherent("requete").to_string(),
            message.to_owned(),
        ),
    };
    FaultNote::attach(&mut res, fault_key, message);
    res
}

/// `/api/attestation` and `/api/attestation/` (any method): 404, code missing (CVEC-1).
pub async fn missing_code(req: HttpRequest) -> HttpResponse {
    journal::note(&req, |n| n.operation = Some(OPERATION.into()));
    let reason = Finding::new("CVEC_CODE_EMPTY", "Code d'attestation CVEC absent");
    error_with(StatusCode::NOT_FOUND, MISSING_CODE_MESSAGE, Some(&reason))
}

async fn method_not_allowed() -> HttpResponse {
    let mut res = error(
        StatusCode::METHOD_NOT_ALLOWED,
        "Méthode non autorisée : GET attendu",
    );
    res.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET"));
    res
}

/// With `cvec.require_bearer_on_cnous_api`, a client with `cvec:read`.
async fn authorize(req: &HttpRequest, app: &App) -> Result<(), HttpResponse> {
    if !app.settings.cvec.require_bearer_on_cnous_api {
        return Ok(());
    }
    let allowed = match authenticate(req, app).await {
        Ok(caller) => caller.require(Scope::CvecRead).map_err(|e| e.0),
        Err(e) => Err(e),
    };
    allowed.map_err(|e| error(status_of(e.kind), &e.message))
}

/// The code of the path, with the surname letters of `?etudiant=` when given.
fn code_of(req: &HttpRequest, raw: &str) -> CvecCode {
    let query = web::Query::<HashMap<String, String>>::from_query(req.query_string()).ok();
    match query.as_ref().and_then(|q| q.get("etudiant")) {
        Some(letters) => parse_parts(raw, letters),
        None => parse(raw),
    }
}

#[utoipa::path(get, path = "/api/attestation/{code}", tag = "cvec", security(()), params(("code" = String, Path, description = "Attestation number followed by the first five letters of the surname"), ("etudiant" = Option<String>, Query, description = "Surname letters, when the path carries the number only")), responses((status = 200, description = "CNOUS CertificateDto", body = apogee_domain::cvec::dto::CertificateDto), (status = 400, description = "Attestation not found or malformed code (CNOUS CertificateErrorDto)", body = CertificateErrorDto), (status = 404, description = "Missing code (CNOUS CertificateErrorDto)", body = CertificateErrorDto), (status = 503, description = "Upstream unavailable (CNOUS CertificateErrorDto)", body = CertificateErrorDto)))]
/// `GET /api/attestation/{code}[?etudiant=<letters>]` (CVEC-1, CVEC-3, CVEC-6, CVEC-7).
pub async fn attestation(
    req: HttpRequest,
    app: web::Data<App>,
    path: web::Path<String>,
) -> HttpResponse {
    journal::note(&req, |n| n.operation = Some(OPERATION.into()));
    if let Err(refused) = authorize(&req, &app).await {
        return refused;
    }
    let code = code_of(&req, &path);
    journal::note(&req, |n| {
        if is_valid_number(&code.number) {
            n.key = Some(("attestation".into(), code.number.clone()));
        }
        n.warnings.extend(code.reason.warning().map(str::to_owned));
    });
    let reply = cvec::cnous_attestation(&app, &code).await;
    answer(&req, reply)
}

fn answer(req: &HttpRequest, reply: Result<CnousReply, apogee_domain::Error>) -> HttpResponse {
    match reply {
        Ok(CnousReply::Found { dto, source }) => {
            journal::note(req, |n| {
                n.warnings.push(format!("CVEC_SOURCE:{}", source.as_str()))
            });
            HttpResponse::Ok().json(dto)
        }
        Ok(CnousReply::Error {
            status,
            reason,
            message,
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            error_with(status, &message, Some(&reason))
        }
        Err(e) => error(status_of(e.kind), &e.message),
    }
}
