//! Attachments over REST (`/api/v1/opi/{code}/pj…`, PJ-10) and the student pieces the Apogée PJ
//! facade serves (`/api/v1/etudiants/{codEtu}/pj/…`).

use crate::http::body::{content_disposition, file_stream};
use crate::http::extract::{Caller, content_type};
use crate::http::journal;
use crate::http::openapi::Problems;
use crate::http::problem::{ApiResult, ProblemBody};
use crate::http::reply::created_or_ok;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_app::App;
use apogee_app::pj::{self, OpiPjRow, PieceList, PieceStored, Staged, StudentUpload};
use apogee_domain::{Error, FaultKey, Scope};
use futures_util::StreamExt;
use serde::Deserialize;

#[utoipa::path(get, path = "/api/v1/opi/{code}/pj", tag = "pj", params(("code" = String, Path, description = "codOpiIntEpo or an alias")), responses((status = 200, description = "The pieces", body = PieceList), (status = 404, description = "Unknown OPI", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `GET /api/v1/opi/{code}/pj`: the pieces of an OPI.
pub async fn list(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<String>,
) -> ApiResult<web::Json<PieceList>> {
    caller.require(Scope::PjRead)?;
    journal::key(&req, "codOpiIntEpo", path.as_str());
    Ok(web::Json(pj::pieces(&app, &path).await?))
}

/// Query of `PUT /api/v1/opi/{code}/pj/{codTpj}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutQuery {
    /// The file name (else the multipart file name or the `Content-Disposition` one).
    pub nom_fic: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/opi/{code}/pj/{codTpj}", tag = "pj", params(("code" = String, Path, description = "codOpiIntEpo or an alias"), ("codTpj" = String, Path, description = "PJ type, in service"), ("nomFic" = Option<String>, Query, description = "File name (else Content-Disposition, or the multipart file name)")), request_body(content = Vec<u8>, description = "The file (PDF, JPEG or PNG, recognised from the bytes), raw or as multipart/form-data part `fichier`", content_type = "application/octet-stream"), responses((status = 201, description = "PJ_CREEE: the piece", body = PieceStored), (status = 200, description = "PJ_REMPLACEE or PJ_INCHANGEE: the piece", body = PieceStored), (status = 404, description = "Unknown OPI", body = ProblemBody, content_type = "application/problem+json"), (status = 413, description = "File over pj.max_bytes", body = ProblemBody, content_type = "application/problem+json"), (status = 415, description = "Content type not accepted", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `PUT /api/v1/opi/{code}/pj/{codTpj}`: the file as the raw body (name in `?nomFic=` or
/// `Content-Disposition`) or as `multipart/form-data` (part `fichier`, or the first file).
pub async fn put(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<(String, String)>,
    query: web::Query<PutQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::PjWrite)?;
    let (code, cod_tpj) = path.into_inner();
    journal::key(&req, "codOpiIntEpo", code.as_str());
    pj::check_target(&app, &code, &cod_tpj).await?;
    let (staged, sent_name) = receive(&req, &app, payload).await.map_err(pj::rest_kind)?;
    let name = query.into_inner().nom_fic.or(sent_name);
    let done = pj::put(&app, &caller.call, &code, &cod_tpj, name, staged).await?;
    let (code, outcome) = (done.cod_opi_int_epo.clone(), done.outcome.to_owned());
    journal::note(&req, |n| {
        n.key = Some(("codOpiIntEpo".into(), code));
        n.warnings = vec![outcome];
    });
    Ok(created_or_ok(done.created, done))
}

/// The uploaded file (staged) and the name it came with, from a raw or multipart body.
async fn receive(
    req: &HttpRequest,
    app: &App,
    payload: web::Payload,
) -> Result<(Staged, Option<String>), Error> {
    if !content_type(req).starts_with("multipart/form-data") {
        let name = req
            .headers()
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| header::ContentDisposition::from_raw(v).ok())
            .and_then(|cd| {
                cd.get_filename_ext()
                    .map(|e| String::from_utf8_lossy(&e.value).into_owned())
                    .or_else(|| cd.get_filename().map(str::to_owned))
            });
        return Ok((pj::stage_stream(app, payload).await?, name));
    }
    receive_multipart(actix_multipart::Multipart::new(req.headers(), payload), app).await
}

fn unreadable(e: impl std::fmt::Display) -> Error {
    Error::bad_request("body", format!("multipart illisible : {e}"))
}

/// What a multipart part carries.
enum Part {
    /// A file (with the name it came with).
    File(Option<String>),
    /// The `nomFic` field.
    Name,
    /// Anything else (read and dropped).
    Other,
}

fn part_of(field: &actix_multipart::Field) -> Part {
    let name = field.name().unwrap_or_default();
    let file_name = field
        .content_disposition()
        .and_then(|cd| cd.get_filename())
        .map(str::to_owned);
    if file_name.is_some() || matches!(name, "fichier" | "file" | "pj") {
        Part::File(file_name)
    } else if name == "nomFic" {
        Part::Name
    } else {
        Part::Other
    }
}

/// The first file part (or the part `fichier`, `file`, `pj`) and the `nomFic` field.
async fn receive_multipart(
    mut multipart: actix_multipart::Multipart,
    app: &App,
) -> Result<(Staged, Option<String>), Error> {
    let (mut staged, mut name_field) = (None, None);
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(unreadable)?;
        match part_of(&field) {
            Part::File(name) if staged.is_none() => {
                staged = Some((pj::stage_stream(app, &mut field).await?, name));
            }
            Part::Name => name_field = Some(small_field(&mut field).await?),
            _ => drain(&mut field).await?,
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

async fn small_field(field: &mut actix_multipart::Field) -> Result<String, Error> {
    let mut text = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(unreadable)?;
        if text.len() + chunk.len() > 4096 {
            return Err(Error::bad_request("nomFic", "nomFic trop long"));
        }
        text.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&text).into_owned())
}

async fn drain(field: &mut actix_multipart::Field) -> Result<(), Error> {
    while let Some(chunk) = field.next().await {
        chunk.map_err(unreadable)?;
    }
    Ok(())
}

#[utoipa::path(get, path = "/api/v1/opi/{code}/pj/{codTpj}", tag = "pj", params(("code" = String, Path, description = "codOpiIntEpo or an alias"), ("codTpj" = String, Path)), responses((status = 200, description = "The file, with ETag (its SHA-256) and Content-Disposition", body = Vec<u8>, content_type = "application/octet-stream"), (status = 304, description = "If-None-Match matched"), (status = 404, description = "Unknown OPI or piece", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `GET /api/v1/opi/{code}/pj/{codTpj}`: the file, with `ETag` (its SHA-256) and
/// `Content-Disposition`.
pub async fn download(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::PjRead)?;
    let (code, cod_tpj) = path.into_inner();
    journal::key(&req, "codOpiIntEpo", code.as_str());
    let (row, file) = pj::open(&app, &code, &cod_tpj).await?;
    Ok(file_response(&req, &row, file))
}

/// The file of a piece, or `304` when the client has it (`If-None-Match`).
fn file_response(req: &HttpRequest, row: &OpiPjRow, file: std::fs::File) -> HttpResponse {
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
        return res.finish();
    }
    res.content_type(row.media_type.as_str())
        .insert_header((
            header::CONTENT_DISPOSITION,
            content_disposition(&row.nom_fic),
        ))
        .no_chunking(u64::try_from(row.size_bytes).unwrap_or_default())
        .streaming(file_stream(file))
}

#[utoipa::path(delete, path = "/api/v1/opi/{code}/pj/{codTpj}", tag = "pj", params(("code" = String, Path, description = "codOpiIntEpo or an alias"), ("codTpj" = String, Path)), responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown OPI or piece", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `DELETE /api/v1/opi/{code}/pj/{codTpj}`: 204, or 404 without such a piece.
pub async fn delete(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::PjWrite)?;
    let (code, cod_tpj) = path.into_inner();
    journal::key(&req, "codOpiIntEpo", code.as_str());
    pj::delete(&app, &code, &cod_tpj).await?;
    Ok(HttpResponse::NoContent().finish())
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

#[utoipa::path(put, path = "/api/v1/etudiants/{codEtu}/pj/{codAnu}/{codTpj}", tag = "pj", params(("codEtu" = i64, Path, description = "Student number"), ("codAnu" = String, Path, description = "Academic year"), ("codTpj" = String, Path, description = "PJ type"), ("nomFic" = Option<String>, Query), ("stuPj" = Option<String>, Query, description = "V (default), A or R"), ("mtfRefus" = Option<String>, Query)), request_body(content = Vec<u8>, description = "The file (PDF, JPEG or PNG)", content_type = "application/octet-stream"), responses((status = 204, description = "Stored: served by the Apogée PJ REST facade"), (status = 404, description = "Unknown PJ type", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `PUT /api/v1/etudiants/{codEtu}/pj/{codAnu}/{codTpj}`: loads a piece a student supplied at
/// enrolment (`TELEM_IAA_TPJ`), which the Apogée PJ REST facade then serves (PJ-11 … PJ-13).
pub async fn put_student_piece(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<(i64, String, String)>,
    query: web::Query<StudentPieceQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::PjWrite)?;
    let ((cod_etu, cod_anu, cod_tpj), q) = (path.into_inner(), query.into_inner());
    journal::key(&req, "codEtu", cod_etu.to_string());
    let mut up = StudentUpload {
        cod_etu,
        cod_anu,
        cod_tpj,
        nom_fic: q.nom_fic,
        stu_pj: q.stu_pj,
        mtf_refus: q.mtf_refus,
    };
    pj::check_student_target(&app, &up)?;
    let (staged, sent_name) = receive(&req, &app, payload).await?;
    up.nom_fic = up.nom_fic.or(sent_name);
    pj::put_student_piece(&app, &caller.call, up, staged).await?;
    Ok(HttpResponse::NoContent().finish())
}
