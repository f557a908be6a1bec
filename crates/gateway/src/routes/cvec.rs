//! CVEC routes: the CNOUS-compatible `GET /api/attestation/{code}` (its contract, not ours:
//! `CertificateDto` / `CertificateErrorDto` bodies, open unless configured), and under `/api/v1`
//! the enrolment check, the attestation register and the stored checks.

use super::{ListMeta, Page};
use crate::auth::Caller;
use crate::cvec::{CheckRequest, CnousReply, RegisterFormat};
use crate::error::{ApiError, ApiResult, FaultNote, bad_request};
use crate::journal::note;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_db::DbError;
use apogee_db::repo::cvec::{self as repo, AttestationFilter, CheckFilter};
use apogee_domain::cvec::check::Finding;
use apogee_domain::cvec::dto::{CertificateErrorDto, MISSING_CODE_MESSAGE};
use apogee_domain::journal::Outcome;
use apogee_domain::{Error, ErrorKind, FaultKey, Scope};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

/// Routes under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/cvec/check", web::post().to(check))
        .route("/cvec/checks", web::get().to(checks))
        .route("/cvec/attestations", web::get().to(attestations))
        .route("/cvec/attestations", web::put().to(load));
}

/// Routes outside `/api/v1` (the CNOUS-compatible `/api/attestation/{code}`).
pub fn configure_root(cfg: &mut web::ServiceConfig) {
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

/// A `CertificateErrorDto` response. The `FaultNote` keeps the framework's error handler away
/// and gives the journal its fault key and message.
pub fn cnous_error(status: StatusCode, message: &str) -> HttpResponse {
    cnous_error_with(status, message, None)
}

fn cnous_error_with(status: StatusCode, message: &str, reason: Option<&Finding>) -> HttpResponse {
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
            crate::cvec::fault_key_for(&r.code).to_string(),
            format!("{} : {}", r.code, r.message),
        ),
        None => (
            FaultKey::noncoherent("requete").to_string(),
            message.to_owned(),
        ),
    };
    res.extensions_mut()
        .insert(FaultNote { fault_key, message });
    res
}

/// `/api/attestation` and `/api/attestation/` (any method): 404, code missing (CVEC-1).
pub async fn missing_code(req: HttpRequest) -> HttpResponse {
    note(&req, |n| {
        n.operation = Some("GET /api/attestation/{code}".into())
    });
    cnous_error_with(
        StatusCode::NOT_FOUND,
        MISSING_CODE_MESSAGE,
        Some(&Finding::new(
            "CVEC_CODE_EMPTY",
            "Code d'attestation CVEC absent",
        )),
    )
}

async fn method_not_allowed() -> HttpResponse {
    let mut res = cnous_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "Méthode non autorisée : GET attendu",
    );
    res.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET"));
    res
}

#[utoipa::path(get, path = "/api/attestation/{code}", tag = "cvec", security(()), params(("code" = String, Path, description = "Attestation number followed by the first five letters of the surname"), ("etudiant" = Option<String>, Query, description = "Surname letters, when the path carries the number only")), responses((status = 200, description = "CNOUS CertificateDto", body = Object), (status = 400, description = "Attestation not found or malformed code (CNOUS CertificateErrorDto)", body = Object), (status = 404, description = "Missing code (CNOUS CertificateErrorDto)", body = Object), (status = 503, description = "Upstream unavailable (CNOUS CertificateErrorDto)", body = Object)))]
/// `GET /api/attestation/{code}[?etudiant=<letters>]` (CVEC-1, CVEC-3, CVEC-6, CVEC-7).
pub async fn attestation(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    note(&req, |n| {
        n.operation = Some("GET /api/attestation/{code}".into())
    });
    if state.settings.cvec.require_bearer_on_cnous_api {
        let allowed = match crate::auth::authenticate(&req, &state).await {
            Ok(caller) => caller.require(Scope::CvecRead),
            Err(e) => Err(e),
        };
        if let Err(ApiError(e)) = allowed {
            let status = StatusCode::from_u16(e.kind.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return cnous_error(status, &e.message);
        }
    }
    let query = web::Query::<HashMap<String, String>>::from_query(req.query_string()).ok();
    let raw = path.into_inner();
    let code = match query.as_ref().and_then(|q| q.get("etudiant")) {
        Some(letters) => apogee_domain::cvec::parse_parts(&raw, letters),
        None => apogee_domain::cvec::parse(&raw),
    };
    note(&req, |n| {
        if apogee_domain::cvec::is_valid_number(&code.number) {
            n.key = Some(("attestation".into(), code.number.clone()));
        }
        n.warnings.extend(code.reason.warning().map(str::to_owned));
    });
    match crate::cvec::cnous_attestation(&state, &code).await {
        Ok(CnousReply::Found { dto, source }) => {
            note(&req, |n| {
                n.warnings.push(format!("CVEC_SOURCE:{}", source.as_str()))
            });
            HttpResponse::Ok().json(dto)
        }
        Ok(CnousReply::Error {
            status,
            reason,
            message,
        }) => cnous_error_with(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            &message,
            Some(&reason),
        ),
        Err(e) => {
            let status = StatusCode::from_u16(e.kind.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            cnous_error(status, &e.message)
        }
    }
}

#[utoipa::path(post, path = "/api/v1/cvec/check", tag = "cvec", request_body(content = Object, description = "code (or number + surname), ine, names, birth date, year"), responses((status = 200, description = "Result (VALIDE, INVALIDE, NON_VERIFIEE, NON_REQUISE), reasons, exoneration, source", body = Object), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `POST /api/v1/cvec/check` (scope `cvec:read`): the enrolment check (CVEC-11), stored and
/// journaled.
pub async fn check(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<CheckRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::CvecRead)?;
    let answer = crate::cvec::check(&state, body.into_inner(), &caller.name).await?;
    let journal = answer.journal();
    note(&req, |n| {
        n.key = journal.number.map(|v| ("attestation".into(), v));
        n.outcome = Some(journal.outcome);
        n.fault = journal.fault;
        n.warnings = journal.warnings;
    });
    Ok(HttpResponse::Ok().json(answer))
}

/// Query of `PUT /api/v1/cvec/attestations`.
#[derive(Debug, Deserialize)]
pub struct LoadQuery {
    /// Write the valid lines even when some are refused.
    #[serde(default)]
    pub partial: bool,
}

#[utoipa::path(put, path = "/api/v1/cvec/attestations", tag = "cvec", request_body(content = String, description = "CSV or NDJSON", content_type = "text/csv"), responses((status = 200, description = "Per-line report", body = Object), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `PUT /api/v1/cvec/attestations[?partial=true]` (scope `admin`): CSV (`text/csv`) or NDJSON
/// (`application/x-ndjson`; `application/json` takes NDJSON or an array), upsert by campaign and
/// number, per-line report.
pub async fn load(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<LoadQuery>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::Admin)?;
    let content_type = super::content_type(&req);
    let format = if content_type.starts_with("text/csv") || content_type.starts_with("text/plain") {
        RegisterFormat::Csv
    } else if [
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/json",
    ]
    .iter()
    .any(|t| content_type.starts_with(t))
    {
        RegisterFormat::Json
    } else {
        return Err(ApiError(Error::new(
            ErrorKind::UnsupportedMediaType,
            FaultKey::noncoherent("contentType"),
            "Type de contenu attendu : text/csv, application/x-ndjson ou application/json",
        )));
    };
    note(&req, |n| {
        n.key = Some(("table".into(), "cvec-attestations".into()))
    });
    let report =
        crate::cvec::load_register(&state, format, body, query.partial, &caller.name).await?;
    if report.rejected > 0 {
        note(&req, |n| {
            n.outcome = Some(Outcome::Rejected);
            n.warnings
                .push(format!("LIGNES_REJETEES:{}", report.rejected));
        });
    }
    Ok(HttpResponse::Ok().json(report))
}

/// Query of `GET /api/v1/cvec/attestations`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationsQuery {
    /// Campaign.
    pub cod_anu: Option<String>,
    /// Attestation number (normalised before comparison).
    pub num_attestation: Option<String>,
    /// INE (normalised before comparison).
    pub ine: Option<String>,
    /// Page size.
    pub limit: Option<i64>,
    /// Rows skipped.
    pub offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/cvec/attestations", tag = "cvec", responses((status = 200, description = "Attestation register", body = Object), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `GET /api/v1/cvec/attestations?codAnu=&numAttestation=&ine=` (scope `cvec:read`).
pub async fn attestations(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<AttestationsQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::CvecRead)?;
    let q = query.into_inner();
    let filter = AttestationFilter {
        cod_anu: q.cod_anu,
        num_attestation: q
            .num_attestation
            .as_deref()
            .map(apogee_domain::cvec::normalize),
        ine: q.ine.as_deref().map(apogee_domain::ine::normalize),
    };
    let (limit, offset) = Page {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve();
    let (rows, total) = state
        .db
        .read(move |c| repo::list(c, &filter, limit, offset).map_err(DbError::from))
        .await?;
    let items: Vec<_> = rows
        .iter()
        .map(|r| {
            let a = r.to_domain();
            let (created_at, updated_at) = r.timestamps();
            let mut item = json!({"codAnu": a.cod_anu, "numAttestation": a.num_attestation, "nomUsage": a.nom_usage});
            if let (Some(obj), Ok(serde_json::Value::Object(dto))) =
                (item.as_object_mut(), serde_json::to_value(a.to_certificate()))
            {
                obj.extend(dto);
                obj.insert("etatValide".into(), json!(apogee_domain::cvec::is_valid_state(&a.etat_code)));
                obj.insert("createdAt".into(), json!(created_at));
                obj.insert("updatedAt".into(), json!(updated_at));
            }
            item
        })
        .collect();
    Ok(HttpResponse::Ok()
        .json(json!({"attestations": items, "meta": ListMeta { total, limit, offset }})))
}

/// Query of `GET /api/v1/cvec/checks`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChecksQuery {
    /// Enrolment year.
    pub cod_anu: Option<String>,
    /// Attestation number.
    pub num_attestation: Option<String>,
    /// Person's INE.
    pub ine: Option<String>,
    /// `VALIDE`, `INVALIDE`, `NON_VERIFIEE`, `NON_REQUISE`.
    pub result: Option<String>,
    /// First reason (`CVEC_IDENTITE` …).
    pub reason: Option<String>,
    /// `COD_IND`.
    pub cod_ind: Option<i64>,
    /// `COD_IND_OPI`.
    pub cod_ind_opi: Option<i64>,
    /// Page size.
    pub limit: Option<i64>,
    /// Rows skipped.
    pub offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/cvec/checks", tag = "cvec", responses((status = 200, description = "Stored checks", body = Object), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `GET /api/v1/cvec/checks?…` (scope `cvec:read`): stored checks, newest first (CVEC-13,
/// REP-5: the `NON_VERIFIEE` backlog is `?result=NON_VERIFIEE`).
pub async fn checks(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<ChecksQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::CvecRead)?;
    let q = query.into_inner();
    if let Some(r) = &q.result
        && !["VALIDE", "INVALIDE", "NON_VERIFIEE", "NON_REQUISE"].contains(&r.as_str())
    {
        return Err(bad_request(
            "result",
            "result : VALIDE, INVALIDE, NON_VERIFIEE ou NON_REQUISE",
        ));
    }
    let filter = CheckFilter {
        cod_anu: q.cod_anu,
        num_attestation: q
            .num_attestation
            .as_deref()
            .map(apogee_domain::cvec::normalize),
        ine: q.ine.as_deref().map(apogee_domain::ine::normalize),
        result: q.result,
        reason: q.reason,
        cod_ind: q.cod_ind,
        cod_ind_opi: q.cod_ind_opi,
    };
    let (limit, offset) = Page {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve();
    let (rows, total) = state
        .db
        .read(move |c| repo::list_checks(c, &filter, limit, offset).map_err(DbError::from))
        .await?;
    let split = |s: &Option<String>| -> Vec<String> {
        s.as_deref()
            .map(|v| v.split(',').map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let items: Vec<_> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "at": repo::rfc3339(r.created_at), "client": r.created_by, "traceId": r.last_trace_id,
                "codAnu": r.cod_anu, "numAttestation": r.num_attestation, "lettresNom": r.lettres_nom,
                "codInd": r.cod_ind, "codIndOpi": r.cod_ind_opi, "ine": r.ine,
                "result": r.result, "reason": r.reason, "reasons": split(&r.reasons), "warnings": split(&r.warnings),
                "source": r.source, "httpStatus": r.http_status, "etatCode": r.etat_code,
                "exoneration": {"active": r.exoneration_active, "motif": r.exoneration_motif},
                "codCatExoExt": r.cod_cat_exo_ext, "boursier": r.boursier,
            })
        })
        .collect();
    Ok(
        HttpResponse::Ok()
            .json(json!({"checks": items, "meta": ListMeta { total, limit, offset }})),
    )
}
