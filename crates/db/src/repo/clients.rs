//! API clients: name, hashed secret, scopes.

use crate::conn::AnyConnection;
use crate::schema::api_client::dsl as c;
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A stored API client.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = crate::schema::api_client)]
pub struct ApiClient {
    /// Surrogate key.
    pub id: i64,
    /// Unique name, also the HTTP Basic user name.
    pub name: String,
    /// SHA-256 (hex) of the secret; the secret itself is never stored.
    pub secret_sha256: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// Creation time (UTC).
    pub created_at: NaiveDateTime,
    /// Revocation time (UTC), if revoked.
    pub revoked_at: Option<NaiveDateTime>,
}

/// Stores a new client.
pub fn create(
    conn: &mut AnyConnection,
    name: &str,
    secret_sha256: &str,
    scopes: &str,
) -> QueryResult<ApiClient> {
    diesel::insert_into(c::api_client)
        .values((
            c::name.eq(name),
            c::secret_sha256.eq(secret_sha256),
            c::scopes.eq(scopes),
            c::created_at.eq(chrono::Utc::now().naive_utc()),
        ))
        .execute(conn)?;
    c::api_client
        .filter(c::name.eq(name))
        .select(ApiClient::as_select())
        .get_result(conn)
}

/// The active (not revoked) client holding the secret whose hash is `secret_sha256`.
pub fn find_active_by_secret(
    conn: &mut AnyConnection,
    secret_sha256: &str,
) -> QueryResult<Option<ApiClient>> {
    c::api_client
        .filter(c::secret_sha256.eq(secret_sha256))
        .filter(c::revoked_at.is_null())
        .select(ApiClient::as_select())
        .get_result(conn)
        .optional()
}

/// The client named `name`, revoked or not.
pub fn find_by_name(conn: &mut AnyConnection, name: &str) -> QueryResult<Option<ApiClient>> {
    c::api_client
        .filter(c::name.eq(name))
        .select(ApiClient::as_select())
        .get_result(conn)
        .optional()
}

/// Every client, by name.
pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<ApiClient>> {
    c::api_client
        .order(c::name.asc())
        .select(ApiClient::as_select())
        .load(conn)
}

/// Revokes the client named `name`; returns whether an active client was revoked.
pub fn revoke(conn: &mut AnyConnection, name: &str) -> QueryResult<bool> {
    let n = diesel::update(
        c::api_client
            .filter(c::name.eq(name))
            .filter(c::revoked_at.is_null()),
    )
    .set(c::revoked_at.eq(chrono::Utc::now().naive_utc()))
    .execute(conn)?;
    Ok(n > 0)
}

/// Number of clients ever created.
pub fn count(conn: &mut AnyConnection) -> QueryResult<i64> {
    c::api_client.count().get_result(conn)
}
