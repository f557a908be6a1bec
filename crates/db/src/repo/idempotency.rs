//! Idempotency keys: the row of each key a client sent on a route, its lease while the request
//! runs, its answer once done. The decisions (same body? still running? taken over?) are the
//! caller's; these functions read and write the row, each in the caller's transaction.

use crate::conn::AnyConnection;
use crate::schema::idempotency as ik;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A stored key.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = ik)]
pub struct KeyRow {
    /// The client that sent it.
    pub client: String,
    /// The key.
    pub idem_key: String,
    /// The route (`POST /api/v1/laissez-passer/batch`).
    pub route: String,
    /// SHA-256 (hex) of the request body; empty for keys stored before bodies were hashed.
    pub body_sha256: String,
    /// `running` or `completed`.
    pub status: String,
    /// The request holding the lease (a ULID).
    pub owner: String,
    /// Until when the lease holds.
    pub lease_until: NaiveDateTime,
    /// What the request made (the LP batch id).
    pub resource: Option<String>,
    /// The stored answer's HTTP status.
    pub response_status: Option<i32>,
    /// The stored answer's body.
    pub response_body: Option<String>,
    /// First seen.
    pub created_at: NaiveDateTime,
    /// Completed.
    pub finished_at: Option<NaiveDateTime>,
}

/// Inserts `row` unless the key is stored already; returns whether it did. Concurrent inserts
/// of one key: one wins, the others see its row.
pub fn insert_if_absent(conn: &mut AnyConnection, row: &KeyRow) -> QueryResult<bool> {
    let n = crate::with_backend!(conn, |c| diesel::insert_into(ik::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(n == 1)
}

/// The stored key.
pub fn find(conn: &mut AnyConnection, client: &str, key: &str) -> QueryResult<Option<KeyRow>> {
    ik::table
        .find((client, key))
        .select(KeyRow::as_select())
        .get_result(conn)
        .optional()
}

/// Moves an expired lease from `from` to `to`; `false` when someone else took it first.
pub fn take_over(
    conn: &mut AnyConnection,
    (client, key): (&str, &str),
    from: &str,
    to: &str,
    lease_until: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        ik::table
            .find((client, key))
            .filter(ik::owner.eq(from))
            .filter(ik::status.eq("running")),
    )
    .set((ik::owner.eq(to), ik::lease_until.eq(lease_until)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Extends the lease of `owner`; `false` when it no longer holds it.
pub fn renew(
    conn: &mut AnyConnection,
    (client, key): (&str, &str),
    owner: &str,
    lease_until: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        ik::table
            .find((client, key))
            .filter(ik::owner.eq(owner))
            .filter(ik::status.eq("running")),
    )
    .set(ik::lease_until.eq(lease_until))
    .execute(conn)?;
    Ok(n == 1)
}

/// The answer of a request that ended.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    /// What it made.
    pub resource: Option<&'a str>,
    /// HTTP status.
    pub status: Option<i32>,
    /// Body.
    pub body: Option<&'a str>,
}

/// Marks the key completed with its answer; `false` when `owner` no longer holds it.
pub fn complete(
    conn: &mut AnyConnection,
    (client, key): (&str, &str),
    owner: &str,
    answer: Answer<'_>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(ik::table.find((client, key)).filter(ik::owner.eq(owner)))
        .set((
            ik::status.eq("completed"),
            ik::resource.eq(answer.resource),
            ik::response_status.eq(answer.status),
            ik::response_body.eq(answer.body),
            ik::finished_at.eq(Some(now)),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Forgets a key whose request failed before it did anything (its client may send it again).
pub fn release(
    conn: &mut AnyConnection,
    (client, key): (&str, &str),
    owner: &str,
) -> QueryResult<()> {
    diesel::delete(
        ik::table
            .find((client, key))
            .filter(ik::owner.eq(owner))
            .filter(ik::status.eq("running")),
    )
    .execute(conn)?;
    Ok(())
}

/// Deletes the completed keys first seen before `before`; returns how many.
pub fn prune(conn: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        ik::table
            .filter(ik::created_at.lt(before))
            .filter(ik::status.eq("completed")),
    )
    .execute(conn)
}
