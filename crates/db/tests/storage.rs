//! Storage tests on both backends: migrations, schema equality, demo seed, referential upserts,
//! journal and the group-commit writer.

use apogee_db::repo::{journal, referential};
use apogee_db::testing::TestDatabase;
use apogee_db::{AnyConnection, Db, DbError, migrations};
use apogee_db::{schema, schema_cvec, schema_lp, schema_pj};
use diesel::dsl::Select;
use diesel::query_dsl::LoadQuery;
use diesel::query_dsl::methods::SelectDsl;
use diesel::sql_types::{BigInt, Bool, Date, Integer, Nullable, SqlType, Text, Timestamp};
use diesel::{Column, QueryDsl, RunQueryDsl, Table};
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

/// What the schema check needs of a Diesel SQL type: the literal it stores in every column of
/// that type, the value the typed `SELECT` must read back, and the declared types (as
/// [`columns`] normalises them; a trailing `(` matches any length) that may hold it.
trait Probe: SqlType {
    type Value: PartialEq + std::fmt::Debug;
    const LITERAL: &'static str;
    const DECLARED: &'static [&'static str];
    const NOT_NULL: bool = true;
    fn value() -> Self::Value;
}

impl Probe for BigInt {
    type Value = i64;
    const LITERAL: &'static str = "1";
    const DECLARED: &'static [&'static str] = &["INTEGER"];
    fn value() -> i64 {
        1
    }
}

impl Probe for Integer {
    type Value = i32;
    const LITERAL: &'static str = "1";
    const DECLARED: &'static [&'static str] = &["INTEGER"];
    fn value() -> i32 {
        1
    }
}

/// Also `Varchar` (an alias of `Text` in Diesel).
impl Probe for Text {
    type Value = String;
    const LITERAL: &'static str = "'1'";
    const DECLARED: &'static [&'static str] = &["TEXT", "VARCHAR("];
    fn value() -> String {
        "1".to_owned()
    }
}

impl Probe for Bool {
    type Value = bool;
    const LITERAL: &'static str = "TRUE";
    const DECLARED: &'static [&'static str] = &["BOOLEAN"];
    fn value() -> bool {
        true
    }
}

impl Probe for Date {
    type Value = chrono::NaiveDate;
    const LITERAL: &'static str = "'2026-01-02'";
    const DECLARED: &'static [&'static str] = &["DATE"];
    fn value() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap_or_default()
    }
}

impl Probe for Timestamp {
    type Value = chrono::NaiveDateTime;
    const LITERAL: &'static str = "'2026-01-02 03:04:05'";
    const DECLARED: &'static [&'static str] = &["TIMESTAMP"];
    fn value() -> chrono::NaiveDateTime {
        Date::value().and_hms_opt(3, 4, 5).unwrap_or_default()
    }
}

/// A nullable column holds the same non-null value as its base type.
impl<T: Probe> Probe for Nullable<T>
where
    Nullable<T>: SqlType,
{
    type Value = Option<T::Value>;
    const LITERAL: &'static str = T::LITERAL;
    const DECLARED: &'static [&'static str] = T::DECLARED;
    const NOT_NULL: bool = false;
    fn value() -> Self::Value {
        Some(T::value())
    }
}

/// One column as `schema*.rs` declares it.
#[derive(Debug)]
struct ColumnSpec {
    name: &'static str,
    literal: &'static str,
    declared: &'static [&'static str],
    not_null: bool,
}

/// The `all_columns` tuple of a Diesel table: its columns, and whether a row the typed
/// `SELECT` of them returned is the probe row (else the first column that differs).
trait ProbeColumns {
    type Row;
    fn specs() -> Vec<ColumnSpec>;
    fn check_row(row: Self::Row) -> Result<(), String>;
}

macro_rules! probe_columns {
    ($first:ident $(, $rest:ident)*) => {
        impl<$first: Column, $($rest: Column),*> ProbeColumns for ($first, $($rest,)*)
        where
            $first::SqlType: Probe,
            $($rest::SqlType: Probe,)*
        {
            type Row = (
                <$first::SqlType as Probe>::Value,
                $(<$rest::SqlType as Probe>::Value,)*
            );
            fn specs() -> Vec<ColumnSpec> {
                vec![spec::<$first>() $(, spec::<$rest>())*]
            }
            #[allow(non_snake_case)]
            fn check_row(($first, $($rest,)*): Self::Row) -> Result<(), String> {
                check_value::<$first>($first)?;
                $(check_value::<$rest>($rest)?;)*
                Ok(())
            }
        }
        probe_columns!($($rest),*);
    };
    () => {};
}

// Up to 32 columns (Diesel's `32-column-tables`, on by default); the widest table has 23.
probe_columns!(
    C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13, C14, C15, C16, C17, C18, C19, C20, C21,
    C22, C23, C24, C25, C26, C27, C28, C29, C30, C31, C32
);

fn spec<C: Column>() -> ColumnSpec
where
    C::SqlType: Probe,
{
    ColumnSpec {
        name: C::NAME,
        literal: <C::SqlType as Probe>::LITERAL,
        declared: <C::SqlType as Probe>::DECLARED,
        not_null: <C::SqlType as Probe>::NOT_NULL,
    }
}

fn check_value<C: Column>(read: <C::SqlType as Probe>::Value) -> Result<(), String>
where
    C::SqlType: Probe,
{
    let stored = <C::SqlType as Probe>::value();
    if read == stored {
        Ok(())
    } else {
        Err(format!(
            "{}: read back {read:?}, stored {stored:?}",
            C::NAME
        ))
    }
}

/// Checks one Diesel table against the migrated database: the catalog has exactly its columns,
/// each declared with a type that holds its SQL type and the same nullability; a row with a
/// value in every column inserts; and `SELECT` of `all_columns`, read through the schema's SQL
/// types, returns exactly that row.
fn check_table<T>(
    conn: &mut AnyConnection,
    catalog: &Columns,
    name: &str,
    table: T,
) -> Result<(), String>
where
    T: Table + QueryDsl + SelectDsl<<T as Table>::AllColumns>,
    T::AllColumns: ProbeColumns,
    Select<T, T::AllColumns>:
        LoadQuery<'static, AnyConnection, <T::AllColumns as ProbeColumns>::Row>,
{
    let specs = T::AllColumns::specs();
    let stored = catalog.get(name).ok_or("no such table")?;
    let declared: Vec<&str> = specs.iter().map(|c| c.name).collect();
    let found: Vec<&str> = stored.keys().map(String::as_str).collect();
    let mut sorted = declared.clone();
    sorted.sort_unstable();
    if sorted != found {
        return Err(format!("columns: schema {declared:?}, database {found:?}"));
    }
    for c in &specs {
        let (ty, not_null) = &stored[c.name];
        let holds = c
            .declared
            .iter()
            .any(|d| ty == d || (d.ends_with('(') && ty.starts_with(d)));
        if !holds || *not_null != c.not_null {
            return Err(format!(
                "{}: schema {:?} (not null: {}), database {ty} (not null: {not_null})",
                c.name, c.declared, c.not_null
            ));
        }
    }
    let literals: Vec<&str> = specs.iter().map(|c| c.literal).collect();
    diesel::sql_query(format!(
        "INSERT INTO {name} ({}) VALUES ({})",
        declared.join(", "),
        literals.join(", ")
    ))
    .execute(conn)
    .map_err(|e| format!("insert: {e}"))?;
    let mut rows = QueryDsl::select(table, T::all_columns())
        .load::<<T::AllColumns as ProbeColumns>::Row>(conn)
        .map_err(|e| format!("select: {e}"))?;
    match (rows.pop(), rows.is_empty()) {
        (Some(row), true) => T::AllColumns::check_row(row),
        _ => Err(format!("select: {} rows instead of 1", rows.len() + 1)),
    }
}

/// Runs [`check_table`] on each table, in order (parents before the tables referencing them),
/// with the name of the table; a panic while reading a row fails that table.
macro_rules! check_tables {
    ($conn:expr, $catalog:expr, $($module:ident :: $table:ident),+ $(,)?) => {
        vec![$((
            stringify!($table),
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                check_table($conn, $catalog, stringify!($table), $module::$table::table)
            }))
            .unwrap_or_else(|_| Err("panicked".to_owned())),
        )),+]
    };
}

/// Every Diesel table of `schema*.rs`, checked by [`check_table`] on this database; returns how
/// many were checked and the failures, each with its table.
fn check_schema(db: &Db) -> Result<(usize, Vec<String>), DbError> {
    let mut conn = db.conn()?;
    let catalog = columns(&mut conn)?;
    let conn = &mut *conn;
    let results = check_tables!(
        conn,
        &catalog,
        schema::gateway_meta,
        schema::api_client,
        schema::call_journal,
        schema::opi_individu,
        schema::opi_code_alias,
        schema::opi_voeu,
        schema::idempotency,
        schema_lp::etudiant,
        schema_lp::inscription_annuelle,
        schema_lp::inscription_etape,
        schema_lp::blocage,
        schema_lp::lp_etudiant,
        schema_lp::lp_opi,
        schema_lp::lp_import,
        schema_lp::lp_import_report,
        schema_pj::opi_pj,
        schema_pj::telem_iaa_tpj,
        schema_cvec::cvec_attestation,
        schema_cvec::cvec_check,
    );
    let failures = results
        .iter()
        .filter_map(|(table, r)| r.as_ref().err().map(|e| format!("{table}: {e}")))
        .collect();
    Ok((results.len(), failures))
}

/// The number of `diesel::table!` in the schema modules: a table added there and not to
/// [`check_schema`] fails the test.
fn declared_tables() -> usize {
    [
        include_str!("../src/schema.rs"),
        include_str!("../src/schema_lp.rs"),
        include_str!("../src/schema_pj.rs"),
        include_str!("../src/schema_cvec.rs"),
    ]
    .iter()
    .map(|s| s.matches("diesel::table!").count())
    .sum()
}

#[test]
fn schema_rs_matches_the_databases() -> TestResult {
    let tables = declared_tables();
    assert_eq!(tables, 19);
    let backends = std::cell::RefCell::new(Vec::new());
    each_backend(|db| {
        let (checked, failures) = check_schema(db)?;
        let backend = db.backend().as_str();
        assert!(failures.is_empty(), "{backend}: {failures:#?}");
        assert_eq!(checked, tables, "{backend}");
        backends.borrow_mut().push(backend);
        Ok(())
    })?;
    let mut expected = vec!["sqlite"];
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        expected.push("postgres");
    }
    let backends = backends.into_inner();
    assert!(backends.starts_with(&expected), "{backends:?}");
    Ok(())
}

/// The schema check fails on a database that differs from `schema*.rs`, naming the table (and
/// the column) and nothing else: a renamed column, a column of another type (both backends), and
/// on PostgreSQL an `INTEGER` column the schema reads as `BigInt` (the catalog check normalises
/// both to `INTEGER`: the typed `SELECT` catches it).
#[test]
fn schema_check_reports_a_differing_column() -> TestResult {
    use diesel::connection::SimpleConnection;
    let cases = [
        (
            false,
            "ALTER TABLE gateway_meta RENAME COLUMN meta_value TO meta_valeur",
            "gateway_meta: columns: ",
        ),
        (
            false,
            "DROP TABLE lp_import_report; CREATE TABLE lp_import_report (import_id VARCHAR(26) NOT NULL, \
             seq VARCHAR(10) NOT NULL, first_line INTEGER NOT NULL, last_line INTEGER NOT NULL, \
             lines TEXT NOT NULL, PRIMARY KEY (import_id, seq))",
            "lp_import_report: seq: ",
        ),
        (
            true,
            "ALTER TABLE lp_import_report ALTER COLUMN seq TYPE INTEGER",
            "lp_import_report: select: ",
        ),
    ];
    for (postgres_only, sql, expected) in cases {
        each_backend(|db| {
            if postgres_only && db.backend() != apogee_db::Backend::Postgres {
                return Ok(());
            }
            db.conn()?.batch_execute(sql).map_err(DbError::from)?;
            let (checked, failures) = check_schema(db)?;
            assert_eq!(checked, declared_tables());
            assert!(
                failures.len() == 1 && failures[0].starts_with(expected),
                "{:?}, {sql}: {failures:#?}",
                db.backend()
            );
            Ok(())
        })?;
    }
    Ok(())
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
