//! The request middleware: request id (accepted or generated, echoed), metrics, one access log
//! event, and the journal row of every REST and SOAP call.

use crate::auth::CallerName;
use crate::error::{FaultNote, REQUEST_ID};
use crate::journal::CallNote;
use crate::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use apogee_db::repo::journal::NewJournalEntry;
use apogee_domain::journal::{Channel, Outcome};
use std::time::Instant;

/// `X-Request-Id`.
pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The request id, in the request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn accepted_id(req: &ServiceRequest) -> Option<String> {
    let v = req.headers().get(&REQUEST_ID_HEADER)?.to_str().ok()?.trim();
    let ok = !v.is_empty()
        && v.len() <= 128
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    ok.then(|| v.to_owned())
}

/// Which journal channel a path belongs to (`None`: not journaled, e.g. health and metrics).
pub fn channel_of(path: &str) -> Option<Channel> {
    if path.starts_with("/api/") {
        Some(Channel::Rest)
    } else if path.contains("/services/") {
        Some(Channel::Soap)
    } else {
        None
    }
}

/// The middleware function (`actix_web::middleware::from_fn`).
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let start = Instant::now();
    let request_id = accepted_id(&req).unwrap_or_else(|| ulid::Ulid::new().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().to_string();
    // WSDL downloads are not calls: only SOAP POSTs are journaled.
    let channel = channel_of(req.path())
        .filter(|c| *c == Channel::Rest || req.method() == actix_web::http::Method::POST);

    let mut res = REQUEST_ID.scope(request_id.clone(), next.call(req)).await?;

    let elapsed = start.elapsed();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = res.status().as_u16();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID_HEADER.clone(), v);
    }
    let client = res
        .request()
        .extensions()
        .get::<CallerName>()
        .map(|c| c.0.clone());
    let note = res
        .request()
        .extensions()
        .get::<CallNote>()
        .cloned()
        .unwrap_or_default();
    let fault = res
        .response()
        .extensions()
        .get::<FaultNote>()
        .map(|f| (f.fault_key.clone(), f.message.clone()))
        .or(note.fault.clone());
    let operation = note
        .operation
        .clone()
        .unwrap_or_else(|| format!("{method} {route}"));
    tracing::info!(
        target: "access",
        request_id = %request_id,
        method = %method,
        route = %route,
        operation = %operation,
        status,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        client = client.as_deref().unwrap_or("-"),
        fault_key = fault.as_ref().map_or("-", |f| f.0.as_str()),
        "request"
    );
    if let Some(state) = state {
        state
            .metrics
            .requests
            .with_label_values(&[method.as_str(), route.as_str(), &status.to_string()])
            .inc();
        state
            .metrics
            .latency
            .with_label_values(&[method.as_str(), route.as_str()])
            .observe(elapsed.as_secs_f64());
        if let Some(channel) = channel {
            let outcome = note.outcome.unwrap_or_else(|| Outcome::from_status(status));
            let entry = NewJournalEntry {
                at: chrono::Utc::now().naive_utc(),
                request_id,
                client_name: client,
                channel: channel.as_str().to_owned(),
                operation: truncate(&operation, 100),
                key_kind: note.key.as_ref().map(|k| truncate(&k.0, 32)),
                key_value: note.key.as_ref().map(|k| truncate(&k.1, 100)),
                outcome: outcome.as_str().to_owned(),
                http_status: i32::from(status),
                fault_key: fault.as_ref().map(|f| truncate(&f.0, 200)),
                message: fault.as_ref().map(|f| truncate(&f.1, 1000)),
                warnings: (!note.warnings.is_empty())
                    .then(|| truncate(&note.warnings.join(","), 1000)),
                duration_ms: i32::try_from(elapsed.as_millis()).unwrap_or(i32::MAX),
            };
            state.journal.record(entry).await;
        }
    }
    Ok(res)
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}
