//! Small key/value facts about the database itself (demo seeded, referential version …).

use crate::conn::AnyConnection;
use crate::schema::gateway_meta::dsl as m;
use diesel::prelude::*;

/// The value stored under `key`.
pub fn get(conn: &mut AnyConnection, key: &str) -> QueryResult<Option<String>> {
    m::gateway_meta
        .filter(m::meta_key.eq(key))
        .select(m::meta_value)
        .get_result(conn)
        .optional()
}

/// Stores `value` under `key`.
pub fn set(conn: &mut AnyConnection, key: &str, value: &str) -> QueryResult<()> {
    let now = chrono::Utc::now().naive_utc();
    let updated = diesel::update(m::gateway_meta.filter(m::meta_key.eq(key)))
        .set((m::meta_value.eq(value), m::updated_at.eq(now)))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(m::gateway_meta)
            .values((
                m::meta_key.eq(key),
                m::meta_value.eq(value),
                m::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Increments the integer stored under `key` (0 when absent) and returns the new value.
pub fn increment(conn: &mut AnyConnection, key: &str) -> QueryResult<i64> {
    let next = get(conn, key)?
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0)
        + 1;
    set(conn, key, &next.to_string())?;
    Ok(next)
}

/// A trivial round trip, for readiness checks.
pub fn ping(conn: &mut AnyConnection) -> QueryResult<()> {
    use diesel::connection::SimpleConnection;
    conn.batch_execute("SELECT 1")
}
