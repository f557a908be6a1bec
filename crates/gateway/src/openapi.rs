//! The OpenAPI document of the REST API (utoipa), served at `/api-docs/openapi.json` with Swagger
//! UI at `/docs` (vendored: works offline). `openapi/openapi.json` is the committed copy, kept
//! equal to this document by a test.

use crate::http::openapi::Security;
use crate::http::problem::ProblemBody;
use apogee_domain::FieldError;
use utoipa::OpenApi;

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "apogee-gateway REST API",
        description = "REST/JSON API of the Apogée gateway: referential, call journal, OPI (pre-registrations), attachments, laissez-passer, students, admissions, CVEC. Errors are RFC 9457 problem bodies carrying the Apogée fault key. The SOAP services (OpiMetier, PjOpiMetier, LaissezPasserMetier; the read services ReferentielMetier, GeographieMetier, ScolariteMetier, OffreFormationMetier; the student services EtudiantMetier, AdministratifMetier, PedagogiqueMetier; their operations have REST twins under /api/v1/services) are described by their WSDL (`<base>/<Service>?wsdl`).",
        license(name = "EUPL-1.2")
    ),
    modifiers(&Security),
    security(("bearer" = [])),
    paths(
        crate::rest::health::live,
        crate::rest::health::ready,
        crate::rest::health::metrics,
        crate::rest::me::get,
        crate::rest::referential::tables,
        crate::rest::referential::list,
        crate::rest::referential::put,
        crate::rest::read_services::get,
        crate::rest::journal::search,
        crate::rest::reports::counters,
        crate::rest::reports::rejects,
        crate::rest::reports::cause_rows,
        crate::rest::reports::activity,
        crate::rest::reports::duplicates,
        crate::rest::reports::cvec,
        crate::rest::reports::lp_batches,
        crate::rest::opi::put,
        crate::rest::opi::get,
        crate::rest::opi::search,
        crate::rest::opi::delete_voeux,
        crate::rest::opi::delete,
        crate::rest::opi::duplicates,
        crate::rest::opi_batch::post,
        crate::rest::lp::put,
        crate::rest::lp::get,
        crate::rest::lp::delete,
        crate::rest::lp::list,
        crate::rest::lp_batch::post,
        crate::rest::lp_batch::get,
        crate::rest::students::put,
        crate::rest::students::get,
        crate::rest::students::list,
        crate::rest::students::batch,
        crate::rest::inscriptions::post,
        crate::rest::inscriptions::batch,
        crate::rest::inscriptions::cancel_year,
        crate::rest::inscriptions::cancel_vet,
        crate::rest::admissions::list,
        crate::rest::admissions::of_key,
        crate::facades::cnous::attestation,
        crate::rest::cvec::check,
        crate::rest::cvec::checks,
        crate::rest::cvec::attestations,
        crate::rest::cvec::load,
        crate::rest::pj::list,
        crate::rest::pj::put,
        crate::rest::pj::download,
        crate::rest::pj::delete,
        crate::rest::ine::get,
        crate::rest::pj::put_student_piece,
    ),
    components(schemas(ProblemBody, FieldError)),
    tags(
        (name = "health", description = "Liveness, readiness, metrics (no authentication)"),
        (name = "referential", description = "Nomenclatures"),
        (name = "journal", description = "Call journal"),
        (name = "reports", description = "Reports (REP-2 … REP-9): refused calls by cause, activity, counters, duplicates, CVEC, LP batches; JSON or CSV (Accept: text/csv)"),
        (name = "opi", description = "Pre-registrations (OPI): same rules as the OpiMetier SOAP service"),
        (name = "laissez-passer", description = "Laissez-passer (same rules as LaissezPasserMetier), admissions view"),
        (name = "etudiants", description = "Student register"),
        (name = "inscriptions", description = "Administrative enrolment (IA): primo from an OPI, re-enrolment, cancellation, batch"),
        (name = "cvec", description = "CVEC: CNOUS-compatible attestation API, register, enrolment check"),
        (name = "pj", description = "Attachments of OPIs (same rules as PjOpiMetier) and the offline INE check"),
    )
)]
pub struct ApiDoc;

/// The document as pretty JSON (what `openapi/openapi.json` holds).
pub fn json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn bodies_document_413_and_415() {
        let doc = super::json();
        let v: serde_json::Value = serde_json::from_str(&doc).unwrap_or_default();
        let responses = &v["paths"]["/api/v1/opi/{code}"]["put"]["responses"];
        assert!(responses.get("415").is_some(), "{responses}");
    }
}
