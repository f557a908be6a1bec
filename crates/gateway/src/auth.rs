//! API clients and authentication.
//!
//! Secrets are 32 random bytes (base64url, prefixed `apg_`), shown once at creation; the database
//! keeps their SHA-256 only. A high-entropy random secret needs no slow password hash, and a fast
//! hash keeps per-call verification cheap (SOAP clients authenticate every call). Verified
//! secrets are cached for a few seconds, so a revocation takes effect within that delay.
//!
//! REST: `Authorization: Bearer <secret>`. SOAP: HTTP Basic `<name>:<secret>` (how Apogée
//! clients are configured) or Bearer.

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use apogee_db::repo::clients;
use apogee_db::{AnyConnection, Db, DbError};
use apogee_domain::{Error, Scope, Scopes};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a verified (or refused) secret is remembered.
const CACHE_TTL: Duration = Duration::from_secs(5);
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
pub fn create_client(
    conn: &mut AnyConnection,
    name: &str,
    scopes: &Scopes,
) -> Result<(clients::ApiClient, String), Error> {
    let valid_name = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid_name {
        return Err(Error::invalid_field(
            apogee_domain::FaultKey::noncoherent("name"),
            "CLIENT_NOM",
            "name",
            "Nom de client invalide (1 à 64 caractères parmi A-Z a-z 0-9 - _ .)",
        ));
    }
    if scopes.is_empty() {
        return Err(Error::invalid_field(
            apogee_domain::FaultKey::mandatory("scopes"),
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
            apogee_domain::FaultKey::business_rule("client.existe"),
            format!("Le client {name} existe déjà"),
        ));
    }
    let secret = generate_secret();
    let client = clients::create(conn, name, &hash_secret(&secret), &scopes.to_string())
        .map_err(DbError::from)?;
    Ok((client, secret))
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Client name.
    pub name: String,
    /// Granted scopes.
    pub scopes: Scopes,
}

impl Caller {
    /// Fails with 403 unless the caller holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.grants(scope) {
            Ok(())
        } else {
            Err(ApiError(Error::forbidden(scope.as_str())))
        }
    }
}

/// The caller's name, left in the request extensions for the journal.
#[derive(Debug, Clone)]
pub struct CallerName(pub String);

/// Verified-secret cache.
#[derive(Default)]
pub struct AuthCache {
    entries: Mutex<HashMap<String, (Instant, Option<Caller>)>>,
}

impl AuthCache {
    fn get(&self, hash: &str) -> Option<Option<Caller>> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(hash)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, c)| c.clone())
    }

    fn put(&self, hash: String, caller: Option<Caller>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CACHE_MAX {
                entries.clear();
            }
            entries.insert(hash, (Instant::now(), caller));
        }
    }
}

enum Credentials {
    Bearer(String),
    Basic { name: String, secret: String },
}

fn credentials(req: &HttpRequest) -> Option<Credentials> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, rest) = value.split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(Credentials::Bearer(rest.to_owned()));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let decoded = String::from_utf8(decoded).ok()?;
        let (name, secret) = decoded.split_once(':')?;
        return Some(Credentials::Basic {
            name: name.to_owned(),
            secret: secret.to_owned(),
        });
    }
    None
}

/// Verifies the request's credentials.
pub async fn authenticate(req: &HttpRequest, state: &AppState) -> Result<Caller, ApiError> {
    let creds = credentials(req).ok_or_else(|| {
        ApiError(Error::unauthenticated(
            "Authentification requise : en-tête Authorization: Bearer <jeton> (ou Basic pour SOAP)",
        ))
    })?;
    let (expected_name, secret) = match creds {
        Credentials::Bearer(s) => (None, s),
        Credentials::Basic { name, secret } => (Some(name), secret),
    };
    let hash = hash_secret(&secret);
    let caller = match state.auth_cache.get(&hash) {
        Some(cached) => cached,
        None => {
            let found = lookup(&state.db, hash.clone()).await?;
            state.auth_cache.put(hash, found.clone());
            found
        }
    };
    let caller = caller
        .filter(|c| expected_name.as_deref().is_none_or(|n| n == c.name))
        .ok_or_else(|| ApiError(Error::unauthenticated("Jeton invalide ou révoqué")))?;
    req.extensions_mut().insert(CallerName(caller.name.clone()));
    Ok(caller)
}

async fn lookup(db: &Db, hash: String) -> Result<Option<Caller>, ApiError> {
    let client = db
        .read(move |c| clients::find_active_by_secret(c, &hash).map_err(DbError::from))
        .await?;
    Ok(client.map(|c| Caller {
        scopes: Scopes::parse(&c.scopes).unwrap_or_default(),
        name: c.name,
    }))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError(Error::internal("état de l'application absent")))?
                .clone();
            authenticate(&req, &state).await
        })
    }
}

/// On the first start of an empty database: creates client `admin` with every scope and writes
/// its secret to `<data-dir>/admin.token` (mode 0600). Returns the path when it did.
pub fn bootstrap_admin(
    conn: &mut AnyConnection,
    token_path: &std::path::Path,
) -> Result<Option<std::path::PathBuf>, anyhow::Error> {
    if clients::count(conn)? > 0 {
        return Ok(None);
    }
    let (_, secret) = create_client(conn, "admin", &Scopes::all())?;
    write_private(token_path, &format!("{secret}\n"))?;
    Ok(Some(token_path.to_path_buf()))
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
