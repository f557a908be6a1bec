//! Errors at the edge: a domain error becomes an RFC 9457 problem body (`application/problem+json`)
//! on REST. SOAP and the facades render the same errors in their own formats.

use super::request_id;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use apogee_domain::{Error, ErrorKind, FieldError};
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

/// What the journal middleware learns from an error response (whatever its format).
#[derive(Debug, Clone)]
pub struct FaultNote {
    /// Apogée fault key.
    pub fault_key: String,
    /// French message.
    pub message: String,
}

impl FaultNote {
    /// Attaches the note of `fault_key`/`message` to a response.
    pub fn attach(
        res: &mut HttpResponse,
        fault_key: impl Into<String>,
        message: impl Into<String>,
    ) {
        res.extensions_mut().insert(FaultNote {
            fault_key: fault_key.into(),
            message: message.into(),
        });
    }
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

/// RFC 9457 problem body of every REST error.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProblemBody {
    /// Problem type URI, `urn:apogee-gateway:problem:<kind>`.
    #[serde(rename = "type")]
    #[schema(example = "urn:apogee-gateway:problem:validation")]
    pub kind: String,
    /// Short English title of the kind.
    pub title: &'static str,
    /// HTTP status.
    pub status: u16,
    /// French explanation of this occurrence.
    pub detail: String,
    /// Apogée fault key of the first failure.
    #[schema(example = "technical.data.nullretrieve.codCge")]
    pub fault_key: String,
    /// Trace id (also `X-Request-Id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// Every failure, with field path and line.
    pub errors: Vec<FieldError>,
}

/// The HTTP status of an error kind.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    StatusCode::from_u16(kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The problem response for `err`.
pub fn problem_response(err: &Error) -> HttpResponse {
    let status = status_of(err.kind);
    let body = ProblemBody {
        kind: format!("urn:apogee-gateway:problem:{}", err.kind.slug()),
        title: err.kind.title(),
        status: status.as_u16(),
        detail: err.message.clone(),
        fault_key: err.fault_key.to_string(),
        trace_id: request_id::current(),
        errors: err.errors.clone(),
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
    if let Some(seconds) = err.retry_after {
        res.insert_header((header::RETRY_AFTER, seconds));
    }
    let mut res = res.body(serde_json::to_vec(&body).unwrap_or_default());
    FaultNote::attach(&mut res, err.fault_key.to_string(), err.message.clone());
    res
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_of(self.0.kind)
    }

    fn error_response(&self) -> HttpResponse {
        problem_response(&self.0)
    }
}

/// A 400 problem for a malformed request (bad query string, bad JSON, bad path).
pub fn bad_request(field: &str, message: impl Into<String>) -> ApiError {
    ApiError(Error::bad_request(field, message))
}
