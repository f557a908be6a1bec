//! The OpenAPI document of the REST API (utoipa), served at `/api-docs/openapi.json` with Swagger
//! UI at `/docs` (vendored: works offline). `openapi/openapi.json` is the committed copy, kept
//! equal to this document by a test.

use apogee_domain::FieldError;
use serde::Serialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// RFC 9457 problem body of every REST error.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProblemBody {
    /// Problem type URI, `urn:apogee-gateway:problem:<kind>`.
    #[serde(rename = "type")]
    #[schema(example = "urn:apogee-gateway:problem:validation")]
    pub kind: String,
    /// Short English title of the kind.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// French explanation of this occurrence.
    pub detail: String,
    /// Apogée fault key of the first failure.
    #[schema(example = "technical.data.nullretrieve.codCge")]
    pub fault_key: String,
    /// Trace id (also `X-Request-Id`).
    pub trace_id: Option<String>,
    /// Every failure, with field path and line.
    pub errors: Vec<FieldError>,
}

/// `meta` of list answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListMetaDoc {
    /// Matching rows in all pages.
    pub total: i64,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        // Every operation with a body may also answer 413 (too large) and 415 (media type).
        let problem = |description: &str| {
            utoipa::openapi::ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    utoipa::openapi::ContentBuilder::new()
                        .schema(Some(utoipa::openapi::Ref::from_schema_name("ProblemBody")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [&mut item.put, &mut item.post].into_iter().flatten() {
                if op.request_body.is_some() {
                    for (code, text) in
                        [("413", "Body too large"), ("415", "Unsupported media type")]
                    {
                        op.responses
                            .responses
                            .entry(code.to_owned())
                            .or_insert_with(|| problem(text).into());
                    }
                }
            }
        }
    }
}

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "apogee-gateway REST API",
        description = "REST/JSON API of the Apogée gateway: referential, call journal, OPI (pre-registrations). Errors are RFC 9457 problem bodies carrying the Apogée fault key. The SOAP services (OpiMetier, PjOpiMetier, LaissezPasserMetier) are described by their WSDL (`<base>/<Service>?wsdl`).",
        license(name = "EUPL-1.2")
    ),
    modifiers(&Security),
    security(("bearer" = [])),
    paths(
        crate::routes::health::live,
        crate::routes::health::ready,
        crate::routes::health::metrics,
        crate::routes::me::get,
        crate::routes::referential::tables,
        crate::routes::referential::list,
        crate::routes::referential::put,
        crate::routes::journal::search,
        crate::routes::opi::put,
        crate::routes::opi::get,
        crate::routes::opi::search,
        crate::routes::opi::delete_voeux,
        crate::routes::opi::delete,
        crate::routes::opi::duplicates,
        crate::routes::opi::batch,
        crate::routes::lp::put,
        crate::routes::lp::get,
        crate::routes::lp::delete,
        crate::routes::lp::list,
        crate::routes::lp::put_student,
        crate::routes::lp::get_student,
        crate::routes::lp::list_students,
        crate::routes::lp::batch_students,
        crate::routes::lp::admissions,
        crate::routes::lp::admissions_of,
        crate::routes::lp::batch,
        crate::routes::lp::get_batch,
        crate::routes::cvec::attestation,
        crate::routes::cvec::check,
        crate::routes::cvec::checks,
        crate::routes::cvec::attestations,
        crate::routes::cvec::load,
        crate::routes::pj::list,
        crate::routes::pj::put,
        crate::routes::pj::download,
        crate::routes::pj::delete,
        crate::routes::pj::ine,
        crate::routes::pj::put_student_piece,
    ),
    components(schemas(ProblemBody, ListMetaDoc, FieldError)),
    tags(
        (name = "health", description = "Liveness, readiness, metrics (no authentication)"),
        (name = "referential", description = "Nomenclatures"),
        (name = "journal", description = "Call journal"),
        (name = "opi", description = "Pre-registrations (OPI): same rules as the OpiMetier SOAP service"),
        (name = "laissez-passer", description = "Laissez-passer (same rules as LaissezPasserMetier), admissions view"),
        (name = "etudiants", description = "Student register"),
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
