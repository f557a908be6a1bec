//! Request bodies the use cases read as files or as a stream of chunks (batch uploads), whatever
//! the web framework that received them.

use apogee_domain::{Error, ErrorKind, FaultKey};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, Write};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

fn temp_error(e: std::io::Error) -> Error {
    Error::internal(format!("fichier temporaire : {e}"))
}

/// Why reading a body stopped.
pub fn interrupted(e: impl std::fmt::Display) -> Error {
    Error::bad_request("body", format!("Lecture du corps interrompue : {e}"))
}

/// A body that sent nothing for `idle` (slow or stalled client): `408`.
pub fn timed_out(idle: Duration) -> Error {
    Error::new(
        ErrorKind::RequestTimeout,
        FaultKey::noncoherent("body"),
        format!(
            "Corps de requête interrompu : rien reçu pendant {} s",
            idle.as_secs()
        ),
    )
}

/// The next chunk of `body`, or [`timed_out`] when none comes within `idle`.
pub async fn next_chunk<S, E>(body: &mut S, idle: Duration) -> Option<Result<Bytes, Error>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    match tokio::time::timeout(idle, body.next()).await {
        Ok(chunk) => chunk.map(|c| c.map_err(interrupted)),
        Err(_) => Some(Err(timed_out(idle))),
    }
}

/// Copies a body to an anonymous temporary file (constant memory), refusing more than `limit`
/// bytes in all (`total` counts across the parts of one upload) and a body silent for `idle`;
/// the file is rewound.
pub async fn spool<S, E>(
    mut body: S,
    limit: usize,
    idle: Duration,
    total: &mut usize,
) -> Result<std::fs::File, Error>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut file = tempfile::tempfile().map_err(temp_error)?;
    while let Some(chunk) = next_chunk(&mut body, idle).await {
        let chunk = chunk?;
        *total += chunk.len();
        if *total > limit {
            return Err(Error::payload_too_large(format!(
                "Fichier trop volumineux (maximum {limit} octets)"
            )));
        }
        file.write_all(&chunk).map_err(temp_error)?;
    }
    file.rewind().map_err(temp_error)?;
    Ok(file)
}

/// A blocking reader over body chunks sent by the async side (a parser thread reads the body as
/// it arrives).
pub struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
    buf: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.buf.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.buf = b,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len());
        out[..n].copy_from_slice(&self.buf.split_to(n));
        Ok(n)
    }
}

/// A reader of `body` for a blocking thread, and the future that feeds it (to be polled on the
/// async side until the body ends or the reader is dropped). A body that fails (or stays silent
/// for `idle`) ends the reader with an error, and the feed answers that error.
pub fn channel<S, E>(
    mut body: S,
    idle: Duration,
) -> (
    ChannelReader,
    impl std::future::Future<Output = Result<(), Error>>,
)
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let feed = async move {
        while let Some(item) = next_chunk(&mut body, idle).await {
            match item {
                Ok(chunk) => {
                    if tx.send(Ok(chunk)).await.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::other(e.message.clone()))).await;
                    return Err(e);
                }
            }
        }
        Ok(())
    };
    (
        ChannelReader {
            rx,
            buf: Bytes::new(),
        },
        feed,
    )
}

/// The SHA-256 of what a [`Hashing`] stream yielded.
#[derive(Clone, Default)]
pub struct BodyDigest(Arc<Mutex<Sha256>>);

impl BodyDigest {
    /// The hex digest of the bytes seen so far.
    pub fn hex(&self) -> String {
        let hasher = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        hex::encode(hasher.clone().finalize())
    }
}

/// A body stream that hashes the bytes it yields (the `Idempotency-Key` of a request is bound to
/// its body); its errors are the inner stream's.
pub struct Hashing<S> {
    inner: S,
    digest: BodyDigest,
}

/// `body`, hashed as it is read.
pub fn hashing<S>(body: S) -> (Hashing<S>, BodyDigest) {
    let digest = BodyDigest::default();
    (
        Hashing {
            inner: body,
            digest: digest.clone(),
        },
        digest,
    )
}

impl<S, E> Stream for Hashing<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    type Item = Result<Bytes, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &polled {
            self.digest
                .0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .update(chunk);
        }
        polled
    }
}
