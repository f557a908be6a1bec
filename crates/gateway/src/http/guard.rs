//! Guards every request passes before a handler reads it: request bodies that fall silent are cut
//! (`408`), and control characters in a REST path or query are refused (`400`) before any value
//! reaches a lookup (PostgreSQL refuses a NUL in a text parameter; nothing stored contains one).

use super::problem::problem_response;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, web};
use apogee_app::App;
use apogee_domain::Error;
use futures_util::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Set on a request whose body stayed silent longer than `limits.body_idle_timeout_secs`: the
/// framework error its extractor then raises is answered `408` (see `fallback`).
#[derive(Clone, Default)]
pub struct BodyTimer(Arc<AtomicBool>);

impl BodyTimer {
    /// Whether the body of `req` was cut for silence.
    pub fn fired(req: &HttpRequest) -> bool {
        req.extensions()
            .get::<BodyTimer>()
            .is_some_and(|t| t.0.load(Ordering::Relaxed))
    }
}

/// Whether a payload error is the idle cut of [`idle_bodies`].
pub fn is_idle_cut(err: &PayloadError) -> bool {
    matches!(err, PayloadError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut)
}

/// Wraps every request body so that a chunk must arrive within the idle timeout. The use cases
/// that stream a body (batches, pieces) apply the same timeout themselves and answer first; this
/// one, a second later, covers the bodies extractors read whole (JSON, SOAP envelopes, facades).
pub async fn idle_bodies(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let idle = req
        .app_data::<web::Data<App>>()
        .map(|app| super::body::idle(app) + Duration::from_secs(1));
    if let Some(idle) = idle {
        let timer = BodyTimer::default();
        req.extensions_mut().insert(timer.clone());
        let inner = req.take_payload();
        let stream = futures_util::stream::unfold(Some(inner), move |state| {
            let timer = timer.clone();
            async move {
                let mut inner = state?;
                match tokio::time::timeout(idle, inner.next()).await {
                    Ok(Some(chunk)) => Some((chunk, Some(inner))),
                    Ok(None) => None,
                    Err(_) => {
                        timer.0.store(true, Ordering::Relaxed);
                        let cut = std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            format!("rien reçu pendant {} s", idle.as_secs()),
                        );
                        Some((Err(PayloadError::Io(cut)), None))
                    }
                }
            }
        });
        // Fused: readers such as multipart poll again after the end.
        let boxed: std::pin::Pin<Box<dyn futures_util::Stream<Item = _>>> = Box::pin(stream.fuse());
        req.set_payload(Payload::from(boxed));
    }
    next.call(req).await
}

/// Whether a percent-encoded URI component holds a control character (C0 or DEL), raw or
/// encoded.
fn control_in(encoded: &str) -> bool {
    // White space (tab, line feed, carriage return) is left to the rules, which trim or refuse it.
    let control = |b: u32| (b < 0x20 && !matches!(b, 0x09 | 0x0a | 0x0d)) || b == 0x7f;
    let bytes = encoded.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16);
    bytes.iter().enumerate().any(|(i, &b)| {
        control(u32::from(b))
            || (b == b'%'
                && matches!(
                    (bytes.get(i + 1).and_then(|&h| hex(h)), bytes.get(i + 2).and_then(|&l| hex(l))),
                    (Some(h), Some(l)) if control(h * 16 + l)
                ))
    })
}

/// The parameter of `req` (a query name, or `path`) whose value holds a control character.
fn tainted(req: &ServiceRequest) -> Option<String> {
    if control_in(req.uri().path()) {
        return Some("path".to_owned());
    }
    req.query_string().split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (control_in(name) || control_in(value)).then(|| {
            if control_in(name) || name.is_empty() {
                "query".to_owned()
            } else {
                name.to_owned()
            }
        })
    })
}

/// Refuses a REST request whose path or query holds a control character other than white space:
/// `400` naming the parameter.
pub async fn refuse_controls(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    if let Some(name) = tainted(&req) {
        let err = Error::bad_request(
            &name,
            format!("{name} : caractère de contrôle (NUL, échappement…) refusé"),
        );
        return Ok(req
            .into_response(problem_response(&err))
            .map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::control_in;

    #[test]
    fn control_characters_are_found_encoded_or_raw() {
        for bad in ["JVM%00WT", "a%1fb", "a%7Fb", "x%1B", "%08"] {
            assert!(control_in(bad), "{bad}");
        }
        for good in [
            "JVMWT75DRZ",
            "LE%20GRAND",
            "%C3%A9",
            "100%",
            "%2",
            "%zz",
            "a%7eb",
            "%09x%0A",
        ] {
            assert!(!control_in(good), "{good}");
        }
    }
}
