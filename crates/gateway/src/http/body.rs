//! Request bodies as use cases read them: spooled to a temporary file within a size limit, or
//! streamed as `Bytes` chunks.

use actix_web::web;
use apogee_app::App;
use apogee_app::upload::{self, BodyDigest};
use apogee_domain::Error;
use std::time::Duration;

/// How long a body may stay silent while it is read (`limits.body_idle_timeout_secs`).
pub fn idle(app: &App) -> Duration {
    Duration::from_secs(app.settings.limits.body_idle_timeout_secs.max(1))
}

/// A spooled upload and the SHA-256 of its bytes (what an `Idempotency-Key` is bound to).
pub struct Spooled {
    /// The body, rewound.
    pub file: std::fs::File,
    /// SHA-256 (hex).
    pub sha256: String,
}

/// Spools a whole body (REST batch uploads) within `limits.batch_bytes`.
pub async fn spool(payload: web::Payload, app: &App) -> Result<Spooled, Error> {
    let (body, digest) = upload::hashing(payload);
    let mut total = 0;
    let limit = app.settings.limits.batch_bytes;
    let file = upload::spool(body, limit, idle(app), &mut total).await?;
    Ok(Spooled {
        file,
        sha256: digest.hex(),
    })
}

/// A payload hashed as it is read.
pub fn hashed(payload: web::Payload) -> (upload::Hashing<web::Payload>, BodyDigest) {
    upload::hashing(payload)
}

/// `Content-Disposition: attachment` with an ASCII `filename` and, when needed, the exact name
/// in `filename*` (RFC 6266 / RFC 8187).
pub fn content_disposition(name: &str) -> actix_web::http::header::HeaderValue {
    use actix_web::http::header::HeaderValue;
    let ascii: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();
    let mut value = format!("attachment; filename=\"{ascii}\"");
    if ascii != name {
        let mut encoded = String::new();
        for b in name.bytes() {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                encoded.push(char::from(b));
            } else {
                encoded.push_str(&format!("%{b:02X}"));
            }
        }
        value.push_str(&format!("; filename*=UTF-8''{encoded}"));
    }
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// A file read in chunks on blocking threads.
pub fn file_stream(
    file: std::fs::File,
) -> impl futures_util::Stream<Item = Result<web::Bytes, std::io::Error>> {
    use std::io::Read as _;
    futures_util::stream::unfold(Some(file), |state| async move {
        let mut file = state?;
        let read = web::block(move || -> std::io::Result<_> {
            let mut buf = vec![0; 256 * 1024];
            let n = file.read(&mut buf)?;
            buf.truncate(n);
            Ok((file, buf))
        })
        .await;
        match read {
            Ok(Ok((_, buf))) if buf.is_empty() => None,
            Ok(Ok((file, buf))) => Some((Ok(web::Bytes::from(buf)), Some(file))),
            Ok(Err(e)) => Some((Err(e), None)),
            Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
        }
    })
}
