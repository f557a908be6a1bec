//! The context of one call: who asks, under which trace id, and when. Every use case takes it
//! explicitly; adapters build it from the request (the authenticated client, `X-Request-Id`).

use apogee_db::Actor;
use chrono::NaiveDateTime;

/// One call to a use case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The API client (or `cli`, `demo`, `system` for calls the gateway makes itself).
    pub client: String,
    /// The trace id: the request id of the HTTP call, echoed as `X-Request-Id` and stored with
    /// every row the call writes (DM-4).
    pub trace_id: String,
    /// When the call started (UTC).
    pub now: NaiveDateTime,
}

impl Call {
    /// A call made now.
    pub fn new(client: impl Into<String>, trace_id: impl Into<String>) -> Self {
        Call {
            client: client.into(),
            trace_id: trace_id.into(),
            now: chrono::Utc::now().naive_utc(),
        }
    }

    /// A call the gateway makes itself (start-up, background tasks, command line), with a fresh
    /// trace id.
    pub fn system(client: &str) -> Self {
        Call::new(client, ulid::Ulid::new().to_string())
    }

    /// The DM-4 columns of a write made at the call's time.
    pub fn actor(&self) -> Actor<'_> {
        self.actor_at(self.now)
    }

    /// The DM-4 columns of a write made at `now` (long batches stamp each chunk with its own
    /// time).
    pub fn actor_at(&self, now: NaiveDateTime) -> Actor<'_> {
        Actor {
            client: Some(&self.client),
            trace_id: &self.trace_id,
            now,
        }
    }

    /// The DM-4 columns of a write made now.
    pub fn actor_now(&self) -> Actor<'_> {
        self.actor_at(chrono::Utc::now().naive_utc())
    }

    /// Today's date (UTC), for the rules.
    pub fn today(&self) -> chrono::NaiveDate {
        self.now.date()
    }
}
