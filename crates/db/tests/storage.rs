//! Storage tests on both backends: migrations, schema equality, demo seed, referential upserts,
//! journal and the group-commit writer.

use apogee_db::repo::{journal, referential};
use apogee_db::testing::TestDatabase;
use apogee_db::{AnyConnection, Db, DbError, migrations};
use diesel::RunQueryDsl;
use diesel::sql_types::Text;
use std::collections::BTreeMap;

type TestResult = Result<(), Box<dyn std::error::Error>>;

use apogee_db::testing::migrated as open;

#[derive(diesel::QueryableByName, Debug)]
struct Col {
    #[diesel(sql_type = Text)]
    t: String,
    #[diesel(sql_type = Text)]
    c: String,
    #[diesel(sql_type = Text)]
    ty: String,
    #[diesel(sql_type = Text)]
    nn: String,
}

/// table -> column -> (normalised type, not null)
type Columns = BTreeMap<String, BTreeMap<String, (String, bool)>>;

fn columns(conn: &mut AnyConnection) -> Result<Columns, DbError> {
    let rows: Vec<Col> = match conn {
        AnyConnection::Sqlite(c) => diesel::sql_query(
            "SELECT m.name AS t, p.name AS c, upper(p.type) AS ty, CASE WHEN p.\"notnull\" = 1 OR p.pk > 0 THEN 'Y' ELSE 'N' END AS nn \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'",
        )
        .load(c)?,
        AnyConnection::Postgresql(c) => diesel::sql_query(
            "SELECT table_name::text AS t, column_name::text AS c, \
             upper(CASE WHEN data_type = 'character varying' THEN 'VARCHAR(' || character_maximum_length || ')' ELSE data_type END) AS ty, \
             CASE WHEN is_nullable = 'NO' THEN 'Y' ELSE 'N' END AS nn \
             FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> '__diesel_schema_migrations'",
        )
        .load(c)?,
    };
    let mut out: Columns = BTreeMap::new();
    for r in rows {
        let ty = match r.ty.as_str() {
            "INTEGER" | "BIGINT" | "SMALLINT" => "INTEGER".to_owned(),
            "TIMESTAMP WITHOUT TIME ZONE" | "TIMESTAMP" => "TIMESTAMP".to_owned(),
            other => other.to_owned(),
        };
        out.entry(r.t).or_default().insert(r.c, (ty, r.nn == "Y"));
    }
    Ok(out)
}

#[test]
fn both_backends_end_with_the_same_schema() -> TestResult {
    let Some(pg) = TestDatabase::postgres() else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let sqlite = TestDatabase::sqlite(dir.path());
    let a = columns(&mut *open(&sqlite.url)?.conn()?)?;
    let b = columns(&mut *open(&pg.url)?.conn()?)?;
    assert!(a.len() >= 30, "{} tables", a.len());
    assert_eq!(a, b);
    Ok(())
}

#[test]
fn referential_tables_match_their_definitions() -> TestResult {
    let dir = tempfile::tempdir()?;
    let db = open(&TestDatabase::sqlite(dir.path()).url)?;
    let cols = columns(&mut *db.conn()?)?;
    for t in apogee_domain::referential::TABLES {
        let stored = cols.get(t.db_table).ok_or(t.db_table)?;
        for c in t.columns {
            let name = apogee_domain::text::snake_case(c.name);
            let (_, not_null) = stored.get(&name).ok_or(format!("{}.{name}", t.db_table))?;
            assert_eq!(*not_null, c.required, "{}.{name}", t.db_table);
        }
        assert_eq!(stored.len(), t.columns.len() + 4, "{}", t.db_table);
    }
    Ok(())
}

fn each_backend(test: impl Fn(&Db) -> TestResult) -> TestResult {
    let dir = tempfile::tempdir()?;
    apogee_db::testing::each_backend(dir.path(), test)
}

#[test]
fn migrations_go_down_and_up_again() -> TestResult {
    each_backend(|db| {
        let mut conn = db.conn()?;
        migrations::revert_all(&mut conn)?;
        assert!(!migrations::run_pending(&mut conn)?.is_empty());
        Ok(())
    })
}

#[test]
fn schema_rs_matches_the_databases() -> TestResult {
    use apogee_db::schema::*;
    use diesel::QueryDsl;
    each_backend(|db| {
        let mut conn = db.conn()?;
        gateway_meta::table.limit(0).execute(&mut conn)?;
        api_client::table.limit(0).execute(&mut conn)?;
        call_journal::table.limit(0).execute(&mut conn)?;
        apogee_db::schema_pj::opi_pj::table
            .limit(0)
            .execute(&mut conn)?;
        apogee_db::schema_pj::telem_iaa_tpj::table
            .limit(0)
            .execute(&mut conn)?;
        Ok(())
    })
}

fn actor() -> referential::Actor<'static> {
    referential::Actor {
        client: Some("test"),
        trace_id: "t1",
        now: chrono::Utc::now().naive_utc(),
    }
}

#[test]
fn demo_referential_seeds_and_reseeds_idempotently() -> TestResult {
    each_backend(|db| {
        let first = db.write_blocking(|c| apogee_db::demo::seed(c, actor()))?;
        assert!(first.created > 200, "{first:?}");
        let again = db.write_blocking(|c| apogee_db::demo::seed(c, actor()))?;
        assert_eq!((again.created, again.updated), (0, 0));
        assert_eq!(again.unchanged, first.created);
        let mut conn = db.conn()?;
        let snapshot =
            apogee_domain::Referential::from_records(1, referential::load_all(&mut conn)?);
        assert_eq!(snapshot.current_year().as_deref(), Some("2026"));
        assert!(snapshot.contains("etapes", &["ETP01"]));
        assert!(snapshot.contains("versions-etape", &["ETP02", "1"]));
        assert!(snapshot.contains("communes-bdi", &["25056", "25000"]));
        assert!(snapshot.contains("departements", &["054"]));
        assert!(snapshot.contains("pays", &["100"]));
        assert!(referential::version(&mut conn)? > 0);
        Ok(())
    })
}

#[test]
fn referential_upsert_reports_created_updated_unchanged() -> TestResult {
    use apogee_domain::referential::{record, table};
    each_backend(|db| {
        let cge = table("centres-gestion").ok_or("cge")?;
        let parse =
            |cells: &[Option<&str>]| record::parse_record(cge, cells).map_err(|e| format!("{e:?}"));
        let a = parse(&[Some("CGX"), Some("X"), None, None, None])?;
        let b = parse(&[Some("CGY"), Some("Y"), None, None, Some("O")])?;
        let counts = db.write_blocking(|c| {
            referential::upsert(c, &[a.clone(), b.clone()], actor()).map_err(DbError::from)
        })?;
        assert_eq!(
            (counts.created, counts.updated, counts.unchanged),
            (2, 0, 0)
        );
        let b2 = parse(&[Some("CGY"), Some("Y2"), Some("y"), None, Some("O")])?;
        let counts = db.write_blocking(|c| {
            referential::upsert(c, &[a.clone(), b2.clone()], actor()).map_err(DbError::from)
        })?;
        assert_eq!(
            (counts.created, counts.updated, counts.unchanged),
            (0, 1, 1)
        );
        let mut conn = db.conn()?;
        let (rows, total) = referential::list(
            &mut conn,
            cge,
            &[(0, apogee_domain::referential::Value::Text("CGY".into()))],
            10,
            0,
        )?;
        assert_eq!(total, 1);
        assert_eq!(rows[0], b2);
        Ok(())
    })
}

fn entry(op: &str, outcome: &str) -> journal::NewJournalEntry {
    journal::NewJournalEntry {
        at: chrono::Utc::now().naive_utc(),
        request_id: ulid::Ulid::new().to_string(),
        client_name: Some("c1".into()),
        channel: "rest".into(),
        operation: op.into(),
        key_kind: Some("table".into()),
        key_value: Some("etapes".into()),
        outcome: outcome.into(),
        http_status: 200,
        fault_key: None,
        message: None,
        warnings: None,
        duration_ms: 3,
    }
}

#[test]
fn journal_insert_search_prune() -> TestResult {
    each_backend(|db| {
        let entries = vec![
            entry("GET a", "ok"),
            entry("GET b", "rejected"),
            entry("GET a", "ok"),
        ];
        db.write_blocking(|c| journal::insert_many(c, &entries).map_err(DbError::from))?;
        let mut conn = db.conn()?;
        let filter = journal::JournalFilter {
            operation: Some("GET a".into()),
            ..Default::default()
        };
        let (rows, total) = journal::search(&mut conn, &filter, 10, 0)?;
        assert_eq!((rows.len(), total), (2, 2));
        let filter = journal::JournalFilter {
            outcome: Some("rejected".into()),
            ..Default::default()
        };
        assert_eq!(journal::search(&mut conn, &filter, 10, 0)?.1, 1);
        let pruned = journal::prune_before(
            &mut conn,
            chrono::Utc::now().naive_utc() + chrono::Duration::seconds(1),
        )?;
        assert_eq!(pruned, 3);
        Ok(())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn group_commit_isolates_failing_writes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let sqlite = TestDatabase::sqlite(dir.path());
    let mut dbs = vec![(open(&sqlite.url)?, None)];
    let pg = TestDatabase::postgres();
    if let Some(pg) = &pg {
        dbs.push((open(&pg.url)?, Some(())));
    }
    for (db, _) in dbs {
        let mut tasks = Vec::new();
        for i in 0..200u32 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                db.write(move |c| -> Result<(), apogee_db::WriteError> {
                    apogee_db::repo::meta::set(c, &format!("k{i}"), "v")?;
                    if i % 10 == 0 {
                        return Err(apogee_domain::Error::internal("refused").into());
                    }
                    Ok(())
                })
                .await
            }));
        }
        let mut ok = 0;
        for t in tasks {
            if t.await?.is_ok() {
                ok += 1;
            }
        }
        assert_eq!(ok, 180);
        let stored = db
            .read(|c| -> Result<Vec<bool>, DbError> {
                (0..200u32)
                    .map(|i| Ok(apogee_db::repo::meta::get(c, &format!("k{i}"))?.is_some()))
                    .collect()
            })
            .await?;
        for (i, present) in stored.iter().enumerate() {
            assert_eq!(*present, i % 10 != 0, "k{i}");
        }
    }
    Ok(())
}
