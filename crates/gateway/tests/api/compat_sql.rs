//! eCandidat's direct database access (`apogee-sql-compat.md` §3, §8) on PostgreSQL: after real
//! pushes (a SOAP OPI v10 with two vœux, a PJ, a merge by INE, an INES candidate), the role
//! made by `apogee-gateway compat-sql grant` replays every statement eCandidat sends, as written,
//! with its parameters typed as EclipseLink binds them (varchar, int4, int8, date, NULL as
//! varchar), then the same through pgjdbc from a small Java program (`tests/interop/java/`).

use crate::helpers::{Backend, TestApp, TestResult};
use diesel::deserialize::QueryableByName;
use diesel::pg::{Pg, PgConnection};
use diesel::serialize::{Output, ToSql};
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text};
use diesel::{Connection, RunQueryDsl};
use serde_json::{Value, json};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_apogee-gateway");

/// `character varying`, the type pgjdbc gives a Java `String` (Diesel's `Text` is `text`).
#[derive(diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 1043, array_oid = 1015))]
struct Varchar;

impl ToSql<Varchar, Pg> for String {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> diesel::serialize::Result {
        <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
    }
}

type NVarchar = Nullable<Varchar>;

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

/// The 65 columns EclipseLink selects for `IndOpi` (§2.1), in its order.
const IND_OPI: &str = "COD_IND_OPI, ADR_MAIL_OPI, COD_CLE_NNE_IND_OPI, COD_DAP, COD_DEP_PAY_ANN_PRE_OPI, \
    COD_DEP_PAY_ANT_IAA_OPI, COD_DEP_PAY_DER_DIP, COD_DEP_PAY_NAI, COD_ETB, COD_ETB_ANN_CRT, \
    COD_ETB_ANN_PRE_OPI, COD_ETB_ANT_IAA, COD_ETB_DER_DIP, COD_ETR_OPI, COD_ETU_OPI, COD_FAM, COD_IND, \
    COD_NNE_IND_OPI, COD_OPI_INT_EPO, COD_PAY_NAT, COD_PCS, COD_PCS_AP, COD_PRG_OPI, COD_RGI, \
    COD_SEX_ETU_OPI, COD_SIM, COD_SIS_ANN_PRE_OPI, COD_STU, COD_TDE_DER_DIP, COD_TDS_OPI, COD_THB_OPI, \
    COD_THP_OPI, COD_TPE_ANN_CRT, COD_TPE_ANT_IAA, COD_TYP_DEP_PAY_ANN_PRE_OPI, \
    COD_TYP_DEP_PAY_ANT_IAA_OPI, COD_TYP_DEP_PAY_DER_DIP, COD_TYP_DEP_PAY_NAI, DAA_ENS_SUP_OPI, \
    DAA_ENT_ETB_OPI, DAA_ETB_OPI, DAA_ETR_SUP, DAA_ETB_ANT_IAA_OPI, DAA_ETB_DER_DIP, DAA_LBT_IND_OPI, \
    DMM_LBT_IND_OPI, DATE_NAI_IND_OPI, DUR_EXP_PRO_EPO, LIB_NOM_PAT_IND_OPI, LIB_NOM_USU_IND_OPI, \
    LIB_PR1_IND_OPI, LIB_PR2_IND_OPI, LIB_PR3_IND_OPI, LIB_VIL_NAI_ETU_OPI, NB_ENF_ETU_OPI, \
    NUM_TEL_IND_OPI, NUM_TEL_TEMP_EPO, NUM_TEL_POR_OPI, TEM_DATE_NAI_REL_OPI, TEM_EXP_PRO_EPO, \
    TEM_INT_EPO, TEM_MI_TPS_EPO, TEM_PRL_ANN_CRT, TEM_SNS_PRG_OPI, TEM_TRF_ANN_CRT";

/// Q1, one statement per entity, as EclipseLink sends them, with the rows the demo gives.
const Q1: &[(&str, Option<i64>)] = &[
    (
        "SELECT COD_ANU, ETA_ANU_IAE, LIB_ANU, LIC_ANU FROM ANNEE_UNI",
        Some(2),
    ),
    (
        "SELECT COD_BAC, ANN_CTRL_INE, DAA_DEB_VLD_BAC, DAA_FIN_VLD_BAC, LIB_BAC, LIC_BAC, TEM_CTRL_INE, TEM_EN_SVE_BAC, TEM_NAT_BAC FROM BAC_OUX_EQU",
        Some(20),
    ),
    (
        "SELECT cod_bac, cod_opt_bac FROM BAC_REGROUPE_OPT_BAC",
        Some(4),
    ),
    (
        "SELECT cod_bac, cod_spe_bac FROM BAC_REGROUPE_SPE_BAC",
        Some(8),
    ),
    (
        "SELECT COD_CAT_EXO_EXT, COD_SIS_CAT_EXO_EXT, LIB_CAT_EXO_EXT, LIC_CAT_EXO_EXT, TEM_EN_SVE_CAT_EXO_EXT FROM CAT_EXO_EXT",
        None,
    ),
    (
        "SELECT COD_CGE, LIB_CGE, LIC_CGE, TEM_EN_SVE_CGE FROM CENTRE_GESTION",
        Some(2),
    ),
    ("SELECT COD_COM, COD_BDI FROM com_bdi", None),
    (
        "SELECT COD_COM, LIB_COM, TEM_EN_SVE_COM, COD_DEP FROM COMMUNE",
        Some(11),
    ),
    (
        "SELECT COD_DEP, LIB_DEP, LIC_DEP, TEM_EN_SVE_DEP FROM DEPARTEMENT",
        None,
    ),
    (
        "SELECT COD_DAC, LIB_DAC, LIC_DAC, TEM_EN_SVE_DAC FROM DIP_AUT_CUR",
        Some(6),
    ),
    (
        "SELECT COD_ETB, COD_TPE, LIB_ETB, LIB_WEB_ETB, LIC_ETB, TEM_EN_SVE_ETB, COD_COM_ADR_ETB, COD_DEP FROM ETABLISSEMENT",
        Some(4),
    ),
    (
        "SELECT COD_MEN, LIB_MEN, LIC_MEN, TEM_EN_SVE_MEN FROM MENTION",
        Some(5),
    ),
    (
        "SELECT COD_MNB, LIB_MNB, LIC_MNB, TEM_EN_SVE_MNB FROM MENTION_NIV_BAC",
        Some(4),
    ),
    (
        "SELECT COD_OPT_BAC, DAA_DEB_VAL_OPT_BAC, DAA_FIN_VAL_OPT_BAC, LIB_OPT_BAC, LIC_OPT_BAC, TEM_EN_SVE_OPT_BAC FROM OPTION_BAC",
        Some(5),
    ),
    (
        "SELECT COD_PAY, LIB_NAT, LIB_PAY, LIC_PAY, TEM_EN_SVE_PAY FROM PAYS",
        None,
    ),
    (
        "SELECT COD_RGI, LIB_RGI, LIC_RGI, TEM_EN_SVE_RGI FROM REGIME_INS",
        None,
    ),
    (
        "SELECT COD_SPE_BAC, DAA_DEB_VAL_SPE_BAC, DAA_FIN_VAL_SPE_BAC, LIB_SPE_BAC, LIC_SPE_BAC, TEM_EN_SVE_SPE_BAC FROM SPECIALITE_BAC",
        Some(9),
    ),
    (
        "SELECT COD_STU, LIB_STU, LIC_STU, TEM_EN_SVE_STU FROM STATUT_ETU",
        None,
    ),
    (
        "SELECT COD_TPD_ETB, LIB_TPD, LIC_TPD, TEM_EN_SVE_TPD FROM TYP_DIPLOME",
        Some(5),
    ),
    (
        "SELECT COD_TRE, LIB_TRE, LIC_TRE, TEM_EN_SVE_TRE FROM TYP_RESULTAT",
        Some(4),
    ),
    (
        "SELECT COD_UTI, ADR_MAIL_UTI, LIB_CMT_UTI, TEM_EN_SVE_UTI, COD_CGE FROM UTILISATEUR",
        Some(0),
    ),
];

/// A PostgreSQL role for the test, dropped at the end (roles are cluster-wide).
struct Role {
    admin: String,
    database: String,
    name: String,
}

impl Role {
    fn create(app: &TestApp) -> Result<Role, Box<dyn std::error::Error>> {
        let (admin, database) = app.db.postgres_admin().ok_or("not PostgreSQL")?;
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "ecandidat_{}_{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let mut conn = PgConnection::establish(admin)?;
        diesel::sql_query(format!("CREATE ROLE {name} LOGIN PASSWORD 'siscol'"))
            .execute(&mut conn)?;
        Ok(Role {
            admin: admin.to_owned(),
            database: database.to_owned(),
            name,
        })
    }

    /// The URL eCandidat's role connects with (no search path: the grant sets it).
    fn url(&self) -> String {
        let url = apogee_db::testing::with_database(&self.admin, &self.database);
        let url = url
            .split_once('?')
            .map_or(url.as_str(), |(u, _)| u)
            .to_owned();
        let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
        let host = rest.split_once('@').map_or(rest, |(_, h)| h);
        format!("postgres://{}:siscol@{host}", self.name)
    }

    fn host_port_db(&self) -> String {
        let url = self.url();
        url.split_once('@')
            .map(|(_, h)| h.to_owned())
            .unwrap_or_default()
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let db = apogee_db::testing::with_database(&self.admin, &self.database);
        if let Ok(mut c) = PgConnection::establish(&db) {
            let _ = diesel::sql_query(format!("DROP OWNED BY {}", self.name)).execute(&mut c);
        }
        if let Ok(mut c) = PgConnection::establish(&self.admin) {
            let _ = diesel::sql_query(format!("DROP ROLE IF EXISTS {}", self.name)).execute(&mut c);
        }
    }
}

fn example(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../soap/tests/examples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_default()
}

/// What the pushes left: the `COD_IND_OPI` of the OPI with two vœux and a piece, and of the
/// INES candidate.
struct Pushed {
    opi: i64,
    ines: i64,
}

async fn push(app: &TestApp) -> Result<Pushed, Box<dyn std::error::Error>> {
    let create = example("captured/jaxws-mettreajourDonneesOpi_v10-create.xml");
    let (status, body) = app.soap("OpiMetier", create.clone()).await?;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .soap(
            "PjOpiMetier",
            example("captured/jaxws-recupererPiecesJustificativesOPIWS.xml"),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    // Another platform's code for the same person (same INE), with a student number: merged.
    let merge = create
        .replace(
            "<codOpiIntEpo>JVMWT75DRZ</codOpiIntEpo>",
            "<codOpiIntEpo>JVMWT75MRG</codOpiIntEpo>",
        )
        .replace(
            "<codEtuOpi xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:nil=\"true\"/>",
            "<codEtuOpi>21912345</codEtuOpi>",
        );
    let (status, body) = app.soap("OpiMetier", merge).await?;
    assert_eq!(status, 200, "{body}");
    let opi: Value = get_json(app, "/api/v1/opi/JVMWT75DRZ").await?;
    assert_eq!(opi["aliases"][0], "JVMWT75MRG", "{opi}");
    let ines = json!({"individu": {"codOpiIntEpo": "EC00000002",
        "donneesNaissance": {"dateNaiIndOpi": "01022006", "temDateNaiRelOpi": "N"},
        "etatCivil": {"codNneIndOpi": "123456789AB", "libNomPatIndOpi": "DURAND", "libPr1IndOpi": "NOAH"}},
        "voeux": {"item": [{"codCge": "CG1", "codEtp": "ETP01", "codVrsVet": 1, "numCls": 1, "codDemDos": "C", "codDecVeu": "F"}]}});
    let res = app.put("/api/v1/opi/EC00000002").json(&ines).send().await?;
    let created: Value = res.json().await?;
    Ok(Pushed {
        opi: opi["codIndOpi"].as_i64().ok_or("codIndOpi")?,
        ines: created["codIndOpi"]
            .as_i64()
            .ok_or_else(|| format!("{created}"))?,
    })
}

/// Runs `apogee-gateway compat-sql grant --role NAME` on the app's database.
fn grant(app: &TestApp, role: &str) -> Result<std::process::Output, std::io::Error> {
    Command::new(BIN)
        .args(["--database-url", &app.db.url, "--data-dir"])
        .arg(app.data_dir())
        .args(["compat-sql", "grant", "--role", role])
        .env("APOGEE_LOG__LEVEL", "warn")
        .output()
}

async fn granted() -> Result<Option<(TestApp, Role, Pushed)>, Box<dyn std::error::Error>> {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return Ok(None);
    };
    let pushed = push(&app).await?;
    let role = Role::create(&app)?;
    let out = grant(&app, &role.name)?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("search_path of"), "{stdout}");
    Ok(Some((app, role, pushed)))
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Found {
    #[diesel(sql_type = BigInt)]
    cod_ind_opi: i64,
    #[diesel(sql_type = Text)]
    cod_opi_int_epo: String,
}

#[derive(QueryableByName, Debug, PartialEq)]
struct One {
    #[diesel(sql_type = Nullable<Text>)]
    v: Option<String>,
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Voeu {
    #[diesel(sql_type = Text)]
    cod_cge: String,
    #[diesel(sql_type = Text)]
    cod_etp: String,
    #[diesel(sql_type = Integer)]
    cod_vrs_vet: i32,
    #[diesel(sql_type = BigInt)]
    cod_ind_opi: i64,
}

fn q4(where_clause: &str) -> String {
    format!("SELECT {IND_OPI} FROM IND_OPI WHERE {where_clause}")
}

fn n1() -> &'static str {
    "select PKB_BAC.VERIFIER_SPECIALITES_ET_OPTIONS_BAC(?,?,?,?,?,?,?,?,?) from dual"
}

/// N1 with `$n` placeholders (pgjdbc turns each `?` into `$n`).
fn n1_pg() -> String {
    let mut n = 0;
    n1().chars()
        .map(|c| {
            if c == '?' {
                n += 1;
                format!("${n}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[tokio::test]
async fn ecandidat_queries_replayed_as_its_role() -> TestResult {
    let Some((app, role, pushed)) = granted().await? else {
        return Ok(());
    };
    let mut c = PgConnection::establish(&role.url())?;
    let path: One =
        diesel::sql_query("SELECT current_setting('search_path') AS v").get_result(&mut c)?;
    assert_eq!(path.v.as_deref(), Some("apogee"));
    // Pool validation (SQL-20).
    let one: One = diesel::sql_query("select '1' AS v from dual").get_result(&mut c)?;
    assert_eq!(one.v.as_deref(), Some("1"));

    // Q1 and the implicit lookups.
    for (sql, rows) in Q1 {
        let n = diesel::sql_query(*sql)
            .execute(&mut c)
            .map_err(|e| format!("{sql}: {e}"))?;
        match rows {
            Some(r) => assert_eq!(i64::try_from(n)?, *r, "{sql}"),
            None => assert!(n > 0, "{sql}"),
        }
    }
    for (sql, key) in [
        (
            "SELECT COD_DEP, LIB_DEP, LIC_DEP, TEM_EN_SVE_DEP FROM DEPARTEMENT WHERE (COD_DEP = $1)",
            "054",
        ),
        (
            "SELECT COD_COM, LIB_COM, TEM_EN_SVE_COM, COD_DEP FROM COMMUNE WHERE (COD_COM = $1)",
            "88160",
        ),
        (
            "SELECT COD_CGE, LIB_CGE, LIC_CGE, TEM_EN_SVE_CGE FROM CENTRE_GESTION WHERE (COD_CGE = $1)",
            "CG1",
        ),
    ] {
        let n = diesel::sql_query(sql)
            .bind::<Varchar, _>(key.to_owned())
            .execute(&mut c)?;
        assert_eq!(n, 1, "{sql}");
    }

    // Q2: the version.
    let version: One = diesel::sql_query(
        "SELECT DAT_CRE AS a1, LIB_COM AS a2, TEM_BASE AS a3, TEM_EN_SVE_VER AS a4, COD_VER AS v, COD_PATCH AS a6, COD_PERSO AS a7 \
         FROM VERSION_APO WHERE (DAT_CRE IS NOT NULL) ORDER BY DAT_CRE DESC LIMIT $1 OFFSET $2",
    )
    .bind::<Integer, _>(1)
    .bind::<Integer, _>(0)
    .get_result(&mut c)?;
    assert_eq!(version.v, Some(format!("GW-{}", env!("CARGO_PKG_VERSION"))));

    // Q4, each form, then Q5.
    let found = |c: &mut PgConnection,
                 sql: &str,
                 binds: Vec<Option<String>>|
     -> Result<Vec<Found>, diesel::result::Error> {
        let mut q = diesel::sql_query(q4(sql)).into_boxed::<Pg>();
        for b in binds {
            q = q.bind::<NVarchar, _>(b);
        }
        q.load(c)
    };
    let effective = Found {
        cod_ind_opi: pushed.opi,
        cod_opi_int_epo: "JVMWT75DRZ".into(),
    };
    assert_eq!(
        found(&mut c, "(COD_OPI_INT_EPO = $1)", vec![s("JVMWT75DRZ")])?,
        [effective_clone(&effective)]
    );
    assert_eq!(
        found(&mut c, "(COD_OPI_INT_EPO = $1)", vec![s("jvmwt75drz")])?,
        [],
        "case-sensitive (SQL-31)"
    );
    assert_eq!(
        found(&mut c, "(COD_OPI_INT_EPO = $1)", vec![s("JVMWT75MRG")])?,
        [],
        "aliases are not shown"
    );
    assert_eq!(
        found(
            &mut c,
            "((COD_OPI_INT_EPO = $1) OR ((COD_NNE_IND_OPI = $2) AND (COD_CLE_NNE_IND_OPI = $3)))",
            vec![s("JVMWT75MRG"), s("3211354385"), s("T")]
        )?,
        [effective_clone(&effective)],
        "BEA: 10 + 1"
    );
    let etu_form = diesel::sql_query(q4("((COD_OPI_INT_EPO = $1) OR (COD_ETU_OPI = $2))"))
        .bind::<Varchar, _>("JVMWT75MRG".to_owned())
        .bind::<Integer, _>(21_912_345)
        .load::<Found>(&mut c)?;
    assert_eq!(etu_form, [effective_clone(&effective)]);
    let three = diesel::sql_query(q4("(((COD_OPI_INT_EPO = $1) OR (COD_ETU_OPI = $2)) OR ((COD_NNE_IND_OPI = $3) AND (COD_CLE_NNE_IND_OPI = $4)))"))
        .bind::<Varchar, _>("JVMWT75MRG".to_owned())
        .bind::<Integer, _>(21_912_345)
        .bind::<Varchar, _>("3211354385".to_owned())
        .bind::<Varchar, _>("T".to_owned())
        .load::<Found>(&mut c)?;
    assert_eq!(three, [effective_clone(&effective)]);
    let ines_form =
        "((COD_OPI_INT_EPO = $1) OR ((COD_NNE_IND_OPI = $2) AND (COD_CLE_NNE_IND_OPI = $3)))";
    let ines = found(
        &mut c,
        ines_form,
        vec![s("ECNOPE"), s("123456789"), s("AB")],
    )?;
    assert_eq!(
        ines.iter().map(|f| f.cod_ind_opi).collect::<Vec<_>>(),
        [pushed.ines],
        "INES: 9 + 2 (SQL-30)"
    );
    assert_eq!(
        found(
            &mut c,
            ines_form,
            vec![s("ECNOPE"), s("123456789A"), s("B")]
        )?,
        []
    );
    assert_eq!(
        found(&mut c, ines_form, vec![s("ECNOPE"), s("null"), s("null")])?,
        []
    );
    let q5 = diesel::sql_query(q4(
        "(((LIB_NOM_PAT_IND_OPI = $1) AND (LIB_PR1_IND_OPI = $2)) AND (DATE_NAI_IND_OPI = $3))",
    ))
    .bind::<Varchar, _>("LEGRAND-MSPYC".to_owned())
    .bind::<Varchar, _>("CAMILLE".to_owned())
    .bind::<Date, _>(chrono::NaiveDate::from_ymd_opt(2005, 3, 14).ok_or("date")?)
    .load::<Found>(&mut c)?;
    assert_eq!(q5, [effective_clone(&effective)]);
    let _ = found(&mut c, "(COD_OPI_INT_EPO = $1)", vec![None])?;

    // Q3: the vœux, bound as a long.
    let voeux: Vec<Voeu> = diesel::sql_query(
        "SELECT COD_CGE, COD_ETP, COD_VRS_VET, COD_IND_OPI FROM VOEUX_INS WHERE (COD_IND_OPI = $1)",
    )
    .bind::<BigInt, _>(pushed.opi)
    .load(&mut c)?;
    let mut got: Vec<(String, String, i32, i64)> = voeux
        .into_iter()
        .map(|v| (v.cod_cge, v.cod_etp, v.cod_vrs_vet, v.cod_ind_opi))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("CG1".into(), "ETP01".into(), 1, pushed.opi),
            ("CG1".into(), "ETP02".into(), 1, pushed.opi)
        ]
    );

    // N1: both overloads (year as int4, year as a varchar NULL), all NULL.
    let bac = |c: &mut PgConnection,
               year: Option<i32>,
               args: [Option<&str>; 8]|
     -> Result<Option<String>, diesel::result::Error> {
        let mut q = diesel::sql_query(n1_pg()).into_boxed::<Pg>();
        q = match year {
            Some(y) => q.bind::<Integer, _>(y),
            None => q.bind::<NVarchar, _>(None::<String>),
        };
        for a in args {
            q = q.bind::<NVarchar, _>(a.map(str::to_owned));
        }
        #[derive(QueryableByName)]
        struct R {
            #[diesel(sql_type = Nullable<Text>, column_name = "verifier_specialites_et_options_bac")]
            v: Option<String>,
        }
        q.get_result::<R>(c).map(|r| r.v)
    };
    let gdem = |spe1, spe2| {
        [
            Some("GDEM"),
            spe1,
            spe2,
            None,
            Some("O002"),
            None,
            None,
            None,
        ]
    };
    assert_eq!(
        bac(&mut c, Some(2023), gdem(Some("D001"), Some("D002")))?.as_deref(),
        Some("OK")
    );
    assert_eq!(
        bac(&mut c, None, gdem(Some("D001"), Some("D002")))?.as_deref(),
        Some("OK")
    );
    assert_eq!(bac(&mut c, None, [None; 8])?.as_deref(), Some("SS"));
    assert_eq!(
        bac(
            &mut c,
            Some(2024),
            [Some("S"), Some("D001"), None, None, None, None, None, None]
        )?
        .as_deref(),
        Some("SS")
    );
    assert_eq!(
        bac(&mut c, Some(2023), gdem(Some("D001"), Some("D001")))?.as_deref(),
        Some("La spécialité Mathématiques (démo) est choisie deux fois")
    );
    assert_eq!(
        bac(&mut c, Some(2020), gdem(Some("D001"), None))?.as_deref(),
        Some(
            "La spécialité Mathématiques (démo) n'est pas valable pour un baccalauréat obtenu en 2020"
        )
    );

    // N2 cannot work (SQL-22): pinned. Without the rownum wrapper the inner query answers.
    let inner = "select distinct version_etape.cod_etp as codEtpVet, version_etape.cod_vrs_vet as codVrsVet, version_etape.lib_web_vet as libVet, etp_gerer_cge.cod_cge as codCge, diplome.cod_tpd_etb as codTpd, typ_diplome.lib_tpd as libTypDip from version_etape, diplome, vdi_fractionner_vet, etp_gerer_cge, typ_diplome where vdi_fractionner_vet.cod_dip = diplome.cod_dip and diplome.cod_tpd_etb = typ_diplome.cod_tpd_etb and vdi_fractionner_vet.cod_etp = version_etape.cod_etp and vdi_fractionner_vet.cod_vrs_vet = version_etape.cod_vrs_vet and vdi_fractionner_vet.daa_deb_rct_vet<=(select max(cod_anu) from annee_uni where eta_anu_iae in ('O','I')) and vdi_fractionner_vet.daa_fin_rct_vet>=(select min(cod_anu) from annee_uni where eta_anu_iae in ('O','I')) and etp_gerer_cge.cod_etp = version_etape.cod_etp and (LOWER(version_etape.lib_web_vet) like $1 or LOWER(version_etape.cod_etp||'-'||version_etape.cod_vrs_vet) like $1) and etp_gerer_cge.cod_cge =$2";
    let n2 = format!("select * from ({inner}) where rownum <= 50");
    let err = diesel::sql_query(&n2)
        .bind::<Varchar, _>("%licence%".to_owned())
        .bind::<Varchar, _>("CG1".to_owned())
        .execute(&mut c)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("subquery in FROM must have an alias"), "{err}");
    #[derive(QueryableByName, Debug, PartialEq)]
    struct Vet {
        #[diesel(sql_type = Text)]
        codetpvet: String,
        #[diesel(sql_type = Text)]
        codvrsvet: String,
        #[diesel(sql_type = Text)]
        libvet: String,
        #[diesel(sql_type = Text)]
        codtpd: String,
        #[diesel(sql_type = Text)]
        libtypdip: String,
    }
    let vets: Vec<Vet> = diesel::sql_query(inner)
        .bind::<Varchar, _>("%licence%".to_owned())
        .bind::<Varchar, _>("CG1".to_owned())
        .load(&mut c)?;
    assert_eq!(vets.len(), 1, "{vets:?}");
    assert_eq!(vets[0].codetpvet, "ETP01");
    assert_eq!(
        (vets[0].codvrsvet.as_str(), vets[0].libvet.as_str()),
        ("1", "Licence 1re année (démo)")
    );
    assert_eq!(
        (vets[0].codtpd.as_str(), vets[0].libtypdip.as_str()),
        ("LI", "Licence (démo)")
    );

    // N3: the diplomas of a VET, the version bound as a String.
    #[derive(QueryableByName, Debug, PartialEq)]
    struct Dip {
        #[diesel(sql_type = Text)]
        cod_dip: String,
        #[diesel(sql_type = Text)]
        cod_vrs_vdi: String,
        #[diesel(sql_type = Text)]
        lib_dip: String,
    }
    let dips: Vec<Dip> = diesel::sql_query("select distinct vdi_fractionner_vet.cod_dip, vdi_fractionner_vet.cod_vrs_vdi, diplome.lib_dip\r\nfrom vdi_fractionner_vet, diplome\r\nwhere vdi_fractionner_vet.cod_dip = diplome.cod_dip\r\nand cod_etp = $1\r\nand cod_vrs_vet = $2")
        .bind::<Varchar, _>("ETP01".to_owned())
        .bind::<Varchar, _>("1".to_owned())
        .load(&mut c)?;
    assert_eq!(
        dips,
        [Dip {
            cod_dip: "DIP01".into(),
            cod_vrs_vdi: "1".into(),
            lib_dip: "Licence démo".into()
        }]
    );

    // N5 (test mode).
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        count: i64,
    }
    let n5: Count = diesel::sql_query("select count(*) from APOGEE.IND_OPI where COD_IND_OPI = (select COD_IND_OPI from APOGEE.IND_OPI where COD_OPI_INT_EPO = 'JVMWT75DRZ')").get_result(&mut c)?;
    assert_eq!(n5.count, 1);

    // N4: one row deleted, journaled, its file cleaned up; nothing else.
    let n4 = format!(
        "DELETE FROM OPI_PJ WHERE COD_IND_OPI = {} AND COD_TPJ = 'PJ01'",
        pushed.opi
    );
    assert_eq!(diesel::sql_query(&n4).execute(&mut c)?, 1);
    assert_eq!(diesel::sql_query(&n4).execute(&mut c)?, 0);
    let list: Value = get_json(&app, "/api/v1/opi/JVMWT75DRZ/pj").await?;
    assert_eq!(list["pjs"].as_array().map(Vec::len), Some(0), "{list}");
    let journal: Value = get_json(&app, "/api/v1/journal?operation=OPI_PJ.DELETE").await?;
    assert_eq!(journal["meta"]["total"], 1, "{journal}");
    let entry = &journal["entries"][0];
    assert_eq!(
        (
            entry["channel"].as_str(),
            entry["client"].as_str(),
            entry["outcome"].as_str()
        ),
        (Some("sql"), Some(role.name.as_str()), Some("ok")),
        "{entry}"
    );
    assert_eq!(entry["key"], format!("{}/PJ01", pushed.opi), "{entry}");
    // Counted in the reports' daily aggregates as the journal writer counts its calls.
    let activity: Value = get_json(&app, "/api/v1/reports/activity").await?;
    let by_role = activity["clients"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["client"] == role.name.as_str())
        .map(|c| (c["calls"].clone(), c["rejects"].clone()));
    assert_eq!(by_role, Some((1.into(), 0.into())), "{activity}");
    let cleanup = apogee_app::pj::cleanup(&app.state, std::time::Duration::ZERO)
        .await
        .map_err(|e| e.message)?;
    assert_eq!(
        cleanup.orphans, 1,
        "the piece's file goes with the storage cleanup"
    );
    let opi: Value = get_json(&app, "/api/v1/opi/JVMWT75DRZ").await?;
    assert_eq!(
        opi["voeux"].as_array().map(Vec::len),
        Some(2),
        "only the piece went"
    );

    // The role sees the schema and nothing else (SQL-52).
    for sql in [
        "SELECT count(*) FROM public.opi_individu",
        "SELECT count(*) FROM public.call_journal",
        "SELECT count(*) FROM public.opi_pj",
        "DELETE FROM apogee.voeux_ins",
        "UPDATE apogee.opi_pj SET nom_fic = 'x'",
    ] {
        let err = diesel::sql_query(sql)
            .execute(&mut c)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("permission denied"), "{sql}: {err}");
    }
    drop(c);
    drop(role);
    app.stop().await;
    Ok(())
}

async fn get_json(app: &TestApp, path: &str) -> Result<Value, reqwest::Error> {
    app.get(path).send().await?.json().await
}

fn effective_clone(f: &Found) -> Found {
    Found {
        cod_ind_opi: f.cod_ind_opi,
        cod_opi_int_epo: f.cod_opi_int_epo.clone(),
    }
}

#[tokio::test]
async fn grant_refuses_sqlite_and_unknown_roles() -> TestResult {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return Ok(());
    };
    let out = grant(&app, "ecandidat")?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("exists only on PostgreSQL"), "{stderr}");
    app.stop().await;
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return Ok(());
    };
    let out = grant(&app, "no_such_role_for_ecandidat")?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("does not exist"), "{stderr}");
    app.stop().await;
    Ok(())
}

/// The same statements through pgjdbc (Debian's `libpostgresql-jdbc-java`), with the JDBC URL of
/// the README (`currentSchema=apogee`) and PreparedStatements typed as EclipseLink types them.
#[tokio::test]
async fn jdbc_client_reads_confirms_and_deletes() -> TestResult {
    let jar = "/usr/share/java/postgresql.jar";
    let have = std::path::Path::new(jar).exists()
        && Command::new("javac")
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true and {jar} or javac is missing: .ci/run must install libpostgresql-jdbc-java"
        );
        eprintln!("skipping: {jar} or javac is not available");
        return Ok(());
    }
    let Some((app, role, pushed)) = granted().await? else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let src = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/interop/java/EcandidatJdbc.java"
    );
    let out = Command::new("javac")
        .arg("-d")
        .arg(dir.path())
        .arg(src)
        .output()?;
    assert!(
        out.status.success(),
        "javac: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = format!(
        "jdbc:postgresql://{}?currentSchema=apogee&ApplicationName=eCandidat",
        role.host_port_db()
    );
    let out = Command::new("java")
        .arg("-cp")
        .arg(format!("{}:{jar}", dir.path().display()))
        .args([
            "EcandidatJdbc",
            &url,
            &role.name,
            "siscol",
            "JVMWT75DRZ",
            &pushed.opi.to_string(),
        ])
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    let list: Value = get_json(&app, "/api/v1/opi/JVMWT75DRZ/pj").await?;
    assert_eq!(
        list["pjs"].as_array().map(Vec::len),
        Some(0),
        "N4 through JDBC: {list}"
    );
    drop(role);
    app.stop().await;
    Ok(())
}
