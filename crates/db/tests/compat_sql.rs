//! The Apogée-compatible schema (`apogee`, `pkb_bac`; PostgreSQL only, migration
//! `2026-12-02-000010_apogee_compat`) against `apogee-sql-compat.md`: every column eCandidat
//! maps exists with a readable type, témoins are never boolean nor NULL, labels are never NULL,
//! the bac check gives the verdict of the Rust rule, the lookups are indexed. The end-to-end
//! replay of eCandidat's queries (after real pushes, as the granted role, and through JDBC) is in
//! `crates/gateway/tests/api/compat_sql.rs`.

use apogee_db::repo::referential;
use apogee_db::testing::TestDatabase;
use apogee_db::{AnyConnection, Db};
use apogee_domain::Referential;
use apogee_domain::opi::bac::{BacChoices, check};
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};
use std::collections::BTreeMap;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Every view and the columns eCandidat's entities map (§2.1, §2.2, Q1–Q5, N1–N3), with the
/// type class each must have: `v` varchar, `n` a number (bigint/integer/numeric), `d` date.
/// A view may carry more columns; none of these may go missing or change class.
const SHEET: &[(&str, &str)] = &[
    (
        "ind_opi",
        "cod_ind_opi:n adr_mail_opi:v cod_cle_nne_ind_opi:v cod_dap:v cod_dep_pay_ann_pre_opi:v \
         cod_dep_pay_ant_iaa_opi:v cod_dep_pay_der_dip:v cod_dep_pay_nai:v cod_etb:v cod_etb_ann_crt:v \
         cod_etb_ann_pre_opi:v cod_etb_ant_iaa:v cod_etb_der_dip:v cod_etr_opi:v cod_etu_opi:n cod_fam:v \
         cod_ind:n cod_nne_ind_opi:v cod_opi_int_epo:v cod_pay_nat:v cod_pcs:v cod_pcs_ap:v cod_prg_opi:v \
         cod_rgi:v cod_sex_etu_opi:v cod_sim:v cod_sis_ann_pre_opi:v cod_stu:v cod_tde_der_dip:v \
         cod_tds_opi:v cod_thb_opi:v cod_thp_opi:v cod_tpe_ann_crt:v cod_tpe_ant_iaa:v \
         cod_typ_dep_pay_ann_pre_opi:v cod_typ_dep_pay_ant_iaa_opi:v cod_typ_dep_pay_der_dip:v \
         cod_typ_dep_pay_nai:v daa_ens_sup_opi:v daa_ent_etb_opi:v daa_etb_opi:v daa_etr_sup:v \
         daa_etb_ant_iaa_opi:v daa_etb_der_dip:v daa_lbt_ind_opi:v dmm_lbt_ind_opi:v date_nai_ind_opi:d \
         dur_exp_pro_epo:n lib_nom_pat_ind_opi:v lib_nom_usu_ind_opi:v lib_pr1_ind_opi:v lib_pr2_ind_opi:v \
         lib_pr3_ind_opi:v lib_vil_nai_etu_opi:v nb_enf_etu_opi:n num_tel_ind_opi:v num_tel_temp_epo:v \
         num_tel_por_opi:v tem_date_nai_rel_opi:v tem_exp_pro_epo:v tem_int_epo:v tem_mi_tps_epo:n \
         tem_prl_ann_crt:v tem_sns_prg_opi:v tem_trf_ann_crt:v",
    ),
    (
        "voeux_ins",
        "cod_ind_opi:n cod_cge:v cod_etp:v cod_vrs_vet:n",
    ),
    (
        "opi_pj",
        "cod_ind_opi:n cod_tpj:v cod_opi_int_epo:v nom_fic:v cod_etu:n",
    ),
    ("annee_uni", "cod_anu:v eta_anu_iae:v lib_anu:v lic_anu:v"),
    (
        "bac_oux_equ",
        "cod_bac:v ann_ctrl_ine:v daa_deb_vld_bac:v daa_fin_vld_bac:v lib_bac:v lic_bac:v \
         tem_ctrl_ine:v tem_en_sve_bac:v tem_nat_bac:v",
    ),
    ("bac_regroupe_opt_bac", "cod_bac:v cod_opt_bac:v"),
    ("bac_regroupe_spe_bac", "cod_bac:v cod_spe_bac:v"),
    (
        "cat_exo_ext",
        "cod_cat_exo_ext:v cod_sis_cat_exo_ext:v lib_cat_exo_ext:v lic_cat_exo_ext:v tem_en_sve_cat_exo_ext:v",
    ),
    (
        "centre_gestion",
        "cod_cge:v lib_cge:v lic_cge:v tem_en_sve_cge:v",
    ),
    ("com_bdi", "cod_com:v cod_bdi:v"),
    ("commune", "cod_com:v lib_com:v tem_en_sve_com:v cod_dep:v"),
    (
        "departement",
        "cod_dep:v lib_dep:v lic_dep:v tem_en_sve_dep:v",
    ),
    (
        "dip_aut_cur",
        "cod_dac:v lib_dac:v lic_dac:v tem_en_sve_dac:v",
    ),
    (
        "etablissement",
        "cod_etb:v cod_tpe:v lib_etb:v lib_web_etb:v lic_etb:v tem_en_sve_etb:v cod_com_adr_etb:v cod_dep:v",
    ),
    ("mention", "cod_men:v lib_men:v lic_men:v tem_en_sve_men:v"),
    (
        "mention_niv_bac",
        "cod_mnb:v lib_mnb:v lic_mnb:v tem_en_sve_mnb:v",
    ),
    (
        "option_bac",
        "cod_opt_bac:v daa_deb_val_opt_bac:v daa_fin_val_opt_bac:v lib_opt_bac:v lic_opt_bac:v tem_en_sve_opt_bac:v",
    ),
    (
        "pays",
        "cod_pay:v lib_nat:v lib_pay:v lic_pay:v tem_en_sve_pay:v",
    ),
    (
        "regime_ins",
        "cod_rgi:v lib_rgi:v lic_rgi:v tem_en_sve_rgi:v",
    ),
    (
        "specialite_bac",
        "cod_spe_bac:v daa_deb_val_spe_bac:v daa_fin_val_spe_bac:v lib_spe_bac:v lic_spe_bac:v tem_en_sve_spe_bac:v",
    ),
    (
        "statut_etu",
        "cod_stu:v lib_stu:v lic_stu:v tem_en_sve_stu:v",
    ),
    (
        "typ_diplome",
        "cod_tpd_etb:v lib_tpd:v lic_tpd:v tem_en_sve_tpd:v",
    ),
    (
        "typ_resultat",
        "cod_tre:v lib_tre:v lic_tre:v tem_en_sve_tre:v",
    ),
    (
        "utilisateur",
        "cod_uti:v adr_mail_uti:v lib_cmt_uti:v tem_en_sve_uti:v cod_cge:v",
    ),
    (
        "version_apo",
        "cod_ver:v cod_patch:n cod_perso:n dat_cre:d lib_com:v tem_base:v tem_en_sve_ver:v",
    ),
    ("version_etape", "cod_etp:v cod_vrs_vet:v lib_web_vet:v"),
    ("diplome", "cod_dip:v cod_tpd_etb:v lib_dip:v"),
    (
        "vdi_fractionner_vet",
        "cod_dip:v cod_vrs_vdi:v cod_etp:v cod_vrs_vet:v daa_deb_rct_vet:v daa_fin_rct_vet:v",
    ),
    ("etp_gerer_cge", "cod_etp:v cod_cge:v"),
    ("dual", "dummy:v"),
];

/// Columns the sheet allows to be NULL although named like labels (SQL-12: nullable `N`).
const NULLABLE_LABELS: &[&str] = &["etablissement.lib_web_etb"];

#[derive(QueryableByName, Debug)]
struct Col {
    #[diesel(sql_type = Text)]
    t: String,
    #[diesel(sql_type = Text)]
    c: String,
    #[diesel(sql_type = Text)]
    ty: String,
}

fn pg_database() -> Result<Option<(TestDatabase, Db)>, Box<dyn std::error::Error>> {
    let Some(pg) = TestDatabase::postgres() else {
        return Ok(None);
    };
    let db = apogee_db::testing::migrated(&pg.url)?;
    Ok(Some((pg, db)))
}

fn view_columns(conn: &mut AnyConnection) -> Result<Vec<Col>, diesel::result::Error> {
    diesel::sql_query(
        "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS ty \
         FROM information_schema.columns WHERE table_schema = 'apogee' ORDER BY 1, ordinal_position",
    )
    .load(conn)
}

fn class(data_type: &str) -> char {
    match data_type {
        "character varying" => 'v',
        "bigint" | "integer" | "numeric" | "smallint" => 'n',
        "date" => 'd',
        _ => '?',
    }
}

/// The differences between the views and [`SHEET`] (empty: in step).
fn sheet_differences(cols: &[Col]) -> Vec<String> {
    let mut have: BTreeMap<(&str, &str), char> = BTreeMap::new();
    for c in cols {
        have.insert((c.t.as_str(), c.c.as_str()), class(&c.ty));
    }
    let mut diffs = Vec::new();
    for (view, spec) in SHEET {
        for item in spec.split_whitespace() {
            let (col, want) = item.split_once(':').unwrap_or((item, "?"));
            match have.get(&(*view, col)) {
                None => diffs.push(format!("{view}.{col} is missing")),
                Some(got) if want.starts_with(*got) => {}
                Some(got) => {
                    diffs.push(format!("{view}.{col} is `{got}`, the sheet wants `{want}`"))
                }
            }
        }
    }
    diffs
}

#[test]
fn views_carry_every_column_of_the_sheet_with_its_type() -> TestResult {
    let Some((_pg, db)) = pg_database()? else {
        return Ok(());
    };
    let mut conn = db.conn()?;
    let cols = view_columns(&mut conn)?;
    assert_eq!(sheet_differences(&cols), Vec::<String>::new());
    let ind_opi = cols.iter().filter(|c| c.t == "ind_opi").count();
    assert_eq!(ind_opi, 66, "65 mapped columns + cod_com_nai_etu_opi");
    let views: std::collections::BTreeSet<&str> = cols.iter().map(|c| c.t.as_str()).collect();
    assert_eq!(views.len(), SHEET.len(), "{views:?}");
    // The check can fail: a view without one of the columns is reported.
    let mut broken: Vec<Col> = cols.into_iter().filter(|c| c.c != "lib_web_vet").collect();
    broken.push(Col {
        t: "voeux_ins".into(),
        c: "cod_vrs_vet_extra".into(),
        ty: "boolean".into(),
    });
    assert_eq!(
        sheet_differences(&broken),
        ["version_etape.lib_web_vet is missing"]
    );
    Ok(())
}

#[test]
fn a_base_column_a_view_reads_cannot_be_dropped_silently() -> TestResult {
    let Some((_pg, db)) = pg_database()? else {
        return Ok(());
    };
    let mut conn = db.conn()?;
    for stmt in [
        "ALTER TABLE ref_version_etape DROP COLUMN lib_web_vet",
        "ALTER TABLE opi_individu ALTER COLUMN ine TYPE varchar(12)",
    ] {
        let err = diesel::sql_query(stmt).execute(&mut *conn).err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(
            msg.contains("depend") || msg.contains("used by a view"),
            "{stmt}: {msg}"
        );
    }
    Ok(())
}

#[test]
fn temoins_are_o_n_text_never_boolean_nor_null() -> TestResult {
    let Some((_pg, db)) = pg_database()? else {
        return Ok(());
    };
    db.write_blocking(|c| apogee_db::demo::seed(c, actor()))?;
    let mut conn = db.conn()?;
    let cols = view_columns(&mut conn)?;
    assert!(cols.iter().all(|c| c.ty != "boolean"), "a boolean column");
    let tems: Vec<&Col> = cols.iter().filter(|c| c.c.starts_with("tem_")).collect();
    assert!(tems.len() > 25, "{}", tems.len());
    for c in tems {
        if c.c == "tem_mi_tps_epo" {
            assert_eq!(c.ty, "numeric", "TEM_MI_TPS_EPO is a BigDecimal");
            continue;
        }
        assert_eq!(c.ty, "character varying", "{}.{}", c.t, c.c);
        if c.t == "ind_opi" {
            continue;
        }
        let bad = count(
            &mut conn,
            &format!(
                "SELECT count(*) AS n FROM apogee.{} WHERE {} IS NULL OR {} NOT IN ('O', 'N')",
                c.t, c.c, c.c
            ),
        )?;
        assert_eq!(bad, 0, "{}.{}", c.t, c.c);
    }
    Ok(())
}

#[test]
fn labels_of_the_demo_referential_are_never_null() -> TestResult {
    let Some((_pg, db)) = pg_database()? else {
        return Ok(());
    };
    db.write_blocking(|c| apogee_db::demo::seed(c, actor()))?;
    let mut conn = db.conn()?;
    let cols = view_columns(&mut conn)?;
    let mut checked = 0;
    for c in &cols {
        let label = c.c.starts_with("lib_") || c.c.starts_with("lic_") || c.c == "eta_anu_iae";
        let name = format!("{}.{}", c.t, c.c);
        if !label || c.t == "ind_opi" || NULLABLE_LABELS.contains(&name.as_str()) {
            continue;
        }
        let (nulls, rows) = (
            count(
                &mut conn,
                &format!(
                    "SELECT count(*) AS n FROM apogee.{} WHERE {} IS NULL",
                    c.t, c.c
                ),
            )?,
            count(
                &mut conn,
                &format!("SELECT count(*) AS n FROM apogee.{}", c.t),
            )?,
        );
        assert_eq!(nulls, 0, "{name}");
        assert!(rows > 0 || c.t == "utilisateur", "{name}: no demo row");
        checked += 1;
    }
    assert!(checked >= 40, "{checked}");
    // The fallbacks of §5.4 where the demo leaves a value out.
    let one = |conn: &mut AnyConnection, sql: &str| -> Result<String, diesel::result::Error> {
        #[derive(QueryableByName)]
        struct V {
            #[diesel(sql_type = Text)]
            v: String,
        }
        diesel::sql_query(sql).get_result::<V>(conn).map(|r| r.v)
    };
    assert_eq!(
        one(
            &mut conn,
            "SELECT lic_anu AS v FROM apogee.annee_uni WHERE cod_anu = '2025'"
        )?,
        "2025/2026"
    );
    assert_eq!(
        one(
            &mut conn,
            "SELECT lic_etb AS v FROM apogee.etablissement WHERE cod_etb = '0250007X'"
        )?,
        "Lycée Vict"
    );
    assert_eq!(
        one(
            &mut conn,
            "SELECT lib_web_vet AS v FROM apogee.version_etape WHERE cod_etp = 'ETP02'"
        )?,
        "L2 démo - version 1"
    );
    assert_eq!(
        one(
            &mut conn,
            "SELECT daa_deb_rct_vet || '-' || daa_fin_rct_vet AS v FROM apogee.vdi_fractionner_vet WHERE cod_etp = 'ETP03'"
        )?,
        "0000-9999"
    );
    assert_eq!(
        one(&mut conn, "SELECT cod_ver AS v FROM apogee.version_apo")?,
        "GW-unknown"
    );
    Ok(())
}

fn count(conn: &mut AnyConnection, sql: &str) -> Result<i64, diesel::result::Error> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::sql_query(sql).get_result::<N>(conn).map(|r| r.n)
}

fn actor() -> referential::Actor<'static> {
    referential::Actor {
        client: Some("test"),
        trace_id: "t1",
        now: chrono::Utc::now().naive_utc(),
    }
}

/// One call of the bac check: year, bac, 3 spécialités, 4 options.
type Case = (Option<i32>, Option<String>, [Option<String>; 7]);

/// Every demo bac × years (none, before, at and after the validity bounds) × each spécialité
/// and option (and an unknown code) in each slot, spécialité 1 = spécialité 2, two distinct
/// spécialités, and the all-NULL call.
fn cases(r: &Referential) -> Vec<Case> {
    let codes = |t: &str| -> Vec<String> {
        let mut v: Vec<String> = r.rows(t).map(|row| row.key().join("")).collect();
        v.sort();
        v.push("ZZZZ".into());
        v
    };
    let (spes, opts) = (codes("specialites-bac"), codes("options-bac"));
    let mut bacs: Vec<Option<String>> =
        r.rows("bacs").map(|row| Some(row.key().join(""))).collect();
    bacs.sort();
    bacs.push(None);
    bacs.push(Some("NONE".into()));
    let mut out: Vec<Case> = vec![(None, None, Default::default())];
    for bac in &bacs {
        for year in [None, Some(2019), Some(2020), Some(2021), Some(2023)] {
            let mut push = |items: [Option<String>; 7]| out.push((year, bac.clone(), items));
            push(Default::default());
            for (slots, list) in [(0..3, &spes), (3..7, &opts)] {
                for slot in slots {
                    for code in list {
                        let mut items: [Option<String>; 7] = Default::default();
                        items[slot] = Some(code.clone());
                        push(items);
                    }
                }
            }
            for code in &spes {
                let mut items: [Option<String>; 7] = Default::default();
                items[0] = Some(code.clone());
                items[1] = Some(code.clone());
                push(items);
            }
            let mut items: [Option<String>; 7] = Default::default();
            items[0] = Some("D001".into());
            items[1] = Some("D002".into());
            items[3] = Some("O002".into());
            push(items);
        }
    }
    out
}

#[derive(QueryableByName, Debug)]
struct Answer {
    #[diesel(sql_type = BigInt)]
    i: i64,
    #[diesel(sql_type = Nullable<Text>)]
    v: Option<String>,
}

#[test]
fn bac_function_gives_the_verdict_of_the_rust_rule_for_both_overloads() -> TestResult {
    let Some((_pg, db)) = pg_database()? else {
        return Ok(());
    };
    db.write_blocking(|c| apogee_db::demo::seed(c, actor()))?;
    let mut conn = db.conn()?;
    let r = Referential::from_records(1, referential::load_all(&mut conn)?);
    let cases = cases(&r);
    assert!(cases.len() > 5_000, "{}", cases.len());
    let expected: Vec<String> = cases
        .iter()
        .map(|(year, bac, items)| {
            let s = |i: usize| items[i].as_deref();
            check(
                &r,
                &BacChoices {
                    year: *year,
                    cod_bac: bac.as_deref(),
                    specialites: [s(0), s(1), s(2)],
                    options: [s(3), s(4), s(5), s(6)],
                },
            )
            .answer()
        })
        .collect();
    for kind in [
        "OK",
        "SS",
        "n'est pas proposée",
        "n'est pas valable",
        "deux fois",
    ] {
        assert!(
            expected.iter().any(|e| e.contains(kind)),
            "no case gives {kind}"
        );
    }
    let column =
        |i: usize| -> Vec<Option<String>> { cases.iter().map(|c| c.2[i].clone()).collect() };
    let bacs: Vec<Option<String>> = cases.iter().map(|c| c.1.clone()).collect();
    // Year bound as an integer (EclipseLink, year given) and as a varchar (year null).
    let AnyConnection::Postgresql(pg) = &mut *conn else {
        return Err("not PostgreSQL".into());
    };
    for year_type in ["integer", "varchar"] {
        let sql = format!(
            "SELECT i, pkb_bac.verifier_specialites_et_options_bac(y::{year_type}, b, s1, s2, sp, o1, o2, o3, o4)::text AS v \
             FROM unnest($1::integer[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], \
                         $6::varchar[], $7::varchar[], $8::varchar[], $9::varchar[]) \
                  WITH ORDINALITY AS t(y, b, s1, s2, sp, o1, o2, o3, o4, i) ORDER BY i"
        );
        type S = Array<Nullable<Text>>;
        let rows: Vec<Answer> = diesel::sql_query(sql)
            .bind::<Array<Nullable<Integer>>, _>(cases.iter().map(|c| c.0).collect::<Vec<_>>())
            .bind::<S, _>(bacs.clone())
            .bind::<S, _>(column(0))
            .bind::<S, _>(column(1))
            .bind::<S, _>(column(2))
            .bind::<S, _>(column(3))
            .bind::<S, _>(column(4))
            .bind::<S, _>(column(5))
            .bind::<S, _>(column(6))
            .load(&mut *pg)?;
        assert_eq!(rows.len(), cases.len());
        for (row, want) in rows.iter().zip(&expected) {
            let idx = usize::try_from(row.i - 1)?;
            assert_eq!(
                row.v.as_deref(),
                Some(want.as_str()),
                "{year_type} overload, case {:?}",
                cases[idx]
            );
        }
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Plan {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

#[test]
fn ecandidat_lookups_use_indexes() -> TestResult {
    let Some((_pg, db)) = pg_database()? else {
        return Ok(());
    };
    let mut conn = db.conn()?;
    diesel::sql_query("SET enable_seqscan = off").execute(&mut *conn)?;
    let plan = |conn: &mut AnyConnection, sql: &str| -> Result<String, diesel::result::Error> {
        let rows: Vec<Plan> = diesel::sql_query(format!("EXPLAIN {sql}")).load(conn)?;
        Ok(rows
            .into_iter()
            .map(|p| p.line)
            .collect::<Vec<_>>()
            .join("\n"))
    };
    let q4 = plan(
        &mut conn,
        "SELECT * FROM apogee.ind_opi WHERE ((cod_opi_int_epo = 'EC1'::varchar) OR (cod_etu_opi = 21912345) \
         OR ((cod_nne_ind_opi = '123456789'::varchar) AND (cod_cle_nne_ind_opi = 'AB'::varchar)))",
    )?;
    for index in [
        "opi_individu_cod_opi_int_epo",
        "opi_individu_cod_etu",
        "opi_individu_ine_split",
    ] {
        assert!(q4.contains(index), "Q4 does not use {index}:\n{q4}");
    }
    assert!(!q4.contains("Seq Scan"), "{q4}");
    let q5 = plan(
        &mut conn,
        "SELECT * FROM apogee.ind_opi WHERE (((lib_nom_pat_ind_opi = 'MARTIN'::varchar) AND \
         (lib_pr1_ind_opi = 'LEA'::varchar)) AND (date_nai_ind_opi = '2005-03-14'::date))",
    )?;
    assert!(q5.contains("opi_individu_identity"), "{q5}");
    let q3 = plan(
        &mut conn,
        "SELECT cod_cge, cod_etp, cod_vrs_vet, cod_ind_opi FROM apogee.voeux_ins WHERE (cod_ind_opi = 42::bigint)",
    )?;
    assert!(q3.contains("opi_voeu_pkey"), "{q3}");
    Ok(())
}
