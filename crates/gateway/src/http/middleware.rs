//! The request middleware: request id (accepted or generated, echoed), metrics, one access log
//! event, and the journal row of every REST and SOAP call.

use super::extract::CallerName;
use super::journal::CallNote;
use super::problem::FaultNote;
use super::request_id::{self, REQUEST_ID, RequestId};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderValue;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use apogee_app::App;
use apogee_app::journal::Entry;
use apogee_domain::journal::{Channel, Outcome};
use std::time::{Duration, Instant};

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

/// What the middleware knows once the answer is ready.
struct Done {
    request_id: String,
    method: String,
    route: String,
    status: u16,
    elapsed: Duration,
    client: Option<String>,
    note: CallNote,
    fault: Option<(String, String)>,
}

impl Done {
    fn of<B>(
        res: &ServiceResponse<B>,
        request_id: String,
        method: String,
        elapsed: Duration,
    ) -> Self {
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
        Done {
            request_id,
            method,
            route: res
                .request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_owned()),
            status: res.status().as_u16(),
            elapsed,
            client: res
                .request()
                .extensions()
                .get::<CallerName>()
                .map(|c| c.0.clone()),
            note,
            fault,
        }
    }

    fn operation(&self) -> String {
        self.note
            .operation
            .clone()
            .unwrap_or_else(|| format!("{} {}", self.method, self.route))
    }

    fn log(&self) {
        tracing::info!(
            target: "access",
            request_id = %self.request_id,
            method = %self.method,
            route = %self.route,
            operation = %self.operation(),
            status = self.status,
            duration_ms = self.elapsed.as_secs_f64() * 1000.0,
            client = self.client.as_deref().unwrap_or("-"),
            fault_key = self.fault.as_ref().map_or("-", |f| f.0.as_str()),
            "request"
        );
    }

    fn measure(&self, app: &App) {
        app.metrics
            .requests
            .with_label_values(&[
                self.method.as_str(),
                self.route.as_str(),
                &self.status.to_string(),
            ])
            .inc();
        app.metrics
            .latency
            .with_label_values(&[self.method.as_str(), self.route.as_str()])
            .observe(self.elapsed.as_secs_f64());
    }

    fn entry(self, channel: Channel) -> Entry {
        let operation = self.operation();
        let outcome = self
            .note
            .outcome
            .unwrap_or_else(|| Outcome::from_status(self.status));
        let (key, warnings, fault) = (self.note.key, self.note.warnings, self.fault);
        Entry {
            at: chrono::Utc::now().naive_utc(),
            request_id: self.request_id,
            client_name: self.client,
            channel: channel.as_str().to_owned(),
            operation: truncate(&operation, 100),
            key_kind: key.as_ref().map(|k| truncate(&k.0, 32)),
            key_value: key.as_ref().map(|k| truncate(&k.1, 100)),
            outcome: outcome.as_str().to_owned(),
            http_status: i32::from(self.status),
            fault_key: fault.as_ref().map(|f| truncate(&f.0, 200)),
            message: fault.as_ref().map(|f| truncate(&f.1, 1000)),
            warnings: (!warnings.is_empty()).then(|| truncate(&warnings.join(","), 1000)),
            duration_ms: i32::try_from(self.elapsed.as_millis()).unwrap_or(i32::MAX),
        }
    }
}

/// The middleware function (`actix_web::middleware::from_fn`).
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let start = Instant::now();
    let request_id = request_id::accepted(&req).unwrap_or_else(|| ulid::Ulid::new().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let app = req.app_data::<web::Data<App>>().cloned();
    let method = req.method().to_string();
    // WSDL downloads are not calls: only SOAP POSTs are journaled.
    let channel = channel_of(req.path())
        .filter(|c| *c == Channel::Rest || req.method() == actix_web::http::Method::POST);
    let mut res = REQUEST_ID.scope(request_id.clone(), next.call(req)).await?;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(request_id::HEADER.clone(), v);
    }
    let done = Done::of(&res, request_id, method, start.elapsed());
    done.log();
    if let Some(app) = app {
        done.measure(&app);
        if let Some(channel) = channel {
            app.journal.record(done.entry(channel)).await;
        }
    }
    Ok(res)
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}
