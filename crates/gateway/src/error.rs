//! The gateway's error renderer: domain errors become RFC 9457 problem bodies on REST. (SOAP
//! routes render the same errors as `WebBaseException` faults: see the SOAP codec.)

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use apogee_domain::{Error, ErrorKind, FieldError};
use serde::Serialize;
use std::fmt;

tokio::task_local! {
    /// The id of the request being served (set by the request middleware).
    pub static REQUEST_ID: String;
}

/// The current request id, if inside a request.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// What the journal middleware learns from an error response.
#[derive(Debug, Clone)]
pub struct FaultNote {
    /// Apogée fault key.
    pub fault_key: String,
    /// French message.
    pub message: String,
}

/// A domain error on its way to an HTTP answer.
#[derive(Debug)]
pub struct ApiError(pub Error);

/// Result of REST handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<Error> for ApiError {
    fn from(err: Error) -> Self {
        ApiError(err)
    }
}

impl From<apogee_db::DbError> for ApiError {
    fn from(err: apogee_db::DbError) -> Self {
        ApiError(err.into())
    }
}

impl From<apogee_db::WriteError> for ApiError {
    fn from(err: apogee_db::WriteError) -> Self {
        ApiError(err.into())
    }
}

/// RFC 9457 problem body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem<'a> {
    /// Problem type URI.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the type.
    pub title: &'a str,
    /// HTTP status.
    pub status: u16,
    /// French explanation of this occurrence.
    pub detail: &'a str,
    /// Apogée fault key of the (first) failure.
    pub fault_key: &'a str,
    /// Trace id of the call (also the `X-Request-Id` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// Every failure, with field paths and line numbers.
    pub errors: &'a [FieldError],
}

/// The problem response for `err`.
pub fn problem_response(err: &Error) -> HttpResponse {
    let status =
        StatusCode::from_u16(err.kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = Problem {
        kind: format!("urn:apogee-gateway:problem:{}", err.kind.slug()),
        title: err.kind.title(),
        status: status.as_u16(),
        detail: &err.message,
        fault_key: err.fault_key.as_str(),
        trace_id: current_request_id(),
        errors: &err.errors,
    };
    let mut res = HttpResponse::build(status);
    res.insert_header((
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    ));
    if err.kind == ErrorKind::Unauthenticated {
        res.insert_header((
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"apogee-gateway\""),
        ));
    }
    let mut res = res.body(serde_json::to_vec(&body).unwrap_or_default());
    res.extensions_mut().insert(FaultNote {
        fault_key: err.fault_key.to_string(),
        message: err.message.clone(),
    });
    res
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        problem_response(&self.0)
    }
}

/// A 400 problem for a malformed request (bad query string, bad JSON, bad path).
pub fn bad_request(field: &str, message: impl Into<String>) -> ApiError {
    ApiError(Error::invalid_field(
        apogee_domain::FaultKey::noncoherent(field),
        "REQUETE_INVALIDE",
        field,
        message,
    ))
}

/// Framework errors (payload too large, unreadable body …) arrive as plain-text responses; on
/// REST routes they are turned into problem bodies, so every REST error has the same shape.
pub fn problem_for_framework_errors<B>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    use actix_web::middleware::ErrorHandlerResponse;
    let already = res.response().extensions().get::<FaultNote>().is_some();
    if !already
        && res.request().path().contains("/services/")
        && let Some(fault) = crate::soap::framework_fault(res.status(), res.request().path())
    {
        let (req, _) = res.into_parts();
        return Ok(ErrorHandlerResponse::Response(
            actix_web::dev::ServiceResponse::new(req, fault).map_into_right_body(),
        ));
    }
    if !already && crate::routes::cvec::is_cnous_path(res.request().path()) {
        let status = res.status();
        let (req, _) = res.into_parts();
        let res = crate::routes::cvec::cnous_error(status, "Requête invalide");
        return Ok(ErrorHandlerResponse::Response(
            actix_web::dev::ServiceResponse::new(req, res).map_into_right_body(),
        ));
    }
    if already || !res.request().path().starts_with("/api/") {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let (kind, key, message) = match status.as_u16() {
        413 => (
            ErrorKind::PayloadTooLarge,
            apogee_domain::FaultKey::noncoherent("body"),
            "Corps de requête trop volumineux",
        ),
        415 => (
            ErrorKind::UnsupportedMediaType,
            apogee_domain::FaultKey::noncoherent("contentType"),
            "Type de contenu non accepté",
        ),
        404 | 405 => (
            ErrorKind::NotFound,
            apogee_domain::FaultKey::null_retrieve("route"),
            "Ressource inconnue",
        ),
        s if s >= 500 => (
            ErrorKind::Internal,
            apogee_domain::FaultKey::internal(),
            "Erreur interne",
        ),
        _ => (
            ErrorKind::Validation,
            apogee_domain::FaultKey::noncoherent("requete"),
            "Requête invalide",
        ),
    };
    let err = Error::new(kind, key, message);
    let (req, _) = res.into_parts();
    let res = problem_response(&err).map_into_right_body();
    Ok(ErrorHandlerResponse::Response(
        actix_web::dev::ServiceResponse::new(req, res),
    ))
}
