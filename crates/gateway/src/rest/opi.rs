//! `/api/v1/opi`: push (same rules as SOAP), read, search, delete, duplicate suspects.

use crate::http::extract::{Caller, PageQuery};
use crate::http::journal;
use crate::http::openapi::Problems;
use crate::http::problem::{ApiResult, ProblemBody};
use crate::http::reply::created_or_ok;
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_app::opi::{
    self, Applied, DeletedVoeux, Duplicates, IneStatus, OpiDetail, OpiList, Search,
};
use apogee_app::{App, Call};
use apogee_domain::Scope;
use apogee_domain::journal::Outcome;
use apogee_domain::opi::Warning;
use apogee_domain::opi::dto::DonneesOpi;
use apogee_domain::opi::upsert::{MatchedBy, VoeuxOutcome};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Query of `PUT /api/v1/opi/{codOpiIntEpo}`.
#[derive(Debug, Deserialize)]
pub struct PushQuery {
    /// Store the valid vœux even if some are rejected (reported, never silently).
    #[serde(default)]
    pub partial: bool,
}

/// The REST answer of an OPI push (OPI-20).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushResponse {
    /// Trace id of the call.
    pub trace_id: String,
    /// `COD_IND_OPI`.
    pub cod_ind_opi: i64,
    /// Whether a new OPI was created.
    pub created: bool,
    /// Effective code (keep this one: it differs from the code sent after a merge).
    pub cod_opi_int_epo: String,
    /// The code sent.
    pub cod_opi_int_epo_envoye: String,
    /// `codOpiIntEpo`, `codEtuOpi`, `ine` or `created`.
    pub matched_by: MatchedBy,
    /// The effective code differs from the code sent.
    pub code_modifie: bool,
    /// INE as stored (`check`: `ok`, `unverified` or `absent`).
    pub ine: IneStatus,
    /// What happened to the vœux: `accepted` (with `status`), `rejected`, `kept`, `deleted`.
    pub voeux: VoeuxOutcome,
    /// Warnings.
    pub warnings: Vec<Warning>,
}

impl PushResponse {
    fn of(call: &Call, applied: Applied) -> Self {
        PushResponse {
            trace_id: call.trace_id.clone(),
            cod_ind_opi: applied.cod_ind_opi,
            created: applied.created,
            code_modifie: applied.effective_code != applied.code_sent,
            cod_opi_int_epo: applied.effective_code,
            cod_opi_int_epo_envoye: applied.code_sent,
            matched_by: applied.matched_by,
            ine: IneStatus::of(applied.ine.as_ref()),
            voeux: applied.voeux,
            warnings: applied.warnings,
        }
    }
}

fn note_push(req: &HttpRequest, applied: &Applied) {
    let (code, codes) = (applied.effective_code.clone(), applied.warning_codes());
    let rejected = !applied.voeux.rejected.is_empty();
    journal::note(req, |n| {
        n.key = Some(("codOpiIntEpo".into(), code));
        n.warnings = codes;
        if rejected {
            n.outcome = Some(Outcome::Rejected);
        }
    });
}

#[utoipa::path(put, path = "/api/v1/opi/{code}", tag = "opi", params(("code" = String, Path, description = "codOpiIntEpo"), ("partial" = Option<bool>, Query, description = "Store the valid vœux and report the rejected ones")), request_body = DonneesOpi, responses((status = 201, description = "Created", body = PushResponse), (status = 200, description = "Updated (merge and no-op included)", body = PushResponse), (status = 409, description = "Identity conflict (OPI-4, OPI-6)", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `PUT /api/v1/opi/{codOpiIntEpo}[?partial=true]` with the DTO10 JSON body.
pub async fn put(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<String>,
    query: web::Query<PushQuery>,
    body: web::Json<DonneesOpi>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::OpiWrite)?;
    journal::key(&req, "codOpiIntEpo", path.as_str());
    let applied = opi::put(&app, &caller.call, &path, body.into_inner(), query.partial).await?;
    note_push(&req, &applied);
    Ok(created_or_ok(
        applied.created,
        PushResponse::of(&caller.call, applied),
    ))
}

#[utoipa::path(get, path = "/api/v1/opi/{code}", tag = "opi", params(("code" = String, Path, description = "codOpiIntEpo or an alias")), responses((status = 200, description = "The stored OPI, DTO shape, with its pieces and laissez-passer", body = OpiDetail), (status = 404, description = "Unknown OPI", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `GET /api/v1/opi/{code}` (the code may be an alias).
pub async fn get(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<String>,
) -> ApiResult<web::Json<OpiDetail>> {
    caller.require(Scope::OpiRead)?;
    journal::key(&req, "codOpiIntEpo", path.as_str());
    Ok(web::Json(opi::get(&app, &path).await?))
}

#[utoipa::path(get, path = "/api/v1/opi", tag = "opi", params(("ine" = Option<String>, Query), ("codEtu" = Option<i64>, Query), ("nom" = Option<String>, Query), ("prenom" = Option<String>, Query), ("dateNaissance" = Option<String>, Query, description = "ddMMyyyy or yyyy-MM-dd"), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)), responses((status = 200, description = "Matching OPIs", body = OpiList), Problems))]
/// `GET /api/v1/opi?ine=&codEtu=&nom=&prenom=&dateNaissance=`
pub async fn search(
    caller: Caller,
    app: web::Data<App>,
    query: web::Query<Search>,
    PageQuery(page): PageQuery,
) -> ApiResult<web::Json<OpiList>> {
    caller.require(Scope::OpiRead)?;
    Ok(web::Json(
        opi::search(&app, query.into_inner(), page).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/opi/{code}/voeux", tag = "opi", params(("code" = String, Path)), responses((status = 200, description = "Deleted vœux", body = DeletedVoeux), (status = 404, description = "Unknown OPI", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `DELETE /api/v1/opi/{code}/voeux`: explicit delete-all (replaces OPI-15 b).
pub async fn delete_voeux(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<String>,
) -> ApiResult<web::Json<DeletedVoeux>> {
    caller.require(Scope::OpiWrite)?;
    journal::key(&req, "codOpiIntEpo", path.as_str());
    Ok(web::Json(opi::delete_voeux(&app, &path).await?))
}

#[utoipa::path(delete, path = "/api/v1/opi/{code}", tag = "opi", params(("code" = String, Path)), responses((status = 204, description = "Deleted"), (status = 404, description = "Unknown OPI", body = ProblemBody, content_type = "application/problem+json"), (status = 409, description = "Laissez-passer reference the OPI (OPI-21)", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `DELETE /api/v1/opi/{code}`: the OPI with its vœux.
pub async fn delete(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::OpiWrite)?;
    journal::key(&req, "codOpiIntEpo", path.as_str());
    opi::delete(&app, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(get, path = "/api/v1/opi/duplicates", tag = "opi", params(("limit" = Option<i64>, Query)), responses((status = 200, description = "Duplicate suspects", body = Duplicates), Problems))]
/// `GET /api/v1/opi/duplicates`: pairs of OPIs sharing an INE, a codEtu or a match key.
pub async fn duplicates(
    caller: Caller,
    app: web::Data<App>,
    PageQuery(page): PageQuery,
) -> ApiResult<web::Json<Duplicates>> {
    caller.require(Scope::OpiRead)?;
    Ok(web::Json(opi::duplicates(&app, page).await?))
}
