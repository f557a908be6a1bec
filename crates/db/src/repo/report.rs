//! What the reports read (REP-2 … REP-9): the daily call aggregates the journal writer keeps,
//! the journal rows behind a set of fault keys, the CVEC checks by result and reason.

use crate::conn::AnyConnection;
use crate::repo::journal::{JournalRow, NewJournalEntry};
use crate::schema_cvec::cvec_check as cc;
use crate::schema_report::call_journal_daily as d;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text, Timestamp};
use std::collections::BTreeMap;

/// One aggregate: calls of a day, client, operation, outcome and fault key ('' when absent).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = d)]
pub struct DailyRow {
    /// Day (UTC).
    pub day: NaiveDate,
    /// Client name, '' for none.
    pub client_name: String,
    /// Operation.
    pub operation: String,
    /// `ok`, `rejected` or `error`.
    pub outcome: String,
    /// Fault key, '' for none.
    pub fault_key: String,
    /// Calls.
    pub calls: i64,
}

/// Adds `entries` to the aggregates (one upsert per distinct group).
pub fn count_calls(conn: &mut AnyConnection, entries: &[NewJournalEntry]) -> QueryResult<()> {
    let mut groups: BTreeMap<(NaiveDate, &str, &str, &str, &str), i64> = BTreeMap::new();
    for e in entries {
        let key = (
            e.at.date(),
            e.client_name.as_deref().unwrap_or_default(),
            e.operation.as_str(),
            e.outcome.as_str(),
            e.fault_key.as_deref().unwrap_or_default(),
        );
        *groups.entry(key).or_default() += 1;
    }
    for ((day, client, operation, outcome, fault_key), calls) in groups {
        diesel::sql_query(
            "INSERT INTO call_journal_daily (day, client_name, operation, outcome, fault_key, calls) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (day, client_name, operation, outcome, fault_key) \
             DO UPDATE SET calls = call_journal_daily.calls + excluded.calls",
        )
        .bind::<Date, _>(day)
        .bind::<Text, _>(client)
        .bind::<Text, _>(operation)
        .bind::<Text, _>(outcome)
        .bind::<Text, _>(fault_key)
        .bind::<BigInt, _>(calls)
        .execute(conn)?;
    }
    Ok(())
}

/// Deletes the aggregates of the days before `day`.
pub fn prune_before(conn: &mut AnyConnection, day: NaiveDate) -> QueryResult<usize> {
    diesel::delete(d::table.filter(d::day.lt(day))).execute(conn)
}

/// The aggregates of days in `[from, to)`, of `client` when given.
pub fn daily(
    conn: &mut AnyConnection,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    client: Option<&str>,
) -> QueryResult<Vec<DailyRow>> {
    let mut q = d::table.into_boxed();
    if let Some(v) = from {
        q = q.filter(d::day.ge(v));
    }
    if let Some(v) = to {
        q = q.filter(d::day.lt(v));
    }
    if let Some(v) = client {
        q = q.filter(d::client_name.eq(v.to_owned()));
    }
    q.order(d::day.asc())
        .select(DailyRow::as_select())
        .load(conn)
}

/// Which journal rows a report lists: refused calls (outcome other than `ok`) whose
/// (operation, fault key) is one of `pairs` ('' = no fault key), in `[from, to)`, of `client`.
#[derive(Debug, Clone, Default)]
pub struct RowFilter {
    /// (operation, fault key) pairs.
    pub pairs: Vec<(String, String)>,
    /// At or after.
    pub from: Option<NaiveDateTime>,
    /// Before.
    pub to: Option<NaiveDateTime>,
    /// Client name.
    pub client: Option<String>,
}

/// A page of the matching journal rows, newest first (the count comes from the aggregates).
pub fn refused_rows(
    conn: &mut AnyConnection,
    filter: &RowFilter,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<JournalRow>> {
    if filter.pairs.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = String::from("SELECT * FROM call_journal WHERE outcome <> 'ok' AND (");
    let mut n = 0;
    let mut next = || {
        n += 1;
        format!("${n}")
    };
    for (i, (_, key)) in filter.pairs.iter().enumerate() {
        if i > 0 {
            sql.push_str(" OR ");
        }
        let op = next();
        if key.is_empty() {
            sql.push_str(&format!("(operation = {op} AND fault_key IS NULL)"));
        } else {
            // Placeholders in increasing order: SQLite numbers `$n` by first appearance.
            sql.push_str(&format!("(operation = {op} AND fault_key = {})", next()));
        }
    }
    sql.push(')');
    if filter.from.is_some() {
        sql.push_str(&format!(" AND at >= {}", next()));
    }
    if filter.to.is_some() {
        sql.push_str(&format!(" AND at < {}", next()));
    }
    if filter.client.is_some() {
        sql.push_str(&format!(" AND client_name = {}", next()));
    }
    sql.push_str(&format!(
        " ORDER BY id DESC LIMIT {} OFFSET {}",
        next(),
        next()
    ));
    crate::with_backend!(conn, |c| {
        let mut q = diesel::sql_query(sql.as_str()).into_boxed();
        for (op, key) in &filter.pairs {
            q = q.bind::<Text, _>(op.as_str());
            if !key.is_empty() {
                q = q.bind::<Text, _>(key.as_str());
            }
        }
        if let Some(v) = filter.from {
            q = q.bind::<Timestamp, _>(v);
        }
        if let Some(v) = filter.to {
            q = q.bind::<Timestamp, _>(v);
        }
        if let Some(v) = &filter.client {
            q = q.bind::<Text, _>(v.as_str());
        }
        q.bind::<BigInt, _>(limit)
            .bind::<BigInt, _>(offset)
            .load::<JournalRow>(c)
    })
}

/// CVEC checks per (result, reason), of campaign `cod_anu` when given.
pub fn cvec_counts(
    conn: &mut AnyConnection,
    cod_anu: Option<&str>,
) -> QueryResult<Vec<(String, Option<String>, i64)>> {
    let mut q = cc::table
        .group_by((cc::result, cc::reason))
        .select((cc::result, cc::reason, diesel::dsl::count_star()))
        .order((cc::result, cc::reason))
        .into_boxed();
    if let Some(v) = cod_anu {
        q = q.filter(cc::cod_anu.eq(v.to_owned()));
    }
    q.load(conn)
}
