//! `/api/v1/opi`: push (same rules as SOAP), read, search, delete, duplicate suspects.

use super::{ListMeta, Page};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, bad_request};
use crate::journal::note;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_db::DbError;
use apogee_db::repo::opi::{self, OpiSearch};
use apogee_domain::opi::dto::DonneesOpi;
use apogee_domain::{Error, FaultKey, Scope};
use serde::Deserialize;
use serde_json::json;

/// Query of `PUT /api/v1/opi/{codOpiIntEpo}`.
#[derive(Debug, Deserialize)]
pub struct PushQuery {
    /// Store the valid vœux even if some are rejected (reported, never silently).
    #[serde(default)]
    pub partial: bool,
}

fn not_found(code: &str) -> ApiError {
    ApiError(Error::not_found(
        FaultKey::null_retrieve("codOpiIntEpo"),
        format!("Aucune OPI pour le numéro {code}"),
    ))
}

#[utoipa::path(put, path = "/api/v1/opi/{code}", tag = "opi", params(("code" = String, Path, description = "codOpiIntEpo"), ("partial" = Option<bool>, Query, description = "Store the valid vœux and report the rejected ones")), request_body = apogee_domain::opi::dto::DonneesOpi, responses((status = 201, description = "Created", body = crate::opi::PushResponse), (status = 200, description = "Updated (merge and no-op included)", body = crate::opi::PushResponse), (status = 409, description = "Identity conflict (OPI-4, OPI-6)", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `PUT /api/v1/opi/{codOpiIntEpo}[?partial=true]` with the DTO10 JSON body.
pub async fn put(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<PushQuery>,
    body: web::Json<DonneesOpi>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::OpiWrite)?;
    let code = path.into_inner();
    note(&req, |n| {
        n.key = Some(("codOpiIntEpo".into(), code.clone()))
    });
    let mut donnees = body.into_inner();
    let individu = donnees.individu.get_or_insert_with(Default::default);
    match individu.cod_opi_int_epo.as_deref().map(str::trim) {
        None | Some("") => individu.cod_opi_int_epo = Some(code.clone()),
        Some(sent) if sent.eq_ignore_ascii_case(code.trim()) => {}
        Some(sent) => {
            return Err(bad_request(
                "codOpiIntEpo",
                format!("Le code du chemin ({code}) et individu.codOpiIntEpo ({sent}) diffèrent"),
            ));
        }
    }
    let (applied, ine) = crate::opi::push(&state, donnees, query.partial, &caller.name).await?;
    let codes = crate::opi::warning_codes(&applied);
    let created = applied.created;
    note(&req, |n| {
        n.key = Some(("codOpiIntEpo".into(), applied.effective_code.clone()));
        n.warnings = codes;
        if !applied.voeux.rejected.is_empty() {
            n.outcome = Some(apogee_domain::journal::Outcome::Rejected);
        }
    });
    let body = crate::opi::response(applied, ine);
    Ok(if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

#[utoipa::path(get, path = "/api/v1/opi/{code}", tag = "opi", params(("code" = String, Path, description = "codOpiIntEpo or an alias")), responses((status = 200, description = "The stored OPI, DTO shape", body = Object), (status = 404, description = "Unknown OPI", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `GET /api/v1/opi/{code}` (the code may be an alias).
pub async fn get(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::OpiRead)?;
    let code = path.into_inner();
    note(&req, |n| {
        n.key = Some(("codOpiIntEpo".into(), code.clone()))
    });
    let lookup = code.clone();
    let view = state
        .db
        .read(move |c| -> Result<_, DbError> {
            let Some(row) = opi::find_by_code(c, &lookup)? else {
                return Ok(None);
            };
            let cod_ind_opi = row.cod_ind_opi;
            let view = opi::view(c, row)?;
            // OPI-21: the pieces and the laissez-passer of the person come with it.
            let pieces = apogee_db::repo::pj::list(c, cod_ind_opi)?;
            let filter = apogee_db::repo::lp::LpFilter {
                cod_ind_opi: Some(cod_ind_opi),
                typ: Some(apogee_domain::lp::TypLpa::Iaprimo),
                ..Default::default()
            };
            let (lps, _) = apogee_db::repo::lp::list(c, &filter, 1000, 0)?;
            Ok(Some((view, pieces, lps)))
        })
        .await?;
    let (view, pieces, lps) = view.ok_or_else(|| not_found(&code))?;
    let mut body =
        serde_json::to_value(view).map_err(|e| ApiError(Error::internal(e.to_string())))?;
    body["pj"] = pieces
        .iter()
        .map(|p| {
            json!({
                "codTpj": p.cod_tpj, "nomFic": p.nom_fic, "sizeBytes": p.size_bytes,
                "mediaType": p.media_type, "sha256": p.sha256,
                "receivedAt": p.received_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            })
        })
        .collect();
    body["laissezPasser"] =
        serde_json::to_value(lps).map_err(|e| ApiError(Error::internal(e.to_string())))?;
    Ok(HttpResponse::Ok().json(body))
}

/// Query of `GET /api/v1/opi`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchQuery {
    /// INE (normalised before comparison).
    pub ine: Option<String>,
    /// Student number.
    pub cod_etu: Option<i64>,
    /// Birth surname (accents and case ignored).
    pub nom: Option<String>,
    /// First name (accents and case ignored).
    pub prenom: Option<String>,
    /// Birth date, `ddMMyyyy` or `yyyy-MM-dd`.
    pub date_naissance: Option<String>,
    /// Page size.
    pub limit: Option<i64>,
    /// Rows skipped.
    pub offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/opi", tag = "opi", params(("ine" = Option<String>, Query), ("codEtu" = Option<i64>, Query), ("nom" = Option<String>, Query), ("prenom" = Option<String>, Query), ("dateNaissance" = Option<String>, Query, description = "ddMMyyyy or yyyy-MM-dd"), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)), responses((status = 200, description = "Matching OPIs", body = Object), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `GET /api/v1/opi?ine=&codEtu=&nom=&prenom=&dateNaissance=`
pub async fn search(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<SearchQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::OpiRead)?;
    let q = query.into_inner();
    let date = q
        .date_naissance
        .as_deref()
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d, "%d%m%Y")
                .or_else(|_| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d"))
                .map_err(|_| bad_request("dateNaissance", "dateNaissance : JJMMAAAA ou AAAA-MM-JJ"))
        })
        .transpose()?;
    let criteria = OpiSearch {
        ine: q.ine.as_deref().map(apogee_domain::ine::normalize),
        cod_etu: q.cod_etu,
        nom: q.nom.as_deref().map(apogee_domain::text::normalized_name),
        prenom: q
            .prenom
            .as_deref()
            .map(apogee_domain::text::normalized_name),
        date_naissance: date,
    };
    let (limit, offset) = Page {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve();
    let (rows, total) = state
        .db
        .read(move |c| opi::search(c, &criteria, limit, offset).map_err(DbError::from))
        .await?;
    let opis: Vec<_> = rows
        .iter()
        .map(|r| json!({
            "codIndOpi": r.cod_ind_opi, "codOpiIntEpo": r.cod_opi_int_epo, "codEtuOpi": r.cod_etu_opi,
            "ine": r.ine, "libNomPatIndOpi": r.lib_nom_pat_ind_opi, "libPr1IndOpi": r.lib_pr1_ind_opi,
            "dateNaiIndOpi": r.date_nai_ind_opi.format("%d%m%Y").to_string(),
        }))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"opis": opis, "meta": ListMeta { total, limit, offset }})))
}

#[utoipa::path(delete, path = "/api/v1/opi/{code}/voeux", tag = "opi", params(("code" = String, Path)), responses((status = 200, description = "Deleted vœux", body = Object), (status = 404, description = "Unknown OPI", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `DELETE /api/v1/opi/{code}/voeux`: explicit delete-all (replaces OPI-15 b).
pub async fn delete_voeux(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::OpiWrite)?;
    let code = path.into_inner();
    note(&req, |n| {
        n.key = Some(("codOpiIntEpo".into(), code.clone()))
    });
    let lookup = code.clone();
    let deleted = state
        .db
        .write(move |c| -> Result<_, DbError> {
            match opi::find_by_code(c, &lookup)? {
                Some(row) => Ok(Some(opi::delete_voeux(c, row.cod_ind_opi)?)),
                None => Ok(None),
            }
        })
        .await?;
    let deleted = deleted.ok_or_else(|| not_found(&code))?;
    Ok(HttpResponse::Ok().json(json!({"codOpiIntEpo": code, "deleted": deleted})))
}

#[utoipa::path(delete, path = "/api/v1/opi/{code}", tag = "opi", params(("code" = String, Path)), responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown OPI", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `DELETE /api/v1/opi/{code}`: the OPI with its vœux.
pub async fn delete(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::OpiWrite)?;
    let code = path.into_inner();
    note(&req, |n| {
        n.key = Some(("codOpiIntEpo".into(), code.clone()))
    });
    let lookup = code.clone();
    let found = state
        .db
        .write(move |c| -> Result<_, apogee_db::WriteError> {
            match opi::find_by_code(c, &lookup)? {
                Some(row) => {
                    // OPI-21: not while laissez-passer reference it.
                    let lps = apogee_db::repo::lp::count_for_opi(c, row.cod_ind_opi)?;
                    if lps > 0 {
                        return Err(Error::conflict(
                            FaultKey::new("functionnal", "bddrules", "integrite", "laissezPasser"),
                            format!("L'OPI {} porte {lps} laissez-passer : supprimez-les d'abord (DELETE /api/v1/laissez-passer/…)", row.cod_opi_int_epo),
                        )
                        .into());
                    }
                    Ok(opi::delete(c, row.cod_ind_opi)? > 0)
                }
                None => Ok(false),
            }
        })
        .await?;
    if found {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(not_found(&code))
    }
}

#[utoipa::path(get, path = "/api/v1/opi/duplicates", tag = "opi", params(("limit" = Option<i64>, Query)), responses((status = 200, description = "Duplicate suspects", body = Object), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `GET /api/v1/opi/duplicates`: pairs of OPIs sharing an INE, a codEtu or a match key.
pub async fn duplicates(
    caller: Caller,
    state: web::Data<AppState>,
    page: web::Query<Page>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::OpiRead)?;
    let (limit, _) = page.resolve();
    let pairs = state
        .db
        .read(move |c| opi::duplicate_suspects(c, limit).map_err(DbError::from))
        .await?;
    let items: Vec<_> = pairs
        .into_iter()
        .map(|(kind, value, a, b)| {
            let shown = if kind == "matchKey" {
                value.split('|').next_back().unwrap_or_default().to_owned()
            } else {
                value
            };
            json!({"matchedBy": kind, "value": shown, "codOpiIntEpo": [a, b]})
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({"duplicates": items, "meta": {"limit": limit}})))
}

/// Query of `POST /api/v1/opi/batch`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchQuery {
    /// `ndjson`, `pegase` or `parcoursup` (default from the content type).
    pub format: Option<String>,
    /// `partial` (default) or `atomic`.
    pub mode: Option<String>,
    /// Parcoursup: target centre de gestion.
    pub cod_cge: Option<String>,
    /// Parcoursup: target étape.
    pub cod_etp: Option<String>,
    /// Parcoursup: target version d'étape.
    pub cod_vrs_vet: Option<String>,
    /// Parcoursup: prefix of the generated codOpiIntEpo.
    pub prefixe: Option<String>,
}

async fn spool_stream<S, E>(
    mut stream: S,
    limit: usize,
    size: &mut usize,
) -> ApiResult<std::fs::File>
where
    S: futures_util::Stream<Item = Result<web::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    use futures_util::StreamExt;
    use std::io::{Seek, Write};
    let mut file = tempfile::tempfile()
        .map_err(|e| ApiError(Error::internal(format!("fichier temporaire : {e}"))))?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| bad_request("body", format!("Lecture du corps interrompue : {e}")))?;
        *size += chunk.len();
        if *size > limit {
            return Err(ApiError(Error::new(
                apogee_domain::ErrorKind::PayloadTooLarge,
                FaultKey::noncoherent("body"),
                format!("Fichier trop volumineux (maximum {limit} octets)"),
            )));
        }
        file.write_all(&chunk)
            .map_err(|e| ApiError(Error::internal(format!("fichier temporaire : {e}"))))?;
    }
    file.rewind()
        .map_err(|e| ApiError(Error::internal(format!("fichier temporaire : {e}"))))?;
    Ok(file)
}

#[utoipa::path(post, path = "/api/v1/opi/batch", tag = "opi", params(("format" = Option<String>, Query, description = "ndjson, pegase or parcoursup"), ("mode" = Option<String>, Query, description = "partial (default) or atomic"), ("codCge" = Option<String>, Query), ("codEtp" = Option<String>, Query), ("codVrsVet" = Option<String>, Query), ("prefixe" = Option<String>, Query)), request_body(content = String, description = "NDJSON (application/x-ndjson), Pégase multipart (candidat, candidature) or Parcoursup CSV (text/csv)", content_type = "text/csv"), responses((status = 200, description = "Per-line report and summary", body = crate::opi_batch::BatchReport), (status = 413, description = "Upload too large", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
/// `POST /api/v1/opi/batch`: NDJSON (`application/x-ndjson`), Pégase files (`multipart/form-data`
/// with parts `candidat` and `candidature`) or a Parcoursup export (`text/csv`, with `codCge`,
/// `codEtp`, `codVrsVet` and `prefixe`).
pub async fn batch(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<BatchQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    use crate::opi_batch::{self, Format, ParcoursupTarget};
    use futures_util::StreamExt;
    caller.require(Scope::OpiWrite)?;
    let q = query.into_inner();
    let content_type = super::content_type(&req);
    let format = match q.format.as_deref() {
        Some("ndjson") => Format::Ndjson,
        Some("pegase") => Format::Pegase,
        Some("parcoursup") => Format::Parcoursup,
        Some(other) => {
            return Err(bad_request(
                "format",
                format!("Format inconnu : {other} (ndjson, pegase, parcoursup)"),
            ));
        }
        None if content_type.starts_with("multipart/form-data") => Format::Pegase,
        None if content_type.starts_with("text/csv") => Format::Parcoursup,
        None => Format::Ndjson,
    };
    let atomic = super::atomic_mode(q.mode.as_deref())?;
    note(&req, |n| {
        n.key = Some(("batch".into(), format!("{format:?}").to_lowercase()))
    });
    let target = ParcoursupTarget {
        cod_cge: q.cod_cge.unwrap_or_default(),
        cod_etp: q.cod_etp.unwrap_or_default(),
        cod_vrs_vet: q.cod_vrs_vet.unwrap_or_default(),
        prefix: q.prefixe.unwrap_or_default(),
    };
    if format == Format::Parcoursup
        && (target.cod_cge.is_empty() || target.cod_etp.is_empty() || target.cod_vrs_vet.is_empty())
    {
        return Err(bad_request(
            "codCge",
            "Un export Parcoursup ne nomme pas la formation : codCge, codEtp et codVrsVet sont obligatoires",
        ));
    }
    let limit = state.settings.limits.batch_bytes;
    let mut size = 0usize;
    let mut files = std::collections::HashMap::new();
    if format == Format::Pegase {
        let mut multipart = actix_multipart::Multipart::new(req.headers(), payload);
        while let Some(field) = multipart.next().await {
            let field =
                field.map_err(|e| bad_request("body", format!("multipart illisible : {e}")))?;
            let name = field.name().unwrap_or_default().to_ascii_lowercase();
            let file_name = field
                .content_disposition()
                .and_then(|cd| cd.get_filename())
                .unwrap_or_default()
                .to_ascii_lowercase();
            let kind = ["candidature", "candidat"]
                .into_iter()
                .find(|k| name == *k || file_name.starts_with(k));
            let file = spool_stream(field, limit, &mut size).await?;
            if let Some(kind) = kind {
                files.insert(kind.to_owned(), file);
            }
        }
    } else {
        files.insert(
            "body".to_owned(),
            spool_stream(payload, limit, &mut size).await?,
        );
    }
    let referential = state.referential();
    let records =
        web::block(move || opi_batch::read_records(&referential, format, &mut files, &target))
            .await
            .map_err(|e| ApiError(Error::internal(format!("lecture du fichier : {e}"))))??;
    let report = opi_batch::process(&state, format, atomic, &caller.name, records).await?;
    if report.summary.rejected > 0 {
        note(&req, |n| {
            n.outcome = Some(apogee_domain::journal::Outcome::Rejected);
            n.warnings
                .push(format!("LIGNES_REJETEES:{}", report.summary.rejected));
        });
    }
    Ok(HttpResponse::Ok().json(report))
}
