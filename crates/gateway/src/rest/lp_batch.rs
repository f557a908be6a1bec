//! `POST /api/v1/laissez-passer/batch` and `GET /api/v1/laissez-passer/batches/{id}`: a file of
//! LPs (LP-16 … LP-20) and its stored report, streamed as JSON, NDJSON or CSV.

use crate::http::body::spool;
use crate::http::extract::{CSV, Caller, NDJSON, content_type, is_any};
use crate::http::journal;
use crate::http::openapi::Problems;
use crate::http::problem::{ApiResult, ProblemBody};
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_app::App;
use apogee_app::lp::batch::{self, BatchHead, Options, Posted};
use apogee_domain::batch::Mode;
use apogee_domain::journal::Outcome;
use apogee_domain::lp::batch::{CSV_COLUMNS, Format, ReportLine, csv_line};
use apogee_domain::{Error, Scope};
use serde::Deserialize;
use std::sync::Arc;

/// Query of `POST /api/v1/laissez-passer/batch`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LpBatchQuery {
    /// `csv`, `ndjson` or `json` (default from the content type).
    pub format: Option<String>,
    /// `partial` (default) or `atomic`.
    pub mode: Option<String>,
    /// `true`: validate without writing.
    pub dry_run: Option<bool>,
}

fn format_of(q: &LpBatchQuery, content_type: &str) -> Result<Format, Error> {
    match q.format.as_deref() {
        Some(f) => Format::parse(f).ok_or_else(|| {
            Error::bad_request(
                "format",
                format!("Format inconnu : {f} (csv, ndjson, json)"),
            )
        }),
        None if is_any(content_type, CSV) => Ok(Format::Csv),
        None if is_any(content_type, NDJSON) => Ok(Format::Ndjson),
        None if content_type.starts_with("application/json") => Ok(Format::Json),
        None => Err(Error::unsupported_media_type(
            "Type de contenu attendu : text/csv, application/x-ndjson ou application/json",
        )),
    }
}

fn options(req: &HttpRequest, q: &LpBatchQuery) -> Result<Options, Error> {
    Ok(Options {
        format: format_of(q, &content_type(req))?,
        mode: Mode::parse(q.mode.as_deref())?,
        dry_run: q.dry_run.unwrap_or(false),
        key: crate::http::idempotency::key(req)?,
        body_sha256: String::new(),
    })
}

/// `POST /api/v1/laissez-passer/batch`: a file of LPs: CSV (legacy 8 columns or extended),
/// NDJSON or a JSON array; `mode=partial|atomic`, `dryRun=true`, `Idempotency-Key`. Answers the
/// batch (id, status, summary) and its per-row report as JSON, NDJSON
/// (`Accept: application/x-ndjson`) or CSV (`Accept: text/csv`).
#[utoipa::path(post, path = "/api/v1/laissez-passer/batch", tag = "laissez-passer", params(("format" = Option<String>, Query, description = "csv, ndjson or json (default from the content type)"), ("mode" = Option<String>, Query, description = "partial (default) or atomic"), ("dryRun" = Option<bool>, Query, description = "validate without writing"), ("Idempotency-Key" = Option<String>, Header, description = "the same key and body return the first report; a batch whose process stopped is resumed; another body: 422")), request_body(content = String, description = "CSV (typLpa,codAnu,numOPI,codEtp,codVrsVet,codDip,codVrsVdi,libCmtLpa or any of the 14 V2 names), NDJSON or a JSON array", content_type = "text/csv"), responses((status = 200, description = "The batch: id, status, summary, then its per-row report (JSON `lines`, NDJSON or CSV after Accept)", body = BatchHead), (status = 409, description = "A request with this Idempotency-Key is running (Retry-After)", body = ProblemBody, content_type = "application/problem+json"), (status = 422, description = "This Idempotency-Key was used for another body", body = ProblemBody, content_type = "application/problem+json"), (status = 503, description = "Too many batches at once (Retry-After)", body = ProblemBody, content_type = "application/problem+json"), (status = 413, description = "Upload too large", body = ProblemBody, content_type = "application/problem+json"), (status = 415, description = "Unsupported media type", body = ProblemBody, content_type = "application/problem+json"), Problems))]
pub async fn post(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    query: web::Query<LpBatchQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::LpWrite)?;
    let mut opts = options(&req, &query)?;
    let _permit = app.permits.batch(&caller.name)?;
    let upload = spool(payload, &app).await?;
    opts.body_sha256 = upload.sha256;
    let Posted { head, replayed } = batch::post(&app, &caller.call, upload.file, opts).await?;
    let (id, rejected) = (head.id.clone(), head.summary.counts.rejected);
    journal::note(&req, |n| {
        n.key = Some(("batch".into(), id));
        if replayed {
            n.warnings.push("LOT_REJOUE".into());
        }
        if rejected > 0 {
            n.outcome = Some(Outcome::Rejected);
            n.warnings.push(format!("LIGNES_REJETEES:{rejected}"));
        }
    });
    Ok(stream_report(app.into_inner(), head, ReportKind::of(&req)))
}

/// `GET /api/v1/laissez-passer/batches/{id}`: status, counts and report of a batch.
#[utoipa::path(get, path = "/api/v1/laissez-passer/batches/{id}", tag = "laissez-passer", params(("id" = String, Path, description = "batch id (ULID)")), responses((status = 200, description = "The batch: status, summary, then its report (JSON `lines`, NDJSON or CSV after Accept)", body = BatchHead), (status = 404, description = "Unknown batch", body = ProblemBody, content_type = "application/problem+json"), Problems))]
pub async fn get(
    req: HttpRequest,
    caller: Caller,
    app: web::Data<App>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    caller.require(Scope::LpRead)?;
    journal::key(&req, "batch", path.as_str());
    let head = batch::find(&app, &path).await?;
    Ok(stream_report(app.into_inner(), head, ReportKind::of(&req)))
}

/// How a batch answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReportKind {
    Json,
    Ndjson,
    Csv,
}

impl ReportKind {
    fn of(req: &HttpRequest) -> Self {
        let accept = req
            .headers()
            .get(actix_web::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if accept.contains("application/x-ndjson") {
            ReportKind::Ndjson
        } else if accept.contains("text/csv") {
            ReportKind::Csv
        } else {
            ReportKind::Json
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            ReportKind::Json => "application/json",
            ReportKind::Ndjson => "application/x-ndjson",
            ReportKind::Csv => "text/csv; charset=utf-8",
        }
    }

    /// What comes before the lines: `{…head…, "lines": [`, the head line, or the CSV header.
    fn start(self, head_json: &str) -> String {
        match self {
            ReportKind::Json => format!(
                "{},\"lines\":[",
                head_json.strip_suffix('}').unwrap_or(head_json)
            ),
            ReportKind::Ndjson => format!("{head_json}\n"),
            ReportKind::Csv => format!("{}\n", CSV_COLUMNS.join(",")),
        }
    }

    /// The stored NDJSON lines of a report chunk in this format; `first`: no line written yet.
    fn lines(self, chunk: &str, first: &mut bool, out: &mut String) {
        for l in chunk.lines() {
            match self {
                ReportKind::Json => {
                    if !*first {
                        out.push(',');
                    }
                    out.push_str(l);
                }
                ReportKind::Ndjson => {
                    out.push_str(l);
                    out.push('\n');
                }
                ReportKind::Csv => {
                    if let Ok(r) = serde_json::from_str::<ReportLine>(l) {
                        out.push_str(&csv_line(&r));
                        out.push('\n');
                    }
                }
            }
            *first = false;
        }
    }

    fn end(self) -> &'static str {
        if self == ReportKind::Json { "]}" } else { "" }
    }
}

enum Step {
    Start,
    Lines(i64, bool),
    End,
    Done,
}

/// Streams a stored batch: head and summary, then the report lines read from storage chunk by
/// chunk (constant memory whatever the size of the report).
fn stream_report(app: Arc<App>, head: BatchHead, kind: ReportKind) -> HttpResponse {
    let id = head.id.clone();
    let head_json = Arc::new(serde_json::to_string(&head).unwrap_or_default());
    let body = futures_util::stream::unfold(Step::Start, move |step| {
        let (app, id, head_json) = (Arc::clone(&app), id.clone(), Arc::clone(&head_json));
        async move { next_part(&app, &id, &head_json, kind, step).await }
    });
    HttpResponse::Ok()
        .content_type(kind.content_type())
        .insert_header(("X-Batch-Id", head.id))
        .streaming(body)
}

type Part = Result<web::Bytes, actix_web::Error>;

async fn next_part(
    app: &App,
    id: &str,
    head_json: &str,
    kind: ReportKind,
    step: Step,
) -> Option<(Part, Step)> {
    let bytes = |s: String| Ok::<_, actix_web::Error>(web::Bytes::from(s));
    match step {
        Step::Start => Some((bytes(kind.start(head_json)), Step::Lines(0, true))),
        Step::Lines(after, mut first) => {
            let page = match batch::report_page(app, id, after).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e.message, "lecture du rapport");
                    let err = actix_web::error::ErrorInternalServerError(e.message);
                    return Some((Err(err), Step::Done));
                }
            };
            let Some(last) = page.last().map(|p| p.0) else {
                return Some((bytes(String::new()), Step::End));
            };
            let mut out = String::new();
            for (_, text) in page {
                kind.lines(&text, &mut first, &mut out);
            }
            Some((bytes(out), Step::Lines(last, first)))
        }
        Step::End => Some((bytes(kind.end().to_owned()), Step::Done)),
        Step::Done => None,
    }
}
