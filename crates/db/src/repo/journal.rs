//! The call journal (REP-1): one row per SOAP or REST call.

use crate::conn::AnyConnection;
use crate::schema::call_journal::dsl as j;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A journal row to append.
#[derive(Debug, Clone, PartialEq, Eq, Insertable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = crate::schema::call_journal)]
pub struct NewJournalEntry {
    /// When the call ended (UTC).
    pub at: NaiveDateTime,
    /// Trace id, also sent as `X-Request-Id`.
    pub request_id: String,
    /// Authenticated client, if any.
    pub client_name: Option<String>,
    /// `soap`, `rest` or `cli`.
    pub channel: String,
    /// Operation (`PUT /api/v1/referential/{table}`, `mettreajourDonneesOpi_v10` …).
    pub operation: String,
    /// Kind of business key (`codOpiIntEpo`, `numOPI`, `codEtu`, `ine`, `table` …).
    pub key_kind: Option<String>,
    /// Business key value.
    pub key_value: Option<String>,
    /// `ok`, `rejected` or `error`.
    pub outcome: String,
    /// HTTP status answered.
    pub http_status: i32,
    /// Apogée fault key of a failure.
    pub fault_key: Option<String>,
    /// French message of a failure.
    pub message: Option<String>,
    /// Warning codes, comma-separated.
    pub warnings: Option<String>,
    /// Duration in milliseconds.
    pub duration_ms: i32,
}

/// A stored journal row.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = crate::schema::call_journal)]
pub struct JournalRow {
    /// Sequence.
    pub id: i64,
    /// See [`NewJournalEntry`].
    pub at: NaiveDateTime,
    /// See [`NewJournalEntry`].
    pub request_id: String,
    /// See [`NewJournalEntry`].
    pub client_name: Option<String>,
    /// See [`NewJournalEntry`].
    pub channel: String,
    /// See [`NewJournalEntry`].
    pub operation: String,
    /// See [`NewJournalEntry`].
    pub key_kind: Option<String>,
    /// See [`NewJournalEntry`].
    pub key_value: Option<String>,
    /// See [`NewJournalEntry`].
    pub outcome: String,
    /// See [`NewJournalEntry`].
    pub http_status: i32,
    /// See [`NewJournalEntry`].
    pub fault_key: Option<String>,
    /// See [`NewJournalEntry`].
    pub message: Option<String>,
    /// See [`NewJournalEntry`].
    pub warnings: Option<String>,
    /// See [`NewJournalEntry`].
    pub duration_ms: i32,
}

/// Appends entries in one multi-row insert, and adds them to the daily aggregates of the
/// reports (`call_journal_daily`) in the same transaction.
pub fn insert_many(conn: &mut AnyConnection, entries: &[NewJournalEntry]) -> QueryResult<usize> {
    if entries.is_empty() {
        return Ok(0);
    }
    crate::savepoint(conn, |conn| {
        let n = crate::with_backend!(conn, |c| diesel::insert_into(j::call_journal)
            .values(entries)
            .execute(c))?;
        crate::repo::report::count_calls(conn, entries)?;
        Ok(n)
    })
}

/// Search criteria; every field is optional.
#[derive(Debug, Clone, Default)]
pub struct JournalFilter {
    /// Calls at or after.
    pub from: Option<NaiveDateTime>,
    /// Calls before.
    pub to: Option<NaiveDateTime>,
    /// Client name.
    pub client: Option<String>,
    /// Operation.
    pub operation: Option<String>,
    /// Outcome.
    pub outcome: Option<String>,
    /// Business key value.
    pub key: Option<String>,
    /// Fault key.
    pub fault_key: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
}

macro_rules! apply_filter {
    ($query:expr, $f:expr) => {{
        let mut q = $query;
        if let Some(v) = $f.from {
            q = q.filter(j::at.ge(v));
        }
        if let Some(v) = $f.to {
            q = q.filter(j::at.lt(v));
        }
        if let Some(v) = &$f.client {
            q = q.filter(j::client_name.eq(v));
        }
        if let Some(v) = &$f.operation {
            q = q.filter(j::operation.eq(v));
        }
        if let Some(v) = &$f.outcome {
            q = q.filter(j::outcome.eq(v));
        }
        if let Some(v) = &$f.key {
            q = q.filter(j::key_value.eq(v));
        }
        if let Some(v) = &$f.fault_key {
            q = q.filter(j::fault_key.eq(v));
        }
        if let Some(v) = &$f.request_id {
            q = q.filter(j::request_id.eq(v));
        }
        q
    }};
}

/// One page of matching rows, newest first, and the total count.
pub fn search(
    conn: &mut AnyConnection,
    filter: &JournalFilter,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<JournalRow>, i64)> {
    let total: i64 = apply_filter!(j::call_journal.into_boxed(), filter)
        .count()
        .get_result(conn)?;
    let rows = apply_filter!(j::call_journal.into_boxed(), filter)
        .order(j::id.desc())
        .limit(limit)
        .offset(offset)
        .select(JournalRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Deletes the rows older than `cutoff`; returns how many.
pub fn prune_before(conn: &mut AnyConnection, cutoff: NaiveDateTime) -> QueryResult<usize> {
    crate::repo::report::prune_before(conn, cutoff.date())?;
    diesel::delete(j::call_journal.filter(j::at.lt(cutoff))).execute(conn)
}

/// The row `id`.
pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<JournalRow>> {
    j::call_journal
        .find(id)
        .select(JournalRow::as_select())
        .get_result(conn)
        .optional()
}
