//! The student register (`ETUDIANT`, `INS_ADM_ANU`, `INS_ADM_ETP`, bans): single upserts, reads,
//! search and streamed batch loads.

use crate::{App, Call, Page, page::ListMeta, upload};
use apogee_db::DbError;
use apogee_db::repo::students::{self as repo, StudentApplied};
use apogee_domain::batch::{Counts, LineOutcome, LineStatus};
use apogee_domain::formats::cod_etu;
use apogee_domain::lp::etudiant::{self, BatchLine, EtudiantDto, EtudiantIntake};
use apogee_domain::text::present;
use apogee_domain::{Error, FaultKey, FieldError};
use bytes::Bytes;
use futures_util::Stream;
use serde::{Deserialize, Serialize};

pub use apogee_db::repo::students::{StudentApplied as Applied, StudentView};

/// A `codEtu` path segment, checked.
pub fn parse_cod_etu(raw: &str) -> Result<i64, Error> {
    cod_etu(raw).ok_or_else(|| {
        Error::invalid_field(
            FaultKey::noncoherent("codEtu"),
            "FORMAT",
            "codEtu",
            format!("codEtu « {raw} » : numéro d'étudiant de 1 à 8 chiffres attendu"),
        )
    })
}

fn unknown(raw: &str) -> Error {
    crate::lp::person_not_found(apogee_domain::lp::TypLpa::Reins, raw)
}

/// `PUT /api/v1/etudiants/{codEtu}`: validates and stores one student; the body's `codEtu`, if
/// any, must be the path's.
pub async fn put(
    app: &App,
    call: &Call,
    raw_cod_etu: &str,
    mut dto: EtudiantDto,
) -> Result<StudentApplied, Error> {
    let n = parse_cod_etu(raw_cod_etu)?;
    match present(dto.cod_etu.as_deref()).map(cod_etu) {
        None => dto.cod_etu = Some(n.to_string()),
        Some(Some(sent)) if sent == n => {}
        Some(_) => {
            return Err(Error::bad_request(
                "codEtu",
                format!("Le codEtu du chemin ({raw_cod_etu}) et celui du corps diffèrent"),
            ));
        }
    }
    let intake = etudiant::validate(&dto, call.today())?;
    let call = call.clone();
    Ok(app
        .db
        .write(move |c| repo::upsert(c, &intake, call.actor()))
        .await?)
}

/// `GET /api/v1/etudiants/{codEtu}`: identity, enrolments and bans.
pub async fn get(app: &App, raw_cod_etu: &str) -> Result<StudentView, Error> {
    let n = parse_cod_etu(raw_cod_etu)?;
    app.db
        .read(move |c| -> Result<_, DbError> {
            match repo::find_by_cod_etu(c, n)? {
                Some(row) => Ok(Some(repo::view(c, row)?)),
                None => Ok(None),
            }
        })
        .await?
        .ok_or_else(|| unknown(raw_cod_etu))
}

/// Filters of `GET /api/v1/etudiants`, as sent.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    /// INE (normalised before comparison).
    pub ine: Option<String>,
}

/// A page of students.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StudentList {
    /// Students, by codEtu.
    pub etudiants: Vec<StudentView>,
    /// Pagination.
    pub meta: ListMeta,
}

/// `GET /api/v1/etudiants?ine=`.
pub async fn list(app: &App, q: ListQuery, page: Page) -> Result<StudentList, Error> {
    let ine = present(q.ine.as_deref()).map(apogee_domain::ine::normalize);
    let (etudiants, total) = app
        .db
        .read(move |c| -> Result<_, DbError> {
            let (rows, total) = repo::list(c, ine.as_deref(), page.limit, page.offset)?;
            let views = rows
                .into_iter()
                .map(|r| repo::view(c, r))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((views, total))
        })
        .await?;
    Ok(StudentList {
        etudiants,
        meta: page.meta(total),
    })
}

/// Batch file formats of `POST /api/v1/etudiants/batch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchFormat {
    /// `text/csv`: header line, `,` or `;`.
    Csv,
    /// `application/x-ndjson`: one JSON student per line.
    Ndjson,
}

/// One line of a batch report.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BatchLineReport {
    /// Physical line number (CSV header = 1).
    pub line: u64,
    /// `codEtu` as read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_etu: Option<String>,
    /// `COD_IND` of the stored student.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_ind: Option<i64>,
    /// Status, first failure, warnings.
    #[serde(flatten)]
    pub outcome: LineOutcome,
    /// Every failure of the line.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// The answer of a batch load.
#[derive(Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BatchReport {
    /// Trace id of the call.
    pub trace_id: String,
    /// Lines read, students created, updated, already identical, lines refused.
    #[serde(flatten)]
    pub counts: Counts,
    /// One report per data line, in file order.
    pub lines: Vec<BatchLineReport>,
}

/// Lines handed from the parser to the writer at once: one transaction each.
const CHUNK: usize = 500;

#[derive(Default)]
struct Chunk {
    valid: Vec<(u64, Option<String>, EtudiantIntake)>,
    rejected: Vec<BatchLineReport>,
    order: Vec<u64>,
}

fn rejected_line(line: BatchLine, err: Error) -> BatchLineReport {
    BatchLineReport {
        line: line.line,
        cod_etu: line.cod_etu,
        cod_ind: None,
        outcome: LineOutcome::rejected(&err),
        errors: err.errors,
    }
}

/// Parses (blocking thread) and sends chunks of lines until the end of the body.
fn parse_batch<R: std::io::Read>(
    format: BatchFormat,
    reader: R,
    today: chrono::NaiveDate,
    tx: &tokio::sync::mpsc::Sender<Result<Chunk, Error>>,
) {
    let lines: Box<dyn Iterator<Item = BatchLine>> = match format {
        BatchFormat::Csv => match etudiant::read_csv(reader, today) {
            Ok(it) => Box::new(it),
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        },
        BatchFormat::Ndjson => Box::new(etudiant::read_ndjson(
            std::io::BufReader::new(reader),
            today,
        )),
    };
    let mut chunk = Chunk::default();
    for mut line in lines {
        chunk.order.push(line.line);
        match std::mem::replace(&mut line.result, Err(Error::internal(""))) {
            Ok(s) => chunk.valid.push((line.line, line.cod_etu.take(), s)),
            Err(e) => chunk.rejected.push(rejected_line(line, e)),
        }
        if chunk.order.len() >= CHUNK && tx.blocking_send(Ok(std::mem::take(&mut chunk))).is_err() {
            return;
        }
    }
    if !chunk.order.is_empty() {
        let _ = tx.blocking_send(Ok(chunk));
    }
}

/// `POST /api/v1/etudiants/batch`: the body is streamed to a parser thread, lines are validated
/// as they arrive and written by chunks of [`CHUNK`] (one transaction each). Valid lines are
/// written, invalid ones reported with their physical line number; a bad header rejects the
/// file before anything is written.
pub async fn batch<S, E>(
    app: &App,
    call: &Call,
    body: S,
    format: BatchFormat,
) -> Result<BatchReport, Error>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let idle = std::time::Duration::from_secs(app.settings.limits.body_idle_timeout_secs.max(1));
    let (reader, feed) = upload::channel(body, idle);
    run(app, call, reader, format, feed).await
}

/// [`batch`] of a spooled upload.
pub async fn batch_file(
    app: &App,
    call: &Call,
    file: std::fs::File,
    format: BatchFormat,
) -> Result<BatchReport, Error> {
    run(app, call, file, format, async { Ok(()) }).await
}

async fn run<R: std::io::Read + Send + 'static>(
    app: &App,
    call: &Call,
    reader: R,
    format: BatchFormat,
    feed: impl std::future::Future<Output = Result<(), Error>>,
) -> Result<BatchReport, Error> {
    let (chunk_tx, mut chunk_rx) = tokio::sync::mpsc::channel::<Result<Chunk, Error>>(2);
    let today = call.today();
    let parser = tokio::task::spawn_blocking(move || parse_batch(format, reader, today, &chunk_tx));
    let consume = async {
        let result = write_chunks(app, call, &mut chunk_rx).await;
        // Unblocks the parser (and through it the feed) when writing stopped early.
        chunk_rx.close();
        result
    };
    let (fed, report) = futures_util::future::join(feed, consume).await;
    let _ = parser.await;
    fed?;
    report
}

async fn write_chunks(
    app: &App,
    call: &Call,
    chunk_rx: &mut tokio::sync::mpsc::Receiver<Result<Chunk, Error>>,
) -> Result<BatchReport, Error> {
    let mut report = BatchReport {
        trace_id: call.trace_id.clone(),
        ..BatchReport::default()
    };
    while let Some(chunk) = chunk_rx.recv().await {
        let chunk = chunk?;
        let (lines, intakes): (Vec<(u64, Option<String>)>, Vec<EtudiantIntake>) = chunk
            .valid
            .into_iter()
            .map(|(l, etu, s)| ((l, etu), s))
            .unzip();
        let applied = if intakes.is_empty() {
            Vec::new()
        } else {
            let call = call.clone();
            app.db
                .write(move |c| repo::upsert_chunk(c, &intakes, call.actor_now()))
                .await?
        };
        let mut written: std::collections::HashMap<u64, BatchLineReport> = lines
            .into_iter()
            .zip(applied)
            .map(|((line, cod_etu), a)| (line, written_line(line, cod_etu, a)))
            .collect();
        let mut rejected: std::collections::HashMap<u64, BatchLineReport> =
            chunk.rejected.into_iter().map(|r| (r.line, r)).collect();
        for line in chunk.order {
            if let Some(r) = written.remove(&line).or_else(|| rejected.remove(&line)) {
                report.counts.add(r.outcome.status);
                report.lines.push(r);
            }
        }
    }
    Ok(report)
}

fn written_line(line: u64, cod_etu: Option<String>, a: StudentApplied) -> BatchLineReport {
    BatchLineReport {
        line,
        cod_etu: cod_etu.or(Some(a.cod_etu.to_string())),
        cod_ind: Some(a.cod_ind),
        outcome: LineOutcome::written(
            LineStatus::of_write(a.status),
            a.warnings.into_iter().map(|w| w.code).collect(),
        ),
        errors: Vec::new(),
    }
}
