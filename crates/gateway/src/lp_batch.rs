//! Laissez-passer batch files (`POST /api/v1/laissez-passer/batch`, LP-16 … LP-20). The upload
//! is spooled to a temporary file, then read lazily and processed by chunks of [`CHUNK`] rows:
//! rows are validated (LP-3 … LP-7) on a blocking thread, then each chunk goes through the bulk
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

use crate::state::AppState;
use apogee_db::repo::lp::{self as lp_repo, LpKey};
use apogee_db::repo::lp_import::{self, Counts, ImportRow};
use apogee_db::repo::referential::Actor;
use apogee_db::{AnyConnection, DbError, WriteError};
use apogee_domain::lp::batch::{self, Format, ReportLine, Row, Summary};
use apogee_domain::lp::{Context, LpIntake, LpParams, LpVersion, validate};
use apogee_domain::{Error, FaultKey, Referential};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::io::{Seek, SeekFrom};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// Rows per chunk (one transaction each in partial mode).
pub const CHUNK: usize = 2000;

/// Batches being processed by a live request of this process.
fn running() -> &'static Mutex<HashSet<String>> {
    static RUNNING: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    RUNNING.get_or_init(|| Mutex::new(HashSet::new()))
}

/// Removes a batch from [`running`] when its request ends (even by a panic or a disconnect).
struct Owned(String);

impl Owned {
    /// Claims `id`; `None` when a live request of this process already works on it.
    fn claim(id: &str) -> Option<Self> {
        let mut set = running().lock().unwrap_or_else(PoisonError::into_inner);
        set.insert(id.to_owned()).then(|| Owned(id.to_owned()))
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        running()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.0);
    }
}

/// What the caller asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// Input format.
    pub format: Format,
    /// `atomic` mode.
    pub atomic: bool,
    /// `dryRun=true`.
    pub dry_run: bool,
    /// `Idempotency-Key` header.
    pub key: Option<String>,
    /// Caller.
    pub client: String,
    /// Trace id of the request.
    pub trace_id: String,
}

/// The header of a batch answer (the report lines follow).
#[derive(Debug, Clone, Serialize)]
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

fn rfc3339(t: chrono::NaiveDateTime) -> String {
    t.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl BatchHead {
    /// From the stored row.
    pub fn of(row: &ImportRow) -> Self {
        let file_errors: Vec<String> = row
            .file_errors
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();
        let u = |n: i64| u64::try_from(n).unwrap_or(0);
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
                total: u(row.total),
                created: u(row.created),
                updated: u(row.updated),
                unchanged: u(row.unchanged),
                rejected: u(row.rejected),
                file_errors,
            },
        }
    }
}

/// How a post ended.
pub enum Posted {
    /// Processed by this request (new or resumed).
    Processed(ImportRow),
    /// An earlier post with the same key had completed: its stored report, nothing written.
    Replayed(ImportRow),
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

/// Evaluates (and with `write_lps` writes) one chunk, and stores its report; runs in the
/// caller's transaction. `dups` maps each key already met in the file to its first line.
fn chunk_work(
    c: &mut AnyConnection,
    chunk: Vec<Prepared>,
    id: &str,
    write_lps: bool,
    store: bool,
    dups: &mut HashMap<u64, u64>,
    (client, trace_id): (&str, &str),
) -> Result<Counts, WriteError> {
    let now = chrono::Utc::now().naive_utc();
    let actor = Actor {
        client: Some(client),
        trace_id,
        now,
    };
    let intakes: Vec<LpIntake> = chunk
        .iter()
        .filter_map(|p| p.intake.as_ref().ok().cloned())
        .collect();
    let mut applied = lp_repo::upsert_chunk(c, &intakes, actor, write_lps)?.into_iter();
    let mut counts = Counts::default();
    let mut text = String::new();
    let (first, last) = (
        chunk.first().map_or(0, |p| p.line),
        chunk.last().map_or(0, |p| p.line),
    );
    for p in chunk {
        let base = ReportLine::of(p.line, p.params.as_ref());
        let line = match p.intake {
            Err(e) => base.reject(&e),
            Ok(_) => match applied.next() {
                None => base.reject(&Error::internal("résultat manquant")),
                Some(Err(e)) => base.reject(&e),
                Some(Ok(a)) => {
                    let mut l = base;
                    l.status = a.status.to_owned();
                    for w in a.warnings {
                        if !l.warnings.contains(&w.code) {
                            l.warnings.push(w.code);
                        }
                    }
                    match a.key.0 {
                        apogee_domain::lp::TypLpa::Iaprimo => l.cod_ind_opi = Some(a.key.1),
                        apogee_domain::lp::TypLpa::Reins => l.cod_ind = Some(a.key.1),
                    }
                    match dups.entry(key_hash(&a.key)) {
                        std::collections::hash_map::Entry::Occupied(e) => {
                            l.warnings.push(format!("LP_DOUBLON_FICHIER:{}", e.get()));
                        }
                        std::collections::hash_map::Entry::Vacant(e) => {
                            e.insert(p.line);
                        }
                    }
                    l
                }
            },
        };
        counts.total += 1;
        match line.status.as_str() {
            "created" => counts.created += 1,
            "updated" => counts.updated += 1,
            "unchanged" => counts.unchanged += 1,
            _ => counts.rejected += 1,
        }
        if store {
            text.push_str(
                &serde_json::to_string(&line)
                    .map_err(|e| WriteError::Domain(Error::internal(format!("rapport : {e}"))))?,
            );
            text.push('\n');
        }
    }
    if store && counts.total > 0 {
        lp_import::add_chunk(
            c,
            id,
            i64::try_from(first).unwrap_or(i64::MAX),
            i64::try_from(last).unwrap_or(i64::MAX),
            &text,
            counts,
            now,
        )?;
    }
    Ok(counts)
}

/// Rebuilds the duplicate map of a resumed batch from its stored report.
fn rebuild_dups(c: &mut AnyConnection, id: &str) -> Result<HashMap<u64, u64>, DbError> {
    let mut dups = HashMap::new();
    let mut after = 0;
    loop {
        let chunks = lp_import::report_chunks(c, id, after, 16)?;
        let Some(last) = chunks.last().map(|c| c.0) else {
            break;
        };
        for (_, text) in chunks {
            for l in text.lines() {
                let Ok(r) = serde_json::from_str::<ReportLine>(l) else {
                    continue;
                };
                if r.status == "rejected" {
                    continue;
                }
                if let Some((typ, person, anu, etp, vet)) = r.key() {
                    let key: LpKey = (typ, person, anu, etp, vet.parse().unwrap_or_default());
                    dups.entry(key_hash(&key)).or_insert(r.line);
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
    skip: u64,
) -> Result<(LpVersion, impl Iterator<Item = Vec<Prepared>>), Error> {
    let opened = batch::open(format, file)?;
    let version = opened.version;
    let mut rows = opened.rows.filter(move |r| r.line > skip);
    let today = chrono::Utc::now().date_naive();
    Ok((
        version,
        std::iter::from_fn(move || {
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
        }),
    ))
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

/// Processes a spooled upload (see the module documentation).
pub async fn post(state: &AppState, file: std::fs::File, opts: Options) -> Result<Posted, Error> {
    let db = state.db.clone();
    let now = chrono::Utc::now().naive_utc();
    // Idempotency.
    let earlier = match &opts.key {
        None => None,
        Some(k) => {
            let k = k.clone();
            db.read(move |c| lp_import::find_by_key(c, &k).map_err(DbError::from))
                .await
                .map_err(Error::from)?
        }
    };
    let (row, _owned) = match earlier {
        Some(row) if row.status != "running" => return Ok(Posted::Replayed(row)),
        Some(row) => {
            let owned = Owned::claim(&row.id).ok_or_else(|| {
                Error::conflict(
                    FaultKey::new("functionnal", "bddrules", "concurrence", "batch"),
                    format!(
                        "Le lot {} (même Idempotency-Key) est en cours de traitement",
                        row.id
                    ),
                )
            })?;
            let (id, trace) = (row.id.clone(), opts.trace_id.clone());
            db.write(move |c| lp_import::touch(c, &id, &trace, now).map_err(DbError::from))
                .await
                .map_err(Error::from)?;
            (row, owned)
        }
        None => {
            // The header is checked before anything is stored.
            let mut probe = file.try_clone().map_err(storage)?;
            let format = opts.format;
            let checked = tokio::task::spawn_blocking(move || {
                let r = batch::open(format, probe.try_clone()?).map(|_| ());
                probe.seek(SeekFrom::Start(0))?;
                Ok::<_, std::io::Error>(r)
            })
            .await
            .map_err(storage)?
            .map_err(storage)?;
            checked?;
            let row = ImportRow {
                id: ulid::Ulid::new().to_string(),
                idempotency_key: opts.key.clone(),
                client: opts.client.clone(),
                mode: if opts.atomic { "atomic" } else { "partial" }.to_owned(),
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
                started_at: now,
                finished_at: None,
                heartbeat_at: now,
                last_trace_id: Some(opts.trace_id.clone()),
            };
            let owned = Owned::claim(&row.id).ok_or_else(|| Error::internal("lot déjà pris"))?;
            let stored = row.clone();
            db.write(move |c| lp_import::insert(c, &stored).map_err(DbError::from))
                .await
                .map_err(|e: DbError| {
                    Error::conflict(
                        FaultKey::new("functionnal", "bddrules", "concurrence", "batch"),
                        format!("Lot non enregistré (Idempotency-Key déjà utilisée ?) : {e}"),
                    )
                })?;
            (row, owned)
        }
    };
    let referential = state.referential();
    let handle = tokio::runtime::Handle::current();
    let id = row.id.clone();
    let atomic = row.mode == "atomic";
    let dry_run = row.dry_run;
    let format = Format::parse(&row.format).unwrap_or(opts.format);
    let skip = u64::try_from(row.last_line).unwrap_or(0);
    let (client, trace) = (opts.client.clone(), opts.trace_id.clone());
    let db2 = db.clone();
    let result = tokio::task::spawn_blocking(move || -> Result<Vec<String>, Error> {
        let mut file = file;
        if atomic {
            // Pass 1: evaluate without writing.
            let mut dups = HashMap::new();
            let mut rejected = 0;
            let mut file_errors = Vec::new();
            let (_, it) = chunks(
                file.try_clone().map_err(storage)?,
                format,
                Arc::clone(&referential),
                0,
            )?;
            for chunk in it {
                file_errors.extend(file_errors_of(&chunk));
                let mut conn = db2.conn().map_err(Error::from)?;
                let counts = chunk_work(
                    &mut conn,
                    chunk,
                    &id,
                    false,
                    false,
                    &mut dups,
                    (&client, &trace),
                )
                .map_err(Error::from)?;
                rejected += counts.rejected;
            }
            // Pass 2: one transaction (LPs only when nothing was rejected).
            file.seek(SeekFrom::Start(0)).map_err(storage)?;
            let write_lps = rejected == 0 && !dry_run;
            let (id2, client2, trace2) = (id.clone(), client.clone(), trace.clone());
            handle
                .block_on(db2.write(move |c| -> Result<(), WriteError> {
                    let mut dups = HashMap::new();
                    let (_, it) = chunks(file, format, referential, 0)?;
                    for chunk in it {
                        chunk_work(
                            c,
                            chunk,
                            &id2,
                            write_lps,
                            true,
                            &mut dups,
                            (&client2, &trace2),
                        )?;
                    }
                    Ok(())
                }))
                .map_err(Error::from)?;
            return Ok(file_errors);
        }
        let mut dups = if skip > 0 {
            let mut conn = db2.conn().map_err(Error::from)?;
            rebuild_dups(&mut conn, &id).map_err(Error::from)?
        } else {
            HashMap::new()
        };
        let mut file_errors = Vec::new();
        let (_, it) = chunks(file, format, referential, skip)?;
        for chunk in it {
            file_errors.extend(file_errors_of(&chunk));
            let (id2, client2, trace2) = (id.clone(), client.clone(), trace.clone());
            let mut moved = std::mem::take(&mut dups);
            dups = handle
                .block_on(db2.write(move |c| -> Result<_, WriteError> {
                    chunk_work(
                        c,
                        chunk,
                        &id2,
                        !dry_run,
                        true,
                        &mut moved,
                        (&client2, &trace2),
                    )?;
                    Ok(moved)
                }))
                .map_err(Error::from)?;
        }
        Ok(file_errors)
    })
    .await
    .map_err(storage)?;
    let id = row.id.clone();
    let end = chrono::Utc::now().naive_utc();
    let (status, errors) = match &result {
        Ok(fe) => ("completed", fe.clone()),
        Err(e) => ("failed", vec![e.message.clone()]),
    };
    // A storage failure leaves the batch `running` (resumable with the same key); a file error
    // found at the end (JSON array) completes it with its file errors.
    if let Err(e) = &result
        && e.kind == apogee_domain::ErrorKind::Internal
    {
        return Err(e.clone());
    }
    let fe = (!errors.is_empty()).then(|| serde_json::to_string(&errors).unwrap_or_default());
    let id2 = id.clone();
    db.write(move |c| {
        lp_import::finish(c, &id2, status, fe.as_deref(), end).map_err(DbError::from)
    })
    .await
    .map_err(Error::from)?;
    result?;
    analyze_after_load(&db).await;
    let row = db
        .read(move |c| lp_import::find(c, &id).map_err(DbError::from))
        .await
        .map_err(Error::from)?
        .ok_or_else(|| Error::internal("lot introuvable"))?;
    Ok(Posted::Processed(row))
}

/// On PostgreSQL, refreshes the planner statistics of the LP tables after a batch: a table that
/// grew from nothing by a bulk load has none until autovacuum passes, and single-LP lookups by
/// primary key were then planned as sequential scans (measured: ×20 slower SOAP calls).
async fn analyze_after_load(db: &apogee_db::Db) {
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

/// The report lines of a batch, page by page (`after` = last chunk seq read).
pub async fn report_page(
    state: &AppState,
    id: &str,
    after: i64,
) -> Result<Vec<(i64, String)>, Error> {
    let id = id.to_owned();
    state
        .db
        .read(move |c| lp_import::report_chunks(c, &id, after, 8).map_err(DbError::from))
        .await
        .map_err(Error::from)
}

/// The CSV answer's columns: the key input columns, then the outcome.
pub const CSV_COLUMNS: [&str; 13] = [
    "line",
    "typLpa",
    "codAnu",
    "numOPI",
    "codEtu",
    "codEtp",
    "codVrsVet",
    "status",
    "faultKey",
    "message",
    "warnings",
    "codIndOpi",
    "codInd",
];

/// One report line as a CSV record.
pub fn csv_line(l: &ReportLine) -> String {
    let q = |v: &str| {
        if v.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", v.replace('"', "\"\""))
        } else {
            v.to_owned()
        }
    };
    let o = |v: &Option<String>| q(v.as_deref().unwrap_or(""));
    let n = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    [
        l.line.to_string(),
        o(&l.typ_lpa),
        o(&l.cod_anu),
        o(&l.num_opi),
        o(&l.cod_etu),
        o(&l.cod_etp),
        o(&l.cod_vrs_vet),
        q(&l.status),
        o(&l.fault_key),
        o(&l.message),
        q(&l.warnings.join(" ")),
        n(l.cod_ind_opi),
        n(l.cod_ind),
    ]
    .join(",")
}
