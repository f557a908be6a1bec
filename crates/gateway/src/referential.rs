//! Referential loading: the same import path for REST uploads, `referential import` and the demo.

use apogee_db::repo::referential::{self, Actor, UpsertCounts};
use apogee_db::{AnyConnection, DbError};
use apogee_domain::referential::{ParsedRow, Record, TableDef, record};
use apogee_domain::{Error, FieldError, Referential};
use serde::Serialize;

/// Input format of a referential file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV with a header line (`,` or `;`).
    Csv,
    /// A JSON array of objects.
    Json,
}

/// What an import did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// Table loaded.
    pub table: String,
    /// Data rows read.
    pub received: u64,
    /// Rows created.
    pub created: u64,
    /// Rows changed.
    pub updated: u64,
    /// Rows already identical.
    pub unchanged: u64,
    /// Rows refused.
    pub rejected: u64,
    /// Whether anything was written (false when a row was refused outside partial mode).
    pub written: bool,
    /// Every refusal, with its line number.
    pub errors: Vec<FieldError>,
}

/// Parses `body` into checked records and row errors.
pub fn parse(
    table: &'static TableDef,
    format: Format,
    body: &[u8],
) -> Result<(Vec<Record>, Vec<FieldError>, u64), Error> {
    let rows: Vec<ParsedRow> = match format {
        Format::Csv => record::read_csv(table, body)?.collect(),
        Format::Json => record::read_json(table, body)?,
    };
    let received = rows.len() as u64;
    let mut records = Vec::with_capacity(rows.len());
    let mut errors = Vec::new();
    for row in rows {
        match row.result {
            Ok(r) => records.push(r),
            Err(mut e) => errors.append(&mut e),
        }
    }
    Ok((records, errors, received))
}

/// Imports into `table`. Without `partial`, any refused row means nothing is written and the
/// answer is a 400 listing every refusal; with it, valid rows are written and refusals reported.
pub fn import(
    conn: &mut AnyConnection,
    table: &'static TableDef,
    format: Format,
    body: &[u8],
    partial: bool,
    actor: Actor<'_>,
) -> Result<ImportReport, apogee_db::WriteError> {
    let (records, errors, received) = parse(table, format, body)?;
    let rejected_lines: std::collections::BTreeSet<u64> =
        errors.iter().filter_map(|e| e.line).collect();
    if !errors.is_empty() && !partial {
        return Err(Error::validation(errors).into());
    }
    let counts: UpsertCounts = referential::upsert(conn, &records, actor)?;
    Ok(ImportReport {
        table: table.name.to_owned(),
        received,
        created: counts.created,
        updated: counts.updated,
        unchanged: counts.unchanged,
        rejected: rejected_lines.len() as u64,
        written: counts.created + counts.updated > 0,
        errors,
    })
}

/// A fresh snapshot when the stored version differs from `known`.
pub fn load_if_newer(conn: &mut AnyConnection, known: i64) -> Result<Option<Referential>, DbError> {
    let version = referential::version(conn)?;
    if version == known {
        return Ok(None);
    }
    Ok(Some(Referential::from_records(
        version,
        referential::load_all(conn)?,
    )))
}
