//! Extractors: the authenticated caller (and the `Call` it makes), the page of a list.
//!
//! REST: `Authorization: Bearer <secret>`. SOAP: HTTP Basic `<name>:<secret>` (how Apogée
//! clients are configured) or Bearer.

use super::problem::{ApiError, bad_request};
use super::request_id;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use apogee_app::clients::{self, Client, Credentials};
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

/// The credentials of the `Authorization` header, if readable.
pub fn credentials(req: &HttpRequest) -> Option<Credentials> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, rest) = value.split_once(' ')?;
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

/// Verifies the request's credentials; the client's name goes into the extensions (journal).
pub async fn authenticate(req: &HttpRequest, app: &App) -> Result<Caller, Error> {
    let Client { name, scopes } = clients::authenticate(app, credentials(req)).await?;
    req.extensions_mut().insert(CallerName(name.clone()));
    Ok(Caller {
        call: Call::new(name.clone(), request_id::of(req)),
        name,
        scopes,
    })
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
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
