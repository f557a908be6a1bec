//! Laissez-passer batch files (`lp_import`, `lp_import_report`, LP-16 … LP-20): the batch row
//! (idempotency key, status, counters, last committed line) and its report, stored one row per
//! committed chunk in the chunk's own transaction.

use crate::conn::AnyConnection;
use crate::schema_lp::{lp_import as li, lp_import_report as lr};
use apogee_domain::batch::Counts;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A stored batch.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = li)]
pub struct ImportRow {
    /// ULID.
    pub id: String,
    /// `Idempotency-Key` header, when sent.
    pub idempotency_key: Option<String>,
    /// Posting client.
    pub client: String,
    /// `partial` or `atomic`.
    pub mode: String,
    /// `csv`, `ndjson` or `json`.
    pub format: String,
    /// `dryRun=true`.
    pub dry_run: bool,
    /// `running`, `completed` or `failed`.
    pub status: String,
    /// Rows read.
    pub total: i64,
    /// LPs created.
    pub created: i64,
    /// LPs updated.
    pub updated: i64,
    /// LPs unchanged.
    pub unchanged: i64,
    /// Rows rejected.
    pub rejected: i64,
    /// File-level errors, JSON array of strings.
    pub file_errors: Option<String>,
    /// Last physical line committed (rows up to it are written and reported).
    pub last_line: i64,
    /// Report chunks stored.
    pub chunks: i64,
    /// Start.
    pub started_at: NaiveDateTime,
    /// End (completed or failed).
    pub finished_at: Option<NaiveDateTime>,
    /// Last progress.
    pub heartbeat_at: NaiveDateTime,
    /// Trace id of the request that last worked on it.
    pub last_trace_id: Option<String>,
}

impl ImportRow {
    /// Its counters.
    pub fn counts(&self) -> Counts {
        let u = |n: i64| u64::try_from(n).unwrap_or(0);
        Counts {
            total: u(self.total),
            created: u(self.created),
            updated: u(self.updated),
            unchanged: u(self.unchanged),
            rejected: u(self.rejected),
        }
    }
}

/// Inserts a new batch.
pub fn insert(conn: &mut AnyConnection, row: &ImportRow) -> QueryResult<()> {
    diesel::insert_into(li::table).values(row).execute(conn)?;
    Ok(())
}

/// The batch `id`.
pub fn find(conn: &mut AnyConnection, id: &str) -> QueryResult<Option<ImportRow>> {
    li::table
        .find(id)
        .select(ImportRow::as_select())
        .get_result(conn)
        .optional()
}

/// A page of batches, newest first, and how many there are.
pub fn list(
    conn: &mut AnyConnection,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<ImportRow>, i64)> {
    let total = li::table.count().get_result(conn)?;
    let rows = li::table
        .order((li::started_at.desc(), li::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(ImportRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// The batch posted with `key`.
pub fn find_by_key(conn: &mut AnyConnection, key: &str) -> QueryResult<Option<ImportRow>> {
    li::table
        .filter(li::idempotency_key.eq(key))
        .select(ImportRow::as_select())
        .get_result(conn)
        .optional()
}

/// Marks the batch as worked on by the request `trace_id` (resumption).
pub fn touch(
    conn: &mut AnyConnection,
    id: &str,
    trace_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(li::table.find(id))
        .set((li::heartbeat_at.eq(now), li::last_trace_id.eq(trace_id)))
        .execute(conn)?;
    Ok(())
}

/// Stores a committed chunk: its report lines (NDJSON), the counters and `last_line`. Runs in
/// the chunk's transaction.
pub fn add_chunk(
    conn: &mut AnyConnection,
    id: &str,
    first_line: i64,
    last_line: i64,
    lines: &str,
    counts: Counts,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let seq: i64 = li::table.find(id).select(li::chunks).get_result(conn)?;
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    diesel::insert_into(lr::table)
        .values((
            lr::import_id.eq(id),
            lr::seq.eq(seq + 1),
            lr::first_line.eq(first_line),
            lr::last_line.eq(last_line),
            lr::lines.eq(lines),
        ))
        .execute(conn)?;
    diesel::update(li::table.find(id))
        .set((
            li::chunks.eq(seq + 1),
            li::total.eq(li::total + n(counts.total)),
            li::created.eq(li::created + n(counts.created)),
            li::updated.eq(li::updated + n(counts.updated)),
            li::unchanged.eq(li::unchanged + n(counts.unchanged)),
            li::rejected.eq(li::rejected + n(counts.rejected)),
            li::last_line.eq(last_line),
            li::heartbeat_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Ends a batch: `completed` or `failed`, with its file errors (JSON array).
pub fn finish(
    conn: &mut AnyConnection,
    id: &str,
    status: &str,
    file_errors: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(li::table.find(id))
        .set((
            li::status.eq(status),
            li::file_errors.eq(file_errors),
            li::finished_at.eq(Some(now)),
            li::heartbeat_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The report chunks of a batch with `seq > after`, in order, at most `limit`:
/// `(seq, NDJSON lines)`.
pub fn report_chunks(
    conn: &mut AnyConnection,
    id: &str,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<(i64, String)>> {
    lr::table
        .filter(lr::import_id.eq(id))
        .filter(lr::seq.gt(after))
        .order(lr::seq.asc())
        .limit(limit)
        .select((lr::seq, lr::lines))
        .load(conn)
}

/// Deletes batches started before `before` (with their reports); returns how many.
pub fn prune(conn: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    let old: Vec<String> = li::table
        .filter(li::started_at.lt(before))
        .filter(li::status.ne("running"))
        .select(li::id)
        .load(conn)?;
    if old.is_empty() {
        return Ok(0);
    }
    diesel::delete(lr::table.filter(lr::import_id.eq_any(&old))).execute(conn)?;
    diesel::delete(li::table.filter(li::id.eq_any(&old))).execute(conn)
}

/// PostgreSQL: refreshes the planner statistics of the LP tables (after a bulk load); nothing on
/// SQLite.
pub fn analyze_lp_tables(conn: &mut AnyConnection) -> QueryResult<()> {
    if let AnyConnection::Postgresql(pg) = conn {
        diesel::sql_query("ANALYZE lp_etudiant, lp_opi").execute(pg)?;
    }
    Ok(())
}
