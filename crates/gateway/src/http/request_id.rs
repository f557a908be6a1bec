//! The request id: accepted from `X-Request-Id` when it is sane, else a new ULID; echoed in the
//! answer, carried by problem bodies (`traceId`) and journal rows, and given to use cases as
//! `Call::trace_id`.

use actix_web::HttpMessage;
use actix_web::dev::ServiceRequest;
use actix_web::http::header::HeaderName;

tokio::task_local! {
    /// The id of the request being served (set by the request middleware), for the renderers
    /// that have no request at hand (problem bodies).
    pub static REQUEST_ID: String;
}

/// `X-Request-Id`.
pub static HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The request id, in the request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The current request id, if inside a request.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The id of `req` (from the extensions the middleware set).
pub fn of(req: &actix_web::HttpRequest) -> String {
    req.extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .or_else(current)
        .unwrap_or_default()
}

/// The id the client sent, when it is 1–128 characters among `A-Z a-z 0-9 - _ . :`.
pub fn accepted(req: &ServiceRequest) -> Option<String> {
    let v = req.headers().get(&HEADER)?.to_str().ok()?.trim();
    let ok = !v.is_empty()
        && v.len() <= 128
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    ok.then(|| v.to_owned())
}
