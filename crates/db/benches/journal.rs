//! What journaling costs per call: one row per transaction (a synchronous journal) against the
//! batched multi-row inserts the gateway's journal writer does. Run:
//! `cargo bench -p apogee-db --bench journal` (SQLite in a temp dir; PostgreSQL too when
//! `APOGEE_TEST_PG_URL` or the default server answers).

use apogee_db::DbError;
use apogee_db::repo::journal::{self, NewJournalEntry};
use apogee_db::testing::TestDatabase;
use std::time::Instant;

fn entry(i: usize) -> NewJournalEntry {
    NewJournalEntry {
        at: chrono::Utc::now().naive_utc(),
        request_id: format!("01BENCH{i:019}"),
        client_name: Some("bench".into()),
        channel: "soap".into(),
        operation: "mettreajourDonneesOpi_v10".into(),
        key_kind: Some("codOpiIntEpo".into()),
        key_value: Some(format!("EC{i:08}")),
        outcome: "ok".into(),
        http_status: 200,
        fault_key: None,
        message: None,
        warnings: None,
        duration_ms: 4,
    }
}

fn run(label: &str, url: &str) -> Result<(), DbError> {
    let db = apogee_db::testing::migrated(url)?;
    let n = 2_000;
    let start = Instant::now();
    for i in 0..n {
        let e = [entry(i)];
        db.write_blocking(|c| journal::insert_many(c, &e).map_err(DbError::from))?;
    }
    let single = start.elapsed().as_secs_f64() / n as f64;
    let n_batched = 50_000;
    let start = Instant::now();
    for chunk in (0..n_batched).collect::<Vec<_>>().chunks(500) {
        let entries: Vec<NewJournalEntry> = chunk.iter().map(|i| entry(*i)).collect();
        db.write_blocking(|c| journal::insert_many(c, &entries).map_err(DbError::from))?;
    }
    let batched = start.elapsed().as_secs_f64() / n_batched as f64;
    println!(
        "{label:<10} one row per transaction: {:>8.1} µs/entry ({:>7.0} entries/s) | batches of 500: {:>6.1} µs/entry ({:>8.0} entries/s) | x{:.0}",
        single * 1e6,
        1.0 / single,
        batched * 1e6,
        1.0 / batched,
        single / batched
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    run("sqlite", &TestDatabase::sqlite(dir.path()).url)?;
    if let Some(pg) = TestDatabase::postgres() {
        run("postgres", &pg.url)?;
    }
    Ok(())
}
