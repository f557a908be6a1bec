//! The `Idempotency-Key` header of batch uploads, and the answer of a replayed request.

use super::extract::Caller;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use apogee_app::idempotency::{Keyed, Stored, parse_key};
use apogee_domain::Error;

/// The request's key, bound to its client, route and body.
pub fn keyed(
    req: &HttpRequest,
    caller: &Caller,
    route: &'static str,
    body_sha256: String,
) -> Result<Option<Keyed>, Error> {
    Ok(key(req)?.map(|key| Keyed {
        client: caller.name.clone(),
        key,
        route,
        body_sha256,
    }))
}

/// The `Idempotency-Key` header, checked.
pub fn key(req: &HttpRequest) -> Result<Option<String>, Error> {
    parse_key(
        req.headers()
            .get("Idempotency-Key")
            .and_then(|v| v.to_str().ok()),
    )
}

/// The stored answer of a completed request, marked `Idempotent-Replayed: true`.
pub fn replayed(stored: Stored) -> HttpResponse {
    let status = stored
        .status
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    HttpResponse::build(status)
        .content_type("application/json")
        .insert_header(("Idempotent-Replayed", "true"))
        .body(stored.body.unwrap_or_default())
}
