//! The student read services and the enrolment batch through the real binary, on SQLite and
//! PostgreSQL: `EtudiantMetier.recupererIdentifiantsEtudiant_v2` by INE and
//! `recupererInfosAdmEtu_v4` by codEtu over 16 connections, with SMALL and then LARGE students
//! stored (calls per second, p50, p99; the time per call at LARGE against SMALL shows whether
//! the lookups stay indexed); then an enrolment batch (`POST /api/v1/inscriptions/batch`, one
//! re-enrolment per row, each decided by the access rules and written in its savepoint) next to
//! the LP bulk load of the same rows (the LP REINS that allow them) in the same run.
//! `cargo bench -p apogee-gateway --bench students [-- SMALL LARGE CALLS ROWS]`
//! (default 1,000, 100,000 students, 8,000 calls per operation and size, 10,000 rows).

mod common;

use apogee_db::testing::TestDatabase;
use common::{BenchResult, Gateway, bea, etp, open_vets, percentile_ms, post_csv, start};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const FIRST_ETU: usize = 50_000_000;
const ETU_NS: &str = "gouv.education.apogee.commun.servicesmetiers.EtudiantMetier";

/// The optional columns of a full student file: sex, second first name, nationality, birth,
/// contacts, first years, bac, fixed and 2025 addresses, and a paid 2025 enrolment in BLK00.
const FILE_HEADER: &str = ",inscriptionsAnnuelles,inscriptionsEtapes,codSexEtu,libPr2Ind,codPayNat,codTypDepPayNai,codDepPayNai,libVilNaiEtu,adrMail,numTelPor,daaEnsSup,daaEntEtb,daaEtb,temBoursier,bac.codBac,bac.daaObtBac,bac.codMnb,adresseFixe.libAd1,adresseFixe.codBdi,adresseFixe.codPay,adresseAnnuelle.codAnu,adresseAnnuelle.libAd1,adresseAnnuelle.codBdi,adresseAnnuelle.codPay";

fn file_cells(s: usize) -> String {
    format!(
        ",2025:E,2025:BLK00:1:E:P,{},MARIE,100,D,054,NANCY,etu{s}@example.org,06{:08},2022,2025,2022,N,S,2022,AB,{} RUE HAUTE,54000,100,2025,CITE U CH {},54000,100",
        if s.is_multiple_of(2) { "F" } else { "M" },
        s % 100_000_000,
        s % 200 + 1,
        s % 900 + 1
    )
}

/// A deterministic spread of student numbers over `0..stored` (a multiplicative walk).
fn pick(i: usize, stored: usize) -> usize {
    (i.wrapping_mul(2_654_435_761)) % stored
}

struct Reads {
    per_s: f64,
    p50: f64,
    p99: f64,
}

/// `calls` SOAP calls of `op` over 16 connections, student `pick(i)` each.
async fn reads(g: &Gateway, op: &'static str, calls: usize, stored: usize) -> BenchResult<Reads> {
    let url = Arc::new(format!(
        "{}/apo-commun-servicesMetiers/services/EtudiantMetier",
        g.base
    ));
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (url, token, next) = (url.clone(), g.token.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= calls {
                    return Ok::<_, String>(lat);
                }
                let s = pick(i, stored);
                let cod_etu = (FIRST_ETU + s).to_string();
                let params = if op == "recupererIdentifiantsEtudiant_v2" {
                    format!(
                        "<_numINE>{}</_numINE><_temoinRecupAnnu>N</_temoinRecupAnnu>",
                        bea(2_000_000_000 + s as u64)
                    )
                } else {
                    format!("<_codEtu>{cod_etu}</_codEtu>")
                };
                let body = format!(
                    r#"<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><ns2:{op} xmlns:ns2="{ETU_NS}">{params}</ns2:{op}></S:Body></S:Envelope>"#
                );
                let t = Instant::now();
                let r = http
                    .post(url.as_str())
                    .basic_auth("admin", Some(&token))
                    .header("Content-Type", "text/xml; charset=utf-8")
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = r.status();
                let text = r.text().await.map_err(|e| e.to_string())?;
                // The answer names the student looked up: no fault, no other student.
                if status != 200 || !text.contains(&cod_etu) {
                    return Err(format!("{op} {i}: {status} {text}"));
                }
                lat.push(t.elapsed());
            }
        }));
    }
    let mut all: Vec<Duration> = Vec::with_capacity(calls);
    for t in tasks {
        all.extend(t.await??);
    }
    let elapsed = start.elapsed();
    all.sort();
    Ok(Reads {
        per_s: calls as f64 / elapsed.as_secs_f64(),
        p50: percentile_ms(&all, 0.50),
        p99: percentile_ms(&all, 0.99),
    })
}

fn lp_file(rows: usize) -> Vec<u8> {
    let mut f = String::from("typLpa,codAnu,codEtu,codEtp,codVrsVet,codRgi\n");
    for s in 0..rows {
        f.push_str(&format!("REINS,2026,{},{},1,1\n", FIRST_ETU + s, etp(1)));
    }
    f.into_bytes()
}

fn enrolment_file(rows: usize) -> Vec<u8> {
    let mut f = String::from("codEtu,codAnu,codEtp,codVrsVet,codRgi\n");
    for s in 0..rows {
        f.push_str(&format!("{},2026,{},1,1\n", FIRST_ETU + s, etp(1)));
    }
    f.into_bytes()
}

/// Rows per second of one CSV batch, checking every row was `expected` (`created`).
async fn batch(
    http: &reqwest::Client,
    g: &Gateway,
    path: &str,
    file: Vec<u8>,
    rows: usize,
) -> BenchResult<f64> {
    let start = Instant::now();
    let r = post_csv(http, g, path, file).await?;
    let elapsed = start.elapsed();
    let created = r["summary"]["created"]
        .as_u64()
        .or_else(|| r["created"].as_u64());
    if created != Some(rows as u64) {
        let summary = if r["summary"].is_null() {
            serde_json::json!({"created": r["created"], "rejected": r["rejected"], "first": r["lines"][0]})
        } else {
            r["summary"].clone()
        };
        return Err(format!("{path}: not every row created: {summary}").into());
    }
    Ok(rows as f64 / elapsed.as_secs_f64())
}

struct Args {
    small: usize,
    large: usize,
    calls: usize,
    rows: usize,
}

fn run(rt: &tokio::runtime::Runtime, backend: &str, url: &str, a: &Args) -> BenchResult<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(3600))
        .build()?;
    let dir = tempfile::tempdir()?;
    // CVEC checks have their own bench: re-enrolment is decided on the LP and the paid year.
    let g = start(
        dir.path(),
        url,
        &[("APOGEE_ENROLMENT__REQUIRE_CVEC", "false")],
    )?;
    rt.block_on(open_vets(&http, &g, 2))?;
    let load = |range: std::ops::Range<usize>| {
        common::load_students(&http, &g, FIRST_ETU, range, (FILE_HEADER, &file_cells))
    };
    let mut per_call = Vec::new();
    for (stored, from) in [(a.small, 0), (a.large, a.small)] {
        let t = Instant::now();
        rt.block_on(load(from..stored))?;
        println!(
            "{backend}: {} students with full files loaded in {:.1} s",
            stored - from,
            t.elapsed().as_secs_f64()
        );
        for op in [
            "recupererIdentifiantsEtudiant_v2",
            "recupererInfosAdmEtu_v4",
        ] {
            let r = rt.block_on(reads(&g, op, a.calls, stored))?;
            println!(
                "{backend}: {op}, {stored} students, 16 connections: {:.0} calls/s, p50 {:.2} ms, p99 {:.2} ms",
                r.per_s, r.p50, r.p99
            );
            per_call.push((op, stored, r.per_s));
        }
    }
    for op in [
        "recupererIdentifiantsEtudiant_v2",
        "recupererInfosAdmEtu_v4",
    ] {
        let rate = |n: usize| {
            per_call
                .iter()
                .find(|(o, s, _)| *o == op && *s == n)
                .map_or(f64::NAN, |r| r.2)
        };
        println!(
            "{backend}: {op}: time per call at {} students / at {} students = x{:.2} (goal <= x1.2)",
            a.large,
            a.small,
            rate(a.small) / rate(a.large)
        );
    }
    let rows = a.rows.min(a.large);
    let lp = rt.block_on(batch(
        &http,
        &g,
        "/api/v1/laissez-passer/batch",
        lp_file(rows),
        rows,
    ))?;
    let ia = rt.block_on(batch(
        &http,
        &g,
        "/api/v1/inscriptions/batch",
        enrolment_file(rows),
        rows,
    ))?;
    println!(
        "{backend}: enrolment batch, {rows} re-enrolments: {ia:.0} rows/s; LP bulk of the same {rows} rows: {lp:.0} rows/s (x{:.2})",
        ia / lp
    );
    Ok(())
}

fn main() -> BenchResult<()> {
    let n: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let a = Args {
        small: n.first().copied().unwrap_or(1_000),
        large: n.get(1).copied().unwrap_or(100_000),
        calls: n.get(2).copied().unwrap_or(8_000),
        rows: n.get(3).copied().unwrap_or(10_000),
    };
    if a.large <= a.small {
        return Err("LARGE must exceed SMALL".into());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    println!(
        "students: {} then {}; {} calls per operation and size; {} enrolment rows",
        a.small, a.large, a.calls, a.rows
    );
    let dir = tempfile::tempdir()?;
    let sqlite = TestDatabase::sqlite(dir.path());
    run(&rt, "SQLite", &sqlite.url, &a)?;
    match TestDatabase::postgres() {
        Some(db) => run(&rt, "PostgreSQL", &db.url, &a)?,
        None => println!("PostgreSQL unavailable (APOGEE_TEST_PG_URL): skipped"),
    }
    Ok(())
}
