//! `POST /api/v1/opi/batch`: NDJSON (`application/x-ndjson`), Pégase files
//! (`multipart/form-data` with parts `candidat` and `candidature`) or a Parcoursup export
//! (`text/csv`, with `codCge`, `codEtp`, `codVrsVet` and `prefixe`).

use crate::http::body::{self, hashed};
use crate::http::extract::{Caller, content_type};
use crate::http::openapi::Problems;
use crate::http::problem::{ApiResult, ProblemBody};
use crate::http::{idempotency, journal};
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_app::App;
use apogee_app::idempotency::Once;
use apogee_app::opi::batch::{self, BatchReport, Files};
use apogee_domain::batch::Mode;
use apogee_domain::opi::batch::{Format, ParcoursupTarget};
use apogee_domain::{Error, Scope};
use futures_util::StreamExt;
use serde::Deserialize;

/// Query of `POST /api/v1/opi/batch`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchQuery {
    /// `ndjson`, `pegase` or `parcoursup` (default from the content type).
    pub format: Option<String>,
    /// `partial` (default) or `atomic`.
    pub mode: Option<String>,
    /// Parcoursup: target centre de gestion.
    pub cod_cge: Option<String>,
    /// Parcoursup: target étape.
    pub cod_etp: Option<String>,
    /// Parcoursup: target version d'étape.
    pub cod_vrs_vet: Option<String>,
    /// Parcoursup: prefix of the generated codOpiIntEpo.
    pub prefixe: Option<String>,
}

impl BatchQuery {
    fn format(&self, content_type: &str) -> Result<Format, Error> {
        match self.format.as_deref() {
            Some(f) => Format::parse(f),
            None if content_type.starts_with("multipart/form-data") => Ok(Format::Pegase),
            None if content_type.starts_with("text/csv") => Ok(Format::Parcoursup),
            None => Ok(Format::Ndjson),
        }
    }

    fn target(self) -> ParcoursupTarget {
        ParcoursupTarget {
            cod_cge: self.cod_cge.unwrap_or_default(),
            cod_etp: self.cod_etp.unwrap_or_default(),
            cod_vrs_vet: self.cod_vrs_vet.unwrap_or_default(),
            prefix: self.prefixe.unwrap_or_default(),
        }
    }
}

/// The route an OPI batch's `Idempotency-Key` is bound to.
const ROUTE: &str = "POST /api/v1/opi/batch";

#[utoipa::path(post, path = "/api/v1/opi/batch", tag = "opi", params(("format" = Option<String>, Query, description = "ndjson, pegase or parcoursup"), ("mode" = Option<String>, Query, description = "partial (default) or atomic"), ("codCge" = Option<String>, Query), ("codEtp" = Option<String>, Query), ("codVrsVet" = Option<String>, Query), ("prefixe" = Option<String>, Query), ("Idempotency-Key" = Option<String>, Header, description = "the same key and body return the first report (Idempotent-Replayed: true); another body: 422")), request_body(content = String, description = "NDJSON (application/x-ndjson), Pégase multipart (candidat, candidature) or Parcoursup CSV (text/csv)", content_type = "text/csv"), responses((status = 200, description = "Per-line report and summary", body = BatchReport), (status = 409, description = "A request with this Idempotency-Key is running (Retry-After)", body = ProblemBody, content_type = "application/problem+json"), (status = 413, description = "Upload too large", body = ProblemBody, content_type = "application/problem+json"), (status = 422, description = "This Idempotency-Key was used for another body", body = ProblemBody, content_type = "application/problem+json"), (status = 503, description = "Too many batches at once (Retry-After)", body = ProblemBody, content_type = "application/problem+json"), Problems))]
/// `POST /api/v1/opi/batch`: the upload is spooled, then every record pushed (OPI-22 … OPI-24).
pub async fn post(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    query: web::Query<BatchQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::OpiWrite)?;
    let q = query.into_inner();
    let format = q.format(&content_type(&req))?;
    let mode = Mode::parse(q.mode.as_deref())?;
    journal::key(&req, "batch", format.as_str());
    let target = q.target();
    if format == Format::Parcoursup {
        target.check()?;
    }
    let _permit = app.permits.batch(&caller.name)?;
    let (files, sha256) = receive(&req, &app, payload, format).await?;
    let keyed = idempotency::keyed(&req, &caller, ROUTE, sha256)?;
    let run = || batch::run(&app, &caller.call, format, mode, files, target);
    match apogee_app::idempotency::once(&app, keyed, run).await? {
        Once::Ran(report) => {
            journal::rejected_lines(&req, report.summary.rejected);
            Ok(HttpResponse::Ok().json(report))
        }
        Once::Replayed(stored) => Ok(idempotency::replayed(stored)),
    }
}

/// The spooled files (the body, or the `candidat` and `candidature` parts of a Pégase upload)
/// and the SHA-256 of the body.
async fn receive(
    req: &HttpRequest,
    app: &App,
    payload: web::Payload,
    format: Format,
) -> Result<(Files, String), Error> {
    let (payload, digest) = hashed(payload);
    let (limit, idle) = (app.settings.limits.batch_bytes, body::idle(app));
    let mut files = Files::new();
    let mut size = 0usize;
    if format != Format::Pegase {
        let file = apogee_app::upload::spool(payload, limit, idle, &mut size).await?;
        files.insert("body".to_owned(), file);
        return Ok((files, digest.hex()));
    }
    let mut multipart = actix_multipart::Multipart::new(req.headers(), payload);
    while let Some(field) = multipart.next().await {
        let field =
            field.map_err(|e| Error::bad_request("body", format!("multipart illisible : {e}")))?;
        let kind = pegase_part(&field);
        let file = apogee_app::upload::spool(field, limit, idle, &mut size).await?;
        if let Some(kind) = kind {
            files.insert(kind.to_owned(), file);
        }
    }
    Ok((files, digest.hex()))
}

/// `candidat` or `candidature`, by part name or file name.
fn pegase_part(field: &actix_multipart::Field) -> Option<&'static str> {
    let name = field.name().unwrap_or_default().to_ascii_lowercase();
    let file_name = field
        .content_disposition()
        .and_then(|cd| cd.get_filename())
        .unwrap_or_default()
        .to_ascii_lowercase();
    ["candidature", "candidat"]
        .into_iter()
        .find(|k| name == *k || file_name.starts_with(k))
}
