//! Extractors: the authenticated caller (and the `Call` it makes), the page of a list.
//!
//! REST: `Authorization: Bearer <secret>`. SOAP: HTTP Basic `<name>:<secret>` (how Apogée
//! clients are configured) or Bearer. Both: the `auth.api_key_header` header carrying a secret,
//! or no credentials at all from a trusted network (`auth.trusted_networks`). This module reads
//! the headers and the peer address; `apogee_app::clients::identify` decides who is calling.

use super::problem::{ApiError, bad_request, problem_response};
use super::request_id;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use apogee_app::clients::{self, Client, Credentials, Presented};
use apogee_app::settings::AuthSettings;
use apogee_app::{App, Call, Page};
use apogee_domain::{Error, Scope, Scopes};
use base64::Engine;
use std::future::{Future, Ready, ready};
use std::pin::Pin;

/// The caller's name, left in the request extensions for the journal.
#[derive(Debug, Clone)]
pub struct CallerName(pub String);

/// An authenticated caller, and the call it makes.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Client name.
    pub name: String,
    /// Granted scopes.
    pub scopes: Scopes,
    /// The call: client, request id, time.
    pub call: Call,
}

impl Caller {
    /// Fails with 403 unless the caller holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.grants(scope) {
            Ok(())
        } else {
            Err(ApiError(Error::forbidden(scope.as_str())))
        }
    }
}

/// The credentials of the `Authorization` header: `None` when there is none, `Malformed` when it
/// cannot be read.
pub fn credentials(req: &HttpRequest) -> Option<Credentials> {
    let value = req.headers().get(AUTHORIZATION)?;
    Some(
        authorization(value).unwrap_or_else(|| Credentials::Malformed {
            header: "Authorization".into(),
        }),
    )
}

fn authorization(value: &HeaderValue) -> Option<Credentials> {
    let (scheme, rest) = value.to_str().ok()?.trim().split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(Credentials::Bearer(rest.to_owned()));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (name, secret) = decoded.split_once(':')?;
        return Some(Credentials::Basic {
            name: name.to_owned(),
            secret: secret.to_owned(),
        });
    }
    None
}

/// The secret of the API-key header `header`, when sent.
fn api_key(req: &HttpRequest, header: &str) -> Option<Credentials> {
    let value = req.headers().get(header)?;
    Some(match value.to_str().map(str::trim) {
        Ok(secret) if !secret.is_empty() => Credentials::ApiKey(secret.to_owned()),
        _ => Credentials::Malformed {
            header: header.to_owned(),
        },
    })
}

/// What the request presents: its credentials (`Authorization`, else the API-key header), its
/// peer address and its `X-Forwarded-For` values.
pub fn presented(req: &HttpRequest, auth: &AuthSettings) -> Presented {
    let credentials = credentials(req).or_else(|| {
        auth.api_key_header
            .as_deref()
            .and_then(|header| api_key(req, header))
    });
    let forwarded_for = req
        .headers()
        .get_all("x-forwarded-for")
        // An unreadable value is kept as an unreadable address: it stops the search.
        .map(|v| v.to_str().unwrap_or("?").to_owned())
        .collect();
    Presented {
        credentials,
        peer: req.peer_addr().map(|a| a.ip()),
        forwarded_for,
    }
}

/// Identifies the caller (credentials, else trusted network); the client's name goes into the
/// extensions (journal).
pub async fn authenticate(req: &HttpRequest, app: &App) -> Result<Caller, Error> {
    let presented = presented(req, &app.settings.auth);
    let Client { name, scopes } = clients::identify(app, presented).await?;
    req.extensions_mut().insert(CallerName(name.clone()));
    Ok(Caller {
        call: Call::new(name.clone(), request_id::of(req)),
        name,
        scopes,
    })
}

/// Middleware (`actix_web::middleware::from_fn`) that identifies the caller before any extractor
/// runs, and leaves the [`Caller`] for the extractor. Without it, actix runs a handler's
/// extractors together: while the secret is being looked up, a malformed path, query or body
/// already answers 400, so a caller with a wrong or revoked secret learns how its request would
/// have been validated instead of getting 401.
pub async fn authenticate_first(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    let app = req.app_data::<web::Data<App>>().cloned();
    if let Some(app) = app {
        match authenticate(req.request(), &app).await {
            Ok(caller) => {
                req.extensions_mut().insert(caller);
            }
            Err(e) => {
                let res = problem_response(&e);
                return Ok(req.into_response(res).map_into_right_body());
            }
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let known = req.extensions().get::<Caller>().cloned();
        let req = req.clone();
        Box::pin(async move {
            if let Some(caller) = known {
                return Ok(caller);
            }
            let app = req
                .app_data::<web::Data<App>>()
                .ok_or_else(|| ApiError(Error::internal("état de l'application absent")))?
                .clone();
            Ok(authenticate(&req, &app).await?)
        })
    }
}

/// The page of a list: `limit` (1–1000, default 100) and `offset` from the query string; other
/// parameters are left to the handler's own query.
#[derive(Debug, Clone, Copy)]
pub struct PageQuery(pub Page);

fn number(req: &HttpRequest, name: &str) -> Result<Option<i64>, ApiError> {
    let query = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| {
            v.parse()
                .map_err(|_| bad_request(name, format!("{name} doit être un entier")))
        })
        .transpose()
}

impl FromRequest for PageQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready((|| {
            Ok(PageQuery(Page::new(
                number(req, "limit")?,
                number(req, "offset")?,
            )))
        })())
    }
}

/// The request's media type and parameters, lower-cased (`""` when absent).
pub fn content_type(req: &HttpRequest) -> String {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Whether the content type is one of `types` (prefix match, parameters allowed).
pub fn is_any(content_type: &str, types: &[&str]) -> bool {
    types.iter().any(|t| content_type.starts_with(t))
}

/// CSV uploads (`text/csv`, or `text/plain` as scripts send them).
pub const CSV: &[&str] = &["text/csv", "text/plain"];
/// NDJSON uploads, under their three names.
pub const NDJSON: &[&str] = &[
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
];
