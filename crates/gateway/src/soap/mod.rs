//! The Apogée SOAP services. A service is one module that declares its name, namespaces, scope,
//! WSDL documents and operations ([`service::Service`]); adding one is its module plus one line in
//! [`SERVICES`]. `dispatch` routes calls, `wsdl` serves the documents, `fault` renders answers.

pub mod administratif;
pub mod dispatch;
pub mod etudiant;
pub mod fault;
pub mod geographie;
pub mod lp;
pub mod offre_formation;
pub mod opi;
pub mod pedagogique;
pub mod pj;
pub mod read;
pub mod referentiel;
pub mod scolarite;
pub mod service;
pub mod wsdl;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use service::{Registry, Service};

/// Every SOAP service the gateway answers.
pub static SERVICES: &[&Service] = &[
    &opi::SERVICE,
    &pj::SERVICE,
    &lp::SERVICE,
    &referentiel::SERVICE,
    &geographie::SERVICE,
    &scolarite::SERVICE,
    &offre_formation::SERVICE,
    &etudiant::SERVICE,
    &administratif::SERVICE,
    &pedagogique::SERVICE,
];

/// Registers the services under every base path.
pub fn configure(
    cfg: &mut actix_web::web::ServiceConfig,
    base_paths: &[String],
    soap_bytes: usize,
) {
    dispatch::configure(cfg, Registry(SERVICES), base_paths, soap_bytes);
}

/// The fallback renderer of framework errors on SOAP paths (a `Client` fault).
pub fn framework_fault(req: &actix_web::HttpRequest, status: StatusCode) -> Option<HttpResponse> {
    fault::framework(Registry(SERVICES), req.path(), status)
}
