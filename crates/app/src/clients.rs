//! API clients and their secrets.
//!
//! Secrets are 32 random bytes (base64url, prefixed `apg_`), shown once at creation; the database
//! keeps their SHA-256 only. A high-entropy random secret needs no slow password hash, and a fast
//! hash keeps per-call verification cheap (SOAP clients authenticate every call). Verified
//! secrets are cached for a few seconds, so a revocation takes effect within that delay.

use crate::App;
use apogee_db::repo::clients;
use apogee_db::{AnyConnection, DbError};
use apogee_domain::{Error, FaultKey, Scope, Scopes};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use apogee_db::repo::clients::ApiClient;

/// How long a verified (or refused) secret is remembered.
pub const CACHE_TTL: Duration = Duration::from_secs(5);
const CACHE_MAX: usize = 10_000;

/// A new random secret.
pub fn generate_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "apg_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// SHA-256 (hex) of a secret: what the database stores.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Creates a client and returns its secret (shown once).
pub fn create(
    conn: &mut AnyConnection,
    name: &str,
    scopes: &Scopes,
) -> Result<(ApiClient, String), Error> {
    let valid_name = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid_name {
        return Err(Error::invalid_field(
            FaultKey::noncoherent("name"),
            "CLIENT_NOM",
            "name",
            "Nom de client invalide (1 à 64 caractères parmi A-Z a-z 0-9 - _ .)",
        ));
    }
    if scopes.is_empty() {
        return Err(Error::invalid_field(
            FaultKey::mandatory("scopes"),
            "CLIENT_DROITS",
            "scopes",
            "Au moins un droit est nécessaire",
        ));
    }
    if clients::find_by_name(conn, name)
        .map_err(DbError::from)?
        .is_some()
    {
        return Err(Error::conflict(
            FaultKey::business_rule("client.existe"),
            format!("Le client {name} existe déjà"),
        ));
    }
    let secret = generate_secret();
    let client = clients::create(conn, name, &hash_secret(&secret), &scopes.to_string())
        .map_err(DbError::from)?;
    Ok((client, secret))
}

/// Every client, revoked ones included.
pub fn list(conn: &mut AnyConnection) -> Result<Vec<ApiClient>, Error> {
    Ok(clients::list(conn).map_err(DbError::from)?)
}

/// Revokes the active client `name`; `false` when there is none.
pub fn revoke(conn: &mut AnyConnection, name: &str) -> Result<bool, Error> {
    Ok(clients::revoke(conn, name).map_err(DbError::from)?)
}

/// An authenticated client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// Client name.
    pub name: String,
    /// Granted scopes.
    pub scopes: Scopes,
}

impl Client {
    /// Fails with 403 unless the client holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), Error> {
        if self.scopes.grants(scope) {
            Ok(())
        } else {
            Err(Error::forbidden(scope.as_str()))
        }
    }
}

/// What a request presents.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// `Authorization: Bearer <secret>`.
    Bearer(String),
    /// `Authorization: Basic <name:secret>` (how Apogée SOAP clients are configured).
    Basic {
        /// Client name.
        name: String,
        /// Secret.
        secret: String,
    },
}

/// Verified-secret cache.
#[derive(Default)]
pub struct AuthCache {
    entries: Mutex<HashMap<String, (Instant, Option<Client>)>>,
}

impl AuthCache {
    fn get(&self, hash: &str) -> Option<Option<Client>> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(hash)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, c)| c.clone())
    }

    fn put(&self, hash: String, client: Option<Client>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CACHE_MAX {
                entries.clear();
            }
            entries.insert(hash, (Instant::now(), client));
        }
    }
}

/// Verifies credentials (absent: 401).
pub async fn authenticate(app: &App, credentials: Option<Credentials>) -> Result<Client, Error> {
    let creds = credentials.ok_or_else(|| {
        Error::unauthenticated(
            "Authentification requise : en-tête Authorization: Bearer <jeton> (ou Basic pour SOAP)",
        )
    })?;
    let (expected_name, secret) = match creds {
        Credentials::Bearer(s) => (None, s),
        Credentials::Basic { name, secret } => (Some(name), secret),
    };
    let hash = hash_secret(&secret);
    let client = match app.auth_cache.get(&hash) {
        Some(cached) => cached,
        None => {
            let lookup = hash.clone();
            let found = app
                .db
                .read(move |c| clients::find_active_by_secret(c, &lookup).map_err(DbError::from))
                .await?
                .map(|c| Client {
                    scopes: Scopes::parse(&c.scopes).unwrap_or_default(),
                    name: c.name,
                });
            app.auth_cache.put(hash, found.clone());
            found
        }
    };
    client
        .filter(|c| expected_name.as_deref().is_none_or(|n| n == c.name))
        .ok_or_else(|| Error::unauthenticated("Jeton invalide ou révoqué"))
}

/// On the first start of an empty database: creates client `admin` with every scope and writes
/// its secret to `token_path` (mode 0600). Returns whether it did.
pub fn bootstrap_admin(
    conn: &mut AnyConnection,
    token_path: &std::path::Path,
) -> Result<bool, crate::StartError> {
    if clients::count(conn).map_err(DbError::from)? > 0 {
        return Ok(false);
    }
    let (_, secret) = create(conn, "admin", &Scopes::all())?;
    write_private(token_path, &format!("{secret}\n"))
        .map_err(|e| crate::StartError::io(token_path, e))?;
    Ok(true)
}

/// Writes a file readable by its owner only.
pub fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(content.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hashed() {
        let a = generate_secret();
        let b = generate_secret();
        assert_ne!(a, b);
        assert!(a.starts_with("apg_") && a.len() == 47);
        assert_eq!(hash_secret("x").len(), 64);
        assert_eq!(hash_secret(&a), hash_secret(&a));
    }
}
