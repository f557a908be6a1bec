//! Attachments over REST (`/api/v1/opi/{code}/pj…`, PJ-10), the INE check
//! (`/api/v1/ine/{ine}`, INE-13), and the Apogée PJ REST and INES check facades at their
//! configured base paths (PJ-11 … PJ-15, INES-1 … INES-3).

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, bad_request};
use crate::journal::note;
use crate::pj::facade::{self, FacadeError};
use crate::pj::{self, Upload};
use crate::state::AppState;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, guard, web};
use apogee_db::repo::pj::{OpiPjRow, Stored};
use apogee_domain::referential::Value;
use apogee_domain::{Error, FaultKey, Scope};
use serde::Deserialize;
use serde_json::json;
use std::io::Read as _;

/// Routes under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/opi/{code}/pj", web::get().to(list))
        .route("/opi/{code}/pj/{cod_tpj}", web::put().to(put))
        .route("/opi/{code}/pj/{cod_tpj}", web::get().to(download))
        .route("/opi/{code}/pj/{cod_tpj}", web::delete().to(delete))
        .route("/ine/{ine}", web::get().to(ine))
        .route(
            "/etudiants/{cod_etu}/pj/{cod_anu}/{cod_tpj}",
            web::put().to(put_student_piece),
        );
}

/// The facade endpoints, below their configured base paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Info,
    Fichier,
    CheckIne,
    Version,
}

const ENDPOINTS: [(Endpoint, &str); 4] = [
    (Endpoint::Info, "/info"),
    (Endpoint::Fichier, "/fichier"),
    (Endpoint::CheckIne, "/v1/check-ine"),
    (Endpoint::Version, "/version"),
];

fn endpoint_of(state: &AppState, path: &str) -> Option<Endpoint> {
    let s = &state.settings.pj;
    ENDPOINTS.iter().find_map(|(e, suffix)| {
        let base = match e {
            Endpoint::Info | Endpoint::Fichier => &s.pj_facade_base,
            Endpoint::CheckIne | Endpoint::Version => &s.ines_facade_base,
        };
        path.strip_prefix(base.as_str())
            .is_some_and(|rest| rest == *suffix)
            .then_some(*e)
    })
}

/// Routes outside `/api/v1`: the facades. Their base paths come from the settings, so each
/// resource matches any prefix and a guard keeps only the configured one.
pub fn configure_root(cfg: &mut web::ServiceConfig) {
    for (endpoint, suffix) in ENDPOINTS {
        let method = match endpoint {
            Endpoint::CheckIne => Method::POST,
            _ => Method::GET,
        };
        cfg.service(
            web::resource(format!("/{{base:.+}}{suffix}"))
                .guard(guard::fn_guard(move |ctx| {
                    ctx.app_data::<web::Data<AppState>>()
                        .and_then(|s| endpoint_of(s, ctx.head().uri.path()))
                        == Some(endpoint)
                }))
                .app_data(web::PayloadConfig::default().limit(64 * 1024))
                .route(web::method(method).to(facade_call))
                .default_service(web::to(facade_method_not_allowed)),
        );
    }
}

async fn facade_method_not_allowed() -> HttpResponse {
    FacadeError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        kind: "inputparameter.method".into(),
        message: "Méthode non autorisée".into(),
        description: "Méthode HTTP non prise en charge par ce service".into(),
    }
    .response()
}

async fn facade_call(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let result = match endpoint_of(&state, req.path()) {
        Some(Endpoint::Info) => facade_info(&req, &state).await,
        Some(Endpoint::Fichier) => facade_fichier(&req, &state).await,
        Some(Endpoint::CheckIne) => facade_check_ine(&req, &state, &body).await,
        Some(Endpoint::Version) => Ok(HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(facade::version())),
        None => Err(FacadeError::internal("service inconnu")),
    };
    result.unwrap_or_else(|e| e.response())
}

async fn facade_info(req: &HttpRequest, state: &AppState) -> Result<HttpResponse, FacadeError> {
    facade::authorize(req, state, Some(Scope::PjRead)).await?;
    let q = facade::query(req)?;
    let list = facade::info(state, &q).await?;
    Ok(HttpResponse::Ok().json(list))
}

async fn facade_fichier(req: &HttpRequest, state: &AppState) -> Result<HttpResponse, FacadeError> {
    facade::authorize(req, state, Some(Scope::PjRead)).await?;
    let q = facade::query(req)?;
    let (name, _, file) = facade::fichier(state, &q).await?;
    let len = file.metadata().map(|m| m.len()).unwrap_or_default();
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((header::CONTENT_DISPOSITION, content_disposition(&name)))
        .no_chunking(len)
        .streaming(file_stream(file)))
}

async fn facade_check_ine(
    req: &HttpRequest,
    state: &AppState,
    body: &[u8],
) -> Result<HttpResponse, FacadeError> {
    facade::authorize(req, state, None).await?;
    let valid = facade::check_ine(state, body)?;
    Ok(HttpResponse::Ok().json(valid))
}

/// `Content-Disposition: attachment` with an ASCII `filename` and, when needed, the exact name
/// in `filename*` (RFC 6266 / RFC 8187).
fn content_disposition(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();
    let mut value = format!("attachment; filename=\"{ascii}\"");
    if ascii != name {
        let mut encoded = String::new();
        for b in name.bytes() {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                encoded.push(char::from(b));
            } else {
                encoded.push_str(&format!("%{b:02X}"));
            }
        }
        value.push_str(&format!("; filename*=UTF-8''{encoded}"));
    }
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// A file read in chunks on blocking threads.
fn file_stream(
    file: std::fs::File,
) -> impl futures_util::Stream<Item = Result<web::Bytes, std::io::Error>> {
    futures_util::stream::unfold(Some(file), |state| async move {
        let mut file = state?;
        let read = web::block(move || -> std::io::Result<_> {
            let mut buf = vec![0; 256 * 1024];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok((file, buf))
        })
        .await;
        match read {
            Ok(Ok((_, buf))) if buf.is_empty() => None,
            Ok(Ok((file, buf))) => Some((Ok(web::Bytes::from(buf)), Some(file))),
            Ok(Err(e)) => Some((Err(e), None)),
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
        }
    })
}

fn timestamp(t: chrono::NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn piece_json(state: &AppState, row: &OpiPjRow) -> serde_json::Value {
    let lib_tpj = state
        .referential()
        .get("types-pj", &[&row.cod_tpj])
        .and_then(|r| r.get("libTpj"))
        .and_then(Value::as_text);
    json!({
        "codTpj": row.cod_tpj, "libTpj": lib_tpj, "nomFic": row.nom_fic,
        "sizeBytes": row.size_bytes, "sha256": row.sha256, "mediaType": row.media_type,
        "receivedAt": timestamp(row.received_at), "createdAt": timestamp(row.created_at),
        "updatedAt": timestamp(row.updated_at),
    })
}

#[utoipa::path(get, path = "/api/v1/opi/{code}/pj", tag = "pj", params(("code" = String, Path, description = "codOpiIntEpo or an alias")), responses((status = 200, description = "The pieces: codTpj, libTpj, nomFic, sizeBytes, sha256, mediaType, receivedAt, createdAt, updatedAt", body = Object), (status = 404, description = "Unknown OPI", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `GET /api/v1/opi/{code}/pj`: the pieces of an OPI.
pub async fn list(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::PjRead)?;
    let code = path.into_inner();
    note(&req, |n| {
        n.key = Some(("codOpiIntEpo".into(), code.clone()))
    });
    let (opi, pieces) = pj::list(&state, &code).await?;
    let items: Vec<_> = pieces.iter().map(|p| piece_json(&state, p)).collect();
    Ok(HttpResponse::Ok().json(json!({
        "codOpiIntEpo": opi.cod_opi_int_epo, "codIndOpi": opi.cod_ind_opi,
        "pjs": items, "meta": {"total": items.len()},
    })))
}

/// Query of `PUT /api/v1/opi/{code}/pj/{codTpj}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutQuery {
    /// The file name (else the multipart file name or the `Content-Disposition` one).
    pub nom_fic: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/opi/{code}/pj/{codTpj}", tag = "pj", params(("code" = String, Path, description = "codOpiIntEpo or an alias"), ("codTpj" = String, Path, description = "PJ type, in service"), ("nomFic" = Option<String>, Query, description = "File name (else Content-Disposition, or the multipart file name)")), request_body(content = Vec<u8>, description = "The file (PDF, JPEG or PNG, recognised from the bytes), raw or as multipart/form-data part `fichier`", content_type = "application/octet-stream"), responses((status = 201, description = "PJ_CREEE: the piece", body = Object), (status = 200, description = "PJ_REMPLACEE or PJ_INCHANGEE: the piece", body = Object), (status = 404, description = "Unknown OPI", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 413, description = "File over pj.max_bytes", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 415, description = "Content type not accepted", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `PUT /api/v1/opi/{code}/pj/{codTpj}`: the file as the raw body (name in `?nomFic=` or
/// `Content-Disposition`) or as `multipart/form-data` (part `fichier`, or the first file).
pub async fn put(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: web::Query<PutQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::PjWrite)?;
    let (code, cod_tpj) = path.into_inner();
    note(&req, |n| {
        n.key = Some(("codOpiIntEpo".into(), code.clone()))
    });
    // Refuse early what needs no body: unknown OPI or PJ type.
    pj::list(&state, &code).await?;
    apogee_domain::pj::check_type(&state.referential(), &cod_tpj)?;
    let (staged, sent_name) = receive(&req, &state, payload)
        .await
        .map_err(pj::rest_kind)?;
    let nom_fic = query
        .into_inner()
        .nom_fic
        .or(sent_name)
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| {
            ApiError(Error::invalid_field(
                FaultKey::mandatory("nomFic"),
                "CHAMP_OBLIGATOIRE",
                "nomFic",
                "nomFic est obligatoire (?nomFic=, Content-Disposition ou nom du fichier envoyé)",
            ))
        })?;
    let up = Upload {
        code,
        cod_tpj,
        nom_fic,
        identity: None,
    };
    let done = pj::upload(&state, &caller.name, up, staged)
        .await
        .map_err(pj::rest_kind)?;
    note(&req, |n| {
        n.key = Some(("codOpiIntEpo".into(), done.row.cod_opi_int_epo.clone()));
        n.warnings = vec![done.outcome.code().to_owned()];
    });
    let mut body = piece_json(&state, &done.row);
    body["outcome"] = json!(done.outcome.code());
    body["codOpiIntEpo"] = json!(done.row.cod_opi_int_epo);
    Ok(match done.outcome {
        Stored::Created => HttpResponse::Created().json(body),
        _ => HttpResponse::Ok().json(body),
    })
}

/// The uploaded file (staged) and the name it came with, from a raw or multipart body.
async fn receive(
    req: &HttpRequest,
    state: &AppState,
    payload: web::Payload,
) -> Result<(pj::Staged, Option<String>), Error> {
    use futures_util::StreamExt;
    let content_type = super::content_type(req);
    if !content_type.starts_with("multipart/form-data") {
        let name = req
            .headers()
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| header::ContentDisposition::from_raw(v).ok())
            .and_then(|cd| {
                cd.get_filename_ext()
                    .map(|e| String::from_utf8_lossy(&e.value).into_owned())
                    .or_else(|| cd.get_filename().map(str::to_owned))
            });
        return Ok((pj::stage_stream(state, payload).await?, name));
    }
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload);
    let mut staged = None;
    let mut name_field = None;
    while let Some(field) = multipart.next().await {
        let mut field =
            field.map_err(|e| bad_request("body", format!("multipart illisible : {e}")).0)?;
        let field_name = field.name().unwrap_or_default().to_owned();
        let file_name = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_owned);
        if staged.is_none()
            && (file_name.is_some() || matches!(field_name.as_str(), "fichier" | "file" | "pj"))
        {
            staged = Some((pj::stage_stream(state, &mut field).await?, file_name));
        } else if field_name == "nomFic" {
            let mut text = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk
                    .map_err(|e| bad_request("body", format!("multipart illisible : {e}")).0)?;
                if text.len() + chunk.len() > 4096 {
                    return Err(bad_request("nomFic", "nomFic trop long").0);
                }
                text.extend_from_slice(&chunk);
            }
            name_field = Some(String::from_utf8_lossy(&text).into_owned());
        } else {
            while let Some(chunk) = field.next().await {
                chunk.map_err(|e| bad_request("body", format!("multipart illisible : {e}")).0)?;
            }
        }
    }
    let (staged, file_name) = staged.ok_or_else(|| {
        Error::invalid_field(
            FaultKey::mandatory("pj"),
            "CHAMP_OBLIGATOIRE",
            "pj",
            "Aucun fichier dans le corps multipart (partie « fichier »)",
        )
    })?;
    Ok((staged, name_field.or(file_name)))
}

#[utoipa::path(get, path = "/api/v1/opi/{code}/pj/{codTpj}", tag = "pj", params(("code" = String, Path, description = "codOpiIntEpo or an alias"), ("codTpj" = String, Path)), responses((status = 200, description = "The file, with ETag (its SHA-256) and Content-Disposition", body = Vec<u8>, content_type = "application/octet-stream"), (status = 304, description = "If-None-Match matched"), (status = 404, description = "Unknown OPI or piece", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `GET /api/v1/opi/{code}/pj/{codTpj}`: the file, with `ETag` (its SHA-256) and
/// `Content-Disposition`.
pub async fn download(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::PjRead)?;
    let (code, cod_tpj) = path.into_inner();
    note(&req, |n| {
        n.key = Some(("codOpiIntEpo".into(), code.clone()))
    });
    let (row, file) = pj::open(&state, &code, &cod_tpj).await?;
    let etag = format!("\"{}\"", row.sha256);
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .insert_header(("X-Content-Type-Options", "nosniff"));
    if matches {
        return Ok(res.finish());
    }
    Ok(res
        .content_type(row.media_type.as_str())
        .insert_header((
            header::CONTENT_DISPOSITION,
            content_disposition(&row.nom_fic),
        ))
        .no_chunking(u64::try_from(row.size_bytes).unwrap_or_default())
        .streaming(file_stream(file)))
}

#[utoipa::path(delete, path = "/api/v1/opi/{code}/pj/{codTpj}", tag = "pj", params(("code" = String, Path, description = "codOpiIntEpo or an alias"), ("codTpj" = String, Path)), responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown OPI or piece", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `DELETE /api/v1/opi/{code}/pj/{codTpj}`: 204, or 404 without such a piece.
pub async fn delete(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::PjWrite)?;
    let (code, cod_tpj) = path.into_inner();
    note(&req, |n| {
        n.key = Some(("codOpiIntEpo".into(), code.clone()))
    });
    pj::delete(&state, &code, &cod_tpj).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/v1/ine/{ine}", tag = "pj", params(("ine" = String, Path, description = "INE, any case and white space")), responses((status = 200, description = "{valid: true|false|remote, family, normalized, reason} (INE-1 … INE-9)", body = Object), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `GET /api/v1/ine/{ine}`: the offline verdict of INE-1 … INE-9 (`valid` is `true`, `false` or
/// `remote`). The INE is never logged nor journaled.
pub async fn ine(_caller: Caller, path: web::Path<String>) -> HttpResponse {
    let checked = apogee_domain::ine::check(&path.into_inner());
    HttpResponse::Ok().json(json!({
        "valid": checked.valid.as_str(),
        "family": checked.family.as_str(),
        "normalized": checked.normalized,
        "reason": checked.reason.as_str(),
    }))
}

/// Query of `PUT /api/v1/etudiants/{codEtu}/pj/{codAnu}/{codTpj}`.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StudentPieceQuery {
    /// File name (else `Content-Disposition`).
    pub nom_fic: Option<String>,
    /// Status: `V` validée (default), `A` en attente, `R` refusée (PJ-12).
    pub stu_pj: Option<String>,
    /// Refusal motive.
    pub mtf_refus: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/etudiants/{codEtu}/pj/{codAnu}/{codTpj}", tag = "pj", params(("codEtu" = i64, Path, description = "Student number"), ("codAnu" = String, Path, description = "Academic year"), ("codTpj" = String, Path, description = "PJ type"), ("nomFic" = Option<String>, Query), ("stuPj" = Option<String>, Query, description = "V (default), A or R"), ("mtfRefus" = Option<String>, Query)), request_body(content = Vec<u8>, description = "The file (PDF, JPEG or PNG)", content_type = "application/octet-stream"), responses((status = 204, description = "Stored: served by the Apogée PJ REST facade"), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `PUT /api/v1/etudiants/{codEtu}/pj/{codAnu}/{codTpj}`: loads a piece a student supplied at
/// enrolment (`TELEM_IAA_TPJ`), which the Apogée PJ REST facade then serves (PJ-11 … PJ-13).
pub async fn put_student_piece(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(i64, String, String)>,
    query: web::Query<StudentPieceQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::PjWrite)?;
    let (cod_etu, cod_anu, cod_tpj) = path.into_inner();
    crate::journal::note(&req, |n| {
        n.key = Some(("codEtu".into(), cod_etu.to_string()))
    });
    if !(1..=99_999_999).contains(&cod_etu)
        || cod_anu.len() != 4
        || !cod_anu.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad_request(
            "codEtu",
            "codEtu (1 à 99999999) et codAnu (AAAA) attendus",
        ));
    }
    let referential = state.referential();
    let lib_tpj = referential
        .get("types-pj", &[&cod_tpj])
        .and_then(|r| r.get("libTpj"))
        .and_then(apogee_domain::referential::Value::as_text);
    if lib_tpj.is_none() {
        return Err(ApiError(Error::not_found(
            apogee_domain::FaultKey::null_retrieve("codTpj"),
            format!("Type de pièce inconnu : {cod_tpj}"),
        )));
    }
    let stu_pj = query.stu_pj.clone().unwrap_or_else(|| "V".into());
    if !matches!(stu_pj.as_str(), "V" | "A" | "R") {
        return Err(bad_request("stuPj", "stuPj : V, A ou R"));
    }
    let (staged, sent_name) = receive(&req, &state, payload).await.map_err(ApiError)?;
    let nom_fic = query
        .nom_fic
        .clone()
        .or(sent_name)
        .map(|n| apogee_domain::pj::sanitize_file_name(&n))
        .transpose()?;
    let settings = &state.settings.pj;
    apogee_domain::pj::check_content(
        staged.size,
        &staged.head,
        nom_fic.as_deref().unwrap_or(""),
        settings.max_bytes,
        &settings.media_types(),
    )
    .map_err(pj::rest_kind)?;
    let now = chrono::Utc::now().naive_utc();
    let row = apogee_db::repo::pj::StudentPieceRow {
        cod_anu,
        cod_etu,
        cod_tpj,
        lib_tpj,
        nom_fic,
        tem_dem_pj: "O".into(),
        stu_pj: Some(stu_pj.clone()),
        mtf_refus: query.mtf_refus.clone(),
        cmt_mtf_refus: None,
        dat_dem_pj: Some(now),
        dat_rec_pj: Some(now),
        dat_refus: (stu_pj == "R").then_some(now),
        dat_val: (stu_pj == "V").then_some(now),
        dat_exp: None,
        daa_pre_tra: None,
        storage_key: None,
        size_bytes: None,
        media_type: None,
        sha256: None,
        created_at: now,
        updated_at: now,
        created_by: Some(caller.name.clone()),
        last_trace_id: crate::error::current_request_id(),
    };
    pj::store_student_piece(&state, row, Some(staged)).await?;
    Ok(HttpResponse::NoContent().finish())
}
