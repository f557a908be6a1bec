//! The call journal writer. Requests hand their entry to a background task that writes batches
//! (one multi-row insert per flush), so journaling costs the request path a channel send. The
//! queue is bounded: when the database is slower than the traffic, requests wait for room rather
//! than losing entries. Shutdown flushes what is queued.

use crate::metrics::Metrics;
use actix_web::HttpMessage;
use apogee_db::Db;
use apogee_db::repo::journal::{self, NewJournalEntry};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Handle to the journal writer.
#[derive(Clone)]
pub struct Journal {
    tx: mpsc::Sender<Message>,
}

enum Message {
    Entry(Box<NewJournalEntry>),
    Flush(oneshot::Sender<()>),
}

/// What a handler tells the journal about its call (stored in the request extensions).
#[derive(Debug, Clone, Default)]
pub struct CallNote {
    /// Operation name, if not the route template (SOAP operations).
    pub operation: Option<String>,
    /// Business key kind and value.
    pub key: Option<(String, String)>,
    /// Warning codes.
    pub warnings: Vec<String>,
    /// Outcome override (e.g. a 200 that rejected some rows).
    pub outcome: Option<apogee_domain::journal::Outcome>,
    /// Fault key and message when the call failed without an error response (SOAP faults).
    pub fault: Option<(String, String)>,
}

/// Adds to the call note of the current request.
pub fn note(req: &actix_web::HttpRequest, f: impl FnOnce(&mut CallNote)) {
    let mut ext = req.extensions_mut();
    if ext.get::<CallNote>().is_none() {
        ext.insert(CallNote::default());
    }
    if let Some(n) = ext.get_mut::<CallNote>() {
        f(n);
    }
}

impl Journal {
    /// Starts the writer task.
    pub fn start(db: Db, metrics: Metrics, flush_interval: Duration, max_batch: usize) -> Self {
        let (tx, mut rx) = mpsc::channel::<Message>(max_batch.max(1) * 8);
        tokio::spawn(async move {
            let mut batch: Vec<NewJournalEntry> = Vec::with_capacity(max_batch);
            let mut waiters: Vec<oneshot::Sender<()>> = Vec::new();
            loop {
                let first = tokio::time::timeout(flush_interval, rx.recv()).await;
                let closed = match first {
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
                        .write(move |c| {
                            journal::insert_many(c, &entries).map_err(apogee_db::DbError::from)
                        })
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
        });
        Journal { tx }
    }

    /// Queues an entry (waits for room when the queue is full).
    pub async fn record(&self, entry: NewJournalEntry) {
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

fn take(msg: Message, batch: &mut Vec<NewJournalEntry>, waiters: &mut Vec<oneshot::Sender<()>>) {
    match msg {
        Message::Entry(e) => batch.push(*e),
        Message::Flush(w) => waiters.push(w),
    }
}
