//! The error body of the Apogée PJ REST and INES facades (PJ-14):
//! `{"erreurMsg", "erreurType", "erreurDescription"}`.

use crate::http::problem::FaultNote;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use apogee_app::App;
use apogee_domain::{ErrorKind, Scope};
use serde::Serialize;
use std::collections::HashMap;

/// An error in the facades' own format.
#[derive(Debug, Clone)]
pub struct FacadeError {
    /// HTTP status.
    pub status: StatusCode,
    /// `erreurType`, e.g. `nullretrieve.piecejustif`.
    pub kind: String,
    /// `erreurMsg`: French, short.
    pub message: String,
    /// `erreurDescription`: French, the details.
    pub description: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody<'a> {
    erreur_msg: &'a str,
    erreur_type: &'a str,
    erreur_description: &'a str,
}

impl FacadeError {
    /// An error of `status`.
    pub fn new(status: StatusCode, kind: &str, message: &str, description: String) -> Self {
        FacadeError {
            status,
            kind: kind.to_owned(),
            message: message.to_owned(),
            description,
        }
    }

    /// `400 inputparameter.<param>`: missing or malformed parameter.
    pub fn parameter(param: &str, description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            &format!("inputparameter.{param}"),
            &format!("Paramètre {param} absent ou invalide"),
            description.into(),
        )
    }

    /// `500 technical`.
    pub fn internal(description: &str) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "technical",
            "Erreur technique",
            description.to_owned(),
        )
    }

    /// `503 technical.indisponible`.
    pub fn unavailable(message: &str, description: String) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "technical.indisponible",
            message,
            description,
        )
    }

    /// The response. Its `FaultNote` keeps the framework error handler away.
    pub fn response(&self) -> HttpResponse {
        let body = ErrorBody {
            erreur_msg: &self.message,
            erreur_type: &self.kind,
            erreur_description: &self.description,
        };
        let mut res = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            res.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"apogee-gateway\""),
            ));
        }
        let mut res = res.json(body);
        FaultNote::attach(&mut res, self.kind.clone(), self.message.clone());
        res
    }
}

impl From<apogee_domain::Error> for FacadeError {
    fn from(err: apogee_domain::Error) -> Self {
        if err.kind == ErrorKind::Unavailable {
            Self::unavailable("Service momentanément indisponible", err.message)
        } else {
            Self::internal(&err.message)
        }
    }
}

impl actix_web::ResponseError for FacadeError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        self.response()
    }
}

impl std::fmt::Display for FacadeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind, self.description)
    }
}

/// An unsupported method on a facade endpoint.
pub async fn method_not_allowed() -> HttpResponse {
    FacadeError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "inputparameter.method",
        "Méthode non autorisée",
        "Méthode HTTP non prise en charge par ce service".into(),
    )
    .response()
}

/// Compares the SHA-256 digests byte by byte without an early exit: neither the secret's
/// value nor its length shows in the time taken.
fn same_secret(a: &str, b: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Whether the request carries the configured facade header with its value (PJ-15).
fn has_facade_header(req: &HttpRequest, app: &App) -> bool {
    let s = &app.settings.pj;
    let (Some(name), Some(expected)) = (&s.facade_header_name, &s.facade_header_value) else {
        return false;
    };
    req.headers()
        .get(name.as_str())
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| same_secret(v, expected))
}

/// The configured header (PJ-15), or API credentials with `scope` (any client when `None`).
pub async fn authorize(
    req: &HttpRequest,
    app: &App,
    scope: Option<Scope>,
) -> Result<(), FacadeError> {
    if has_facade_header(req, app) {
        return Ok(());
    }
    let caller = crate::http::extract::authenticate(req, app)
        .await
        .map_err(|e| {
            FacadeError::new(
                StatusCode::UNAUTHORIZED,
                "security.invaliduser",
                "Authentification requise",
                e.message,
            )
        })?;
    if let Some(scope) = scope {
        caller.require(scope).map_err(|e| {
            FacadeError::new(
                StatusCode::FORBIDDEN,
                "security.forbidden",
                "Accès refusé",
                e.0.message,
            )
        })?;
    }
    Ok(())
}

/// The query parameters (first value of each name).
pub fn query(req: &HttpRequest) -> Result<HashMap<String, String>, FacadeError> {
    let pairs = actix_web::web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map_err(|e| FacadeError::parameter("query", format!("Paramètres illisibles : {e}")))?;
    let mut out = HashMap::new();
    for (k, v) in pairs.into_inner() {
        out.entry(k).or_insert(v);
    }
    Ok(out)
}
