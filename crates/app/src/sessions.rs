//! Dashboard sessions: a client secret holding `journal:read` (or `admin`) is exchanged for a
//! random session token (sent back as an HttpOnly cookie) and a CSRF token (put in every form).
//!
//! Sessions live in this process's memory: a restart logs everyone out, and behind several
//! processes the load balancer must keep a user on one process (sticky sessions) **[chosen]**.
//! Only the SHA-256 of a token is kept. A session ends at logout, after
//! [`IDLE`] without a request, or [`LIFETIME`] after login, whichever comes first.

use crate::App;
use crate::clients::{self, Client, Credentials};
use apogee_domain::{Error, Scope};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// A session ends this long after login, used or not.
pub const LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);
/// Most sessions kept at once (the oldest are dropped beyond).
const MAX_SESSIONS: usize = 10_000;

/// A logged-in user of the dashboard.
#[derive(Debug, Clone)]
pub struct Session {
    /// The client whose secret was given.
    pub client: Client,
    /// The token forms must carry.
    pub csrf: String,
    created: Instant,
    seen: Instant,
}

/// The sessions of this process.
#[derive(Default)]
pub struct Sessions {
    by_hash: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Session>) -> T) -> Result<T, Error> {
        let mut map = self
            .by_hash
            .lock()
            .map_err(|_| Error::internal("sessions: lock poisoned"))?;
        Ok(f(&mut map))
    }

    /// The live session of `token`, its idle clock reset; `None` when unknown or expired.
    pub fn get(&self, token: &str) -> Option<Session> {
        let hash = clients::hash_secret(token);
        self.with(|map| {
            let now = Instant::now();
            let live = map
                .get(&hash)
                .is_some_and(|s| now - s.seen < IDLE && now - s.created < LIFETIME);
            if !live {
                map.remove(&hash);
                return None;
            }
            map.get_mut(&hash).map(|s| {
                s.seen = now;
                s.clone()
            })
        })
        .ok()
        .flatten()
    }

    fn insert(&self, token: &str, session: Session) -> Result<(), Error> {
        let hash = clients::hash_secret(token);
        self.with(|map| {
            if map.len() >= MAX_SESSIONS {
                let now = Instant::now();
                map.retain(|_, s| now - s.seen < IDLE && now - s.created < LIFETIME);
                if map.len() >= MAX_SESSIONS
                    && let Some(oldest) = map
                        .iter()
                        .min_by_key(|(_, s)| s.seen)
                        .map(|(k, _)| k.clone())
                {
                    map.remove(&oldest);
                }
            }
            map.insert(hash, session);
        })
    }

    /// Ends the session of `token` (no error when there is none).
    pub fn remove(&self, token: &str) {
        let hash = clients::hash_secret(token);
        let _ = self.with(|map| map.remove(&hash));
    }
}

/// A new session: its token (for the cookie) and the session.
#[derive(Debug)]
pub struct LoggedIn {
    /// Session token: the cookie's value, shown nowhere else.
    pub token: String,
    /// The session.
    pub session: Session,
}

/// Exchanges a client secret for a session (401 for a wrong secret, 403 without
/// `journal:read`).
pub async fn login(app: &App, secret: &str) -> Result<LoggedIn, Error> {
    let secret = secret.trim();
    if secret.is_empty() {
        return Err(Error::unauthenticated("Secret du client requis"));
    }
    let client = clients::authenticate(app, Some(Credentials::Bearer(secret.to_owned()))).await?;
    client.require(Scope::JournalRead)?;
    let now = Instant::now();
    let session = Session {
        client,
        csrf: clients::generate_secret(),
        created: now,
        seen: now,
    };
    let token = clients::generate_secret();
    app.sessions.insert(&token, session.clone())?;
    Ok(LoggedIn { token, session })
}

/// Ends a session.
pub fn logout(app: &App, token: &str) {
    app.sessions.remove(token);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        let now = Instant::now();
        Session {
            client: Client {
                name: "ui".into(),
                scopes: apogee_domain::Scopes::parse("journal:read").unwrap_or_default(),
            },
            csrf: "c".into(),
            created: now,
            seen: now,
        }
    }

    #[test]
    fn sessions_are_found_by_token_and_expire() -> Result<(), Error> {
        let sessions = Sessions::default();
        sessions.insert("tok", session())?;
        assert!(sessions.get("tok").is_some());
        assert!(sessions.get("other").is_none());
        // Only the hash is kept.
        assert!(sessions.with(|m| !m.contains_key("tok"))?);
        sessions.with(|m| {
            for s in m.values_mut() {
                s.seen -= IDLE;
            }
        })?;
        assert!(sessions.get("tok").is_none(), "idle session still alive");
        sessions.insert("tok2", session())?;
        sessions.with(|m| {
            for s in m.values_mut() {
                s.created -= LIFETIME;
            }
        })?;
        assert!(sessions.get("tok2").is_none(), "session past its lifetime");
        sessions.insert("tok3", session())?;
        sessions.remove("tok3");
        assert!(sessions.get("tok3").is_none());
        Ok(())
    }
}
