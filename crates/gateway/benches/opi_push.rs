//! OPI v10 pushes over SOAP at 32 connections on SQLite, next to the raw single-row upsert
//! transaction rate of the same database (SOAP decoding alone: `apogee-soap`'s `decode` bench).
//! `cargo bench -p apogee-gateway --bench opi_push [-- N [STORED]]` (N pushes, default 4000,
//! after STORED OPIs already in the database, default 0: the scale curve runs 1k, 10k, 100k).

mod common;

use apogee_db::DbError;
use apogee_db::testing::TestDatabase;
use apogee_gateway::Settings;
use common::{bea, letters, percentile_ms};
use std::sync::Arc;
use std::time::Instant;

const TEMPLATE: &str =
    include_str!("../../soap/tests/examples/captured/jaxws-mettreajourDonneesOpi_v10-create.xml");
fn envelope(i: usize) -> String {
    let ine = bea(1_000_000_000u64 + i as u64);
    TEMPLATE
        .replace("JVMWT75DRZ", &format!("BN{i:08}"))
        .replace("3211354385T", &ine)
        .replace("LEGRAND-MSPYC", &format!("LEGRAND-{}", letters(i)))
}

fn raw_upserts(url: &str, n: usize) -> Result<f64, DbError> {
    use diesel::RunQueryDsl;
    let db = apogee_db::testing::migrated(url)?;
    let start = Instant::now();
    for i in 0..n {
        db.write_blocking(|c| {
            apogee_db::with_backend!(c, |c| diesel::sql_query(
                "INSERT INTO opi_individu (cod_opi_int_epo, cod_opi_int_epo_upper, lib_nom_pat_ind_opi, lib_pr1_ind_opi, date_nai_ind_opi, match_key, donnees, created_at, updated_at) \
                 VALUES ($1, $1, 'NOM', 'PRENOM', '2005-03-14', $2, '{}', '2026-01-01 00:00:00', '2026-01-01 00:00:00') \
                 ON CONFLICT (cod_opi_int_epo_upper) DO UPDATE SET updated_at = excluded.updated_at, donnees = excluded.donnees"
            )
            .bind::<diesel::sql_types::Text, _>(format!("RW{i:08}"))
            .bind::<diesel::sql_types::Text, _>(format!("NOM|PRENOM|{i}"))
            .execute(c))
            .map_err(DbError::from)
        })?;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// `stored` OPIs in the gateway's database before it starts (distinct codes, BEA INEs and
/// identities, as a campaign leaves them), by one SQL statement.
fn prestore(url: &str, stored: usize) -> Result<(), DbError> {
    use diesel::RunQueryDsl;
    if stored == 0 {
        return Ok(());
    }
    let db = apogee_db::testing::migrated(url)?;
    let sql = format!(
        "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {stored}) \
         INSERT INTO opi_individu (cod_opi_int_epo, cod_opi_int_epo_upper, ine, ine_family, ine_check, lib_nom_pat_ind_opi, lib_pr1_ind_opi, date_nai_ind_opi, match_key, donnees, created_at, updated_at) \
         SELECT 'ST' || printf('%08d', i), 'ST' || printf('%08d', i), \
                printf('%010d', 3000000000 + i) || substr('ABCDEFGHJKLMNPRSTUVWXYZ', ((3000000000 + i) % 23) + 1, 1), 'BEA', 'ok', \
                'STORED' || i, 'PRENOM', '2005-03-14', 'STORED' || i || '|PRENOM|2005-03-14', '{{}}', \
                '2026-01-01 00:00:00', '2026-01-01 00:00:00' FROM g"
    );
    db.write_blocking(|c| {
        apogee_db::with_backend!(c, |c| diesel::sql_query(&sql).execute(c)).map_err(DbError::from)
    })?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let n = args.first().copied().unwrap_or(4000);
    let stored = args.get(1).copied().unwrap_or(0);
    let dir = tempfile::tempdir()?;

    let raw_dir = tempfile::tempdir()?;
    let raw_rate = raw_upserts(&TestDatabase::sqlite(raw_dir.path()).url, 2000)?;

    let db = TestDatabase::sqlite(dir.path());
    prestore(&db.url, stored)?;
    let settings = Settings {
        bind: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        database_url: Some(db.url.clone()),
        ..Settings::default()
    };
    let port = apogee_gateway::startup::spawn_in_thread(settings)?.port;
    let token = std::fs::read_to_string(dir.path().join("admin.token"))?
        .trim()
        .to_owned();
    let url = format!("http://127.0.0.1:{port}/apo-commun-servicesMetiers/services/OpiMetier");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (elapsed, mut latencies) = rt.block_on(async {
        let envelopes: Arc<Vec<String>> = Arc::new((0..n).map(envelope).collect());
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let (envelopes, next, url, token) =
                (envelopes.clone(), next.clone(), url.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut lat = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= envelopes.len() {
                        break;
                    }
                    let t = Instant::now();
                    let res = client
                        .post(&url)
                        .basic_auth("admin", Some(&token))
                        .header("Content-Type", "text/xml; charset=utf-8")
                        .body(envelopes[i].clone())
                        .send()
                        .await;
                    match res {
                        Ok(r) if r.status() == 200 => {
                            let _ = r.bytes().await;
                        }
                        Ok(r) => panic!(
                            "push {i}: HTTP {} {}",
                            r.status(),
                            r.text().await.unwrap_or_default()
                        ),
                        Err(e) => panic!("push {i}: {e}"),
                    }
                    lat.push(t.elapsed());
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            if let Ok(l) = t.await {
                all.extend(l);
            }
        }
        (start.elapsed(), all)
    });
    latencies.sort();
    let rate = latencies.len() as f64 / elapsed.as_secs_f64();
    println!("raw single-row upsert transactions (SQLite, synchronous=FULL): {raw_rate:.0}/s");
    println!(
        "OPI v10 SOAP pushes, 2 vœux, 32 connections, {stored} OPIs stored before: {} pushes in {:.2} s = {rate:.0}/s (x{:.2} raw); p50 {:.2} ms, p99 {:.2} ms",
        latencies.len(),
        elapsed.as_secs_f64(),
        rate / raw_rate,
        percentile_ms(&latencies, 0.50),
        percentile_ms(&latencies, 0.99)
    );
    Ok(())
}
