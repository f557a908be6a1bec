//! The gateway's one error type.
//!
//! Every failure the gateway reports carries an Apogée fault key (`type.domaine.nature.element`,
//! see `soap-contract.md` §5.4), a French message meant for the caller, and a kind that decides the
//! HTTP status. The REST layer renders it as an RFC 9457 problem body, the SOAP layer as a
//! `WebBaseException` fault: the mapping lives in the gateway, the vocabulary lives here.

use serde::Serialize;
use std::fmt;

/// What went wrong, from the caller's point of view. Decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ErrorKind {
    /// The request is malformed or breaks a rule (400).
    Validation,
    /// The credentials are missing or wrong (401).
    Unauthenticated,
    /// The caller lacks a scope (403).
    Forbidden,
    /// The addressed resource does not exist (404).
    NotFound,
    /// The request conflicts with stored data, or with a request still running (409).
    Conflict,
    /// The request is well-formed but cannot be processed as sent: an `Idempotency-Key`
    /// already used for another request (422).
    Unprocessable,
    /// The client took too long to send its request (408).
    RequestTimeout,
    /// The body is larger than the configured limit (413).
    PayloadTooLarge,
    /// The body's media type is not accepted here (415).
    UnsupportedMediaType,
    /// No representation the `Accept` header allows (406).
    NotAcceptable,
    /// A dependency (the database, a remote service) is unavailable (503).
    Unavailable,
    /// A bug or an unexpected failure (500).
    Internal,
}

impl ErrorKind {
    /// The HTTP status code of this kind.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::Validation => 400,
            ErrorKind::Unauthenticated => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::Unprocessable => 422,
            ErrorKind::RequestTimeout => 408,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::UnsupportedMediaType => 415,
            ErrorKind::NotAcceptable => 406,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }

    /// A short English title for problem bodies.
    pub fn title(self) -> &'static str {
        match self {
            ErrorKind::Validation => "Invalid request",
            ErrorKind::Unauthenticated => "Authentication required",
            ErrorKind::Forbidden => "Missing scope",
            ErrorKind::NotFound => "Not found",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::Unprocessable => "Unprocessable request",
            ErrorKind::RequestTimeout => "Request timeout",
            ErrorKind::PayloadTooLarge => "Payload too large",
            ErrorKind::UnsupportedMediaType => "Unsupported media type",
            ErrorKind::NotAcceptable => "Not acceptable",
            ErrorKind::Unavailable => "Service unavailable",
            ErrorKind::Internal => "Internal error",
        }
    }

    /// The stable slug used in problem `type` URIs.
    pub fn slug(self) -> &'static str {
        match self {
            ErrorKind::Validation => "validation",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not-found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Unprocessable => "unprocessable",
            ErrorKind::RequestTimeout => "request-timeout",
            ErrorKind::PayloadTooLarge => "payload-too-large",
            ErrorKind::UnsupportedMediaType => "unsupported-media-type",
            ErrorKind::NotAcceptable => "not-acceptable",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }
}

/// An Apogée message key, `type.domaine.nature.element` (e.g.
/// `technical.parameter.noncoherentinput.codCge`). Compared verbatim by clients.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "technical.parameter.noncoherentinput.codCge"))]
#[serde(transparent)]
pub struct FaultKey(String);

impl FaultKey {
    /// A key from its four segments.
    pub fn new(kind: &str, domaine: &str, nature: &str, element: &str) -> Self {
        FaultKey(format!("{kind}.{domaine}.{nature}.{element}"))
    }

    /// `technical.parameter.noncoherentinput.<element>`: bad format, length or value.
    pub fn noncoherent(element: &str) -> Self {
        Self::new("technical", "parameter", "noncoherentinput", element)
    }

    /// `technical.parameter.noncoherentinput.<element>obligatoire`: mandatory value absent.
    pub fn mandatory(element: &str) -> Self {
        Self::new(
            "technical",
            "parameter",
            "noncoherentinput",
            &format!("{element}obligatoire"),
        )
    }

    /// `technical.data.nullretrieve.<element>`: unknown code or record.
    pub fn null_retrieve(element: &str) -> Self {
        Self::new("technical", "data", "nullretrieve", element)
    }

    /// `functionnal.borules.<rule>` (sic, Apogée's spelling).
    pub fn business_rule(rule: &str) -> Self {
        FaultKey(format!("functionnal.borules.{rule}"))
    }

    /// `technical.data.transaction.connexion`: storage unavailable.
    pub fn storage_unavailable() -> Self {
        Self::new("technical", "data", "transaction", "connexion")
    }

    /// `technical.security.invaliduser.user`: authentication failure.
    pub fn invalid_user() -> Self {
        Self::new("technical", "security", "invaliduser", "user")
    }

    /// `technical.security.forbidden.<scope>`: authenticated, but the scope is missing.
    pub fn forbidden(scope: &str) -> Self {
        Self::new("technical", "security", "forbidden", scope)
    }

    /// `technical.global.internal.global`: unexpected failure.
    pub fn internal() -> Self {
        Self::new("technical", "global", "internal", "global")
    }

    /// The key as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The four segments `(type, domaine, nature, element)`; missing ones are `global`, as
    /// Apogée's `WebBaseException` constructor does. The element keeps any further dots.
    pub fn segments(&self) -> [&str; 4] {
        let mut parts = self.0.splitn(4, '.');
        let mut next = || parts.next().filter(|s| !s.is_empty()).unwrap_or("global");
        [next(), next(), next(), next()]
    }
}

impl fmt::Display for FaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for FaultKey {
    fn from(value: &str) -> Self {
        FaultKey(value.to_owned())
    }
}

/// One precise failure: which field, which rule, which key, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FieldError {
    /// Apogée fault key of this failure.
    pub fault_key: FaultKey,
    /// Stable reason code (`VOEU_VET_INCONNUE`, `INE_KEY_MISMATCH`, `REF_FORMAT` …).
    pub code: String,
    /// Path of the offending field (`etatCivil.codNneIndOpi`, `voeux[1].codCge`, `line 12: codCge`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Physical line number, for errors found in files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// French explanation.
    pub message: String,
}

impl FieldError {
    /// A field error without a line number.
    pub fn new(
        fault_key: FaultKey,
        code: impl Into<String>,
        field: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            fault_key,
            code: code.into(),
            field,
            line: None,
            message: message.into(),
        }
    }

    /// The same error, located at a physical line of a file.
    pub fn at_line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }
}

/// The gateway's error: a kind, the main fault key, a French message and the detailed failures.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{fault_key}: {message}")]
pub struct Error {
    /// Decides the HTTP status.
    pub kind: ErrorKind,
    /// The key of the first (or only) failure: the SOAP faultstring.
    pub fault_key: FaultKey,
    /// French, self-contained, for end users (`lastErrorMsg`, problem `detail`).
    pub message: String,
    /// Every failure found, in order (the first one gave `fault_key`).
    pub errors: Vec<FieldError>,
    /// Seconds after which the same request may succeed (`Retry-After`: a request still
    /// running, an overload).
    pub retry_after: Option<u64>,
}

/// Result alias of the domain.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with no detailed failures.
    pub fn new(kind: ErrorKind, fault_key: FaultKey, message: impl Into<String>) -> Self {
        Error {
            kind,
            fault_key,
            message: message.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// A validation error made of one or more field errors; the first one names the fault.
    /// Returns an internal error if `errors` is empty (a caller bug).
    pub fn validation(errors: Vec<FieldError>) -> Self {
        Self::from_field_errors(ErrorKind::Validation, errors)
    }

    /// An error of `kind` made of field errors; the first one names the fault.
    pub fn from_field_errors(kind: ErrorKind, errors: Vec<FieldError>) -> Self {
        match errors.first() {
            Some(first) => Error {
                kind,
                fault_key: first.fault_key.clone(),
                message: first.message.clone(),
                errors,
                retry_after: None,
            },
            None => Error::internal("erreur de validation sans détail"),
        }
    }

    /// A single invalid field.
    pub fn invalid_field(
        fault_key: FaultKey,
        code: &str,
        field: &str,
        message: impl Into<String>,
    ) -> Self {
        Self::validation(vec![FieldError::new(
            fault_key,
            code,
            Some(field.to_owned()),
            message,
        )])
    }

    /// A malformed request parameter (query string, path, header, body): `REQUETE_INVALIDE`.
    pub fn bad_request(field: &str, message: impl Into<String>) -> Self {
        Self::invalid_field(
            FaultKey::noncoherent(field),
            "REQUETE_INVALIDE",
            field,
            message,
        )
    }

    /// A request body the gateway does not read (`415`).
    pub fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(
            ErrorKind::UnsupportedMediaType,
            FaultKey::noncoherent("contentType"),
            message,
        )
    }

    /// An `Accept` header the resource cannot satisfy (`406`).
    pub fn not_acceptable(message: impl Into<String>) -> Self {
        Self::new(
            ErrorKind::NotAcceptable,
            FaultKey::noncoherent("accept"),
            message,
        )
    }

    /// A body over its size limit (`413`).
    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Self::new(
            ErrorKind::PayloadTooLarge,
            FaultKey::noncoherent("body"),
            message,
        )
    }

    /// A resource that does not exist.
    pub fn not_found(fault_key: FaultKey, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, fault_key, message)
    }

    /// A conflict with stored data.
    pub fn conflict(fault_key: FaultKey, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, fault_key, message)
    }

    /// Missing or wrong credentials.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(
            ErrorKind::Unauthenticated,
            FaultKey::invalid_user(),
            message,
        )
    }

    /// Authenticated, but without the required scope.
    pub fn forbidden(scope: &str) -> Self {
        Self::new(
            ErrorKind::Forbidden,
            FaultKey::forbidden(scope),
            format!("Ce client n'a pas le droit « {scope} » requis par cette opération"),
        )
    }

    /// The database (or another dependency) is unavailable.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            ErrorKind::Unavailable,
            FaultKey::storage_unavailable(),
            message,
        )
    }

    /// An unexpected failure. The message is shown to callers: keep internals out of it.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, FaultKey::internal(), message)
    }

    /// The same error, to be retried after `seconds` (`Retry-After`).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// The messages list of a SOAP fault detail: `"<key> : <message>"` per failure.
    pub fn fault_messages(&self) -> Vec<String> {
        if self.errors.is_empty() {
            vec![format!("{} : {}", self.fault_key, self.message)]
        } else {
            self.errors
                .iter()
                .map(|e| format!("{} : {}", e.fault_key, e.message))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_key_segments_follow_apogee_grammar() {
        let key = FaultKey::noncoherent("codCge");
        assert_eq!(key.as_str(), "technical.parameter.noncoherentinput.codCge");
        assert_eq!(
            key.segments(),
            ["technical", "parameter", "noncoherentinput", "codCge"]
        );
        assert_eq!(
            FaultKey::business_rule("doublon.identite").segments(),
            ["functionnal", "borules", "doublon", "identite"]
        );
        assert_eq!(
            FaultKey::from("technical.data").segments(),
            ["technical", "data", "global", "global"]
        );
        assert_eq!(
            FaultKey::mandatory("codOpiIntEpo").as_str(),
            "technical.parameter.noncoherentinput.codOpiIntEpoobligatoire"
        );
    }

    #[test]
    fn validation_error_takes_first_failure() {
        let err = Error::validation(vec![
            FieldError::new(FaultKey::null_retrieve("codCge"), "A", None, "premier"),
            FieldError::new(FaultKey::noncoherent("codEtp"), "B", None, "second"),
        ]);
        assert_eq!(err.kind.http_status(), 400);
        assert_eq!(err.fault_key.as_str(), "technical.data.nullretrieve.codCge");
        assert_eq!(err.message, "premier");
        assert_eq!(
            err.fault_messages(),
            vec![
                "technical.data.nullretrieve.codCge : premier",
                "technical.parameter.noncoherentinput.codEtp : second"
            ]
        );
        assert_eq!(Error::validation(vec![]).kind, ErrorKind::Internal);
    }
}
