//! Referential tables, reached generically from their definitions
//! (`apogee_domain::referential::TABLES`): upsert, listing with filters, full load.

use crate::conn::AnyConnection;
use apogee_domain::referential::{ColumnKind, Record, TABLES, TableDef, Value, record};
use apogee_domain::text::snake_case;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{BigInt, Date, Nullable, Text, Timestamp};

/// Key of the referential version counter in `gateway_meta`.
pub const VERSION_KEY: &str = "referential_version";

/// What an upsert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    /// New rows.
    pub created: u64,
    /// Rows whose values changed.
    pub updated: u64,
    /// Rows already identical.
    pub unchanged: u64,
}

pub use crate::Actor;

#[derive(QueryableByName)]
struct JsonRow {
    #[diesel(sql_type = Text)]
    j: String,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn is_pg(conn: &AnyConnection) -> bool {
    matches!(conn, AnyConnection::Postgresql(_))
}

/// `?` on SQLite, `$n` on PostgreSQL.
fn placeholder(pg: bool, n: usize) -> String {
    if pg { format!("${n}") } else { "?".into() }
}

fn json_select(pg: bool, table: &TableDef) -> String {
    let pairs: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("'{}', {}", c.name, snake_case(c.name)))
        .collect();
    if pg {
        format!("json_build_object({})::text AS j", pairs.join(", "))
    } else {
        format!("json_object({}) AS j", pairs.join(", "))
    }
}

fn bind_value<'f, DB>(
    q: BoxedSqlQuery<'f, DB, SqlQuery>,
    kind: ColumnKind,
    value: &Value,
) -> BoxedSqlQuery<'f, DB, SqlQuery>
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<Nullable<Text>>
        + diesel::sql_types::HasSqlType<Nullable<BigInt>>
        + diesel::sql_types::HasSqlType<Nullable<Date>>,
    Option<String>: diesel::serialize::ToSql<Nullable<Text>, DB>,
    Option<i64>: diesel::serialize::ToSql<Nullable<BigInt>, DB>,
    Option<chrono::NaiveDate>: diesel::serialize::ToSql<Nullable<Date>, DB>,
{
    match (kind, value) {
        (ColumnKind::Int { .. }, Value::Int(i)) => q.bind::<Nullable<BigInt>, _>(Some(*i)),
        (ColumnKind::Int { .. }, _) => q.bind::<Nullable<BigInt>, _>(None::<i64>),
        (ColumnKind::Date, Value::Date(d)) => q.bind::<Nullable<Date>, _>(Some(*d)),
        (ColumnKind::Date, _) => q.bind::<Nullable<Date>, _>(None::<chrono::NaiveDate>),
        (_, v) => q.bind::<Nullable<Text>, _>(v.as_text()),
    }
}

fn load_bound(
    conn: &mut AnyConnection,
    sql: &str,
    values: &[(ColumnKind, Value)],
) -> QueryResult<Vec<String>> {
    let rows: Vec<JsonRow> = crate::with_backend!(conn, |c| {
        let mut q = diesel::sql_query(sql).into_boxed();
        for (kind, v) in values {
            q = bind_value(q, *kind, v);
        }
        q.load(c)?
    });
    Ok(rows.into_iter().map(|r| r.j).collect())
}

fn count_bound(
    conn: &mut AnyConnection,
    sql: &str,
    values: &[(ColumnKind, Value)],
) -> QueryResult<i64> {
    let rows: Vec<CountRow> = crate::with_backend!(conn, |c| {
        let mut q = diesel::sql_query(sql).into_boxed();
        for (kind, v) in values {
            q = bind_value(q, *kind, v);
        }
        q.load(c)?
    });
    Ok(rows.first().map_or(0, |r| r.n))
}

/// Turns a row read as JSON back into a checked record.
fn record_from_json(table: &'static TableDef, json: &str) -> QueryResult<Record> {
    let obj: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json)
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
    let raw: Vec<Option<String>> = table
        .columns
        .iter()
        .map(|c| match obj.get(c.name) {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        })
        .collect();
    let cells: Vec<Option<&str>> = raw.iter().map(Option::as_deref).collect();
    record::parse_record(table, &cells).map_err(|errs| {
        let msg = errs
            .iter()
            .map(|e| e.message.clone())
            .collect::<Vec<_>>()
            .join("; ");
        diesel::result::Error::DeserializationError(
            format!("stored {} row does not check: {msg}", table.name).into(),
        )
    })
}

fn key_where(pg: bool, table: &TableDef, first: usize) -> String {
    table
        .key_columns()
        .enumerate()
        .map(|(n, (_, c))| format!("{} = {}", snake_case(c.name), placeholder(pg, first + n)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn key_values(rec: &Record) -> Vec<(ColumnKind, Value)> {
    rec.table
        .key_columns()
        .map(|(i, c)| (c.kind, rec.values[i].clone()))
        .collect()
}

/// The stored record with the same key as `rec`.
pub fn find(conn: &mut AnyConnection, rec: &Record) -> QueryResult<Option<Record>> {
    let pg = is_pg(conn);
    let sql = format!(
        "SELECT {} FROM {} WHERE {}",
        json_select(pg, rec.table),
        rec.table.db_table,
        key_where(pg, rec.table, 1)
    );
    load_bound(conn, &sql, &key_values(rec))?
        .first()
        .map(|j| record_from_json(rec.table, j))
        .transpose()
}

/// Inserts or updates each record (keyed by its table's key); identical rows are not written.
pub fn upsert(
    conn: &mut AnyConnection,
    records: &[Record],
    actor: Actor<'_>,
) -> QueryResult<UpsertCounts> {
    let pg = is_pg(conn);
    let mut counts = UpsertCounts::default();
    for rec in records {
        let table = rec.table;
        let values: Vec<(ColumnKind, Value)> = table
            .columns
            .iter()
            .zip(&rec.values)
            .map(|(c, v)| (c.kind, v.clone()))
            .collect();
        let stamps = [
            actor.client.map(str::to_owned),
            Some(actor.trace_id.to_owned()),
        ];
        match find(conn, rec)? {
            Some(stored) if stored.values == rec.values => counts.unchanged += 1,
            Some(_) => {
                let non_keys: Vec<(ColumnKind, Value)> = table
                    .columns
                    .iter()
                    .zip(&rec.values)
                    .filter(|(c, _)| !c.key)
                    .map(|(c, v)| (c.kind, v.clone()))
                    .collect();
                let mut n = 0;
                let sets: Vec<String> = table
                    .columns
                    .iter()
                    .filter(|c| !c.key)
                    .map(|c| {
                        n += 1;
                        format!("{} = {}", snake_case(c.name), placeholder(pg, n))
                    })
                    .collect();
                let sql = format!(
                    "UPDATE {} SET {}{}last_trace_id = {}, updated_at = {} WHERE {}",
                    table.db_table,
                    sets.join(", "),
                    if sets.is_empty() { "" } else { ", " },
                    placeholder(pg, n + 1),
                    placeholder(pg, n + 2),
                    key_where(pg, table, n + 3)
                );
                // Bind order: non-key values, trace id, time, key values.
                crate::with_backend!(conn, |c| {
                    let mut q = diesel::sql_query(&sql).into_boxed();
                    for (kind, v) in &non_keys {
                        q = bind_value(q, *kind, v);
                    }
                    q = q.bind::<Nullable<Text>, _>(Some(actor.trace_id.to_owned()));
                    q = q.bind::<Timestamp, _>(actor.now);
                    for (kind, v) in key_values(rec) {
                        q = bind_value(q, kind, &v);
                    }
                    q.execute(c)
                })?;
                counts.updated += 1;
            }
            None => {
                let cols: Vec<String> = table.columns.iter().map(|c| snake_case(c.name)).collect();
                let n = cols.len();
                let marks: Vec<String> = (1..=n + 4).map(|i| placeholder(pg, i)).collect();
                let sql = format!(
                    "INSERT INTO {} ({}, created_by, last_trace_id, created_at, updated_at) VALUES ({})",
                    table.db_table,
                    cols.join(", "),
                    marks.join(", ")
                );
                crate::with_backend!(conn, |c| {
                    let mut q = diesel::sql_query(&sql).into_boxed();
                    for (kind, v) in &values {
                        q = bind_value(q, *kind, v);
                    }
                    for s in &stamps {
                        q = q.bind::<Nullable<Text>, _>(s.clone());
                    }
                    q = q.bind::<Timestamp, _>(actor.now);
                    q = q.bind::<Timestamp, _>(actor.now);
                    q.execute(c)
                })?;
                counts.created += 1;
            }
        }
    }
    if counts.created + counts.updated > 0 {
        super::meta::increment(conn, VERSION_KEY)?;
    }
    Ok(counts)
}

/// One page of `table`, ordered by key, with equality filters on columns, and the total count.
pub fn list(
    conn: &mut AnyConnection,
    table: &'static TableDef,
    filters: &[(usize, Value)],
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<Record>, i64)> {
    let pg = is_pg(conn);
    let conditions: Vec<String> = filters
        .iter()
        .enumerate()
        .map(|(n, (i, _))| {
            format!(
                "{} = {}",
                snake_case(table.columns[*i].name),
                placeholder(pg, n + 1)
            )
        })
        .collect();
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let binds: Vec<(ColumnKind, Value)> = filters
        .iter()
        .map(|(i, v)| (table.columns[*i].kind, v.clone()))
        .collect();
    let total = count_bound(
        conn,
        &format!("SELECT COUNT(*) AS n FROM {}{where_clause}", table.db_table),
        &binds,
    )?;
    let order: Vec<String> = table
        .key_columns()
        .map(|(_, c)| snake_case(c.name))
        .collect();
    let sql = format!(
        "SELECT {} FROM {}{where_clause} ORDER BY {} LIMIT {} OFFSET {}",
        json_select(pg, table),
        table.db_table,
        order.join(", "),
        limit.max(0),
        offset.max(0)
    );
    let rows = load_bound(conn, &sql, &binds)?
        .iter()
        .map(|j| record_from_json(table, j))
        .collect::<QueryResult<Vec<_>>>()?;
    Ok((rows, total))
}

/// Every row of every referential table.
pub fn load_all(conn: &mut AnyConnection) -> QueryResult<Vec<Record>> {
    let pg = is_pg(conn);
    let mut out = Vec::new();
    for table in TABLES {
        let sql = format!("SELECT {} FROM {}", json_select(pg, table), table.db_table);
        for j in load_bound(conn, &sql, &[])? {
            out.push(record_from_json(table, &j)?);
        }
    }
    Ok(out)
}

/// The referential version counter (0 before any load).
pub fn version(conn: &mut AnyConnection) -> QueryResult<i64> {
    Ok(super::meta::get(conn, VERSION_KEY)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}
