//! SOAP answers: responses, and `WebBaseException` faults (HTTP 500, SOAP 1.1 binding; 401/403
//! for authentication, 503 when storage is unavailable), noted for the journal.

use super::service::{Registry, Service};
use crate::http::journal;
use crate::http::problem::FaultNote;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use apogee_domain::journal::Outcome;
use apogee_domain::{Error, ErrorKind, FaultKey};
use apogee_soap::{FaultCode, SoapError, encode};

const XML: &str = "text/xml; charset=UTF-8";

/// An XML answer.
pub fn xml_response(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status).content_type(XML).body(body)
}

/// A fault answer, noted for the journal.
fn fault(
    req: &HttpRequest,
    service: &Service,
    status: StatusCode,
    code: FaultCode,
    err: &Error,
) -> HttpResponse {
    let body = encode::fault(
        service.namespace,
        code,
        err.fault_key.as_str(),
        &err.fault_messages(),
        &err.message,
    );
    let failed = matches!(err.kind, ErrorKind::Internal | ErrorKind::Unavailable);
    journal::note(req, |n| {
        n.fault = Some((err.fault_key.to_string(), err.message.clone()));
        n.outcome = Some(if failed {
            Outcome::Error
        } else {
            Outcome::Rejected
        });
    });
    let mut res = xml_response(status, body);
    FaultNote::attach(&mut res, err.fault_key.to_string(), err.message.clone());
    if err.kind == ErrorKind::Unauthenticated {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"apogee-gateway\", charset=\"UTF-8\""),
        );
    }
    if let Some(seconds) = err.retry_after {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    res
}

/// A message the codec refused: a `Client` (or `VersionMismatch`, `MustUnderstand`) fault.
pub fn codec_fault(req: &HttpRequest, service: &Service, e: &SoapError) -> HttpResponse {
    let err = Error::new(ErrorKind::Validation, e.fault_key(), e.message.clone());
    fault(
        req,
        service,
        StatusCode::INTERNAL_SERVER_ERROR,
        e.code,
        &err,
    )
}

/// A refused call: a `Server` fault with the Apogée key.
pub fn business_fault(req: &HttpRequest, service: &Service, err: &Error) -> HttpResponse {
    let status = match err.kind {
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    fault(req, service, status, FaultCode::Server, err)
}

/// Framework errors on SOAP routes (payload too large …) as a `Client` fault.
pub fn framework(registry: Registry, path: &str, status: StatusCode) -> Option<HttpResponse> {
    if !path.contains("/services/") {
        return None;
    }
    let service = registry.find(path.rsplit('/').next()?)?;
    let (element, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("message", "Message trop volumineux"),
        StatusCode::REQUEST_TIMEOUT => {
            ("body", "Message interrompu : le client n'envoie plus rien")
        }
        _ => ("message", "Requête invalide"),
    };
    let body = encode::fault(
        service.namespace,
        FaultCode::Client,
        FaultKey::noncoherent(element).as_str(),
        &[],
        message,
    );
    Some(xml_response(status, body))
}
