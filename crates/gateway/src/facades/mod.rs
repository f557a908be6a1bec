//! Facades that copy contracts other than ours, so tools written for them work unchanged: the
//! CNOUS CVEC API (`/api/attestation/{code}`), the Apogée PJ REST service and the INES check
//! service (at their configured base paths). Each answers its errors in its own format.

pub mod cnous;
pub mod error;
pub mod ines;
pub mod pj;

use actix_web::http::Method;
use actix_web::{guard, web};
use apogee_app::App;

/// The facade endpoints below their configured base paths.
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

fn endpoint_of(app: &App, path: &str) -> Option<Endpoint> {
    let s = &app.settings.pj;
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

/// The fallback renderer of framework errors (body too large, silent, unreadable) on the PJ and
/// INES facade endpoints: their own error body.
pub fn framework_error(
    req: &actix_web::HttpRequest,
    status: actix_web::http::StatusCode,
) -> Option<actix_web::HttpResponse> {
    use actix_web::http::StatusCode;
    let app = req.app_data::<web::Data<App>>()?;
    endpoint_of(app, req.path())?;
    let description = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "Corps de requête trop volumineux (64 Ko au plus)",
        StatusCode::REQUEST_TIMEOUT => "Corps de requête interrompu : le client n'envoie plus rien",
        _ => "Requête illisible",
    };
    let kind = if status.is_client_error() {
        "inputparameter.body"
    } else {
        "technical"
    };
    Some(error::FacadeError::new(status, kind, "Requête invalide", description.into()).response())
}

/// Registers the facades. The PJ and INES base paths come from the settings, so each resource
/// matches any prefix and a guard keeps only the configured one.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cnous::configure(cfg);
    for (endpoint, suffix) in ENDPOINTS {
        let route = match endpoint {
            Endpoint::Info => web::get().to(pj::info),
            Endpoint::Fichier => web::get().to(pj::fichier),
            Endpoint::CheckIne => web::method(Method::POST).to(ines::check),
            Endpoint::Version => web::get().to(ines::version),
        };
        cfg.service(
            web::resource(format!("/{{base:.+}}{suffix}"))
                .guard(guard::fn_guard(move |ctx| {
                    ctx.app_data::<web::Data<App>>()
                        .and_then(|app| endpoint_of(app, ctx.head().uri.path()))
                        == Some(endpoint)
                }))
                .app_data(web::PayloadConfig::default().limit(64 * 1024))
                .route(route)
                .default_service(web::to(error::method_not_allowed)),
        );
    }
}
