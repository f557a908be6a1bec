//! What every batch file reports, whatever it loads (OPI, laissez-passer, students): the outcome
//! of each line and the counts. Each batch adds its own key columns around [`LineOutcome`].

use crate::error::Error;
use serde::{Deserialize, Serialize};

/// What happened to one line (in atomic mode and in a dry run: what would have happened).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum LineStatus {
    /// A new record.
    Created,
    /// A stored record changed.
    Updated,
    /// The stored record was already identical.
    Unchanged,
    /// The line was refused.
    #[default]
    Rejected,
}

impl LineStatus {
    /// `created`, `updated`, `unchanged` or `rejected`.
    pub fn as_str(self) -> &'static str {
        match self {
            LineStatus::Created => "created",
            LineStatus::Updated => "updated",
            LineStatus::Unchanged => "unchanged",
            LineStatus::Rejected => "rejected",
        }
    }

    /// The status of a stored write (`created`, `updated`, `unchanged`).
    pub fn of_write(status: &str) -> Self {
        match status {
            "created" => LineStatus::Created,
            "updated" => LineStatus::Updated,
            "unchanged" => LineStatus::Unchanged,
            _ => LineStatus::Rejected,
        }
    }
}

/// The counts of a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Counts {
    /// Lines read.
    pub total: u64,
    /// Records created.
    pub created: u64,
    /// Records updated.
    pub updated: u64,
    /// Records already identical.
    pub unchanged: u64,
    /// Lines rejected.
    pub rejected: u64,
}

impl Counts {
    /// Counts one line.
    pub fn add(&mut self, status: LineStatus) {
        self.total += 1;
        match status {
            LineStatus::Created => self.created += 1,
            LineStatus::Updated => self.updated += 1,
            LineStatus::Unchanged => self.unchanged += 1,
            LineStatus::Rejected => self.rejected += 1,
        }
    }

    /// Adds the counts of another part of the batch.
    pub fn merge(&mut self, other: Counts) {
        self.total += other.total;
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.rejected += other.rejected;
    }

    /// The counts of a list of statuses.
    pub fn of(statuses: impl IntoIterator<Item = LineStatus>) -> Self {
        let mut counts = Counts::default();
        for s in statuses {
            counts.add(s);
        }
        counts
    }
}

/// The outcome part of a report line: status, the rejection's fault key and message, warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LineOutcome {
    /// `created`, `updated`, `unchanged` or `rejected`.
    pub status: LineStatus,
    /// Fault key of a rejection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_key: Option<String>,
    /// French message of a rejection (as Apogée's `lastErrorMsg`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Warning codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl LineOutcome {
    /// A written line with its warning codes.
    pub fn written(status: LineStatus, warnings: Vec<String>) -> Self {
        LineOutcome {
            status,
            fault_key: None,
            message: None,
            warnings,
        }
    }

    /// A line refused by `err`.
    pub fn rejected(err: &Error) -> Self {
        LineOutcome {
            status: LineStatus::Rejected,
            fault_key: Some(err.fault_key.to_string()),
            message: Some(err.message.clone()),
            warnings: Vec::new(),
        }
    }
}

/// How a batch treats rejected lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Valid lines are written, rejected ones reported (default).
    #[default]
    Partial,
    /// One rejected line and nothing is written.
    Atomic,
}

impl Mode {
    /// `partial` or `atomic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Partial => "partial",
            Mode::Atomic => "atomic",
        }
    }

    /// The `mode` parameter of a batch request (absent: partial).
    pub fn parse(mode: Option<&str>) -> Result<Self, Error> {
        match mode {
            None | Some("partial") => Ok(Mode::Partial),
            Some("atomic") => Ok(Mode::Atomic),
            Some(other) => Err(Error::bad_request(
                "mode",
                format!("Mode inconnu : {other} (partial, atomic)"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_tally_statuses() {
        let c = Counts::of([
            LineStatus::Created,
            LineStatus::Rejected,
            LineStatus::Unchanged,
            LineStatus::Created,
        ]);
        assert_eq!(
            c,
            Counts {
                total: 4,
                created: 2,
                updated: 0,
                unchanged: 1,
                rejected: 1
            }
        );
    }

    #[test]
    fn outcome_serialises_like_the_reports() -> Result<(), serde_json::Error> {
        let err = Error::not_found(crate::FaultKey::null_retrieve("numOPI"), "Aucune OPI");
        let json = serde_json::to_string(&LineOutcome::rejected(&err))?;
        assert_eq!(
            json,
            r#"{"status":"rejected","faultKey":"technical.data.nullretrieve.numOPI","message":"Aucune OPI"}"#
        );
        let ok = LineOutcome::written(LineStatus::of_write("updated"), vec!["W".into()]);
        assert_eq!(
            serde_json::to_string(&ok)?,
            r#"{"status":"updated","warnings":["W"]}"#
        );
        assert_eq!(Mode::parse(Some("atomic")).ok(), Some(Mode::Atomic));
        assert!(Mode::parse(Some("tout")).is_err());
        Ok(())
    }
}
