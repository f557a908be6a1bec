//! Framework errors (payload too large, unreadable body, unknown route …) arrive as plain-text
//! responses. The adapters that answer in their own format register a renderer for their paths
//! (SOAP faults, CNOUS errors); every other `/api/` error becomes a problem body, so every REST
//! error has the same shape. This module imports none of the adapters: they register here.

use super::problem::{FaultNote, problem_response};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_domain::{Error, ErrorKind, FaultKey};

/// Renders a framework error of `status` on the request's path in an adapter's format; `None`:
/// not its path.
pub type Renderer = fn(req: &HttpRequest, status: StatusCode) -> Option<HttpResponse>;

/// The renderers registered by the adapters, asked in order.
#[derive(Clone, Default)]
pub struct Renderers(Vec<Renderer>);

impl Renderers {
    /// Adds a renderer.
    pub fn with(mut self, renderer: Renderer) -> Self {
        self.0.push(renderer);
        self
    }
}

/// The problem of a framework error on a REST route.
fn problem(status: StatusCode) -> HttpResponse {
    let (kind, key, message) = match status.as_u16() {
        413 => (
            ErrorKind::PayloadTooLarge,
            FaultKey::noncoherent("body"),
            "Corps de requête trop volumineux",
        ),
        408 => (
            ErrorKind::RequestTimeout,
            FaultKey::noncoherent("body"),
            "Corps de requête interrompu : le client n'envoie plus rien",
        ),
        415 => (
            ErrorKind::UnsupportedMediaType,
            FaultKey::noncoherent("contentType"),
            "Type de contenu non accepté",
        ),
        404 | 405 => (
            ErrorKind::NotFound,
            FaultKey::null_retrieve("route"),
            "Ressource inconnue",
        ),
        s if s >= 500 => (ErrorKind::Internal, FaultKey::internal(), "Erreur interne"),
        _ => (
            ErrorKind::Validation,
            FaultKey::noncoherent("requete"),
            "Requête invalide",
        ),
    };
    problem_response(&Error::new(kind, key, message))
}

/// The `ErrorHandlers` default handler. Answers already in their final format (they carry a
/// [`FaultNote`]) pass through.
pub fn framework_errors<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    if res.response().extensions().get::<FaultNote>().is_some() {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let req = res.request();
    // A body cut for silence surfaces as an unreadable body: it is a timeout.
    let status = if super::guard::BodyTimer::fired(req) {
        StatusCode::REQUEST_TIMEOUT
    } else {
        res.status()
    };
    let renderers = req.app_data::<web::Data<Renderers>>().cloned();
    let rendered = renderers
        .iter()
        .flat_map(|r| r.0.iter())
        .find_map(|render| render(req, status))
        .or_else(|| req.path().starts_with("/api/").then(|| problem(status)));
    match rendered {
        Some(answer) => {
            let (req, _) = res.into_parts();
            Ok(ErrorHandlerResponse::Response(
                ServiceResponse::new(req, answer).map_into_right_body(),
            ))
        }
        None => Ok(ErrorHandlerResponse::Response(res.map_into_left_body())),
    }
}
