//! `GET /api/v1/services/{service}/{operation}`: the REST twin of each operation of the Apogée
//! read services (ReferentielMetier, GeographieMetier, ScolariteMetier, OffreFormationMetier:
//! scope `ref:read`; EtudiantMetier, AdministratifMetier, PedagogiqueMetier: scope
//! `etudiant:read`). The same use case answers the SOAP call: the items are its return elements
//! as JSON, and its faults are the problem's `faultKey` (404 for `nullretrieve`, 400 for a bad
//! parameter).

use crate::http::extract::Caller;
use crate::http::journal;
use crate::http::openapi::Problems;
use crate::http::problem::{ApiResult, ProblemBody};
use actix_web::{HttpRequest, web};
use apogee_app::App;
use apogee_app::refread::{self, ReadAnswer};

#[utoipa::path(get, path = "/api/v1/services/{service}/{operation}", tag = "referential", params(("service" = String, Path, description = "ReferentielMetier, GeographieMetier, ScolariteMetier, OffreFormationMetier (scope ref:read), EtudiantMetier, AdministratifMetier or PedagogiqueMetier (scope etudiant:read)"), ("operation" = String, Path, description = "The SOAP operation (recupererCGE, recupererSE_v4 …)")), responses((status = 200, description = "The SOAP answer's return elements as JSON; query parameters are the SOAP parameters (with or without their leading _, e.g. codCge=CG1&temoinEnService=O) or, for recupererSE_v4 and recupererListeEtudiants, the children of _seCritere / _parametres (list criteria repeated, one CODE or CODE:VERSION each: listEtapes=ETP01:1&listComposante=UFR)", body = ReadAnswer), (status = 404, description = "Unknown operation, or nothing found (technical.data.nullretrieve.<entity>)", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `GET /api/v1/services/{service}/{operation}?<parameter>=<value>`
pub async fn get(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<(String, String)>,
    query: web::Query<Vec<(String, String)>>,
) -> ApiResult<web::Json<ReadAnswer>> {
    let (service, operation) = path.into_inner();
    caller.require(refread::scope_of(&service))?;
    journal::key(&req, "operation", format!("{service}.{operation}"));
    let params = query.iter().map(|(k, v)| (k.as_str(), Some(v.as_str())));
    Ok(web::Json(
        refread::twin(&app, &service, &operation, params).await?,
    ))
}
