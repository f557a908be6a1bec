//! Laissez-passer batch files (`POST /api/v1/laissez-passer/batch`, LP-16 … LP-20). The upload
//! is spooled to a temporary file, then read lazily and processed by chunks of [`CHUNK`] rows:
//! rows are parsed and validated (LP-3 … LP-7) on a reader thread one chunk ahead of the writer
//! (bounded: back-pressure), and each chunk goes through the bulk
//! upsert (`apogee_db::repo::lp::upsert_chunk`: persons, stored LPs and LP-11 facts read for the
//! whole chunk at once, multi-row writes) in one transaction that also stores the chunk's
//! report lines and advances the batch's `last_line`, so LPs and report never disagree.
//!
//! * `partial` (default): one transaction per chunk; rejected rows are reported.
//! * `atomic`: a first pass evaluates every row without writing; if one is rejected, the report
//!   is stored and no LP is written, otherwise every chunk is written in one transaction.
//! * `dryRun`: every chunk is evaluated, the report stored, no LP written.
//!
//! A batch posted with an `Idempotency-Key` that completed is answered from storage; one still
//! `running` but not owned by a live request of this process (a crash) is resumed after its
//! `last_line`, rebuilding the duplicate map (`LP_DOUBLON_FICHIER`) from its stored report.
//! That map is a [`DupIndex`]: `[lp] batch_keys_in_memory` keys in memory, the rest spilled to
//! sorted temporary files, so that a batch's memory does not grow with its file.

use super::dups::DupIndex;
use crate::idempotency::{self, Claim, Keyed, Lease, Stored};
use crate::{App, Call};
use apogee_db::repo::lp::{self as lp_repo, LpKey};
use apogee_db::repo::lp_import::{self, ImportRow};
use apogee_db::{AnyConnection, Db, DbError, WriteError};
use apogee_domain::batch::{Counts, LineStatus, Mode};
use apogee_domain::formats::rfc3339;
use apogee_domain::lp::batch::{self, Format, ReportLine, Row, Summary};
use apogee_domain::lp::{Context, LpIntake, LpParams, LpVersion, TypLpa, validate};
use apogee_domain::{Error, ErrorKind, FaultKey, Referential};
use serde::Serialize;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::{Seek, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Rows per chunk (one transaction each in partial mode).
pub const CHUNK: usize = 2000;

/// What the caller asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// Input format.
    pub format: Format,
    /// `partial` or `atomic`.
    pub mode: Mode,
    /// `dryRun=true`.
    pub dry_run: bool,
    /// `Idempotency-Key` header.
    pub key: Option<String>,
    /// SHA-256 (hex) of the upload (what the key is bound to).
    pub body_sha256: String,
}

/// The route an LP batch's `Idempotency-Key` is bound to.
pub const ROUTE: &str = "POST /api/v1/laissez-passer/batch";

/// The header of a batch answer (the report lines follow).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BatchHead {
    /// Batch id (ULID).
    pub id: String,
    /// `running`, `completed` or `failed`.
    pub status: String,
    /// `partial` or `atomic`.
    pub mode: String,
    /// `csv`, `ndjson` or `json`.
    pub format: String,
    /// Validation only.
    pub dry_run: bool,
    /// Whether LPs were written (false for a dry run and for a rejected atomic batch).
    pub written: bool,
    /// Idempotency key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// Last physical line committed.
    pub last_line: i64,
    /// Start (RFC 3339).
    pub started_at: String,
    /// End (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Counts.
    pub summary: Summary,
}

impl BatchHead {
    /// From the stored row.
    pub fn of(row: &ImportRow) -> Self {
        let file_errors: Vec<String> = row
            .file_errors
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();
        BatchHead {
            id: row.id.clone(),
            status: row.status.clone(),
            mode: row.mode.clone(),
            format: row.format.clone(),
            dry_run: row.dry_run,
            written: !row.dry_run
                && row.status == "completed"
                && !(row.mode == "atomic" && row.rejected > 0),
            idempotency_key: row.idempotency_key.clone(),
            last_line: row.last_line,
            started_at: rfc3339(row.started_at),
            finished_at: row.finished_at.map(rfc3339),
            summary: Summary {
                counts: row.counts(),
                file_errors,
            },
        }
    }
}

/// How a post ended.
#[derive(Debug, Clone)]
pub struct Posted {
    /// The batch.
    pub head: BatchHead,
    /// An earlier post with the same key had completed: its stored report, nothing written.
    pub replayed: bool,
}

fn key_hash(k: &LpKey) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    k.hash(&mut h);
    h.finish()
}

/// A row validated on the reading thread.
struct Prepared {
    line: u64,
    params: Option<LpParams>,
    intake: Result<LpIntake, Error>,
}

fn prepare(row: Row, version: LpVersion, ctx: &Context<'_>) -> Prepared {
    match row.params {
        Err(e) => Prepared {
            line: row.line,
            params: None,
            intake: Err(e),
        },
        Ok(p) => {
            let intake = validate(&p, version, ctx);
            Prepared {
                line: row.line,
                params: Some(p),
                intake,
            }
        }
    }
}

/// What one chunk does: write the LPs or only evaluate them, store its report or not.
#[derive(Debug, Clone, Copy)]
struct ChunkMode {
    write_lps: bool,
    /// The report lines are stored (and so carry `LP_DOUBLON_FICHIER`, which needs the keys met
    /// in the file: a pass that stores nothing tracks none).
    store: bool,
}

/// The keys met in a file (hash → first line), and those a chunk adds (merged once the chunk is
/// committed, so that a chunk run again after a conflict starts from the same state).
struct Met<'a> {
    before: &'a DupIndex,
    added: HashMap<u64, u64>,
}

impl Met<'_> {
    /// The first line of `key` when it was met before; otherwise records it at `line`.
    fn earlier(&mut self, key: u64, line: u64) -> Result<Option<u64>, WriteError> {
        if let Some(first) = self.before.get(key).map_err(spill_error)? {
            return Ok(Some(first));
        }
        Ok(match self.added.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(line);
                None
            }
        })
    }
}

fn spill_error(e: std::io::Error) -> WriteError {
    WriteError::Domain(storage(format!("doublons du fichier : {e}")))
}

/// Evaluates (and with `write_lps` writes) one chunk, and stores its report; runs in the
/// caller's transaction. `dups` maps each key already met in the file to its first line; the
/// keys the chunk adds are returned with its counts.
fn chunk_work(
    c: &mut AnyConnection,
    chunk: &[Prepared],
    id: &str,
    mode: ChunkMode,
    dups: &DupIndex,
    call: &Call,
) -> Result<(Counts, HashMap<u64, u64>), WriteError> {
    let mut met = Met {
        before: dups,
        added: HashMap::new(),
    };
    let now = chrono::Utc::now().naive_utc();
    let intakes: Vec<&LpIntake> = chunk
        .iter()
        .filter_map(|p| p.intake.as_ref().ok())
        .collect();
    let mut applied =
        lp_repo::upsert_chunk(c, &intakes, call.actor_at(now), mode.write_lps)?.into_iter();
    let mut counts = Counts::default();
    let mut text = String::new();
    let (first, last) = (
        chunk.first().map_or(0, |p| p.line),
        chunk.last().map_or(0, |p| p.line),
    );
    for p in chunk {
        let base = ReportLine::of(p.line, p.params.as_ref());
        let line = match &p.intake {
            Err(e) => base.reject(e),
            Ok(_) => match applied.next() {
                None => base.reject(&Error::internal("résultat manquant")),
                Some(Err(e)) => base.reject(&e),
                Some(Ok(a)) => written_line(base, a, mode.store.then_some(&mut met))?,
            },
        };
        counts.add(line.outcome.status);
        if mode.store {
            text.push_str(
                &serde_json::to_string(&line)
                    .map_err(|e| WriteError::Domain(Error::internal(format!("rapport : {e}"))))?,
            );
            text.push('\n');
        }
    }
    if mode.store && counts.total > 0 {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        lp_import::add_chunk(c, id, n(first), n(last), &text, counts, now)?;
    }
    Ok((counts, met.added))
}

/// The report line of a written (or evaluated) row, with `LP_DOUBLON_FICHIER` when its key was
/// met earlier in the file.
fn written_line(
    mut l: ReportLine,
    a: lp_repo::ChunkApplied,
    met: Option<&mut Met<'_>>,
) -> Result<ReportLine, WriteError> {
    l.outcome.status = LineStatus::of_write(a.status);
    for w in a.warnings {
        if !l.outcome.warnings.contains(&w.code) {
            l.outcome.warnings.push(w.code);
        }
    }
    match a.key.0 {
        TypLpa::Iaprimo => l.cod_ind_opi = Some(a.key.1),
        TypLpa::Reins => l.cod_ind = Some(a.key.1),
    }
    if let Some(met) = met
        && let Some(first) = met.earlier(key_hash(&a.key), l.line)?
    {
        l.outcome
            .warnings
            .push(format!("LP_DOUBLON_FICHIER:{first}"));
    }
    Ok(l)
}

/// Rebuilds the duplicate map of a resumed batch from its stored report.
fn rebuild_dups(c: &mut AnyConnection, id: &str, memory: usize) -> Result<DupIndex, Error> {
    let mut dups = DupIndex::new(memory);
    let mut after = 0;
    loop {
        let chunks = lp_import::report_chunks(c, id, after, 16).map_err(DbError::from)?;
        let Some(last) = chunks.last().map(|c| c.0) else {
            break;
        };
        for (_, text) in chunks {
            for l in text.lines() {
                let Ok(r) = serde_json::from_str::<ReportLine>(l) else {
                    continue;
                };
                if r.outcome.status == LineStatus::Rejected {
                    continue;
                }
                if let Some((typ, person, anu, etp, vet)) = r.key() {
                    let key: LpKey = (typ, person, anu, etp, vet.parse().unwrap_or_default());
                    dups.record(key_hash(&key), r.line).map_err(storage)?;
                }
            }
        }
        after = last;
    }
    Ok(dups)
}

fn storage(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("traitement du fichier : {e}"))
}

/// Reads the chunks of `file` after line `skip`, validated.
fn chunks(
    file: std::fs::File,
    format: Format,
    referential: Arc<Referential>,
    today: chrono::NaiveDate,
    skip: u64,
) -> Result<impl Iterator<Item = Vec<Prepared>>, Error> {
    let opened = batch::open(format, file)?;
    let version = opened.version;
    let mut rows = opened.rows.filter(move |r| r.line > skip);
    Ok(std::iter::from_fn(move || {
        let ctx = Context {
            referential: &referential,
            today,
        };
        let chunk: Vec<Prepared> = rows
            .by_ref()
            .take(CHUNK)
            .map(|r| prepare(r, version, &ctx))
            .collect();
        (!chunk.is_empty()).then_some(chunk)
    }))
}

/// One validated chunk, or why the file could not be read.
type ChunkItem = Result<Vec<Prepared>, Error>;

/// [`chunks`] on a thread of its own, one chunk ahead of the caller (a bounded channel: the
/// reader waits while the writer is behind), so that parsing and validating a chunk overlap the
/// writing of the previous one. Dropping the iterator stops the reader at its next chunk.
fn read_ahead(
    file: std::fs::File,
    format: Format,
    referential: Arc<Referential>,
    today: chrono::NaiveDate,
    skip: u64,
) -> Result<impl Iterator<Item = ChunkItem>, Error> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<ChunkItem>(1);
    std::thread::Builder::new()
        .name("lp-batch-reader".into())
        .spawn(
            move || match chunks(file, format, referential, today, skip) {
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
                Ok(all) => {
                    for chunk in all {
                        if tx.send(Ok(chunk)).is_err() {
                            break;
                        }
                    }
                }
            },
        )
        .map_err(storage)?;
    Ok(rx.into_iter())
}

/// File errors of a chunk (a JSON array broken half-way).
fn file_errors_of(chunk: &[Prepared]) -> Vec<String> {
    chunk
        .iter()
        .filter_map(|p| match &p.intake {
            Err(e) if e.errors.first().is_some_and(|f| f.code == "FICHIER_FORMAT") => {
                Some(e.message.clone())
            }
            _ => None,
        })
        .collect()
}

/// The header is checked before anything is stored.
async fn check_header(file: &std::fs::File, format: Format) -> Result<(), Error> {
    let mut probe = file.try_clone().map_err(storage)?;
    tokio::task::spawn_blocking(move || {
        let r = batch::open(format, probe.try_clone()?).map(|_| ());
        probe.seek(SeekFrom::Start(0))?;
        Ok::<_, std::io::Error>(r)
    })
    .await
    .map_err(storage)?
    .map_err(storage)?
}

fn new_row(call: &Call, opts: &Options, id: &str) -> ImportRow {
    ImportRow {
        id: id.to_owned(),
        idempotency_key: opts.key.clone(),
        client: call.client.clone(),
        mode: opts.mode.as_str().to_owned(),
        format: opts.format.as_str().to_owned(),
        dry_run: opts.dry_run,
        status: "running".to_owned(),
        total: 0,
        created: 0,
        updated: 0,
        unchanged: 0,
        rejected: 0,
        file_errors: None,
        last_line: 0,
        chunks: 0,
        started_at: call.now,
        finished_at: None,
        heartbeat_at: call.now,
        last_trace_id: Some(call.trace_id.clone()),
    }
}

/// How a keyed post stopped short of a report.
enum Failure {
    /// Refused before anything was stored (a bad header): the key is released.
    Refused(Error),
    /// Stopped by storage (or a lost lease): the batch stays `running`, resumable with its key.
    Stopped(Error),
    /// The batch ended `failed` (a file error found half-way): the key answers with it.
    Failed(Error),
}

impl Failure {
    fn error(self) -> Error {
        match self {
            Failure::Refused(e) | Failure::Stopped(e) | Failure::Failed(e) => e,
        }
    }
}

/// Processes a spooled upload (see the module documentation).
pub async fn post(
    app: &App,
    call: &Call,
    file: std::fs::File,
    opts: Options,
) -> Result<Posted, Error> {
    let Some(key) = opts.key.clone() else {
        let id = ulid::Ulid::new().to_string();
        return run(app, call, file, &opts, &id, None)
            .await
            .map_err(Failure::error);
    };
    let keyed = Keyed {
        client: call.client.clone(),
        key,
        route: ROUTE,
        body_sha256: opts.body_sha256.clone(),
    };
    let new_id = ulid::Ulid::new().to_string();
    let (lease, resumed) = match idempotency::claim(app, &keyed, Some(new_id)).await? {
        Claim::Done(stored) => return replay(app, stored).await,
        Claim::New(lease) => (lease, false),
        Claim::Resumed(lease) => (lease, true),
    };
    let id = lease
        .resource()
        .map_or_else(|| ulid::Ulid::new().to_string(), str::to_owned);
    let result = if resumed {
        resume(app, call, file, &opts, &id, &lease).await
    } else {
        run(app, call, file, &opts, &id, Some(&lease)).await
    };
    settle(lease, &id, result).await
}

/// Records what the key answers from now on.
async fn settle(lease: Lease, id: &str, result: Result<Posted, Failure>) -> Result<Posted, Error> {
    let done = Stored {
        resource: Some(id.to_owned()),
        status: None,
        body: None,
    };
    match result {
        Ok(posted) => {
            lease.complete(done).await?;
            Ok(posted)
        }
        Err(Failure::Failed(e)) => {
            lease.complete(done).await?;
            Err(e)
        }
        Err(Failure::Refused(e)) => {
            lease.release().await;
            Err(e)
        }
        Err(Failure::Stopped(e)) => {
            lease.abandon().await;
            Err(e)
        }
    }
}

/// The answer of a completed key: its batch, nothing written.
async fn replay(app: &App, stored: Stored) -> Result<Posted, Error> {
    let id = stored
        .resource
        .ok_or_else(|| Error::internal("clé d'idempotence sans lot"))?;
    Ok(Posted {
        head: find(app, &id).await?,
        replayed: true,
    })
}

/// A new batch `id`: the header checked, the batch stored, then processed.
async fn run(
    app: &App,
    call: &Call,
    file: std::fs::File,
    opts: &Options,
    id: &str,
    lease: Option<&Lease>,
) -> Result<Posted, Failure> {
    check_header(&file, opts.format)
        .await
        .map_err(Failure::Refused)?;
    let row = new_row(call, opts, id);
    let stored = row.clone();
    app.db
        .write(move |c| lp_import::insert(c, &stored).map_err(DbError::from))
        .await
        .map_err(|e: DbError| Failure::Stopped(e.into()))?;
    process(app, call, file, &row, lease).await
}

/// A batch whose request stopped (crash, storage failure): resumed after its last committed
/// line; created if the request stopped before storing it.
async fn resume(
    app: &App,
    call: &Call,
    file: std::fs::File,
    opts: &Options,
    id: &str,
    lease: &Lease,
) -> Result<Posted, Failure> {
    let lookup = id.to_owned();
    let row = app
        .db
        .read(move |c| lp_import::find(c, &lookup).map_err(DbError::from))
        .await
        .map_err(|e| Failure::Stopped(e.into()))?;
    let Some(row) = row else {
        return run(app, call, file, opts, id, Some(lease)).await;
    };
    if row.status != "running" {
        return Ok(Posted {
            head: BatchHead::of(&row),
            replayed: true,
        });
    }
    let (id2, trace, now) = (row.id.clone(), call.trace_id.clone(), call.now);
    app.db
        .write(move |c| lp_import::touch(c, &id2, &trace, now).map_err(DbError::from))
        .await
        .map_err(|e| Failure::Stopped(e.into()))?;
    process(app, call, file, &row, Some(lease)).await
}

/// Runs the stored batch `row` over `file` (after its `last_line`) and records its end.
async fn process(
    app: &App,
    call: &Call,
    file: std::fs::File,
    row: &ImportRow,
    lease: Option<&Lease>,
) -> Result<Posted, Failure> {
    let job = Job {
        db: app.db.clone(),
        call: call.clone(),
        id: row.id.clone(),
        format: Format::parse(&row.format).unwrap_or(Format::Csv),
        dry_run: row.dry_run,
        referential: app.referential(),
        handle: tokio::runtime::Handle::current(),
        lost: lease.map(Lease::lost_flag),
        keys_in_memory: app.settings.lp.batch_keys_in_memory,
    };
    let atomic = row.mode == "atomic";
    let skip = u64::try_from(row.last_line).unwrap_or(0);
    let result = tokio::task::spawn_blocking(move || {
        if atomic {
            job.atomic(file)
        } else {
            job.partial(file, skip)
        }
    })
    .await
    .map_err(|e| Failure::Stopped(storage(e)))?;
    finish(app, &row.id, result).await
}

/// The processing of one batch, on a blocking thread.
struct Job {
    db: Db,
    call: Call,
    id: String,
    format: Format,
    dry_run: bool,
    referential: Arc<Referential>,
    handle: tokio::runtime::Handle,
    /// Set when another request took the batch's key over: stop between chunks.
    lost: Option<Arc<AtomicBool>>,
    /// Keys of the duplicate map held in memory (`[lp] batch_keys_in_memory`).
    keys_in_memory: usize,
}

impl Job {
    /// Fails when the lease on the batch's key was lost.
    fn still_owned(&self) -> Result<(), Error> {
        match &self.lost {
            Some(lost) if lost.load(Ordering::SeqCst) => Err(Error::unavailable(
                "Le lot a été repris par une autre requête (même Idempotency-Key)",
            )),
            _ => Ok(()),
        }
    }

    fn chunks(
        &self,
        file: std::fs::File,
        skip: u64,
    ) -> Result<impl Iterator<Item = ChunkItem> + use<>, Error> {
        read_ahead(
            file,
            self.format,
            Arc::clone(&self.referential),
            self.call.today(),
            skip,
        )
    }

    /// Pass 1 evaluates without writing (it only counts rejections: no report, no duplicate
    /// map); pass 2 writes in one transaction (LPs only when nothing was rejected). Returns the
    /// file errors.
    fn atomic(self, mut file: std::fs::File) -> Result<Vec<String>, Error> {
        let none_met = DupIndex::new(0);
        let mut rejected = 0;
        let mut file_errors = Vec::new();
        let evaluate = ChunkMode {
            write_lps: false,
            store: false,
        };
        for chunk in self.chunks(file.try_clone().map_err(storage)?, 0)? {
            let chunk = chunk?;
            file_errors.extend(file_errors_of(&chunk));
            let mut conn = self.db.conn()?;
            let (counts, _) =
                chunk_work(&mut conn, &chunk, &self.id, evaluate, &none_met, &self.call)
                    .map_err(Error::from)?;
            rejected += counts.rejected;
        }
        file.seek(SeekFrom::Start(0)).map_err(storage)?;
        let write = ChunkMode {
            write_lps: rejected == 0 && !self.dry_run,
            store: true,
        };
        let chunks = self.chunks(file, 0)?;
        let (id, call, memory) = (self.id.clone(), self.call.clone(), self.keys_in_memory);
        // One transaction over the whole file: it cannot be run again (the file is read as it
        // goes), so a conflict fails the batch (resumable with its key).
        self.handle
            .block_on(self.db.write_once(move |c| -> Result<(), WriteError> {
                let mut dups = DupIndex::new(memory);
                for chunk in chunks {
                    let chunk = chunk.map_err(WriteError::Domain)?;
                    let (_, added) = chunk_work(c, &chunk, &id, write, &dups, &call)?;
                    dups.extend_new(added).map_err(spill_error)?;
                }
                Ok(())
            }))
            .map_err(Error::from)?;
        Ok(file_errors)
    }

    /// One transaction per chunk, after the lines a crashed run committed. Returns the file
    /// errors.
    fn partial(self, file: std::fs::File, skip: u64) -> Result<Vec<String>, Error> {
        let mut dups = Arc::new(if skip > 0 {
            rebuild_dups(&mut *self.db.conn()?, &self.id, self.keys_in_memory)?
        } else {
            DupIndex::new(self.keys_in_memory)
        });
        let mode = ChunkMode {
            write_lps: !self.dry_run,
            store: true,
        };
        let mut file_errors = Vec::new();
        for chunk in self.chunks(file, skip)? {
            let chunk = chunk?;
            self.still_owned()?;
            file_errors.extend(file_errors_of(&chunk));
            let (id, call, met) = (self.id.clone(), self.call.clone(), Arc::clone(&dups));
            let (_, added) = self
                .handle
                .block_on(
                    self.db
                        .write(move |c| chunk_work(c, &chunk, &id, mode, &met, &call)),
                )
                .map_err(Error::from)?;
            // The chunk's closure (and its clone of the index) is dropped once it has run.
            Arc::get_mut(&mut dups)
                .ok_or_else(|| Error::internal("index des doublons encore partagé"))?
                .extend_new(added)
                .map_err(storage)?;
        }
        Ok(file_errors)
    }
}

/// Records how the batch ended. A storage failure leaves it `running` (resumable with the same
/// key); a file error found at the end (JSON array) completes it with its file errors.
async fn finish(
    app: &App,
    id: &str,
    result: Result<Vec<String>, Error>,
) -> Result<Posted, Failure> {
    let (status, errors) = match &result {
        Ok(fe) => ("completed", fe.clone()),
        Err(e) if matches!(e.kind, ErrorKind::Internal | ErrorKind::Unavailable) => {
            return Err(Failure::Stopped(e.clone()));
        }
        Err(e) => ("failed", vec![e.message.clone()]),
    };
    let end = chrono::Utc::now().naive_utc();
    let fe = (!errors.is_empty()).then(|| serde_json::to_string(&errors).unwrap_or_default());
    let id2 = id.to_owned();
    app.db
        .write(move |c| {
            lp_import::finish(c, &id2, status, fe.as_deref(), end).map_err(DbError::from)
        })
        .await
        .map_err(|e| Failure::Stopped(e.into()))?;
    if let Err(e) = result {
        return Err(Failure::Failed(e));
    }
    analyze_after_load(&app.db).await;
    Ok(Posted {
        head: find(app, id).await.map_err(Failure::Stopped)?,
        replayed: false,
    })
}

/// On PostgreSQL, refreshes the planner statistics of the LP tables after a batch: a table that
/// grew from nothing by a bulk load has none until autovacuum passes, and single-LP lookups by
/// primary key were then planned as sequential scans (measured: ×20 slower SOAP calls).
async fn analyze_after_load(db: &Db) {
    if db.backend() != apogee_db::Backend::Postgres {
        return;
    }
    let done = db
        .read(|c| lp_import::analyze_lp_tables(c).map_err(DbError::from))
        .await;
    if let Err(e) = done {
        tracing::warn!(error = %e, "ANALYZE after a laissez-passer batch failed");
    }
}

/// `GET /api/v1/laissez-passer/batches/{id}`: the batch (its report is read with
/// [`report_page`]).
pub async fn find(app: &App, id: &str) -> Result<BatchHead, Error> {
    let lookup = id.to_owned();
    let row = app
        .db
        .read(move |c| lp_import::find(c, &lookup).map_err(DbError::from))
        .await?
        .ok_or_else(|| {
            Error::not_found(
                FaultKey::null_retrieve("batch"),
                format!("Aucun lot de laissez-passer {id}"),
            )
        })?;
    Ok(BatchHead::of(&row))
}

/// The report lines of a batch, page by page (`after` = last chunk seq read): `(seq, NDJSON)`.
pub async fn report_page(app: &App, id: &str, after: i64) -> Result<Vec<(i64, String)>, Error> {
    let id = id.to_owned();
    Ok(app
        .db
        .read(move |c| lp_import::report_chunks(c, &id, after, 8).map_err(DbError::from))
        .await?)
}
