//! eCandidat's OPI lookups through the Apogée-compatible schema on 100,000 OPIs (SQL-4: each
//! statement is cancelled after 1 s). Q4 with its three terms (code OR codEtu OR INE split) and
//! Q5 (surname, first name, birth date), as EclipseLink sends them (all 65 columns, typed
//! parameters), against in the same run: a primary-key lookup of `opi_individu` (the floor) and
//! Q4 without the compat indexes (what the view would cost unindexed). PostgreSQL only. Run:
//! `cargo bench -p apogee-db --bench compat_sql`.

use apogee_db::testing::TestDatabase;
use apogee_db::{AnyConnection, DbError};
use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Date, Integer, Text};
use diesel::{QueryableByName, RunQueryDsl};
use std::time::{Duration, Instant};

const OPIS: i64 = 100_000;

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = BigInt)]
    cod_ind_opi: i64,
}

/// Fills `opi_individu` with `OPIS` persons (a BEA INE for two thirds, an INES for the rest, a
/// student number for half) and two vœux each, then `ANALYZE`.
fn fill(conn: &mut AnyConnection) -> Result<(), DbError> {
    conn.batch_execute(&format!(
        "INSERT INTO opi_individu (cod_opi_int_epo, cod_opi_int_epo_upper, cod_etu_opi, ine, ine_family, ine_check,
             lib_nom_pat_ind_opi, lib_nom_usu_ind_opi, lib_pr1_ind_opi, date_nai_ind_opi, match_key, donnees,
             created_at, updated_at)
         SELECT 'EC' || lpad(i::text, 8, '0'), 'EC' || lpad(i::text, 8, '0'),
                CASE WHEN i % 2 = 0 THEN 20000000 + i END,
                CASE WHEN i % 3 = 0 THEN lpad(i::text, 9, '0') || 'AB' ELSE lpad(i::text, 10, '0') || 'M' END,
                CASE WHEN i % 3 = 0 THEN 'INES' ELSE 'BEA' END, 'OK',
                'NOM' || (i % 5000), NULL, 'PRENOM' || (i % 97), DATE '2000-01-01' + (i % 3650),
                'NOM' || i, '{{\"individu\": {{\"codOpiIntEpo\": \"EC' || lpad(i::text, 8, '0') || '\", \"etatCivil\": {{\"codSexEtuOpi\": \"F\"}}, \"donneesNaissance\": {{\"codPayNat\": \"100\", \"temDateNaiRelOpi\": \"N\"}}, \"donneesPersonnelles\": {{\"adrMailOpi\": \"x@example.org\"}}}}}}',
                now(), now()
         FROM generate_series(1, {OPIS}) AS i;
         INSERT INTO opi_voeu (cod_ind_opi, cod_cge, cod_etp, cod_vrs_vet, donnees, created_at, updated_at)
         SELECT cod_ind_opi, 'CG1', e, 1, '{{}}', now(), now()
         FROM opi_individu CROSS JOIN (VALUES ('ETP01'), ('ETP02')) AS v(e);
         ANALYZE opi_individu; ANALYZE opi_voeu;"
    ))?;
    Ok(())
}

const COLUMNS: &str = "COD_IND_OPI, ADR_MAIL_OPI, COD_CLE_NNE_IND_OPI, COD_DAP, COD_DEP_PAY_ANN_PRE_OPI, COD_DEP_PAY_ANT_IAA_OPI, COD_DEP_PAY_DER_DIP, COD_DEP_PAY_NAI, COD_ETB, COD_ETB_ANN_CRT, COD_ETB_ANN_PRE_OPI, COD_ETB_ANT_IAA, COD_ETB_DER_DIP, COD_ETR_OPI, COD_ETU_OPI, COD_FAM, COD_IND, COD_NNE_IND_OPI, COD_OPI_INT_EPO, COD_PAY_NAT, COD_PCS, COD_PCS_AP, COD_PRG_OPI, COD_RGI, COD_SEX_ETU_OPI, COD_SIM, COD_SIS_ANN_PRE_OPI, COD_STU, COD_TDE_DER_DIP, COD_TDS_OPI, COD_THB_OPI, COD_THP_OPI, COD_TPE_ANN_CRT, COD_TPE_ANT_IAA, COD_TYP_DEP_PAY_ANN_PRE_OPI, COD_TYP_DEP_PAY_ANT_IAA_OPI, COD_TYP_DEP_PAY_DER_DIP, COD_TYP_DEP_PAY_NAI, DAA_ENS_SUP_OPI, DAA_ENT_ETB_OPI, DAA_ETB_OPI, DAA_ETR_SUP, DAA_ETB_ANT_IAA_OPI, DAA_ETB_DER_DIP, DAA_LBT_IND_OPI, DMM_LBT_IND_OPI, DATE_NAI_IND_OPI, DUR_EXP_PRO_EPO, LIB_NOM_PAT_IND_OPI, LIB_NOM_USU_IND_OPI, LIB_PR1_IND_OPI, LIB_PR2_IND_OPI, LIB_PR3_IND_OPI, LIB_VIL_NAI_ETU_OPI, NB_ENF_ETU_OPI, NUM_TEL_IND_OPI, NUM_TEL_TEMP_EPO, NUM_TEL_POR_OPI, TEM_DATE_NAI_REL_OPI, TEM_EXP_PRO_EPO, TEM_INT_EPO, TEM_MI_TPS_EPO, TEM_PRL_ANN_CRT, TEM_SNS_PRG_OPI, TEM_TRF_ANN_CRT";

fn q4(conn: &mut AnyConnection, i: i64) -> Result<usize, DbError> {
    // A merged person: another code, its student number, its INE split as eCandidat splits it.
    let ines = i % 3 == 0;
    let (nne, cle) = if ines {
        (format!("{i:09}"), "AB".to_owned())
    } else {
        (format!("{i:010}"), "M".to_owned())
    };
    let rows: Vec<Found> = diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM apogee.ind_opi WHERE (((COD_OPI_INT_EPO = $1) OR (COD_ETU_OPI = $2)) OR ((COD_NNE_IND_OPI = $3) AND (COD_CLE_NNE_IND_OPI = $4)))"
    ))
    .bind::<Text, _>(format!("PS{i:08}"))
    .bind::<Integer, _>(i32::try_from(20_000_000 + i).unwrap_or_default())
    .bind::<Text, _>(nne)
    .bind::<Text, _>(cle)
    .load(conn)?;
    Ok(rows.iter().filter(|r| r.cod_ind_opi > 0).count())
}

fn q5(conn: &mut AnyConnection, i: i64) -> Result<usize, DbError> {
    let date = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
        + chrono::Duration::days(i % 3650);
    let rows: Vec<Found> = diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM apogee.ind_opi WHERE (((LIB_NOM_PAT_IND_OPI = $1) AND (LIB_PR1_IND_OPI = $2)) AND (DATE_NAI_IND_OPI = $3))"
    ))
    .bind::<Text, _>(format!("NOM{}", i % 5000))
    .bind::<Text, _>(format!("PRENOM{}", i % 97))
    .bind::<Date, _>(date)
    .load(conn)?;
    Ok(rows.iter().filter(|r| r.cod_ind_opi > 0).count())
}

fn pk(conn: &mut AnyConnection, i: i64) -> Result<usize, DbError> {
    let rows: Vec<Found> = diesel::sql_query("SELECT * FROM opi_individu WHERE cod_ind_opi = $1")
        .bind::<BigInt, _>(i)
        .load(conn)?;
    Ok(rows.len())
}

/// Runs `f` `n` times over spread ids; returns (median, p99, max) and checks every call found a row.
fn measure(
    conn: &mut AnyConnection,
    n: i64,
    f: fn(&mut AnyConnection, i64) -> Result<usize, DbError>,
) -> Result<(Duration, Duration, Duration), DbError> {
    let mut times = Vec::new();
    for k in 0..n {
        let i = 1 + (k * 7919) % OPIS;
        let start = Instant::now();
        let found = f(conn, i)?;
        times.push(start.elapsed());
        assert!(found >= 1, "id {i}: nothing found");
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q) as usize];
    Ok((at(0.5), at(0.99), at(1.0)))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(pg) = TestDatabase::postgres() else {
        println!("compat_sql bench: no PostgreSQL, nothing measured");
        return Ok(());
    };
    let db = apogee_db::testing::migrated(&pg.url)?;
    let mut conn = db.conn()?;
    let start = Instant::now();
    fill(&mut conn)?;
    println!(
        "filled {OPIS} OPIs + {} vœux in {:.1} s",
        2 * OPIS,
        start.elapsed().as_secs_f64()
    );
    let n = 500;
    let (p50, p99, max) = measure(&mut conn, n, pk)?;
    println!(
        "baseline PK lookup of opi_individu : p50 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms",
        ms(p50),
        ms(p99),
        ms(max)
    );
    let base = p50;
    for (label, f) in [
        (
            "Q4 code OR codEtu OR INE",
            q4 as fn(&mut AnyConnection, i64) -> Result<usize, DbError>,
        ),
        ("Q5 name + first name + birth", q5),
    ] {
        let (p50, p99, max) = measure(&mut conn, n, f)?;
        println!(
            "{label:<35}: p50 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms  (x{:.1} the PK lookup)",
            ms(p50),
            ms(p99),
            ms(max),
            p50.as_secs_f64() / base.as_secs_f64()
        );
    }
    conn.batch_execute(
        "BEGIN; DROP INDEX opi_individu_cod_opi_int_epo; DROP INDEX opi_individu_ine_split; DROP INDEX opi_individu_identity;",
    )?;
    let (p50, p99, max) = measure(&mut conn, 20, q4)?;
    println!(
        "Q4 without the compat indexes       : p50 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms",
        ms(p50),
        ms(p99),
        ms(max)
    );
    let (p50, p99, max) = measure(&mut conn, 20, q5)?;
    println!(
        "Q5 without the compat indexes       : p50 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms",
        ms(p50),
        ms(p99),
        ms(max)
    );
    conn.batch_execute("ROLLBACK;")?;
    Ok(())
}
