//! Request bodies the use cases read as files or as a stream of chunks (batch uploads), whatever
//! the web framework that received them.

use apogee_domain::Error;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use std::io::{Read, Seek, Write};

fn temp_error(e: std::io::Error) -> Error {
    Error::internal(format!("fichier temporaire : {e}"))
}

/// Why reading a body stopped.
pub fn interrupted(e: impl std::fmt::Display) -> Error {
    Error::bad_request("body", format!("Lecture du corps interrompue : {e}"))
}

/// Copies a body to an anonymous temporary file (constant memory), refusing more than `limit`
/// bytes in all (`total` counts across the parts of one upload); the file is rewound.
pub async fn spool<S, E>(
    mut body: S,
    limit: usize,
    total: &mut usize,
) -> Result<std::fs::File, Error>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut file = tempfile::tempfile().map_err(temp_error)?;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(interrupted)?;
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
/// async side until the body ends or the reader is dropped).
pub fn channel<S, E>(mut body: S) -> (ChannelReader, impl std::future::Future<Output = ()>)
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let feed = async move {
        while let Some(item) = body.next().await {
            let item = item.map_err(|e| std::io::Error::other(e.to_string()));
            let stop = item.is_err();
            if tx.send(item).await.is_err() || stop {
                break;
            }
        }
    };
    (
        ChannelReader {
            rx,
            buf: Bytes::new(),
        },
        feed,
    )
}
