//! Laissez-passer bulk loading (`POST /api/v1/laissez-passer/batch`) through the real binary,
//! on SQLite and PostgreSQL, next to the raw baselines measured in the same run on the same
//! schema: a multi-row `INSERT … ON CONFLICT DO UPDATE` in one transaction (SQLite) and `COPY`
//! (PostgreSQL, through `psql`); peak RSS of the gateway during the batch (`VmHWM`, reset just
//! before it through `/proc/<pid>/clear_refs`, so that the setup's peak is not counted; its RSS
//! at the start is printed too); LPs per second over SOAP
//! (`mettreAJourLaissezPasserWS_V2`, one call per LP, 16 connections).
//! `cargo bench -p apogee-gateway --bench lp_bulk [-- N [SOAP_CALLS]]` (default 1,000,000 rows,
//! 20,000 SOAP calls). The file: `REINS` rows for N/VETS students × VETS VETs opened for 2026
//! (created through the referential API; students through the student batch).

use apogee_db::DbError;
use apogee_db::testing::TestDatabase;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{BenchResult, Gateway, etp, open_vets, start};

const VETS: usize = 50;
const FIRST_ETU: usize = 40_000_000;

fn vm_hwm_mb(pid: u32) -> f64 {
    status_mb(pid, "VmHWM:")
}

/// Resets the peak RSS of `pid` to its current RSS (Linux ≥ 4.0); returns that RSS.
fn reset_hwm(pid: u32) -> f64 {
    if let Err(e) = std::fs::write(format!("/proc/{pid}/clear_refs"), "5") {
        eprintln!("peak RSS not reset ({e}): it includes the setup");
    }
    status_mb(pid, "VmRSS:")
}

fn status_mb(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The deterministic N-row file.
fn lp_file(n: usize) -> Vec<u8> {
    let mut f = String::with_capacity(n * 48);
    f.push_str("typLpa,codAnu,codEtu,codEtp,codVrsVet,codRgi,libCmtLpa\n");
    for i in 0..n {
        let (s, v) = (i / VETS, i % VETS);
        f.push_str(&format!(
            "REINS,2026,{},{},1,1,lot {i}\n",
            FIRST_ETU + s,
            etp(v)
        ));
    }
    f.into_bytes()
}

/// Étapes and VETs opened for 2026, and the students.
async fn prepare(http: &reqwest::Client, g: &Gateway, students: usize) -> BenchResult<()> {
    open_vets(http, g, VETS).await?;
    common::load_students(http, g, FIRST_ETU, 0..students, ("", &|_| String::new())).await
}

struct Bulk {
    rows_per_s: f64,
    rss_mb: f64,
    rss_before_mb: f64,
    summary: serde_json::Value,
}

async fn bulk(
    http: &reqwest::Client,
    g: &Gateway,
    file: Vec<u8>,
    n: usize,
    mode: &str,
) -> BenchResult<Bulk> {
    let rss_before_mb = reset_hwm(g.child.id());
    let start = Instant::now();
    let r = http
        .post(format!(
            "{}/api/v1/laissez-passer/batch?mode={mode}",
            g.base
        ))
        .bearer_auth(&g.token)
        .header("Content-Type", "text/csv")
        .header("Accept", "application/x-ndjson")
        .body(file)
        .send()
        .await?;
    // The head line carries the summary; the report lines are drained.
    let text = r.text().await?;
    let elapsed = start.elapsed();
    let head: serde_json::Value = serde_json::from_str(text.lines().next().unwrap_or_default())?;
    Ok(Bulk {
        rows_per_s: n as f64 / elapsed.as_secs_f64(),
        rss_mb: vm_hwm_mb(g.child.id()),
        rss_before_mb,
        summary: head["summary"].clone(),
    })
}

/// SOAP V2 calls, one LP each, 16 connections; returns LPs/s.
async fn soap(g: &Gateway, calls: usize) -> BenchResult<f64> {
    let url = format!(
        "{}/apo-commun-servicesMetiers/services/LaissezPasserMetier",
        g.base
    );
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (url, token, next) = (url.clone(), g.token.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= calls {
                    return Ok::<(), String>(());
                }
                let (s, v) = (i / VETS, i % VETS);
                let body = format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><ns2:mettreAJourLaissezPasserWS_V2 xmlns:ns2="gouv.education.apogee.commun.servicesmetiers.LaissezPasserMetier"><typLpa>REINS</typLpa><codAnu>2026</codAnu><codEtu>{}</codEtu><codEtp>{}</codEtp><codVrsVet>1</codVrsVet><codRgi>1</codRgi><libCmtLpa>soap {i}</libCmtLpa></ns2:mettreAJourLaissezPasserWS_V2></S:Body></S:Envelope>"#,
                    FIRST_ETU + s,
                    etp(v)
                );
                let r = http
                    .post(&url)
                    .basic_auth("admin", Some(&token))
                    .header("Content-Type", "text/xml; charset=utf-8")
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if r.status() != 200 {
                    return Err(format!("call {i}: {}", r.text().await.unwrap_or_default()));
                }
                let _ = r.bytes().await;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(calls as f64 / start.elapsed().as_secs_f64())
}

/// Students (not timed), then N LPs upserted with prepared multi-row statements in one
/// transaction: the raw SQLite baseline.
fn raw_sqlite(url: &str, n: usize) -> BenchResult<f64> {
    use apogee_db::schema_lp::{etudiant as et, lp_etudiant as le};
    use diesel::prelude::*;
    use diesel::upsert::excluded;
    let db = apogee_db::testing::migrated(url)?;
    let now = chrono::Utc::now().naive_utc();
    let date = chrono::NaiveDate::from_ymd_opt(2004, 1, 1).ok_or("date")?;
    let students = n.div_ceil(VETS);
    db.write_blocking(|c| -> Result<(), DbError> {
        apogee_db::with_backend!(c, |c| {
            for part in (0..students).collect::<Vec<_>>().chunks(1000) {
                let rows: Vec<_> = part
                    .iter()
                    .map(|s| {
                        (
                            et::cod_ind.eq(*s as i64 + 1),
                            et::cod_etu.eq((FIRST_ETU + s) as i64),
                            et::lib_nom_pat_ind.eq("NOM"),
                            et::lib_pr1_ind.eq("PRENOM"),
                            et::date_nai_ind.eq(date),
                            et::match_key.eq(format!("K{s}")),
                            et::created_at.eq(now),
                            et::updated_at.eq(now),
                        )
                    })
                    .collect();
                diesel::insert_into(et::table).values(rows).execute(c)?;
            }
            Ok(())
        })
    })?;
    let start = Instant::now();
    db.write_blocking(|c| -> Result<(), DbError> {
        apogee_db::with_backend!(c, |c| {
            for part in (0..n).collect::<Vec<_>>().chunks(500) {
                let rows: Vec<_> = part
                    .iter()
                    .map(|i| {
                        (
                            le::cod_ind.eq((i / VETS) as i64 + 1),
                            le::cod_anu.eq("2026"),
                            le::cod_etp.eq(etp(i % VETS)),
                            le::cod_vrs_vet.eq(1),
                            le::cod_rgi.eq(Some("1")),
                            le::lib_cmt_lpa.eq(Some(format!("lot {i}"))),
                            le::dat_cre_lpa.eq(now),
                            le::cod_uti_cre_lpa.eq(Some("admin")),
                            le::last_trace_id.eq(Some("raw")),
                        )
                    })
                    .collect();
                diesel::insert_into(le::table)
                    .values(rows)
                    .on_conflict((le::cod_ind, le::cod_anu, le::cod_etp, le::cod_vrs_vet))
                    .do_update()
                    .set((
                        le::cod_rgi.eq(excluded(le::cod_rgi)),
                        le::lib_cmt_lpa.eq(excluded(le::lib_cmt_lpa)),
                        le::last_trace_id.eq(excluded(le::last_trace_id)),
                    ))
                    .execute(c)?;
            }
            Ok(())
        })
    })?;
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Students (not timed), then `COPY lp_etudiant FROM STDIN` through psql: the raw PostgreSQL
/// baseline.
fn raw_copy(url: &str, n: usize) -> BenchResult<f64> {
    let _db = apogee_db::testing::migrated(url)?;
    let students = n.div_ceil(VETS);
    let psql = |sql: &str, input: Option<&[u8]>| -> BenchResult<()> {
        let mut child = Command::new("psql")
            .args([url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        if let (Some(data), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin.write_all(data)?;
        }
        let status = child.wait()?;
        if !status.success() {
            return Err(format!("psql failed: {sql}").into());
        }
        Ok(())
    };
    psql(
        &format!(
            "INSERT INTO etudiant (cod_ind, cod_etu, lib_nom_pat_ind, lib_pr1_ind, date_nai_ind, match_key, created_at, updated_at) \
             SELECT g, {FIRST_ETU} + g - 1, 'NOM', 'PRENOM', DATE '2004-01-01', 'K' || g, now(), now() FROM generate_series(1, {students}) g"
        ),
        None,
    )?;
    let mut data = Vec::with_capacity(n * 64);
    for i in 0..n {
        writeln!(
            data,
            "{},2026,{},1,1,lot {i},2026-11-23 00:00:00,admin,raw",
            i / VETS + 1,
            etp(i % VETS)
        )?;
    }
    let start = Instant::now();
    psql(
        "\\copy lp_etudiant (cod_ind, cod_anu, cod_etp, cod_vrs_vet, cod_rgi, lib_cmt_lpa, dat_cre_lpa, cod_uti_cre_lpa, last_trace_id) FROM STDIN WITH (FORMAT csv)",
        Some(&data),
    )?;
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// The SOAP baseline: `calls` single-row durable upsert transactions of `lp_etudiant` (the
/// keys the bulk load stored), over 16 connections of 16 threads, on the raw database `url`
/// (students and LPs already there): what one LP per call costs the database alone.
fn raw_single(url: &str, calls: usize) -> BenchResult<f64> {
    use apogee_db::schema_lp::lp_etudiant as le;
    use diesel::prelude::*;
    use diesel::upsert::excluded;
    let db = apogee_db::Db::connect(
        url,
        apogee_db::PoolOptions {
            max_size: 16,
            ..apogee_db::PoolOptions::default()
        },
        // 16 writers queue on SQLite's lock, whose waiting is not fair: a long timeout, so
        // that the baseline measures throughput, not who starves.
        apogee_db::SqliteOptions {
            busy_timeout_ms: 120_000,
            ..apogee_db::SqliteOptions::default()
        },
    )?;
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let now = chrono::Utc::now().naive_utc();
    let start = Instant::now();
    let threads: Vec<_> = (0..16)
        .map(|_| {
            let (db, next) = (db.clone(), next.clone());
            std::thread::spawn(move || -> Result<(), String> {
                let mut conn = db.conn().map_err(|e| e.to_string())?;
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= calls {
                        return Ok(());
                    }
                    let row = (
                        le::cod_ind.eq((i / VETS) as i64 + 1),
                        le::cod_anu.eq("2026"),
                        le::cod_etp.eq(etp(i % VETS)),
                        le::cod_vrs_vet.eq(1),
                        le::cod_rgi.eq(Some("1")),
                        le::lib_cmt_lpa.eq(Some(format!("soap {i}"))),
                        le::dat_cre_lpa.eq(now),
                        le::cod_uti_cre_lpa.eq(Some("admin")),
                        le::last_trace_id.eq(Some("raw")),
                    );
                    macro_rules! upsert {
                        ($c:expr) => {
                            diesel::insert_into(le::table)
                                .values(row.clone())
                                .on_conflict((
                                    le::cod_ind,
                                    le::cod_anu,
                                    le::cod_etp,
                                    le::cod_vrs_vet,
                                ))
                                .do_update()
                                .set((
                                    le::lib_cmt_lpa.eq(excluded(le::lib_cmt_lpa)),
                                    le::dat_mod_lpa.eq(Some(now)),
                                    le::last_trace_id.eq(excluded(le::last_trace_id)),
                                ))
                                .execute($c)
                        };
                    }
                    let done = match &mut *conn {
                        apogee_db::AnyConnection::Sqlite(c) => {
                            c.immediate_transaction(|c| upsert!(c))
                        }
                        apogee_db::AnyConnection::Postgresql(c) => c.transaction(|c| upsert!(c)),
                    };
                    done.map_err(|e| e.to_string())?;
                }
            })
        })
        .collect();
    for t in threads {
        t.join().map_err(|_| "thread panicked")??;
    }
    Ok(calls as f64 / start.elapsed().as_secs_f64())
}

fn main() -> BenchResult<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(1_000_000);
    let soap_calls = args.get(1).copied().unwrap_or(20_000);
    let students = n.div_ceil(VETS).max(soap_calls.div_ceil(VETS));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(3600))
        .build()?;
    println!("N = {n} LP rows ({students} students x {VETS} VETs), {soap_calls} SOAP calls");

    // SQLite.
    let raw_dir = tempfile::tempdir()?;
    let raw = raw_sqlite(&TestDatabase::sqlite(raw_dir.path()).url, n)?;
    println!("raw SQLite multi-row upsert, one transaction: {raw:.0} rows/s");
    let dir = tempfile::tempdir()?;
    let sqlite_db = TestDatabase::sqlite(dir.path());
    let url = sqlite_db.url.clone();
    let g = start(dir.path(), &url, &[])?;
    rt.block_on(prepare(&http, &g, students))?;
    let b = rt.block_on(bulk(&http, &g, lp_file(n), n, "partial"))?;
    println!(
        "gateway bulk, SQLite: {:.0} rows/s (x{:.2} raw upsert), peak RSS {:.1} MB (at the start {:.1} MB); {}",
        b.rows_per_s,
        b.rows_per_s / raw,
        b.rss_mb,
        b.rss_before_mb,
        b.summary
    );
    let s = rt.block_on(soap(&g, soap_calls))?;
    let single = raw_single(&TestDatabase::sqlite(raw_dir.path()).url, soap_calls)?;
    println!(
        "SOAP mettreAJourLaissezPasserWS_V2, 16 connections, SQLite: {s:.0} LP/s; raw single-row upsert transactions, 16 connections: {single:.0}/s (x{:.2})",
        s / single
    );
    drop(g);
    // The same file in atomic mode, on a fresh database.
    let atomic_dir = tempfile::tempdir()?;
    let atomic_db = TestDatabase::sqlite(atomic_dir.path());
    let g = start(atomic_dir.path(), &atomic_db.url, &[])?;
    rt.block_on(prepare(&http, &g, students))?;
    let b = rt.block_on(bulk(&http, &g, lp_file(n), n, "atomic"))?;
    println!(
        "gateway bulk, SQLite, atomic mode: {:.0} rows/s (x{:.2} raw upsert), peak RSS {:.1} MB (at the start {:.1} MB); {}",
        b.rows_per_s,
        b.rows_per_s / raw,
        b.rss_mb,
        b.rss_before_mb,
        b.summary
    );
    drop(g);

    // PostgreSQL.
    match (TestDatabase::postgres(), TestDatabase::postgres()) {
        (Some(raw_db), Some(db)) => {
            let copy = raw_copy(&raw_db.url, n)?;
            println!("raw PostgreSQL COPY: {copy:.0} rows/s");
            let dir = tempfile::tempdir()?;
            let g = start(dir.path(), &db.url, &[])?;
            rt.block_on(prepare(&http, &g, students))?;
            let b = rt.block_on(bulk(&http, &g, lp_file(n), n, "partial"))?;
            println!(
                "gateway bulk, PostgreSQL: {:.0} rows/s (x{:.2} COPY), peak RSS {:.1} MB (at the start {:.1} MB); {}",
                b.rows_per_s,
                b.rows_per_s / copy,
                b.rss_mb,
                b.rss_before_mb,
                b.summary
            );
            let s = rt.block_on(soap(&g, soap_calls))?;
            let single = raw_single(&raw_db.url, soap_calls)?;
            println!(
                "SOAP mettreAJourLaissezPasserWS_V2, 16 connections, PostgreSQL: {s:.0} LP/s; raw single-row upsert transactions, 16 connections: {single:.0}/s (x{:.2})",
                s / single
            );
        }
        _ => println!("PostgreSQL unavailable: skipped"),
    }
    Ok(())
}
