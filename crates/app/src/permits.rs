//! Batch uploads admitted at once (`limits.batches` for the process, `limits.batches_per_client`
//! for one client): one more is refused at once with `503` and `Retry-After` rather than queued,
//! so that an overloaded gateway answers instead of hanging. Per process: N processes admit N
//! times as many.

use apogee_domain::{Error, FaultKey};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Seconds a refused batch is told to wait.
const RETRY_AFTER_SECS: u64 = 5;

/// The admission of batch uploads.
pub struct Permits {
    all: Arc<Semaphore>,
    per_client: usize,
    clients: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// A batch admitted; dropping it lets the next one in.
#[derive(Debug)]
pub struct BatchPermit {
    _all: OwnedSemaphorePermit,
    _client: OwnedSemaphorePermit,
}

fn busy(message: String) -> Error {
    Error::new(
        apogee_domain::ErrorKind::Unavailable,
        FaultKey::new("technical", "service", "unavailable", "batch"),
        message,
    )
    .with_retry_after(RETRY_AFTER_SECS)
}

impl Permits {
    /// At most `all` batches at once, `per_client` for one client.
    pub fn new(all: usize, per_client: usize) -> Self {
        Permits {
            all: Arc::new(Semaphore::new(all.max(1))),
            per_client: per_client.max(1),
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Admits one batch of `client`, or refuses it (503, `Retry-After`).
    pub fn batch(&self, client: &str) -> Result<BatchPermit, Error> {
        let mine = {
            let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(
                clients
                    .entry(client.to_owned())
                    .or_insert_with(|| Arc::new(Semaphore::new(self.per_client))),
            )
        };
        let client_permit = mine.try_acquire_owned().map_err(|_| {
            busy(format!(
                "Le client {client} a déjà {} lot(s) en cours : réessayez quand l'un d'eux est terminé",
                self.per_client
            ))
        })?;
        let all = Arc::clone(&self.all).try_acquire_owned().map_err(|_| {
            busy(
                "Trop de lots en cours sur la passerelle : réessayez dans quelques secondes".into(),
            )
        })?;
        Ok(BatchPermit {
            _all: all,
            _client: client_permit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_admitted_within_the_limits() -> Result<(), Error> {
        let permits = Permits::new(3, 2);
        let a1 = permits.batch("a")?;
        let _a2 = permits.batch("a")?;
        let Err(e) = permits.batch("a") else {
            panic!("a third batch of one client must wait");
        };
        assert_eq!(e.retry_after, Some(RETRY_AFTER_SECS));
        let _b1 = permits.batch("b")?;
        assert!(permits.batch("c").is_err(), "the process limit holds");
        drop(a1);
        assert!(permits.batch("c").is_ok());
        Ok(())
    }
}
