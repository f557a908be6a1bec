//! Student register and laissez-passer storage on both backends: demo students, the LP-8 upsert
//! (created / unchanged / updated, V1 keeps the V2-only attributes), lists and deletion.

use apogee_db::repo::referential::{self, Actor};
use apogee_db::repo::{lp, students};
use apogee_db::{Db, WriteError};
use apogee_domain::Referential;
use apogee_domain::lp::{Context, LpParams, LpVersion, TypLpa, validate};
use diesel::{QueryDsl, RunQueryDsl};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn each_backend(test: impl Fn(&Db) -> TestResult) -> TestResult {
    let dir = tempfile::tempdir()?;
    apogee_db::testing::each_backend(dir.path(), test)
}

fn actor() -> Actor<'static> {
    Actor {
        client: Some("test"),
        trace_id: "t1",
        now: chrono::Utc::now().naive_utc(),
    }
}

fn params(pairs: &[(&str, &str)]) -> Result<LpParams, serde_json::Error> {
    let map: serde_json::Map<String, serde_json::Value> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String((*v).to_owned())))
        .collect();
    serde_json::from_value(serde_json::Value::Object(map))
}

#[test]
fn demo_students_and_the_lp_upsert() -> TestResult {
    each_backend(|db| {
        {
            use apogee_db::schema_lp::*;
            let mut conn = db.conn()?;
            for n in [
                etudiant::table.count().get_result::<i64>(&mut conn)?,
                inscription_annuelle::table.count().get_result(&mut conn)?,
                inscription_etape::table.count().get_result(&mut conn)?,
                blocage::table.count().get_result(&mut conn)?,
                lp_etudiant::table.count().get_result(&mut conn)?,
                lp_opi::table.count().get_result(&mut conn)?,
            ] {
                assert_eq!(n, 0);
            }
        }
        db.write_blocking(|c| apogee_db::demo::seed(c, actor()))?;
        let created = db.write_blocking(|c| students::seed_demo(c, actor()))?;
        assert_eq!(created, 5);
        assert_eq!(db.write_blocking(|c| students::seed_demo(c, actor()))?, 0);
        let mut conn = db.conn()?;
        let banned = students::find_by_cod_etu(&mut conn, 10_000_003)?.ok_or("10000003")?;
        assert_eq!(
            students::blocages(&mut conn, banned.cod_ind)?[0].cod_blo,
            "BU"
        );
        let r = Referential::from_records(1, referential::load_all(&mut conn)?);
        let ctx = Context {
            referential: &r,
            today: chrono::NaiveDate::from_ymd_opt(2026, 6, 1).ok_or("date")?,
        };
        let key = [
            ("typLpa", "REINS"),
            ("codAnu", "2026"),
            ("codEtu", "10000001"),
            ("codEtp", "ETP01"),
            ("codVrsVet", "1"),
        ];
        let upsert = |pairs: &[(&str, &str)],
                      version|
         -> Result<lp::LpApplied, Box<dyn std::error::Error>> {
            let intake = validate(&params(pairs)?, version, &ctx)?;
            Ok(db
                .write_blocking(|c| -> Result<_, WriteError> { lp::upsert(c, &intake, actor()) })?)
        };
        let v2 = [&key[..], &[("codRgi", "1"), ("codCatExoExt", "01")]].concat();
        assert_eq!(upsert(&v2, LpVersion::V2)?.status, "created");
        assert_eq!(upsert(&v2, LpVersion::V2)?.status, "unchanged");
        // V1 without codRgi: codRgi cleared (warned), codCatExoExt kept (LP-2).
        let applied = upsert(&key, LpVersion::V1)?;
        assert_eq!(applied.status, "updated");
        assert_eq!(
            applied
                .warnings
                .iter()
                .map(|w| w.code.as_str())
                .collect::<Vec<_>>(),
            vec!["LP_ATTRIBUT_EFFACE"]
        );
        assert_eq!(
            applied.laissez_passer.attributes.cod_cat_exo_ext.as_deref(),
            Some("01")
        );
        assert_eq!(applied.laissez_passer.attributes.cod_rgi, None);
        assert_eq!(upsert(&key, LpVersion::V1)?.status, "unchanged");
        // An unknown student is the Apogée fault of an unknown student.
        let unknown = [
            &key[..2],
            &[
                ("codEtu", "99999999"),
                ("codEtp", "ETP01"),
                ("codVrsVet", "1"),
            ],
        ]
        .concat();
        let err = upsert(&unknown, LpVersion::V2).err().ok_or("accepted")?;
        assert!(
            err.to_string()
                .starts_with("technical.data.nullretrieve.etudiant"),
            "{err}"
        );
        let (rows, total) = lp::list(
            &mut conn,
            &lp::LpFilter {
                typ: Some(TypLpa::Reins),
                ..Default::default()
            },
            10,
            0,
        )?;
        assert_eq!((rows.len(), total), (1, 1));
        assert_eq!(rows[0].cod_etu, Some(10_000_001));
        let person = students::find_by_cod_etu(&mut conn, 10_000_001)?.ok_or("10000001")?;
        assert!(lp::delete(
            &mut conn,
            TypLpa::Reins,
            person.cod_ind,
            "2026",
            "ETP01",
            1
        )?);
        assert!(!lp::delete(
            &mut conn,
            TypLpa::Reins,
            person.cod_ind,
            "2026",
            "ETP01",
            1
        )?);
        Ok(())
    })
}
