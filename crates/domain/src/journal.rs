//! What the call journal records about every call (REP-1).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Through which door a call came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// A SOAP service (`/services/…`).
    Soap,
    /// The REST API (`/api/…`).
    Rest,
    /// A command-line operation run on the server (imports, client management).
    Cli,
    /// A write through the Apogée-compatible SQL schema (PostgreSQL), journaled by a trigger
    /// (`DELETE FROM apogee.opi_pj`).
    Sql,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Done.
    Ok,
    /// Refused because of the request (validation, auth, unknown resource).
    Rejected,
    /// Failed on our side (storage unavailable, bug).
    Error,
}

impl Outcome {
    /// The outcome implied by an HTTP status.
    pub fn from_status(status: u16) -> Self {
        match status {
            0..=399 => Outcome::Ok,
            400..=499 => Outcome::Rejected,
            _ => Outcome::Error,
        }
    }

    /// `ok`, `rejected` or `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Rejected => "rejected",
            Outcome::Error => "error",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Outcome {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ok" => Ok(Outcome::Ok),
            "rejected" => Ok(Outcome::Rejected),
            "error" => Ok(Outcome::Error),
            other => Err(format!("unknown outcome `{other}` (ok, rejected, error)")),
        }
    }
}

impl Channel {
    /// `soap`, `rest`, `cli` or `sql`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Soap => "soap",
            Channel::Rest => "rest",
            Channel::Cli => "cli",
            Channel::Sql => "sql",
        }
    }
}

/// The business key a call is about (never a name or a birth date: REP-1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessKey {
    /// What the value is: `codOpiIntEpo`, `numOPI`, `codEtu`, `ine`, `table`, `batch` …
    pub kind: String,
    /// The value.
    pub value: String,
}

impl BusinessKey {
    /// A key of `kind` with `value`.
    pub fn new(kind: &str, value: impl Into<String>) -> Self {
        BusinessKey {
            kind: kind.to_owned(),
            value: value.into(),
        }
    }
}
