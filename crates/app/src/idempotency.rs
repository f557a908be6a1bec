//! `Idempotency-Key` (the IETF draft; Stripe's behaviour). A key is the client's, bound to the
//! route and to the SHA-256 of the request body:
//!
//! * first use: the request runs holding a **lease** on the key, renewed by a background task
//!   while it runs (every third of `idempotency.lease_secs`), in whichever process it runs;
//! * the same key, route and body while the lease holds (any process): `409` with
//!   `Retry-After`, never a second run;
//! * once the request completed: its stored answer, nothing run again;
//! * the same key with another body or route: `422`, naming the key;
//! * a lease that expired (its process crashed, or the request failed on storage): the next
//!   request with the key takes it over, once (a compare-and-set on the owner), and continues
//!   the work (an LP batch resumes after its last committed line).

use crate::App;
use apogee_db::repo::idempotency::{self as repo, Answer, KeyRow};
use apogee_db::{Db, DbError};
use apogee_domain::{Error, ErrorKind, FaultKey};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The longest key accepted.
pub const MAX_KEY_CHARS: usize = 200;

/// A request sent with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyed {
    /// The client (keys are per client).
    pub client: String,
    /// The key.
    pub key: String,
    /// The route, method and template (`POST /api/v1/laissez-passer/batch`).
    pub route: &'static str,
    /// SHA-256 (hex) of the body.
    pub body_sha256: String,
}

/// The `Idempotency-Key` header's value, checked: trimmed, non-empty, 200 characters at most.
pub fn parse_key(raw: Option<&str>) -> Result<Option<String>, Error> {
    let key = raw.map(str::trim).filter(|v| !v.is_empty());
    match key {
        Some(k) if k.chars().count() > MAX_KEY_CHARS || k.chars().any(char::is_control) => {
            Err(Error::bad_request(
                "Idempotency-Key",
                "Idempotency-Key : 200 caractères au plus, sans caractère de contrôle",
            ))
        }
        k => Ok(k.map(str::to_owned)),
    }
}

/// SHA-256 (hex) of a body held in memory.
pub fn sha256(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// The answer stored for a completed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// What it made (the LP batch id).
    pub resource: Option<String>,
    /// HTTP status.
    pub status: Option<i32>,
    /// Body (JSON).
    pub body: Option<String>,
}

/// What a request with a key may do.
pub enum Claim {
    /// The key is new: this request runs, holding the lease.
    New(Lease),
    /// The request that held the key stopped (lease expired): this request continues its work.
    Resumed(Lease),
    /// The key's request completed: its answer.
    Done(Stored),
}

/// The lease of a running request on its key; renewed while it lives. Dropping it without
/// [`Lease::complete`] or [`Lease::release`] lets it expire (the work may be resumed).
pub struct Lease {
    db: Db,
    client: String,
    key: String,
    owner: String,
    resource: Option<String>,
    lost: Arc<AtomicBool>,
    renewer: tokio::task::JoinHandle<()>,
}

impl Lease {
    /// What the request makes (set when the key was claimed).
    pub fn resource(&self) -> Option<&str> {
        self.resource.as_deref()
    }

    /// The flag that turns true when another process took the key over (this request must
    /// stop: it lost its lease).
    pub fn lost_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.lost)
    }

    fn ids(&self) -> (String, String, String) {
        (self.client.clone(), self.key.clone(), self.owner.clone())
    }

    /// Stores the answer: the key is completed.
    pub async fn complete(self, stored: Stored) -> Result<(), Error> {
        self.renewer.abort();
        let (client, key, owner) = self.ids();
        let now = chrono::Utc::now().naive_utc();
        let held = self
            .db
            .write(move |c| {
                let answer = Answer {
                    resource: stored.resource.as_deref(),
                    status: stored.status,
                    body: stored.body.as_deref(),
                };
                repo::complete(c, (&client, &key), &owner, answer, now).map_err(DbError::from)
            })
            .await?;
        if held { Ok(()) } else { Err(lost(&self.key)) }
    }

    /// Forgets the key: the request failed before it did anything (a bad header …), the client
    /// may send it again.
    pub async fn release(self) {
        self.renewer.abort();
        let (client, key, owner) = self.ids();
        let released = self
            .db
            .write(move |c| repo::release(c, (&client, &key), &owner).map_err(DbError::from))
            .await;
        if let Err(e) = released {
            tracing::warn!(error = %e, "idempotency key not released (it will expire)");
        }
    }

    /// Ends the lease now without completing (a storage failure): the next request with the key
    /// takes it over at once and resumes the work.
    pub async fn abandon(self) {
        self.renewer.abort();
        let (client, key, owner) = self.ids();
        let now = chrono::Utc::now().naive_utc();
        let done = self
            .db
            .write(move |c| repo::renew(c, (&client, &key), &owner, now).map_err(DbError::from))
            .await;
        if let Err(e) = done {
            tracing::warn!(error = %e, "idempotency lease not ended (it will expire)");
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

fn lost(key: &str) -> Error {
    Error::conflict(
        FaultKey::new("functionnal", "bddrules", "concurrence", "idempotencyKey"),
        format!("Idempotency-Key « {key} » : la requête a été reprise par une autre"),
    )
}

fn running(key: &str, retry_after: u64) -> Error {
    Error::conflict(
        FaultKey::new("functionnal", "bddrules", "concurrence", "idempotencyKey"),
        format!("Une requête avec l'Idempotency-Key « {key} » est en cours : réessayez plus tard"),
    )
    .with_retry_after(retry_after)
}

fn reused(key: &str) -> Error {
    Error::new(
        ErrorKind::Unprocessable,
        FaultKey::noncoherent("idempotencyKey"),
        format!(
            "L'Idempotency-Key « {key} » a déjà servi pour une autre requête (autre contenu ou autre opération) : utilisez une nouvelle clé"
        ),
    )
}

/// What the stored row says of a new request with its key.
enum Decision {
    Replay(Stored),
    Busy(u64),
    TakeOver(String),
}

/// The key rules (module documentation) applied to the stored row.
fn decide(row: &KeyRow, req: &Keyed, now: chrono::NaiveDateTime) -> Result<Decision, Error> {
    let same_body = row.body_sha256.is_empty() || row.body_sha256 == req.body_sha256;
    if row.route != req.route || !same_body {
        return Err(reused(&req.key));
    }
    if row.status == "completed" {
        return Ok(Decision::Replay(Stored {
            resource: row.resource.clone(),
            status: row.response_status,
            body: row.response_body.clone(),
        }));
    }
    if row.lease_until > now {
        let left = (row.lease_until - now).num_seconds().max(0);
        return Ok(Decision::Busy(u64::try_from(left).unwrap_or(0) + 1));
    }
    Ok(Decision::TakeOver(row.owner.clone()))
}

fn lease_length(app: &App) -> Duration {
    Duration::from_secs(app.settings.idempotency.lease_secs.max(2))
}

fn until(lease: Duration) -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc() + chrono::Duration::from_std(lease).unwrap_or_default()
}

/// Claims `req`'s key. A new key (or a taken-over one without resource yet) gets `resource`.
pub async fn claim(app: &App, req: &Keyed, resource: Option<String>) -> Result<Claim, Error> {
    let lease = lease_length(app);
    let owner = ulid::Ulid::new().to_string();
    let now = chrono::Utc::now().naive_utc();
    let row = KeyRow {
        client: req.client.clone(),
        idem_key: req.key.clone(),
        route: req.route.to_owned(),
        body_sha256: req.body_sha256.clone(),
        status: "running".to_owned(),
        owner: owner.clone(),
        lease_until: until(lease),
        resource,
        response_status: None,
        response_body: None,
        created_at: now,
        finished_at: None,
    };
    let (stored, claimed) = {
        let (row, req) = (row.clone(), req.clone());
        app.db
            .write(move |c| -> Result<_, apogee_db::WriteError> {
                if repo::insert_if_absent(c, &row)? {
                    return Ok((row.clone(), Some(false)));
                }
                let stored = repo::find(c, &row.client, &row.idem_key)?
                    .ok_or_else(|| Error::internal("clé d'idempotence introuvable"))?;
                match decide(&stored, &req, chrono::Utc::now().naive_utc())? {
                    Decision::Replay(_) | Decision::Busy(_) => Ok((stored, None)),
                    Decision::TakeOver(from) => {
                        let key = (row.client.as_str(), row.idem_key.as_str());
                        let taken = repo::take_over(c, key, &from, &row.owner, row.lease_until)?;
                        Ok((stored, taken.then_some(true)))
                    }
                }
            })
            .await?
    };
    let resumed = match claimed {
        Some(resumed) => resumed,
        None => {
            return match decide(&stored, req, chrono::Utc::now().naive_utc())? {
                Decision::Replay(answer) => Ok(Claim::Done(answer)),
                Decision::Busy(secs) => Err(running(&req.key, secs)),
                // Another request took it over between our read and our write.
                Decision::TakeOver(_) => Err(running(&req.key, 1)),
            };
        }
    };
    let lease = start_lease(app, req, owner, stored.resource.or(row.resource), lease);
    if resumed {
        tracing::info!(
            idempotency.key = %req.key,
            "expired idempotency lease taken over: the request resumes"
        );
        Ok(Claim::Resumed(lease))
    } else {
        Ok(Claim::New(lease))
    }
}

/// The lease of `owner` on `req`'s key, renewed by a background task until it ends.
fn start_lease(
    app: &App,
    req: &Keyed,
    owner: String,
    resource: Option<String>,
    lease: Duration,
) -> Lease {
    let lost = Arc::new(AtomicBool::new(false));
    let renewer = {
        let (db, lost) = (app.db.clone(), Arc::clone(&lost));
        let (client, key, owner) = (req.client.clone(), req.key.clone(), owner.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(lease / 3);
            tick.tick().await;
            loop {
                tick.tick().await;
                let (client, key, owner) = (client.clone(), key.clone(), owner.clone());
                let renewed = db
                    .write(move |c| {
                        repo::renew(c, (&client, &key), &owner, until(lease)).map_err(DbError::from)
                    })
                    .await;
                match renewed {
                    Ok(true) => {}
                    Ok(false) => {
                        lost.store(true, Ordering::SeqCst);
                        break;
                    }
                    Err(e) => tracing::warn!(error = %e, "idempotency lease not renewed"),
                }
            }
        })
    };
    Lease {
        db: app.db.clone(),
        client: req.client.clone(),
        key: req.key.clone(),
        owner,
        resource,
        lost,
        renewer,
    }
}

/// The answer of a request that may carry a key.
pub enum Once<T> {
    /// Run now.
    Ran(T),
    /// Answered from storage: the key's request had completed.
    Replayed(Stored),
}

/// Runs `work` once per key: without a key it just runs; with one, a completed key answers its
/// stored answer (`T` as JSON), a running one `409`, another body `422`. A failure releases the
/// key (the client may send it again), except a storage failure, which ends the lease (the next
/// request with the key runs the work again: `work` must be safe to run twice — upserts).
pub async fn once<T, F, Fut>(app: &App, keyed: Option<Keyed>, work: F) -> Result<Once<T>, Error>
where
    T: serde::Serialize,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let Some(keyed) = keyed else {
        return work().await.map(Once::Ran);
    };
    let lease = match claim(app, &keyed, None).await? {
        Claim::Done(stored) => return Ok(Once::Replayed(stored)),
        Claim::New(lease) | Claim::Resumed(lease) => lease,
    };
    match work().await {
        Ok(answer) => {
            let body = serde_json::to_string(&answer)
                .map_err(|e| Error::internal(format!("réponse : {e}")))?;
            let stored = Stored {
                resource: None,
                status: Some(200),
                body: Some(body),
            };
            lease.complete(stored).await?;
            Ok(Once::Ran(answer))
        }
        Err(e) if matches!(e.kind, ErrorKind::Internal | ErrorKind::Unavailable) => {
            lease.abandon().await;
            Err(e)
        }
        Err(e) => {
            lease.release().await;
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str, sha: &str, lease_in: i64) -> KeyRow {
        let now = chrono::Utc::now().naive_utc();
        KeyRow {
            client: "c".into(),
            idem_key: "k".into(),
            route: "POST /x".into(),
            body_sha256: sha.into(),
            status: status.into(),
            owner: "o".into(),
            lease_until: now + chrono::Duration::seconds(lease_in),
            resource: Some("r".into()),
            response_status: Some(200),
            response_body: Some("{}".into()),
            created_at: now,
            finished_at: None,
        }
    }

    fn req(sha: &str) -> Keyed {
        Keyed {
            client: "c".into(),
            key: "k".into(),
            route: "POST /x",
            body_sha256: sha.into(),
        }
    }

    #[test]
    fn the_key_rules() -> Result<(), Error> {
        let now = chrono::Utc::now().naive_utc();
        let Err(e) = decide(&row("completed", "a", 10), &req("b"), now) else {
            panic!("another body must be refused");
        };
        assert_eq!(e.kind, ErrorKind::Unprocessable);
        let mut other_route = req("a");
        other_route.route = "POST /y";
        assert!(decide(&row("running", "a", 10), &other_route, now).is_err());
        assert!(matches!(
            decide(&row("completed", "a", -10), &req("a"), now)?,
            Decision::Replay(Stored {
                status: Some(200),
                ..
            })
        ));
        // A key stored before bodies were hashed matches any body.
        assert!(matches!(
            decide(&row("completed", "", 10), &req("z"), now)?,
            Decision::Replay(_)
        ));
        assert!(matches!(
            decide(&row("running", "a", 10), &req("a"), now)?,
            Decision::Busy(s) if (10..=11).contains(&s)
        ));
        assert!(matches!(
            decide(&row("running", "a", -1), &req("a"), now)?,
            Decision::TakeOver(o) if o == "o"
        ));
        Ok(())
    }

    #[test]
    fn keys_are_checked() {
        assert_eq!(parse_key(None).ok(), Some(None));
        assert_eq!(parse_key(Some("  ")).ok(), Some(None));
        assert_eq!(parse_key(Some(" lot-1 ")).ok(), Some(Some("lot-1".into())));
        assert!(parse_key(Some(&"x".repeat(201))).is_err());
        assert!(parse_key(Some("a\u{7}b")).is_err());
    }
}
