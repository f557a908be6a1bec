//! CVEC storage on both backends: the tables as `schema_cvec.rs` declares them, register
//! upserts (created / updated / unchanged), the demo register, and checks (ids, `VALIDE`
//! history, filters, the OPI link set to null when the OPI goes).

use apogee_db::repo::cvec::{self, CheckFilter, NewCheck};
use apogee_db::repo::referential::Actor;
use apogee_db::{Db, DbError, WriteError};
use apogee_domain::cvec::register;

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

fn check(number: &str, result: &str, ine: &str, cod_ind_opi: Option<i64>) -> NewCheck {
    let now = chrono::Utc::now().naive_utc();
    NewCheck {
        cod_ind: None,
        cod_ind_opi,
        cod_anu: "2026".into(),
        num_attestation: Some(number.into()),
        lettres_nom: Some("DUPON".into()),
        ine: Some(ine.into()),
        identity_key: Some("DUPONT|2005-03-14".into()),
        source: Some("register".into()),
        http_status: Some(200),
        etat_code: Some("70".into()),
        exoneration_active: Some(false),
        exoneration_motif: None,
        cod_cat_exo_ext: None,
        boursier: None,
        result: result.into(),
        reason: None,
        reasons: None,
        warnings: None,
        created_at: now,
        updated_at: now,
        created_by: Some("test".into()),
        last_trace_id: Some("t1".into()),
    }
}

#[test]
fn register_upserts_and_demo_seed() -> TestResult {
    each_backend(|db| {
        let seeded = db.write_blocking(|c| cvec::seed_demo(c, actor()))?;
        assert_eq!(seeded.created, 5);
        let again = db.write_blocking(|c| cvec::seed_demo(c, actor()))?;
        assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 5));
        let csv = "codAnu,numAttestation,nom,prenom,dateNaissance,etatCode\n\
                   2026,VER1ABCDEF12,MARTIN,LÉA,2005-03-14,98\n\
                   2027,VER1ABCDEF12,MARTIN,LÉA,2005-03-14,70\n";
        let rows: Vec<_> = register::read_csv(csv.as_bytes(), None)?
            .into_iter()
            .filter_map(|l| l.result.ok())
            .collect();
        let counts = db.write_blocking(|c| {
            cvec::upsert(c, &rows, actor()).map_err(|e| WriteError::Db(e.into()))
        })?;
        assert_eq!((counts.created, counts.updated), (1, 1));
        let mut conn = db.conn()?;
        let found = cvec::find_by_number(&mut conn, "VER1ABCDEF12")?;
        let years: Vec<&str> = found
            .iter()
            .map(|r| r.attestation.cod_anu.as_str())
            .collect();
        assert_eq!(years, vec!["2027", "2026"]);
        assert_eq!(found[1].attestation.etat_code, "98");
        assert!(found[1].attestation.letters_match("MARTI"));
        let (rows, total) = cvec::list(
            &mut conn,
            &cvec::AttestationFilter {
                cod_anu: Some("2026".into()),
                ..Default::default()
            },
            2,
            0,
        )?;
        assert_eq!((rows.len(), total), (2, 4));
        Ok(())
    })
}

#[test]
fn checks_are_stored_with_their_ids() -> TestResult {
    each_backend(|db| {
        let first = db.write_blocking(|c| -> Result<i64, DbError> {
            cvec::lock_number(c, "2026", "VER1ABCDEF12")?;
            Ok(cvec::insert_check(
                c,
                &check("VER1ABCDEF12", "VALIDE", "0123456789M", None),
            )?)
        })?;
        let second = db.write_blocking(|c| -> Result<i64, DbError> {
            Ok(cvec::insert_check(
                c,
                &check("VER1ABCDEF12", "INVALIDE", "1234567890V", None),
            )?)
        })?;
        assert!(second > first && first > 0);
        let mut conn = db.conn()?;
        let valid = cvec::valid_checks(&mut conn, "2026", "VER1ABCDEF12")?;
        assert_eq!(valid.len(), 1);
        assert_eq!(valid[0].id, first);
        assert_eq!(valid[0].identity_key.as_deref(), Some("DUPONT|2005-03-14"));
        let (rows, total) = cvec::list_checks(
            &mut conn,
            &CheckFilter {
                result: Some("INVALIDE".into()),
                ..Default::default()
            },
            10,
            0,
        )?;
        assert_eq!((total, rows[0].id), (1, second));
        assert!(!cvec::opi_person_exists(&mut conn, 1)?);
        Ok(())
    })
}
