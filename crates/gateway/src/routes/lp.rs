//! `/api/v1/laissez-passer` (LP-10: single PUT, GET, DELETE and a filtered list),
//! `/api/v1/etudiants` (the student register: PUT, GET, search, streamed batch) and
//! `/api/v1/admissions` (LP-15).

use super::{ListMeta, Page};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, bad_request};
use crate::journal::note;
use crate::lp::{BatchFormat, admission_lines, journal_key, outcome_code, warning_codes};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_db::DbError;
use apogee_db::repo::lp::{self as lp_repo, LpFilter, Resolved};
use apogee_db::repo::students;
use apogee_domain::lp::etudiant::{EtudiantDto, cod_etu};
use apogee_domain::lp::{LpParams, LpVersion, TypLpa};
use apogee_domain::text::present;
use apogee_domain::{Error, ErrorKind, FaultKey, Scope};
use serde::Deserialize;
use serde_json::json;

/// Routes under `/api/v1`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let one = "/laissez-passer/{typLpa}/{id}/{codAnu}/{codEtp}/{codVrsVet}";
    cfg.route("/laissez-passer", web::get().to(list))
        .route("/laissez-passer/batch", web::post().to(batch))
        .route("/laissez-passer/batches/{id}", web::get().to(get_batch))
        .route(one, web::put().to(put))
        .route(one, web::get().to(get))
        .route(one, web::delete().to(delete))
        .route("/etudiants", web::get().to(list_students))
        .route("/etudiants/batch", web::post().to(batch_students))
        .route("/etudiants/{codEtu}", web::put().to(put_student))
        .route("/etudiants/{codEtu}", web::get().to(get_student))
        .route("/admissions", web::get().to(admissions))
        .route("/admissions/{key}", web::get().to(admissions_of));
}

/// The path of one LP, checked.
struct LpPath {
    typ: TypLpa,
    id: String,
    cod_anu: String,
    cod_etp: String,
    cod_vrs_vet: i32,
}

fn parse_path(p: (String, String, String, String, String)) -> ApiResult<LpPath> {
    let (typ, id, cod_anu, cod_etp, vet) = p;
    let typ = TypLpa::parse(&typ).ok_or_else(|| {
        ApiError(Error::invalid_field(
            FaultKey::noncoherent("typLpa"),
            "VALEUR_INVALIDE",
            "typLpa",
            format!("Type de laissez-passer « {typ} » inconnu : IAPRIMO ou REINS"),
        ))
    })?;
    let cod_vrs_vet = vet
        .parse::<i32>()
        .ok()
        .filter(|n| (0..=999).contains(n))
        .ok_or_else(|| {
            bad_request(
                "codVrsVet",
                format!("codVrsVet « {vet} » : 1 à 3 chiffres attendus"),
            )
        })?;
    Ok(LpPath {
        typ,
        id,
        cod_anu,
        cod_etp,
        cod_vrs_vet,
    })
}

fn lp_not_found(p: &LpPath) -> ApiError {
    ApiError(Error::not_found(
        FaultKey::null_retrieve("laissezPasser"),
        format!(
            "Aucun laissez-passer {} pour {} {} en {} sur la VET {}/{}",
            p.typ.as_str(),
            p.typ.identifier(),
            p.id,
            p.cod_anu,
            p.cod_etp,
            p.cod_vrs_vet
        ),
    ))
}

fn person_not_found(typ: TypLpa, id: &str) -> ApiError {
    ApiError(match typ {
        TypLpa::Iaprimo => Error::not_found(
            FaultKey::null_retrieve("numOPI"),
            format!("Aucune OPI trouvée pour le numéro {id}"),
        ),
        TypLpa::Reins => Error::not_found(
            FaultKey::null_retrieve("etudiant"),
            format!("Aucun étudiant de numéro {id}"),
        ),
    })
}

/// Puts a path value into the body, refusing a body that names another value.
fn set_key(slot: &mut Option<String>, value: &str, name: &str, ci: bool) -> ApiResult<()> {
    match present(slot.as_deref()) {
        Some(sent)
            if (ci && !sent.eq_ignore_ascii_case(value.trim()))
                || (!ci && sent != value.trim()) =>
        {
            Err(bad_request(
                name,
                format!("{name} du chemin ({value}) et du corps ({sent}) diffèrent"),
            ))
        }
        _ => {
            *slot = Some(value.to_owned());
            Ok(())
        }
    }
}

/// `PUT /api/v1/laissez-passer/{typLpa}/{numOPI|codEtu}/{codAnu}/{codEtp}/{codVrsVet}` with the
/// other attributes as JSON (V2 semantics: an absent attribute clears the stored one).
#[utoipa::path(put, path = "/api/v1/laissez-passer/{typLpa}/{id}/{codAnu}/{codEtp}/{codVrsVet}", tag = "laissez-passer", params(("typLpa" = String, Path, description = "IAPRIMO or REINS"), ("id" = String, Path, description = "numOPI (IAPRIMO) or codEtu (REINS)"), ("codAnu" = String, Path), ("codEtp" = String, Path), ("codVrsVet" = i32, Path)), request_body(content = Object, description = "The other parameters (codDip, codVrsVdi, codRgi, codStu, libCmtLpa, codCatOuiSi, mtfCat, codCatExoExt); an absent one clears the stored value"), responses((status = 201, description = "Created", body = Object), (status = 200, description = "Updated or unchanged", body = Object), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
pub async fn put(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String, String, String)>,
    body: web::Json<LpParams>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::LpWrite)?;
    let (typ, id, anu, etp, vet) = path.into_inner();
    let mut params = body.into_inner();
    set_key(&mut params.typ_lpa, &typ, "typLpa", true)?;
    match TypLpa::parse(&typ) {
        Some(TypLpa::Reins) => set_key(&mut params.cod_etu, &id, "codEtu", false)?,
        _ => set_key(&mut params.num_opi, &id, "numOPI", true)?,
    }
    set_key(&mut params.cod_anu, &anu, "codAnu", false)?;
    set_key(&mut params.cod_etp, &etp, "codEtp", false)?;
    set_key(&mut params.cod_vrs_vet, &vet, "codVrsVet", false)?;
    if let Some(key) = journal_key(&params) {
        note(&req, |n| n.key = Some(key));
    }
    let applied = crate::lp::put(&state, &params, LpVersion::V2, &caller.name).await?;
    let mut codes = warning_codes(&applied);
    codes.push(outcome_code(applied.status).to_owned());
    note(&req, |n| n.warnings = codes);
    let lp = &applied.laissez_passer;
    let body = json!({
        "status": applied.status,
        "traceId": crate::error::current_request_id().unwrap_or_default(),
        "codIndOpi": lp.cod_ind_opi,
        "codInd": lp.cod_ind,
        "warnings": applied.warnings,
        "laissezPasser": lp,
    });
    Ok(if applied.status == "created" {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

async fn find_lp(
    state: &AppState,
    p: &LpPath,
) -> ApiResult<Option<(Resolved, Option<lp_repo::LpView>)>> {
    let (typ, id, anu, etp, vet) = (
        p.typ,
        p.id.clone(),
        p.cod_anu.clone(),
        p.cod_etp.clone(),
        p.cod_vrs_vet,
    );
    Ok(state
        .db
        .read(move |c| -> Result<_, DbError> {
            let Some(person) = lp_repo::resolve(c, typ, &id)? else {
                return Ok(None);
            };
            let row = lp_repo::get(c, typ, person.id(), &anu, &etp, vet)?;
            let view = match row {
                Some(r) => lp_repo::views(c, vec![r])?.into_iter().next(),
                None => None,
            };
            Ok(Some((person, view)))
        })
        .await?)
}

/// `GET /api/v1/laissez-passer/{typLpa}/{numOPI|codEtu}/{codAnu}/{codEtp}/{codVrsVet}`
#[utoipa::path(get, path = "/api/v1/laissez-passer/{typLpa}/{id}/{codAnu}/{codEtp}/{codVrsVet}", tag = "laissez-passer", params(("typLpa" = String, Path, description = "IAPRIMO or REINS"), ("id" = String, Path, description = "numOPI (IAPRIMO) or codEtu (REINS)"), ("codAnu" = String, Path), ("codEtp" = String, Path), ("codVrsVet" = i32, Path)), responses((status = 200, description = "The LP", body = Object), (status = 404, description = "Unknown person or LP", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
pub async fn get(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String, String, String)>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::LpRead)?;
    let p = parse_path(path.into_inner())?;
    note(&req, |n| {
        n.key = Some((p.typ.identifier().into(), p.id.clone()))
    });
    match find_lp(&state, &p).await? {
        None => Err(person_not_found(p.typ, &p.id)),
        Some((_, None)) => Err(lp_not_found(&p)),
        Some((_, Some(view))) => Ok(HttpResponse::Ok().json(view)),
    }
}

/// `DELETE /api/v1/laissez-passer/{typLpa}/{numOPI|codEtu}/{codAnu}/{codEtp}/{codVrsVet}`
/// (Apogée has no deletion operation; LP-10).
#[utoipa::path(delete, path = "/api/v1/laissez-passer/{typLpa}/{id}/{codAnu}/{codEtp}/{codVrsVet}", tag = "laissez-passer", params(("typLpa" = String, Path, description = "IAPRIMO or REINS"), ("id" = String, Path, description = "numOPI (IAPRIMO) or codEtu (REINS)"), ("codAnu" = String, Path), ("codEtp" = String, Path), ("codVrsVet" = i32, Path)), responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown person or LP", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
pub async fn delete(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String, String, String)>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::LpWrite)?;
    let p = parse_path(path.into_inner())?;
    note(&req, |n| {
        n.key = Some((p.typ.identifier().into(), p.id.clone()))
    });
    let (typ, id, anu, etp, vet) = (
        p.typ,
        p.id.clone(),
        p.cod_anu.clone(),
        p.cod_etp.clone(),
        p.cod_vrs_vet,
    );
    let deleted = state
        .db
        .write(move |c| -> Result<_, DbError> {
            match lp_repo::resolve(c, typ, &id)? {
                None => Ok(None),
                Some(person) => Ok(Some(lp_repo::delete(c, typ, person.id(), &anu, &etp, vet)?)),
            }
        })
        .await?;
    match deleted {
        None => Err(person_not_found(p.typ, &p.id)),
        Some(false) => Err(lp_not_found(&p)),
        Some(true) => Ok(HttpResponse::NoContent().finish()),
    }
}

/// Query of `GET /api/v1/laissez-passer`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// `IAPRIMO` or `REINS`.
    pub typ_lpa: Option<String>,
    /// Year.
    pub cod_anu: Option<String>,
    /// OPI number (code or alias).
    #[serde(alias = "numOPI")]
    pub num_opi: Option<String>,
    /// Student number.
    pub cod_etu: Option<String>,
    /// Étape.
    pub cod_etp: Option<String>,
    /// Version d'étape.
    pub cod_vrs_vet: Option<i32>,
    /// Page size.
    pub limit: Option<i64>,
    /// Rows skipped.
    pub offset: Option<i64>,
}

/// `GET /api/v1/laissez-passer?typLpa=&codAnu=&numOpi=&codEtu=&codEtp=&codVrsVet=&limit=&offset=`
#[utoipa::path(get, path = "/api/v1/laissez-passer", tag = "laissez-passer", params(("typLpa" = Option<String>, Query), ("codAnu" = Option<String>, Query), ("numOpi" = Option<String>, Query, description = "OPI code or alias"), ("codEtu" = Option<String>, Query), ("codEtp" = Option<String>, Query), ("codVrsVet" = Option<i32>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)), responses((status = 200, description = "LPs, IAPRIMO then REINS", body = Object), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
pub async fn list(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::LpRead)?;
    let q = query.into_inner();
    let typ =
        match present(q.typ_lpa.as_deref()) {
            None => None,
            Some(t) => Some(TypLpa::parse(t).ok_or_else(|| {
                bad_request("typLpa", format!("typLpa « {t} » : IAPRIMO ou REINS"))
            })?),
        };
    let (limit, offset) = Page {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve();
    let num_opi = present(q.num_opi.as_deref()).map(str::to_owned);
    let etu = present(q.cod_etu.as_deref()).map(str::to_owned);
    let mut filter = LpFilter {
        typ,
        cod_anu: present(q.cod_anu.as_deref()).map(str::to_owned),
        cod_etp: present(q.cod_etp.as_deref()).map(str::to_owned),
        cod_vrs_vet: q.cod_vrs_vet,
        ..LpFilter::default()
    };
    let (rows, total) = state
        .db
        .read(move |c| -> Result<_, DbError> {
            if let Some(code) = &num_opi {
                match lp_repo::resolve(c, TypLpa::Iaprimo, code)? {
                    Some(p) => filter.cod_ind_opi = Some(p.id()),
                    None => return Ok((Vec::new(), 0)),
                }
            }
            if let Some(etu) = &etu {
                match lp_repo::resolve(c, TypLpa::Reins, etu)? {
                    Some(p) => filter.cod_ind = Some(p.id()),
                    None => return Ok((Vec::new(), 0)),
                }
            }
            Ok(lp_repo::list(c, &filter, limit, offset)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "laissezPasser": rows,
        "meta": ListMeta { total, limit, offset },
    })))
}

fn parse_cod_etu(raw: &str) -> ApiResult<i64> {
    cod_etu(raw).ok_or_else(|| {
        ApiError(Error::invalid_field(
            FaultKey::noncoherent("codEtu"),
            "FORMAT",
            "codEtu",
            format!("codEtu « {raw} » : numéro d'étudiant de 1 à 8 chiffres attendu"),
        ))
    })
}

/// `PUT /api/v1/etudiants/{codEtu}` with the student as JSON.
#[utoipa::path(put, path = "/api/v1/etudiants/{codEtu}", tag = "laissez-passer", params(("codEtu" = String, Path)), request_body(content = Object, description = "EtudiantDto: identity, inscriptionsAnnuelles, inscriptionsEtapes, blocages"), responses((status = 201, description = "Created", body = Object), (status = 200, description = "Updated or unchanged", body = Object), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
pub async fn put_student(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<EtudiantDto>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::LpWrite)?;
    let raw = path.into_inner();
    note(&req, |n| n.key = Some(("codEtu".into(), raw.clone())));
    let n = parse_cod_etu(&raw)?;
    let mut dto = body.into_inner();
    match present(dto.cod_etu.as_deref()).map(cod_etu) {
        None => dto.cod_etu = Some(n.to_string()),
        Some(Some(sent)) if sent == n => {}
        Some(_) => {
            return Err(bad_request(
                "codEtu",
                format!("Le codEtu du chemin ({raw}) et celui du corps diffèrent"),
            ));
        }
    }
    let applied = crate::lp::put_student(&state, &dto, &caller.name).await?;
    note(&req, |n| {
        n.warnings = applied.warnings.iter().map(|w| w.code.clone()).collect()
    });
    let body = json!({
        "status": applied.status,
        "codEtu": applied.cod_etu,
        "codInd": applied.cod_ind,
        "warnings": applied.warnings,
        "traceId": crate::error::current_request_id().unwrap_or_default(),
    });
    Ok(if applied.status == "created" {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

/// `GET /api/v1/etudiants/{codEtu}`: identity, enrolments and bans.
#[utoipa::path(get, path = "/api/v1/etudiants/{codEtu}", tag = "laissez-passer", params(("codEtu" = String, Path)), responses((status = 200, description = "The student with enrolments and bans", body = Object), (status = 404, description = "Unknown student", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
pub async fn get_student(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::LpRead)?;
    let raw = path.into_inner();
    note(&req, |n| n.key = Some(("codEtu".into(), raw.clone())));
    let n = parse_cod_etu(&raw)?;
    let view = state
        .db
        .read(move |c| -> Result<_, DbError> {
            match students::find_by_cod_etu(c, n)? {
                Some(row) => Ok(Some(students::view(c, row)?)),
                None => Ok(None),
            }
        })
        .await?;
    view.map(|v| HttpResponse::Ok().json(v))
        .ok_or_else(|| person_not_found(TypLpa::Reins, &raw))
}

/// Query of `GET /api/v1/etudiants`.
#[derive(Debug, Deserialize)]
pub struct StudentsQuery {
    /// INE (normalised before comparison).
    pub ine: Option<String>,
    /// Page size.
    pub limit: Option<i64>,
    /// Rows skipped.
    pub offset: Option<i64>,
}

/// `GET /api/v1/etudiants?ine=&limit=&offset=`
#[utoipa::path(get, path = "/api/v1/etudiants", tag = "laissez-passer", params(("ine" = Option<String>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)), responses((status = 200, description = "Students", body = Object), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
pub async fn list_students(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<StudentsQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::LpRead)?;
    let q = query.into_inner();
    let ine = present(q.ine.as_deref()).map(apogee_domain::ine::normalize);
    let (limit, offset) = Page {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve();
    let (rows, total) = state
        .db
        .read(move |c| -> Result<_, DbError> {
            let (rows, total) = students::list(c, ine.as_deref(), limit, offset)?;
            let views = rows
                .into_iter()
                .map(|r| students::view(c, r))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((views, total))
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "etudiants": rows,
        "meta": ListMeta { total, limit, offset },
    })))
}

/// `POST /api/v1/etudiants/batch`: CSV (`text/csv`) or NDJSON (`application/x-ndjson`),
/// streamed; 200 with the per-line report (valid lines written, invalid ones reported).
#[utoipa::path(post, path = "/api/v1/etudiants/batch", tag = "laissez-passer", request_body(content = String, description = "CSV (codEtu,ine,libNomPatInd,libNomUsuInd,libPr1Ind,dateNaiInd) or NDJSON, streamed", content_type = "text/csv"), responses((status = 200, description = "Per-line report", body = Object), (status = 415, description = "Unsupported media type", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
pub async fn batch_students(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::LpWrite)?;
    let content_type = super::content_type(&req);
    let format = if content_type.starts_with("text/csv") || content_type.starts_with("text/plain") {
        BatchFormat::Csv
    } else if content_type.starts_with("application/x-ndjson")
        || content_type.starts_with("application/ndjson")
        || content_type.starts_with("application/jsonl")
    {
        BatchFormat::Ndjson
    } else {
        return Err(ApiError(Error::new(
            ErrorKind::UnsupportedMediaType,
            FaultKey::noncoherent("contentType"),
            "Type de contenu attendu : text/csv ou application/x-ndjson",
        )));
    };
    let report = crate::lp::students_batch(&state, payload, format, &caller.name).await?;
    if report.rejected > 0 {
        note(&req, |n| {
            n.outcome = Some(apogee_domain::journal::Outcome::Rejected);
            n.warnings
                .push(format!("LIGNES_REJETEES:{}", report.rejected));
        });
    }
    Ok(HttpResponse::Ok().json(report))
}

/// Query of the admissions view.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionsQuery {
    /// Year (default: the current enrolment year).
    pub cod_anu: Option<String>,
    /// Étape.
    pub cod_etp: Option<String>,
    /// Version d'étape.
    pub cod_vrs_vet: Option<i32>,
    /// Page size.
    pub limit: Option<i64>,
    /// Lines skipped.
    pub offset: Option<i64>,
}

fn year_of(q: &AdmissionsQuery, current: Option<&str>) -> ApiResult<String> {
    match present(q.cod_anu.as_deref()) {
        Some(y) if y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()) => Ok(y.to_owned()),
        Some(y) => Err(bad_request(
            "codAnu",
            format!("codAnu « {y} » : année sur 4 chiffres attendue"),
        )),
        None => current.map(str::to_owned).ok_or_else(|| {
            bad_request(
                "codAnu",
                "codAnu est obligatoire : aucune année n'est ouverte aux inscriptions",
            )
        }),
    }
}

/// `GET /api/v1/admissions?codAnu=&codEtp=&codVrsVet=`: per person and VET, the source (LP or
/// vœu), the overridden vœu, the profile with its origin and the blocking reasons (LP-15).
#[utoipa::path(get, path = "/api/v1/admissions", tag = "laissez-passer", params(("codAnu" = Option<String>, Query, description = "default: the current year"), ("codEtp" = Option<String>, Query), ("codVrsVet" = Option<i32>, Query), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)), responses((status = 200, description = "One line per person and VET (LP-15)", body = Object), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
pub async fn admissions(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<AdmissionsQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::LpRead)?;
    let q = query.into_inner();
    let referential = state.referential();
    let current = referential.current_year();
    let cod_anu = year_of(&q, current.as_deref())?;
    let (limit, offset) = Page {
        limit: q.limit,
        offset: q.offset,
    }
    .resolve();
    let (anu, etp, vet) = (
        cod_anu.clone(),
        present(q.cod_etp.as_deref()).map(str::to_owned),
        q.cod_vrs_vet,
    );
    let (persons, total) = state
        .db
        .read(move |c| {
            lp_repo::admissions(
                c,
                &anu,
                current.as_deref(),
                etp.as_deref(),
                vet,
                limit,
                offset,
            )
            .map_err(DbError::from)
        })
        .await?;
    let lines = admission_lines(&referential, &cod_anu, persons);
    Ok(HttpResponse::Ok().json(json!({
        "admissions": lines,
        "meta": {"total": total, "limit": limit, "offset": offset, "codAnu": cod_anu},
    })))
}

/// `GET /api/v1/admissions/{key}?codAnu=`: the admissions of the persons an INE, an OPI code or
/// a student number designates.
#[utoipa::path(get, path = "/api/v1/admissions/{key}", tag = "laissez-passer", params(("key" = String, Path, description = "INE, OPI code or codEtu"), ("codAnu" = Option<String>, Query)), responses((status = 200, description = "The lines of the persons the key designates", body = Object), (status = 404, description = "Nobody matches", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 400, description = "Invalid request", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
pub async fn admissions_of(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<AdmissionsQuery>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::LpRead)?;
    let key = path.into_inner();
    note(&req, |n| n.key = Some(("admission".into(), key.clone())));
    let q = query.into_inner();
    let referential = state.referential();
    let current = referential.current_year();
    let cod_anu = year_of(&q, current.as_deref())?;
    let (anu, lookup, etp, vet) = (
        cod_anu.clone(),
        key.trim().to_owned(),
        present(q.cod_etp.as_deref()).map(str::to_owned),
        q.cod_vrs_vet,
    );
    let persons = state
        .db
        .read(move |c| -> Result<_, DbError> {
            let mut out = Vec::new();
            for p in lp_repo::persons_by_key(c, &lookup)? {
                out.push(lp_repo::admission_person(
                    c,
                    p,
                    &anu,
                    current.as_deref(),
                    (etp.as_deref(), vet),
                )?);
            }
            Ok(out)
        })
        .await?;
    if persons.is_empty() {
        return Err(ApiError(Error::not_found(
            FaultKey::null_retrieve("personne"),
            format!("Aucune OPI ni aucun étudiant pour « {key} » (INE, numéro d'OPI ou codEtu)"),
        )));
    }
    let lines = admission_lines(&referential, &cod_anu, persons);
    Ok(HttpResponse::Ok().json(json!({
        "key": key,
        "codAnu": cod_anu,
        "admissions": lines,
    })))
}

/// Query of `POST /api/v1/laissez-passer/batch`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LpBatchQuery {
    /// `csv`, `ndjson` or `json` (default from the content type).
    pub format: Option<String>,
    /// `partial` (default) or `atomic`.
    pub mode: Option<String>,
    /// `true`: validate without writing.
    pub dry_run: Option<bool>,
}

/// How a batch answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReportKind {
    Json,
    Ndjson,
    Csv,
}

fn report_kind(req: &HttpRequest) -> ReportKind {
    let accept = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if accept.contains("application/x-ndjson") {
        ReportKind::Ndjson
    } else if accept.contains("text/csv") {
        ReportKind::Csv
    } else {
        ReportKind::Json
    }
}

/// Streams a stored batch: head and summary, then the report lines read from storage chunk by
/// chunk (constant memory whatever the size of the report).
fn batch_response(
    state: web::Data<AppState>,
    head: crate::lp_batch::BatchHead,
    kind: ReportKind,
) -> HttpResponse {
    use apogee_domain::lp::batch::ReportLine;
    use futures_util::stream;
    enum Step {
        Start,
        Lines(i64, bool),
        End,
        Done,
    }
    let id = head.id.clone();
    let head_json = serde_json::to_string(&head).unwrap_or_default();
    let body = stream::unfold(Step::Start, move |step| {
        let state = state.clone();
        let id = id.clone();
        let head_json = head_json.clone();
        async move {
            let bytes = |s: String| Ok::<_, actix_web::Error>(web::Bytes::from(s));
            match step {
                Step::Start => {
                    let first = match kind {
                        // {…head…, "lines": [
                        ReportKind::Json => format!(
                            "{},\"lines\":[",
                            head_json.strip_suffix('}').unwrap_or(&head_json)
                        ),
                        ReportKind::Ndjson => format!("{head_json}\n"),
                        ReportKind::Csv => format!("{}\n", crate::lp_batch::CSV_COLUMNS.join(",")),
                    };
                    Some((bytes(first), Step::Lines(0, true)))
                }
                Step::Lines(after, first) => {
                    let page = match crate::lp_batch::report_page(&state, &id, after).await {
                        Ok(p) => p,
                        Err(e) => {
                            tracing::error!(error = %e.message, "lecture du rapport");
                            return Some((
                                Err(actix_web::error::ErrorInternalServerError(e.message)),
                                Step::Done,
                            ));
                        }
                    };
                    let Some(last) = page.last().map(|p| p.0) else {
                        return Some((bytes(String::new()), Step::End));
                    };
                    let mut out = String::new();
                    let mut first = first;
                    for (_, text) in page {
                        for l in text.lines() {
                            match kind {
                                ReportKind::Json => {
                                    if !first {
                                        out.push(',');
                                    }
                                    out.push_str(l);
                                }
                                ReportKind::Ndjson => {
                                    out.push_str(l);
                                    out.push('\n');
                                }
                                ReportKind::Csv => {
                                    if let Ok(r) = serde_json::from_str::<ReportLine>(l) {
                                        out.push_str(&crate::lp_batch::csv_line(&r));
                                        out.push('\n');
                                    }
                                }
                            }
                            first = false;
                        }
                    }
                    Some((bytes(out), Step::Lines(last, first)))
                }
                Step::End => {
                    let end = if kind == ReportKind::Json { "]}" } else { "" };
                    Some((bytes(end.to_owned()), Step::Done))
                }
                Step::Done => None,
            }
        }
    });
    let content_type = match kind {
        ReportKind::Json => "application/json",
        ReportKind::Ndjson => "application/x-ndjson",
        ReportKind::Csv => "text/csv; charset=utf-8",
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("X-Batch-Id", head.id.clone()))
        .streaming(body)
}

async fn spool_body(mut payload: web::Payload, limit: usize) -> ApiResult<std::fs::File> {
    use futures_util::StreamExt;
    use std::io::{Seek, Write};
    let mut file = tempfile::tempfile()
        .map_err(|e| ApiError(Error::internal(format!("fichier temporaire : {e}"))))?;
    let mut size = 0usize;
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| bad_request("body", format!("Lecture du corps interrompue : {e}")))?;
        size += chunk.len();
        if size > limit {
            return Err(ApiError(Error::new(
                ErrorKind::PayloadTooLarge,
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

/// `POST /api/v1/laissez-passer/batch`: a file of LPs (LP-16 … LP-20): CSV (legacy 8 columns
/// or extended), NDJSON or a JSON array; `mode=partial|atomic`, `dryRun=true`,
/// `Idempotency-Key`. Answers the batch (id, status, summary) and its per-row report as JSON,
/// NDJSON (`Accept: application/x-ndjson`) or CSV (`Accept: text/csv`).
#[utoipa::path(post, path = "/api/v1/laissez-passer/batch", tag = "laissez-passer", params(("format" = Option<String>, Query, description = "csv, ndjson or json (default from the content type)"), ("mode" = Option<String>, Query, description = "partial (default) or atomic"), ("dryRun" = Option<bool>, Query, description = "validate without writing"), ("Idempotency-Key" = Option<String>, Header, description = "a repeated post returns the first report; an interrupted batch is resumed")), request_body(content = String, description = "CSV (typLpa,codAnu,numOPI,codEtp,codVrsVet,codDip,codVrsVdi,libCmtLpa or any of the 14 V2 names), NDJSON or a JSON array", content_type = "text/csv"), responses((status = 200, description = "The batch: id, status, summary, per-row report (JSON, NDJSON or CSV after Accept)", body = Object), (status = 409, description = "The batch with this Idempotency-Key is being processed", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 413, description = "Upload too large", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 415, description = "Unsupported media type", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 400, description = "Invalid request or file header (FICHIER_FORMAT)", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
pub async fn batch(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<LpBatchQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    use apogee_domain::lp::batch::Format;
    caller.require(Scope::LpWrite)?;
    let q = query.into_inner();
    let content_type = super::content_type(&req);
    let format = match q.format.as_deref() {
        Some(f) => Format::parse(f).ok_or_else(|| {
            bad_request(
                "format",
                format!("Format inconnu : {f} (csv, ndjson, json)"),
            )
        })?,
        None if content_type.starts_with("text/csv") || content_type.starts_with("text/plain") => {
            Format::Csv
        }
        None if content_type.starts_with("application/x-ndjson")
            || content_type.starts_with("application/ndjson")
            || content_type.starts_with("application/jsonl") =>
        {
            Format::Ndjson
        }
        None if content_type.starts_with("application/json") => Format::Json,
        None => {
            return Err(ApiError(Error::new(
                ErrorKind::UnsupportedMediaType,
                FaultKey::noncoherent("contentType"),
                "Type de contenu attendu : text/csv, application/x-ndjson ou application/json",
            )));
        }
    };
    let atomic = super::atomic_mode(q.mode.as_deref())?;
    let key = req
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    if key.as_ref().is_some_and(|k| k.len() > 200) {
        return Err(bad_request(
            "Idempotency-Key",
            "Idempotency-Key : 200 caractères au plus",
        ));
    }
    let file = spool_body(payload, state.settings.limits.batch_bytes).await?;
    let opts = crate::lp_batch::Options {
        format,
        atomic,
        dry_run: q.dry_run.unwrap_or(false),
        key,
        client: caller.name.clone(),
        trace_id: crate::error::current_request_id().unwrap_or_default(),
    };
    let posted = crate::lp_batch::post(&state, file, opts).await?;
    let (row, replayed) = match posted {
        crate::lp_batch::Posted::Processed(r) => (r, false),
        crate::lp_batch::Posted::Replayed(r) => (r, true),
    };
    let head = crate::lp_batch::BatchHead::of(&row);
    note(&req, |n| {
        n.key = Some(("batch".into(), row.id.clone()));
        if replayed {
            n.warnings.push("LOT_REJOUE".into());
        }
        if row.rejected > 0 {
            n.outcome = Some(apogee_domain::journal::Outcome::Rejected);
            n.warnings.push(format!("LIGNES_REJETEES:{}", row.rejected));
        }
    });
    Ok(batch_response(state, head, report_kind(&req)))
}

/// `GET /api/v1/laissez-passer/batches/{id}`: status, counts and report of a batch.
#[utoipa::path(get, path = "/api/v1/laissez-passer/batches/{id}", tag = "laissez-passer", params(("id" = String, Path, description = "batch id (ULID)")), responses((status = 200, description = "The batch: status, summary and report (JSON, NDJSON or CSV after Accept)", body = Object), (status = 404, description = "Unknown batch", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid credentials", body = crate::openapi::ProblemBody, content_type = "application/problem+json"), (status = 403, description = "Missing scope", body = crate::openapi::ProblemBody, content_type = "application/problem+json")))]
pub async fn get_batch(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::LpRead)?;
    let id = path.into_inner();
    note(&req, |n| n.key = Some(("batch".into(), id.clone())));
    let lookup = id.clone();
    let row = state
        .db
        .read(move |c| apogee_db::repo::lp_import::find(c, &lookup).map_err(DbError::from))
        .await?
        .ok_or_else(|| {
            ApiError(Error::not_found(
                FaultKey::null_retrieve("batch"),
                format!("Aucun lot de laissez-passer {id}"),
            ))
        })?;
    let head = crate::lp_batch::BatchHead::of(&row);
    Ok(batch_response(state, head, report_kind(&req)))
}
