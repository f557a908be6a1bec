//! Laissez-passer and the student register, shared by SOAP (`LaissezPasserMetier`
//! `mettreAJourLaissezPasserWS` V1 and `_V2`) and REST: domain validation, then the LP-8 upsert
//! in one transaction; student upserts and streamed batch loads; the admissions view (LP-15).

use crate::journal::note;
use crate::soap::{business_fault, codec_fault, unknown_operation, xml_response};
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use apogee_db::repo::lp::{self as lp_repo, AdmissionPerson, LpApplied, Resolved};
use apogee_db::repo::referential::Actor;
use apogee_db::repo::students::{self, StudentApplied};
use apogee_domain::lp::access::{Admission, evaluate};
use apogee_domain::lp::etudiant::{self, BatchLine, EtudiantDto, EtudiantIntake};
use apogee_domain::lp::{Context, LpParams, LpVersion, TypLpa, validate};
use apogee_domain::text::present;
use apogee_domain::{Error, FieldError, Referential};
use apogee_soap::encode;
use apogee_soap::ops::{LpRequest, Service};
use futures_util::StreamExt;
use serde::Serialize;
use std::io::Read;

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// The journal's business key of an LP call: `numOPI` or `codEtu`, after its type.
pub fn journal_key(p: &LpParams) -> Option<(String, String)> {
    let typ = present(p.typ_lpa.as_deref()).and_then(TypLpa::parse);
    let opi = present(p.num_opi.as_deref()).map(|v| ("numOPI".to_owned(), v.to_owned()));
    let etu = present(p.cod_etu.as_deref()).map(|v| ("codEtu".to_owned(), v.to_owned()));
    match typ {
        Some(TypLpa::Reins) => etu.or(opi),
        _ => opi.or(etu),
    }
}

/// Validates and stores one LP (LP-3 … LP-8, LP-11).
pub async fn put(
    state: &AppState,
    params: &LpParams,
    version: LpVersion,
    client: &str,
) -> Result<LpApplied, Error> {
    let referential = state.referential();
    let intake = validate(
        params,
        version,
        &Context {
            referential: &referential,
            today: today(),
        },
    )?;
    let trace_id = crate::error::current_request_id().unwrap_or_default();
    let client = client.to_owned();
    state
        .db
        .write(move |c| {
            lp_repo::upsert(
                c,
                &intake,
                Actor {
                    client: Some(&client),
                    trace_id: &trace_id,
                    now: chrono::Utc::now().naive_utc(),
                },
            )
        })
        .await
        .map_err(Error::from)
}

/// Warning codes of an upsert, for the journal.
pub fn warning_codes(applied: &LpApplied) -> Vec<String> {
    let mut codes: Vec<String> = applied.warnings.iter().map(|w| w.code.clone()).collect();
    codes.dedup();
    codes
}

/// The journaled outcome of an LP write (as PJ-8 journals `PJ_CREEE` …): `LP_CREE`,
/// `LP_MODIFIE` or `LP_INCHANGE`.
pub fn outcome_code(status: &str) -> &'static str {
    match status {
        "created" => "LP_CREE",
        "updated" => "LP_MODIFIE",
        _ => "LP_INCHANGE",
    }
}

/// `POST <base>/LaissezPasserMetier`: `mettreAJourLaissezPasserWS` (V1) and
/// `mettreAJourLaissezPasserWS_V2`. Success is the empty response wrapper whatever the LP-8
/// outcome (created, updated, unchanged); errors are `WebBaseException` faults whose
/// `lastErrorMsg` names the row.
pub async fn soap_call(
    req: &HttpRequest,
    state: &AppState,
    client: &str,
    request: &apogee_soap::Request,
) -> HttpResponse {
    let service = Service::LaissezPasser;
    let op = match LpRequest::from_request(request) {
        None => return unknown_operation(req, service, &request.operation),
        Some(Err(e)) => return codec_fault(req, service, &e),
        Some(Ok(op)) => op,
    };
    if let Some(key) = journal_key(&op.params) {
        note(req, |n| n.key = Some(key));
    }
    match put(state, &op.params, op.version, client).await {
        Ok(applied) => {
            let mut codes = warning_codes(&applied);
            codes.extend(op.ignored.iter().map(|p| format!("ELEMENT_IGNORE:{p}")));
            codes.push(outcome_code(applied.status).to_owned());
            note(req, |n| n.warnings = codes);
            xml_response(
                StatusCode::OK,
                encode::empty_response(service.namespace(), op.response_wrapper()),
            )
        }
        Err(e) => business_fault(req, service, &e),
    }
}

/// Validates and stores one student.
pub async fn put_student(
    state: &AppState,
    dto: &EtudiantDto,
    client: &str,
) -> Result<StudentApplied, Error> {
    let intake = etudiant::validate(dto, today())?;
    let trace_id = crate::error::current_request_id().unwrap_or_default();
    let client = client.to_owned();
    state
        .db
        .write(move |c| {
            students::upsert(
                c,
                &intake,
                Actor {
                    client: Some(&client),
                    trace_id: &trace_id,
                    now: chrono::Utc::now().naive_utc(),
                },
            )
        })
        .await
        .map_err(Error::from)
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
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchLineReport {
    /// Physical line number (CSV header = 1).
    pub line: u64,
    /// `codEtu` as read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_etu: Option<String>,
    /// `created`, `updated`, `unchanged` or `rejected`.
    pub status: &'static str,
    /// `COD_IND` of the stored student.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_ind: Option<i64>,
    /// Fault key of the first failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault_key: Option<String>,
    /// French message of the first failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Every failure of the line.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Warning codes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The answer of a batch load.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchReport {
    /// Trace id of the call.
    pub trace_id: String,
    /// Data lines read.
    pub total: u64,
    /// Students created.
    pub created: u64,
    /// Students updated.
    pub updated: u64,
    /// Students already identical.
    pub unchanged: u64,
    /// Lines refused.
    pub rejected: u64,
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

/// Blocking reader over the request body chunks sent by the async side.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Result<web::Bytes, std::io::Error>>,
    buf: web::Bytes,
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

fn rejected_line(line: BatchLine, err: Error) -> BatchLineReport {
    BatchLineReport {
        line: line.line,
        cod_etu: line.cod_etu,
        status: "rejected",
        cod_ind: None,
        fault_key: Some(err.fault_key.to_string()),
        message: Some(err.message),
        errors: err.errors,
        warnings: Vec::new(),
    }
}

/// Parses (blocking thread) and sends chunks of lines until the end of the body.
fn parse_batch(
    format: BatchFormat,
    reader: ChannelReader,
    tx: &tokio::sync::mpsc::Sender<Result<Chunk, Error>>,
) {
    let lines: Box<dyn Iterator<Item = BatchLine>> = match format {
        BatchFormat::Csv => match etudiant::read_csv(reader, today()) {
            Ok(it) => Box::new(it),
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        },
        BatchFormat::Ndjson => Box::new(etudiant::read_ndjson(
            std::io::BufReader::new(reader),
            today(),
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
pub async fn students_batch(
    state: &AppState,
    mut payload: web::Payload,
    format: BatchFormat,
    client: &str,
) -> Result<BatchReport, Error> {
    let (bytes_tx, bytes_rx) = tokio::sync::mpsc::channel(8);
    let (chunk_tx, mut chunk_rx) = tokio::sync::mpsc::channel::<Result<Chunk, Error>>(2);
    let parser = tokio::task::spawn_blocking(move || {
        parse_batch(
            format,
            ChannelReader {
                rx: bytes_rx,
                buf: web::Bytes::new(),
            },
            &chunk_tx,
        );
    });
    let feed = async move {
        while let Some(item) = payload.next().await {
            let item = item.map_err(|e| std::io::Error::other(e.to_string()));
            let stop = item.is_err();
            if bytes_tx.send(item).await.is_err() || stop {
                break;
            }
        }
    };
    let trace_id = crate::error::current_request_id().unwrap_or_default();
    let consume = async {
        let result = write_chunks(state, &mut chunk_rx, client, &trace_id).await;
        // Unblocks the parser (and through it the feed) when writing stopped early.
        chunk_rx.close();
        result
    };
    let ((), report) = futures_util::future::join(feed, consume).await;
    let _ = parser.await;
    report
}

async fn write_chunks(
    state: &AppState,
    chunk_rx: &mut tokio::sync::mpsc::Receiver<Result<Chunk, Error>>,
    client: &str,
    trace_id: &str,
) -> Result<BatchReport, Error> {
    let mut report = BatchReport {
        trace_id: trace_id.to_owned(),
        ..BatchReport::default()
    };
    while let Some(chunk) = chunk_rx.recv().await {
        let chunk = chunk?;
        let (lines, intakes): (Vec<(u64, Option<String>)>, Vec<EtudiantIntake>) = chunk
            .valid
            .into_iter()
            .map(|(l, etu, s)| ((l, etu), s))
            .unzip();
        let (client, trace) = (client.to_owned(), trace_id.to_owned());
        let applied = if intakes.is_empty() {
            Vec::new()
        } else {
            state
                .db
                .write(move |c| {
                    students::upsert_chunk(
                        c,
                        &intakes,
                        Actor {
                            client: Some(&client),
                            trace_id: &trace,
                            now: chrono::Utc::now().naive_utc(),
                        },
                    )
                })
                .await
                .map_err(Error::from)?
        };
        let mut written: std::collections::HashMap<u64, BatchLineReport> = lines
            .into_iter()
            .zip(applied)
            .map(|((line, cod_etu), a)| {
                (
                    line,
                    BatchLineReport {
                        line,
                        cod_etu: cod_etu.or(Some(a.cod_etu.to_string())),
                        status: a.status,
                        cod_ind: Some(a.cod_ind),
                        fault_key: None,
                        message: None,
                        errors: Vec::new(),
                        warnings: a.warnings.into_iter().map(|w| w.code).collect(),
                    },
                )
            })
            .collect();
        let mut rejected: std::collections::HashMap<u64, BatchLineReport> =
            chunk.rejected.into_iter().map(|r| (r.line, r)).collect();
        for line in chunk.order {
            if let Some(r) = written.remove(&line).or_else(|| rejected.remove(&line)) {
                report.total += 1;
                match r.status {
                    "created" => report.created += 1,
                    "updated" => report.updated += 1,
                    "unchanged" => report.unchanged += 1,
                    _ => report.rejected += 1,
                }
                report.lines.push(r);
            }
        }
    }
    Ok(report)
}

/// One line of the admissions view: the person, then the VET evaluation.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionLine {
    /// `IAPRIMO` (OPI person, primo-enrolment) or `REINS` (known student).
    pub typ_lpa: TypLpa,
    /// OPI code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_opi_int_epo: Option<String>,
    /// `COD_IND_OPI`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_ind_opi: Option<i64>,
    /// Student number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_etu: Option<i64>,
    /// `COD_IND`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cod_ind: Option<i64>,
    /// Year.
    pub cod_anu: String,
    /// The evaluation.
    #[serde(flatten)]
    pub admission: Admission,
}

/// Evaluates LP-13/LP-14 for every candidate VET of every person.
pub fn admission_lines(
    referential: &Referential,
    cod_anu: &str,
    persons: Vec<AdmissionPerson>,
) -> Vec<AdmissionLine> {
    let today = today();
    let mut out = Vec::new();
    for p in persons {
        for cand in &p.candidates {
            let admission = evaluate(referential, today, cod_anu, &p.facts, cand);
            let (typ_lpa, code, ind_opi, etu, ind) = match &p.person {
                Resolved::Opi(o) => (
                    TypLpa::Iaprimo,
                    Some(o.cod_opi_int_epo.clone()),
                    Some(o.cod_ind_opi),
                    o.cod_etu_opi,
                    None,
                ),
                Resolved::Etudiant(s) => {
                    (TypLpa::Reins, None, None, Some(s.cod_etu), Some(s.cod_ind))
                }
            };
            out.push(AdmissionLine {
                typ_lpa,
                cod_opi_int_epo: code,
                cod_ind_opi: ind_opi,
                cod_etu: etu,
                cod_ind: ind,
                cod_anu: cod_anu.to_owned(),
                admission,
            });
        }
    }
    out
}
