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

/// Where entries the database would not take are kept (NDJSON), to be loaded at the next start.
pub const UNWRITTEN: &str = "journal-unwritten.ndjson";

/// Most entries kept in memory while the database refuses them; the older ones go to the file.
const MAX_PENDING_BATCHES: usize = 50;

impl Journal {
    /// Starts the writer task (inside a Tokio runtime). Entries the database refuses are
    /// retried (with a growing pause, up to 30 s); past a bound, and whenever a flush cannot
    /// write them, they are appended to `<data_dir>/journal-unwritten.ndjson`, which
    /// [`load_unwritten`] loads at the next start: no entry is dropped.
    pub fn start(
        db: Db,
        metrics: Metrics,
        flush_interval: Duration,
        max_batch: usize,
        data_dir: std::path::PathBuf,
    ) -> Self {
        let (tx, rx) = mpsc::channel::<Message>(max_batch.max(1) * 8);
        let writer = Writer {
            db,
            metrics,
            max_batch: max_batch.max(1),
            spill: data_dir.join(UNWRITTEN),
            pending: Vec::new(),
            retry_at: None,
            failures: 0,
        };
        tokio::spawn(writer.run(rx, flush_interval));
        Journal { tx }
    }

    /// Queues an entry (waits for room when the queue is full).
    pub async fn record(&self, entry: Entry) {
        if self.tx.send(Message::Entry(Box::new(entry))).await.is_err() {
            tracing::error!("journal writer stopped; entry lost");
        }
    }

    /// Waits until every entry queued before this call is written (or, when the database
    /// refuses them, kept in the unwritten file).
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Message::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// The writer task's state.
struct Writer {
    db: Db,
    metrics: Metrics,
    max_batch: usize,
    spill: std::path::PathBuf,
    /// Entries received and not written yet, oldest first.
    pending: Vec<Entry>,
    /// After a failure: no write before this instant.
    retry_at: Option<tokio::time::Instant>,
    failures: u32,
}

impl Writer {
    async fn run(mut self, mut rx: mpsc::Receiver<Message>, flush_interval: Duration) {
        let mut waiters: Vec<oneshot::Sender<()>> = Vec::new();
        loop {
            let closed = match tokio::time::timeout(flush_interval, rx.recv()).await {
                Ok(Some(msg)) => {
                    take(msg, &mut self.pending, &mut waiters);
                    while self.pending.len() < self.max_batch {
                        match rx.try_recv() {
                            Ok(msg) => take(msg, &mut self.pending, &mut waiters),
                            Err(_) => break,
                        }
                    }
                    false
                }
                Ok(None) => true,
                Err(_) => false,
            };
            self.metrics
                .journal_queue
                .set(i64::try_from(rx.len() + self.pending.len()).unwrap_or(i64::MAX));
            let must_empty = closed || !waiters.is_empty();
            self.write(must_empty).await;
            let too_many = self.pending.len() > MAX_PENDING_BATCHES * self.max_batch;
            if (must_empty && !self.pending.is_empty()) || too_many {
                self.spill_all();
            }
            for w in waiters.drain(..) {
                let _ = w.send(());
            }
            if closed {
                break;
            }
        }
    }

    /// Writes what is pending, a batch at a time, unless a recent failure asks to wait (`now`:
    /// try anyway).
    async fn write(&mut self, now: bool) {
        let waiting = self
            .retry_at
            .is_some_and(|at| tokio::time::Instant::now() < at);
        if waiting && !now {
            return;
        }
        while !self.pending.is_empty() {
            let n = self.pending.len().min(self.max_batch);
            let entries: Vec<Entry> = self.pending[..n].to_vec();
            let written = self
                .db
                .write(move |c| journal::insert_many(c, &entries).map_err(apogee_db::DbError::from))
                .await;
            match written {
                Ok(_) => {
                    self.pending.drain(..n);
                    self.failures = 0;
                    self.retry_at = None;
                }
                Err(e) => {
                    self.failures += 1;
                    let pause = Duration::from_millis(500 * 2u64.pow(self.failures.min(6)));
                    self.retry_at =
                        Some(tokio::time::Instant::now() + pause.min(Duration::from_secs(30)));
                    self.metrics
                        .journal_dropped
                        .with_label_values(&["database"])
                        .inc();
                    tracing::error!(error = %e, entries = self.pending.len(), "journal batch not written: kept, retried");
                    return;
                }
            }
        }
    }

    /// Appends every pending entry to the unwritten file.
    fn spill_all(&mut self) {
        let n = self.pending.len();
        match append_ndjson(&self.spill, &self.pending) {
            Ok(()) => {
                tracing::error!(
                    entries = n,
                    file = %self.spill.display(),
                    "journal entries the database refused are kept in this file; they are loaded at the next start"
                );
                self.pending.clear();
            }
            Err(e) => tracing::error!(error = %e, entries = n, "journal entries could not be kept"),
        }
    }
}

fn append_ndjson(path: &std::path::Path, entries: &[Entry]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let mut text = String::new();
    for e in entries {
        text.push_str(&serde_json::to_string(e).map_err(std::io::Error::other)?);
        text.push('\n');
    }
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Loads the entries a previous run could not write (`<data_dir>/journal-unwritten.ndjson`),
/// then renames the file `….loaded-<time>`. Returns how many were loaded.
pub fn load_unwritten(db: &Db, data_dir: &std::path::Path) -> Result<usize, Error> {
    let path = data_dir.join(UNWRITTEN);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(Error::internal(format!("{}: {e}", path.display()))),
    };
    let entries: Vec<Entry> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    for chunk in entries.chunks(500) {
        db.write_blocking(|c| journal::insert_many(c, chunk).map_err(apogee_db::DbError::from))?;
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    let done = path.with_file_name(format!("{UNWRITTEN}.loaded-{stamp}"));
    std::fs::rename(&path, &done)
        .map_err(|e| Error::internal(format!("{}: {e}", path.display())))?;
    Ok(entries.len())
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
    /// Sequence.
    pub id: i64,
    /// When the call ended (RFC 3339).
    pub at: String,
    /// Trace id (`X-Request-Id`).
    pub request_id: String,
    /// Authenticated client.
    pub client: Option<String>,
    /// `soap`, `rest` or `cli`.
    pub channel: String,
    /// Operation.
    pub operation: String,
    /// Kind of business key.
    pub key_kind: Option<String>,
    /// Business key value.
    pub key: Option<String>,
    /// `ok`, `rejected` or `error`.
    pub outcome: String,
    /// HTTP status answered.
    pub http_status: i32,
    /// Apogée fault key.
    pub fault_key: Option<String>,
    /// French message of a failure.
    pub message: Option<String>,
    /// Warning codes.
    pub warnings: Vec<String>,
    /// Duration in milliseconds.
    pub duration_ms: i32,
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
/// The journal row of a command-line operation (channel and client `cli`): `ok` or `rejected`
/// (HTTP status 200 or 400), key `(kind, value)`, duration since `started`; the caller adds the
/// fault key or message of a failure.
pub fn cli_entry(
    call: &crate::Call,
    operation: &str,
    key: (&str, &str),
    ok: bool,
    started: std::time::Instant,
) -> Entry {
    Entry {
        at: chrono::Utc::now().naive_utc(),
        request_id: call.trace_id.clone(),
        client_name: Some("cli".into()),
        channel: "cli".into(),
        operation: operation.into(),
        key_kind: Some(key.0.into()),
        key_value: Some(key.1.chars().take(100).collect()),
        outcome: if ok { "ok" } else { "rejected" }.into(),
        http_status: if ok { 200 } else { 400 },
        fault_key: None,
        message: None,
        warnings: None,
        duration_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
    }
}

pub fn record_now(db: &Db, entry: &Entry) -> Result<(), Error> {
    let mut conn = db.conn()?;
    journal::insert_many(&mut conn, std::slice::from_ref(entry))
        .map_err(apogee_db::DbError::from)?;
    Ok(())
}
