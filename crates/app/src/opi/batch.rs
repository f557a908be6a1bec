//! OPI batch files (`POST /api/v1/opi/batch`, OPI-22 … OPI-24): the upload is spooled to
//! temporary files as it arrives (constant memory), read record by record
//! (`apogee_domain::opi::batch`), and each record becomes one OPI-1 push with the rules of the
//! REST and SOAP channels. Partial mode (default) writes each valid record in its own
//! transaction; atomic mode writes every record in one transaction and rolls it all back if one
//! is rejected. The answer is a per-line report and a summary.

use super::{Applied, context, options, upsert_in};
use crate::{App, Call};
use apogee_db::{AnyConnection, DbError, WriteError};
use apogee_domain::Error;
use apogee_domain::batch::{Counts, LineOutcome, LineStatus, Mode};
use apogee_domain::opi::Intake;
use apogee_domain::opi::batch::{Format, LineReport, ParcoursupTarget, Record, read_records};
use apogee_domain::opi::validate;
use serde::Serialize;
use std::collections::HashMap;

/// The answer.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BatchReport {
    /// Trace id of the call.
    pub trace_id: String,
    /// Input format.
    pub format: Format,
    /// `partial` or `atomic`.
    pub mode: Mode,
    /// Whether anything was written (false in atomic mode when a record was rejected).
    pub written: bool,
    /// Counts.
    pub summary: Counts,
    /// One entry per record.
    pub lines: Vec<LineReport>,
}

/// The files of an upload: `body`, or `candidat` and `candidature` (Pégase).
pub type Files = HashMap<String, std::fs::File>;

fn rejected(line: u64, key: Option<String>, err: &Error) -> LineReport {
    LineReport {
        line,
        key,
        outcome: LineOutcome::rejected(err),
    }
}

/// The line of a record whose write was tried: written, or rejected by a rule; a storage
/// failure stops the batch.
fn written_line(
    line: u64,
    key: Option<String>,
    result: Result<Applied, WriteError>,
) -> Result<LineReport, DbError> {
    match result {
        Ok(applied) => Ok(applied_line(line, &applied)),
        Err(WriteError::Domain(e)) => Ok(rejected(line, key, &e)),
        Err(WriteError::Db(e)) => Err(e),
    }
}

fn applied_line(line: u64, applied: &Applied) -> LineReport {
    let status = if applied.created {
        LineStatus::Created
    } else if applied.changed() {
        LineStatus::Updated
    } else {
        LineStatus::Unchanged
    };
    LineReport {
        line,
        key: Some(applied.effective_code.clone()),
        outcome: LineOutcome::written(status, applied.warning_codes()),
    }
}

/// Reads, validates and stores an upload.
pub async fn run(
    app: &App,
    call: &Call,
    format: Format,
    mode: Mode,
    mut files: Files,
    target: ParcoursupTarget,
) -> Result<BatchReport, Error> {
    if format == Format::Parcoursup {
        target.check()?;
    }
    let referential = app.referential();
    let records = tokio::task::spawn_blocking(move || {
        read_records(&referential, format, &mut files, &target)
    })
    .await
    .map_err(|e| Error::internal(format!("lecture du fichier : {e}")))??;
    process(app, call, format, mode, records).await
}

/// Validation first (pure), then the writes of the valid records.
async fn process(
    app: &App,
    call: &Call,
    format: Format,
    mode: Mode,
    records: Vec<Record>,
) -> Result<BatchReport, Error> {
    let referential = app.referential();
    let ctx = context(app, &referential, call);
    let mut lines: Vec<LineReport> = Vec::with_capacity(records.len());
    let mut intakes = Vec::new();
    for rec in records {
        let checked = rec
            .dto
            .map_err(|e| Error::validation(vec![e]))
            .and_then(|dto| validate(&dto, &ctx));
        match checked {
            Ok(intake) => intakes.push((rec.line, rec.key, intake)),
            Err(e) => lines.push(rejected(rec.line, rec.key, &e)),
        }
    }
    let written = match mode {
        Mode::Atomic => write_atomic(app, call, intakes, &mut lines).await?,
        Mode::Partial => write_each(app, call, intakes, &mut lines).await?,
    };
    lines.sort_by_key(|l| l.line);
    let summary = Counts::of(lines.iter().map(|l| l.outcome.status));
    Ok(BatchReport {
        trace_id: call.trace_id.clone(),
        format,
        mode,
        written: written && summary.total > summary.rejected,
        summary,
        lines,
    })
}

type Valid = Vec<(u64, Option<String>, Intake)>;

/// One transaction per record.
async fn write_each(
    app: &App,
    call: &Call,
    intakes: Valid,
    lines: &mut Vec<LineReport>,
) -> Result<bool, Error> {
    let options = options(app, false);
    for (line, key, intake) in intakes {
        let call = call.clone();
        let result = app
            .db
            .write(move |c| upsert_in(c, &intake, options, call.actor_now()))
            .await;
        lines.push(written_line(line, key, result)?);
    }
    Ok(true)
}

/// Error of the atomic transaction: a rejected record (rolls everything back) or storage.
enum AtomicError {
    Rejected(Vec<LineReport>),
    Db(DbError),
}

impl From<DbError> for AtomicError {
    fn from(e: DbError) -> Self {
        AtomicError::Db(e)
    }
}

impl apogee_db::Transient for AtomicError {
    fn is_transient(&self) -> bool {
        matches!(self, AtomicError::Db(e) if e.is_transient())
    }
}

impl From<apogee_db::DieselError> for AtomicError {
    fn from(e: apogee_db::DieselError) -> Self {
        AtomicError::Db(DbError::Query(e))
    }
}

/// Every record in one transaction, each in its savepoint; one rejection rolls all back.
async fn write_atomic(
    app: &App,
    call: &Call,
    intakes: Valid,
    lines: &mut Vec<LineReport>,
) -> Result<bool, Error> {
    let options = options(app, false);
    let any_rejected = !lines.is_empty();
    let call = call.clone();
    let outcome = app
        .db
        .write(
            move |c: &mut AnyConnection| -> Result<Vec<LineReport>, AtomicError> {
                let mut out = Vec::new();
                let mut failed = any_rejected;
                for (line, key, intake) in &intakes {
                    let actor = call.actor_now();
                    match apogee_db::savepoint(c, |c| upsert_in(c, intake, options, actor)) {
                        Ok(applied) => out.push(applied_line(*line, &applied)),
                        Err(WriteError::Domain(e)) => {
                            failed = true;
                            out.push(rejected(*line, key.clone(), &e));
                        }
                        Err(WriteError::Db(e)) => return Err(AtomicError::Db(e)),
                    }
                }
                if failed {
                    Err(AtomicError::Rejected(out))
                } else {
                    Ok(out)
                }
            },
        )
        .await;
    match outcome {
        Ok(out) => {
            lines.extend(out);
            Ok(true)
        }
        Err(AtomicError::Rejected(out)) => {
            lines.extend(out);
            Ok(false)
        }
        Err(AtomicError::Db(e)) => Err(e.into()),
    }
}
