//! The referential (39 tables, `domain.md` §2): loading files (REST uploads, the command line,
//! the demo), reading tables, and the in-memory snapshot the rules read.

use crate::{App, Call, Page, StartError, page::ListMeta};
use apogee_db::repo::referential::{self, UpsertCounts};
use apogee_db::{AnyConnection, Db, DbError, WriteError};
use apogee_domain::referential::{ParsedRow, Record, TABLES, TableDef, record, table};
use apogee_domain::{Error, FaultKey, FieldError, Referential};
use serde::Serialize;
use std::collections::BTreeSet;

/// Input format of a referential file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV with a header line (`,` or `;`).
    Csv,
    /// A JSON array of objects.
    Json,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

impl ImportReport {
    /// The report of `received` rows written with `counts`, `rejected` lines refused.
    pub fn new(
        table: &str,
        received: u64,
        counts: UpsertCounts,
        rejected: u64,
        errors: Vec<FieldError>,
    ) -> Self {
        ImportReport {
            table: table.to_owned(),
            received,
            created: counts.created,
            updated: counts.updated,
            unchanged: counts.unchanged,
            rejected,
            written: counts.created + counts.updated > 0,
            errors,
        }
    }
}

/// The table named `name` (404 listing the tables otherwise).
pub fn find_table(name: &str) -> Result<&'static TableDef, Error> {
    table(name).ok_or_else(|| {
        let names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        Error::not_found(
            FaultKey::null_retrieve("table"),
            format!(
                "Table de référentiel inconnue : {name} (tables : {})",
                names.join(", ")
            ),
        )
    })
}

/// Parses `body` into checked records and row errors; also returns the rows read.
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

/// Imports into `table`, in the caller's transaction. Without `partial`, any refused row means
/// nothing is written and the answer is a 400 listing every refusal; with it, valid rows are
/// written and refusals reported.
pub fn import_in(
    conn: &mut AnyConnection,
    table: &'static TableDef,
    format: Format,
    body: &[u8],
    partial: bool,
    call: &Call,
) -> Result<ImportReport, WriteError> {
    let (records, errors, received) = parse(table, format, body)?;
    let rejected: BTreeSet<u64> = errors.iter().filter_map(|e| e.line).collect();
    if !errors.is_empty() && !partial {
        return Err(Error::validation(errors).into());
    }
    let counts = referential::upsert(conn, &records, call.actor())?;
    Ok(ImportReport::new(
        table.name,
        received,
        counts,
        rejected.len() as u64,
        errors,
    ))
}

/// `PUT /api/v1/referential/{table}`: imports a file and, when it changed something, reloads
/// this process's snapshot (the others see it within their refresh delay).
pub async fn import(
    app: &App,
    call: &Call,
    table: &'static TableDef,
    format: Format,
    body: bytes::Bytes,
    partial: bool,
) -> Result<ImportReport, Error> {
    let call2 = call.clone();
    let report = app
        .db
        .write(move |c| import_in(c, table, format, &body, partial, &call2))
        .await?;
    if report.written {
        app.refresh_referential().await?;
    }
    Ok(report)
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

/// Nothing was ever loaded (nor seeded) in this database.
pub fn is_empty(conn: &mut AnyConnection) -> Result<bool, DbError> {
    Ok(referential::version(conn)? == 0
        && apogee_db::repo::meta::get(conn, apogee_db::demo::SEEDED_KEY)?.is_none())
}

/// Seeds the demo referential, students and CVEC attestations (`crates/db/demo`).
pub fn seed_demo(db: &Db, call: &Call) -> Result<(), StartError> {
    let counts = db.write_blocking(|c| apogee_db::demo::seed(c, call.actor()))?;
    tracing::warn!(
        rows = counts.created,
        "seeded the DEMO referential (crates/db/demo); start with --no-demo to skip it"
    );
    let students = db.write_blocking(|c| apogee_db::repo::students::seed_demo(c, call.actor()))?;
    tracing::warn!(
        rows = students,
        "seeded the DEMO students (crates/db/demo/etudiants.csv)"
    );
    let cvec = db.write_blocking(|c| apogee_db::repo::cvec::seed_demo(c, call.actor()))?;
    tracing::warn!(
        rows = cvec.created,
        "seeded the DEMO CVEC attestations (crates/db/demo/cvec-attestations.csv)"
    );
    Ok(())
}

/// A column of a table, as listed.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColumnInfo {
    /// DTO field name.
    pub name: &'static str,
    /// Part of the key.
    pub key: bool,
    /// Mandatory.
    pub required: bool,
}

/// A table, as listed.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TableInfo {
    /// Name in the API (`etapes` …).
    pub name: &'static str,
    /// The Apogée table it mirrors.
    pub apogee_table: &'static str,
    /// French label.
    pub label: &'static str,
    /// Rows in the snapshot.
    pub rows: usize,
    /// Columns.
    pub columns: Vec<ColumnInfo>,
}

/// The version of a snapshot.
#[derive(Debug, Clone, Copy, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnapshotMeta {
    /// Version counter (one more per import that changed something).
    pub version: i64,
}

/// `GET /api/v1/referential`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tables {
    /// Every table.
    pub tables: Vec<TableInfo>,
    /// Snapshot version.
    pub meta: SnapshotMeta,
}

/// The tables with their row counts in the snapshot.
pub fn tables(app: &App) -> Tables {
    let snapshot = app.referential();
    let tables = snapshot
        .counts()
        .into_iter()
        .map(|(t, rows)| TableInfo {
            name: t.name,
            apogee_table: t.apogee_table,
            label: t.label,
            rows,
            columns: t
                .columns
                .iter()
                .map(|c| ColumnInfo {
                    name: c.name,
                    key: c.key,
                    required: c.required,
                })
                .collect(),
        })
        .collect();
    Tables {
        tables,
        meta: SnapshotMeta {
            version: snapshot.version,
        },
    }
}

/// One page of a table.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rows {
    /// Rows, DTO field names.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub rows: Vec<serde_json::Value>,
    /// Pagination.
    pub meta: ListMeta,
}

/// One page of `table` filtered by column equality (`filters`: column name → value as sent).
pub async fn list(
    app: &App,
    table: &'static TableDef,
    filters: &[(String, String)],
    page: Page,
) -> Result<Rows, Error> {
    let mut parsed = Vec::new();
    for (name, v) in filters {
        let (i, col) = table.column(name).ok_or_else(|| {
            Error::bad_request(name, format!("Colonne inconnue pour le filtre : {name}"))
        })?;
        let value = record::parse_value(col, Some(v)).map_err(|e| Error::validation(vec![e]))?;
        parsed.push((i, value));
    }
    let (rows, total) = app
        .db
        .read(move |c| {
            referential::list(c, table, &parsed, page.limit, page.offset).map_err(DbError::from)
        })
        .await?;
    Ok(Rows {
        rows: rows.iter().map(|r| r.to_json()).collect(),
        meta: page.meta(total),
    })
}
