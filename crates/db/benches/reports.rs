//! The reports' storage reads (issue 14): the daily aggregates behind counters, rejects by
//! cause and activity, and the first page of the journal rows behind one cause, with 10,000 and
//! with 1,000,000 journal rows (20 % refused, over 30 days and 5 fault keys). The goal: the
//! time at 1,000,000 within ×2 of the time at 10,000. Run:
//! `cargo bench -p apogee-db --bench reports` (SQLite in a temp dir; PostgreSQL too when it
//! answers).

use apogee_db::DbError;
use apogee_db::repo::journal::{self, NewJournalEntry};
use apogee_db::repo::report::{self, RowFilter};
use apogee_db::testing::TestDatabase;
use std::time::Instant;

const KEYS: [&str; 5] = [
    "technical.parameter.noncoherentinput.codIne",
    "functionnal.bddrules.notfound.boursier",
    "technical.data.nullretrieve.codEtp",
    "technical.parameter.noncoherentinput.codRgi",
    "functionnal.bddrules.doublon.opi",
];

fn entry(i: usize, n: usize, start: chrono::NaiveDateTime) -> NewJournalEntry {
    let refused = i.is_multiple_of(5);
    NewJournalEntry {
        // Spread evenly over 30 days, whatever n.
        at: start + chrono::Duration::seconds((i as u64 * 30 * 86_400 / n as u64) as i64),
        request_id: format!("01BENCH{i:019}"),
        client_name: Some(format!("client{}", i % 4)),
        channel: "soap".into(),
        operation: "mettreajourDonneesOpi_v10".into(),
        key_kind: Some("codOpiIntEpo".into()),
        key_value: Some(format!("EC{i:08}")),
        outcome: if refused { "rejected" } else { "ok" }.into(),
        http_status: if refused { 500 } else { 200 },
        fault_key: refused.then(|| KEYS[(i / 5) % KEYS.len()].to_owned()),
        message: refused.then(|| "refus".to_owned()),
        warnings: None,
        duration_ms: 4,
    }
}

/// Mean time of `f` over `runs` runs, in milliseconds.
fn mean_ms(runs: usize, mut f: impl FnMut() -> Result<usize, DbError>) -> Result<f64, DbError> {
    f()?; // warm
    let start = Instant::now();
    for _ in 0..runs {
        f()?;
    }
    Ok(start.elapsed().as_secs_f64() * 1e3 / runs as f64)
}

fn measure(url: &str, n: usize) -> Result<(f64, f64), DbError> {
    let db = apogee_db::testing::migrated(url)?;
    let start = chrono::NaiveDate::from_ymd_opt(2026, 9, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let entries: Vec<NewJournalEntry> = chunk.iter().map(|i| entry(*i, n, start)).collect();
        db.write_blocking(|c| journal::insert_many(c, &entries).map_err(DbError::from))?;
    }
    let mut conn = db.conn()?;
    if let apogee_db::AnyConnection::Postgresql(c) = &mut *conn {
        // What autovacuum does after such a load.
        use diesel::RunQueryDsl;
        diesel::sql_query("ANALYZE call_journal, call_journal_daily").execute(c)?;
    }
    let daily = mean_ms(50, || Ok(report::daily(&mut conn, None, None, None)?.len()))?;
    let filter = RowFilter {
        pairs: vec![("mettreajourDonneesOpi_v10".into(), KEYS[0].into())],
        ..RowFilter::default()
    };
    let rows = mean_ms(50, || {
        Ok(report::refused_rows(&mut conn, &filter, 50, 0)?.len())
    })?;
    Ok((daily, rows))
}

fn run(label: &str, small: &str, large: &str) -> Result<(), DbError> {
    let (d1, r1) = measure(small, 10_000)?;
    let (d2, r2) = measure(large, 1_000_000)?;
    println!(
        "{label:<10} daily aggregates: {d1:.3} ms (10k) / {d2:.3} ms (1M) = x{:.2} | rows of one cause, first page: {r1:.3} ms / {r2:.3} ms = x{:.2}",
        d2 / d1,
        r2 / r1
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (a, b) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let (small, large) = (
        TestDatabase::sqlite(a.path()),
        TestDatabase::sqlite(b.path()),
    );
    run("sqlite", &small.url, &large.url)?;
    if let (Some(small), Some(large)) = (TestDatabase::postgres(), TestDatabase::postgres()) {
        run("postgres", &small.url, &large.url)?;
    } else {
        println!("PostgreSQL unavailable: skipped");
    }
    Ok(())
}
