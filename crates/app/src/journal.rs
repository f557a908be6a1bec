//! The call journal (REP-1): the writer every call hands its row to, and the search.
//!
//! Requests hand their entry to a background task that writes batches (one multi-row insert per
//! flush), so journaling costs the request path a channel send. The queue is bounded: when the
//! database is slower than the traffic, requests wait for room rather than losing entries.
//! Shutdown flushes what is queued.

use crate::{App, Page, page::ListMeta};
use apogee_db::Db;
use apogee_db::repo::journal::{self, JournalFilter, JournalRow};
use apogee_domain::Error;
use apogee_domain::formats::rfc3339;
use apogee_domain::journal::Outcome;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

pub use apogee_db::repo::journal::NewJournalEntry as Entry;

use crate::metrics::Metrics;

/// Handle to the journal writer.
#[derive(Clone)]
pub struct Journal {
    tx: mpsc::Sender<Message>,
}

enum Message {
    Entry(Box<Entry>),
    Flush(oneshot::Sender<()>),
}

impl Journal {
    /// Starts the writer task (inside a Tokio runtime).
    pub fn start(db: Db, metrics: Metrics, flush_interval: Duration, max_batch: usize) -> Self {
        let (tx, rx) = mpsc::channel::<Message>(max_batch.max(1) * 8);
        tokio::spawn(write_batches(db, metrics, rx, flush_interval, max_batch));
        Journal { tx }
    }

    /// Queues an entry (waits for room when the queue is full).
    pub async fn record(&self, entry: Entry) {
        if self.tx.send(Message::Entry(Box::new(entry))).await.is_err() {
            tracing::error!("journal writer stopped; entry lost");
        }
    }

    /// Waits until every entry queued before this call is written.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Message::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

async fn write_batches(
    db: Db,
    metrics: Metrics,
    mut rx: mpsc::Receiver<Message>,
    flush_interval: Duration,
    max_batch: usize,
) {
    let mut batch: Vec<Entry> = Vec::with_capacity(max_batch);
    let mut waiters: Vec<oneshot::Sender<()>> = Vec::new();
    loop {
        let closed = match tokio::time::timeout(flush_interval, rx.recv()).await {
            Ok(Some(msg)) => {
                take(msg, &mut batch, &mut waiters);
                while batch.len() < max_batch {
                    match rx.try_recv() {
                        Ok(msg) => take(msg, &mut batch, &mut waiters),
                        Err(_) => break,
                    }
                }
                false
            }
            Ok(None) => true,
            Err(_) => false,
        };
        metrics
            .journal_queue
            .set(i64::try_from(rx.len()).unwrap_or(i64::MAX));
        if !batch.is_empty() {
            let entries = std::mem::take(&mut batch);
            let n = entries.len();
            let written = db
                .write(move |c| journal::insert_many(c, &entries).map_err(apogee_db::DbError::from))
                .await;
            if let Err(e) = written {
                metrics
                    .journal_dropped
                    .with_label_values(&["database"])
                    .inc();
                tracing::error!(error = %e, entries = n, "journal batch not written");
            }
        }
        for w in waiters.drain(..) {
            let _ = w.send(());
        }
        if closed {
            break;
        }
    }
}

fn take(msg: Message, batch: &mut Vec<Entry>, waiters: &mut Vec<oneshot::Sender<()>>) {
    match msg {
        Message::Entry(e) => batch.push(*e),
        Message::Flush(w) => waiters.push(w),
    }
}

/// Search criteria of `GET /api/v1/journal`, as sent.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Search {
    /// Calls at or after (RFC 3339).
    pub from: Option<String>,
    /// Calls before (RFC 3339).
    pub to: Option<String>,
    /// Client name.
    pub client: Option<String>,
    /// Operation (`GET /api/v1/referential/{table}`, `mettreajourDonneesOpi_v10` …).
    pub operation: Option<String>,
    /// `ok`, `rejected` or `error`.
    pub outcome: Option<String>,
    /// Business key value.
    pub key: Option<String>,
    /// Apogée fault key.
    pub fault_key: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
}

/// A page of the journal.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JournalList {
    /// Entries, newest first.
    pub entries: Vec<JournalEntry>,
    /// Pagination.
    pub meta: ListMeta,
}

/// One journal entry as served.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    id: i64,
    at: String,
    request_id: String,
    client: Option<String>,
    channel: String,
    operation: String,
    key_kind: Option<String>,
    key: Option<String>,
    outcome: String,
    http_status: i32,
    fault_key: Option<String>,
    message: Option<String>,
    warnings: Vec<String>,
    duration_ms: i32,
}

impl From<JournalRow> for JournalEntry {
    fn from(r: JournalRow) -> Self {
        JournalEntry {
            id: r.id,
            at: rfc3339(r.at),
            request_id: r.request_id,
            client: r.client_name,
            channel: r.channel,
            operation: r.operation,
            key_kind: r.key_kind,
            key: r.key_value,
            outcome: r.outcome,
            http_status: r.http_status,
            fault_key: r.fault_key,
            message: r.message,
            warnings: r
                .warnings
                .map(|w| w.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
            duration_ms: r.duration_ms,
        }
    }
}

fn time(field: &str, value: Option<&String>) -> Result<Option<chrono::NaiveDateTime>, Error> {
    value
        .map(|v| {
            chrono::DateTime::parse_from_rfc3339(v)
                .map(|t| t.naive_utc())
                .map_err(|_| {
                    Error::bad_request(
                        field,
                        format!("{field} : date RFC 3339 attendue (2026-11-23T10:00:00Z)"),
                    )
                })
        })
        .transpose()
}

/// The journal entries matching `search`, newest first.
pub async fn search(app: &App, search: Search, page: Page) -> Result<JournalList, Error> {
    if let Some(o) = &search.outcome {
        o.parse::<Outcome>()
            .map_err(|e| Error::bad_request("outcome", e))?;
    }
    let filter = JournalFilter {
        from: time("from", search.from.as_ref())?,
        to: time("to", search.to.as_ref())?,
        client: search.client,
        operation: search.operation,
        outcome: search.outcome,
        key: search.key,
        fault_key: search.fault_key,
        request_id: search.request_id,
    };
    let (rows, total) = app
        .db
        .read(move |c| {
            journal::search(c, &filter, page.limit, page.offset).map_err(apogee_db::DbError::from)
        })
        .await?;
    Ok(JournalList {
        entries: rows.into_iter().map(Into::into).collect(),
        meta: page.meta(total),
    })
}

/// Writes one entry now, bypassing the writer (command-line calls, which have no server).
pub fn record_now(db: &Db, entry: &Entry) -> Result<(), Error> {
    let mut conn = db.conn()?;
    journal::insert_many(&mut conn, std::slice::from_ref(entry))
        .map_err(apogee_db::DbError::from)?;
    Ok(())
}
