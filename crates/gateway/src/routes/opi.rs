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
            match opi::find_by_code(c, &lookup)? {
                Some(row) => Ok(Some(opi::view(c, row)?)),
                None => Ok(None),
            }
        })
        .await?;
    view.map(|v| HttpResponse::Ok().json(v))
        .ok_or_else(|| not_found(&code))
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
        .write(move |c| -> Result<_, DbError> {
            match opi::find_by_code(c, &lookup)? {
                Some(row) => Ok(opi::delete(c, row.cod_ind_opi)? > 0),
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
