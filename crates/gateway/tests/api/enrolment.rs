//! The lifecycle of a student on each backend: an OPI pushed over SOAP, its CVEC attestation
//! checked, an LP IAPRIMO created over SOAP, the primo enrolment over REST (refused first for a
//! missing CVEC, without writing anything), the student read back through EtudiantMetier and
//! AdministratifMetier, then the next year: a ban refuses the re-enrolment, a closed VET is
//! named, and an LP REINS lets the student re-enrol. Cancellation and the batch at the end.

use crate::both_backends;
use crate::helpers::TestApp;
use crate::read_services::both;
use serde_json::{Value, json};

/// The OPI of the lifecycle (`captured/jaxws-mettreajourDonneesOpi_v10-create-with-address-and-bac.xml`).
pub(crate) const OPI: &str = "JVMWT75HOJ";
pub(crate) const INE: &str = "3251424525T";
/// The first codEtu handed out on the demo data (range 20000001–29999999).
const FIRST: i64 = 22_512_346;

fn example(name: &str) -> Result<String, std::io::Error> {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/spec/examples")
            .join(name),
    )
}

async fn post(app: &TestApp, path: &str, body: Value) -> Result<(u16, Value), reqwest::Error> {
    let res = app
        .http
        .post(app.url(path))
        .bearer_auth(&app.admin_token)
        .json(&body)
        .send()
        .await?;
    let status = res.status().as_u16();
    Ok((status, res.json().await?))
}

async fn put_csv(app: &TestApp, path: &str, csv: &str) -> Result<u16, reqwest::Error> {
    let res = app
        .put(path)
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await?;
    Ok(res.status().as_u16())
}

fn lp(typ: &str, id_name: &str, id: &str, anu: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><ns2:mettreAJourLaissezPasserWS_V2 xmlns:ns2="gouv.education.apogee.commun.servicesmetiers.LaissezPasserMetier"><typLpa>{typ}</typLpa><codAnu>{anu}</codAnu><{id_name}>{id}</{id_name}><codEtp>ETP01</codEtp><codVrsVet>1</codVrsVet><codDip>DIP01</codDip><codVrsVdi>1</codVrsVdi><codRgi>1</codRgi></ns2:mettreAJourLaissezPasserWS_V2></S:Body></S:Envelope>"#
    )
}

fn reasons(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["code"].as_str().map(str::to_owned))
        .collect()
}

async fn cvec(
    app: &TestApp,
    anu: &str,
    number: &str,
    who: (&str, Value),
) -> Result<Value, Box<dyn std::error::Error>> {
    let csv = format!(
        "codAnu,numAttestation,nom,prenom,dateNaissance,ine,etatCode\n{anu},{number},LEGRAND-RSPYC,CAMILLE,2005-03-14,{INE},70\n"
    );
    assert_eq!(put_csv(app, "/api/v1/cvec/attestations", &csv).await?, 200);
    let mut body = json!({"numAttestation": number, "nom": "LEGRAND-RSPYC", "prenom": "CAMILLE",
                          "dateNaissance": "2005-03-14", "ine": INE, "codAnu": anu});
    body[who.0] = who.1;
    let (status, checked) = post(app, "/api/v1/cvec/check", body).await?;
    assert_eq!(
        (status, checked["result"].as_str()),
        (200, Some("VALIDE")),
        "{checked}"
    );
    Ok(checked)
}

/// Step 1 of the lifecycle: the OPI pushed over SOAP, then its LP IAPRIMO over SOAP; answers the
/// OPI's `codIndOpi`.
async fn push_opi_and_lp(app: &TestApp) -> Result<Value, Box<dyn std::error::Error>> {
    let opi_push =
        example("captured/jaxws-mettreajourDonneesOpi_v10-create-with-address-and-bac.xml")?;
    let (status, body) = app.soap("OpiMetier", opi_push).await?;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .soap("LaissezPasserMetier", lp("IAPRIMO", "numOPI", OPI, "2026"))
        .await?;
    assert_eq!(status, 200, "{body}");
    let opi: Value = app
        .get(&format!("/api/v1/opi/{OPI}"))
        .send()
        .await?
        .json()
        .await?;
    let cod_ind_opi = opi["codIndOpi"].clone();
    assert!(cod_ind_opi.is_i64(), "{opi}");
    Ok(cod_ind_opi)
}

fn primo_request() -> Value {
    json!({"codOpiIntEpo": OPI, "codAnu": "2026", "codEtp": "ETP01", "codVrsVet": 1})
}

/// A student created by the lifecycle (OPI and LP over SOAP, CVEC checked, primo enrolment in
/// 2026 ETP01 v1 over REST), for the interop clients: answers the enrolment (`codEtu`, `codInd`).
pub(crate) async fn lifecycle_student(app: &TestApp) -> Result<Value, Box<dyn std::error::Error>> {
    let cod_ind_opi = push_opi_and_lp(app).await?;
    cvec(app, "2026", "LEG1AAAAAA26", ("codIndOpi", cod_ind_opi)).await?;
    let (status, done) = post(app, "/api/v1/inscriptions", primo_request()).await?;
    assert_eq!(status, 201, "{done}");
    Ok(done)
}

both_backends! {
    async fn an_opi_becomes_a_student_who_re_enrols(app) {
        // 1. The OPI over SOAP, then its LP IAPRIMO over SOAP.
        let cod_ind_opi = push_opi_and_lp(app).await?;

        // 2. Without a CVEC attestation: refused with its reason, nothing written.
        let request = primo_request();
        let (status, problem) = post(app, "/api/v1/inscriptions", request.clone()).await?;
        assert_eq!(status, 409, "{problem}");
        assert_eq!(reasons(&problem), ["ACCES_CVEC_ABSENTE"], "{problem}");
        assert!(problem["detail"].as_str().unwrap_or_default().contains("CVEC"), "{problem}");
        let none: Value = app.get(&format!("/api/v1/etudiants?ine={INE}")).send().await?.json().await?;
        assert_eq!(none["meta"]["total"], 0, "a refused enrolment creates no student: {none}");

        // 3. The attestation checked, the enrolment passes and allocates the first free codEtu
        //    of the range: the counter starts after the highest number taken in it (the demo
        //    student 22512345), and the refused attempt consumed none.
        cvec(app, "2026", "LEG1AAAAAA26", ("codIndOpi", cod_ind_opi.clone())).await?;
        let (status, done) = post(app, "/api/v1/inscriptions", request.clone()).await?;
        assert_eq!(status, 201, "{done}");
        assert_eq!((done["codEtu"].as_i64(), done["etudiantCree"].as_bool(), done["source"].as_str()), (Some(FIRST), Some(true), Some("lp")), "{done}");
        assert_eq!((done["cvec"].as_str(), done["codRgi"].as_str()), (Some("VALIDE"), Some("1")), "{done}");
        let cod_etu = done["codEtu"].to_string();
        // Repeating it answers the same student.
        let (status, again) = post(app, "/api/v1/inscriptions", request.clone()).await?;
        assert_eq!((status, again["status"].as_str(), again["codEtu"].as_i64()), (200, Some("unchanged"), Some(FIRST)), "{again}");

        // 4. Read back through the read services (SOAP = REST).
        let ids = both(app, "EtudiantMetier", "recupererIdentifiantsEtudiant_v2", &[("codOPI", OPI)]).await?;
        assert_eq!(ids[0]["codEtu"].to_string(), cod_etu, "{ids:?}");
        assert_eq!(ids[0]["numeroINE"], INE);
        let by_ine = both(app, "EtudiantMetier", "recupererIdentifiantsEtudiant_v2", &[("numINE", INE)]).await?;
        assert_eq!(by_ine, ids);
        let adm = both(app, "EtudiantMetier", "recupererInfosAdmEtu_v4", &[("codEtu", &cod_etu)]).await?;
        let a = &adm[0];
        assert_eq!((a["nomPatronymique"].as_str(), a["prenom1"].as_str()), (Some("LEGRAND-RSPYC"), Some("CAMILLE")), "{a}");
        assert_eq!(a["sexe"], "F", "{a}");
        assert_eq!(a["libVilleNaissance"], "ÉPINAL", "{a}");
        assert_eq!(a["nationaliteDTO"]["codeNationalite"], "100", "{a}");
        assert_eq!(a["listeBacs"][0]["codBac"], "S", "{a}");
        assert_eq!(a["listeBacs"][0]["anneeObtentionBac"], "2025", "{a}");
        assert_eq!(a["anneePremiereInscEtb"], "2026", "{a}");
        let adr = both(app, "EtudiantMetier", "recupererAdressesEtudiant_v2", &[("codEtu", &cod_etu), ("annee", "2026"), ("recupAnnuaire", "N")]).await?;
        let c = &adr[0];
        assert_eq!(c["adresseFixe"]["libAd1"], "12 RUE DES FORGES", "{c}");
        assert_eq!(c["adresseFixe"]["commune"]["codePostal"], "88000", "{c}");
        assert_eq!(c["email"], "camille.legrand@example.org", "{c}");
        assert_eq!(c["numTelPortable"], "0612345678", "{c}");
        let iae = both(app, "AdministratifMetier", "recupererIAEtapes_v3", &[("codEtu", &cod_etu), ("annee", "2026"), ("etatIAA", "E"), ("etatIAE", "E")]).await?;
        assert_eq!(iae.len(), 1, "{iae:?}");
        assert_eq!(iae[0]["etape"]["codeEtp"], "ETP01", "{iae:?}");
        // What the enrolment recorded: the LP's régime and diploma version, the day it was made.
        let today = format!("{}T00:00:00", chrono::Local::now().date_naive());
        assert_eq!(iae[0]["regimeIns"], json!({"codRgi": "1", "libRgi": "Formation initiale (démo)"}), "{iae:?}");
        assert_eq!((iae[0]["diplome"]["codeDiplome"].as_str(), iae[0]["diplome"]["versionDiplome"].as_str()), (Some("DIP01"), Some("1")), "{iae:?}");
        assert_eq!(iae[0]["dateIAE"], today, "{iae:?}");
        let iaa = both(app, "AdministratifMetier", "recupererIAAnnuelles_v2", &[("codEtu", &cod_etu), ("annee", "2026")]).await?;
        assert_eq!((iaa[0]["regimeIns"]["codRgi"].as_str(), iaa[0]["dateIAA"].as_str()), (Some("1"), Some(today.as_str())), "{iaa:?}");
        let years = both(app, "AdministratifMetier", "recupererAnneesIa", &[("codEtu", &cod_etu)]).await?;
        assert!(years.iter().any(|y| y["annee"] == "2026" || y == "2026"), "{years:?}");
        let file: Value = app.get(&format!("/api/v1/etudiants/{cod_etu}")).send().await?.json().await?;
        assert_eq!(file["dossier"]["codOpiIntEpo"], OPI, "{file}");
        assert_eq!(file["inscriptionsEtapes"][0]["etaPmtIae"], "P", "{file}");

        // 5. The next year opens; a ban refuses the re-enrolment (with the missing LP and CVEC).
        assert_eq!(put_csv(app, "/api/v1/referential/annees", "codAnu,libAnu,etaAnuIae,licAnu\n2027,2027/2028,O,2027/2028\n").await?, 200);
        assert_eq!(put_csv(app, "/api/v1/referential/vet-ouvertures", "codAnu,codEtp,codVrsVet,codCgeMinpVet,datDebMinpVet,datFinMinpVet,codCgeMinVet,datDebMinVet,datFinMinVet\n2027,ETP01,1,CG1,2026-09-01,2028-08-31,CG1,2026-09-01,2028-08-31\n").await?, 200);
        let reins = json!({"codEtu": cod_etu, "codAnu": "2027", "codEtp": "ETP01", "codVrsVet": 1});
        let (status, problem) = post(app, "/api/v1/inscriptions", reins.clone()).await?;
        assert_eq!((status, reasons(&problem)), (409, vec!["ACCES_AUCUN_DROIT".to_owned(), "ACCES_CVEC_ABSENTE".to_owned()]), "{problem}");
        let (status, body) = app.soap("LaissezPasserMetier", lp("REINS", "codEtu", &cod_etu, "2027")).await?;
        assert_eq!(status, 200, "{body}");
        cvec(app, "2027", "LEG1AAAAAA27", ("codInd", done["codInd"].clone())).await?;
        let mut banned = file.clone();
        for k in ["codInd", "createdAt", "updatedAt", "dossier"] {
            banned.as_object_mut().map(|o| o.remove(k));
        }
        banned["blocages"] = json!([{"codBlo": "BU", "typBlo": "A", "libBlo": "Dette bibliothèque"}]);
        // The register re-sync also brings an older year: the 2026 enrolments are merged, not
        // replaced, and keep what the enrolment recorded.
        if let Some(a) = banned["inscriptionsAnnuelles"].as_array_mut() {
            a.push(json!({"codAnu": "2024", "etaIaa": "E"}));
        }
        let res = app.put(&format!("/api/v1/etudiants/{cod_etu}")).json(&banned).send().await?;
        assert_eq!(res.status(), 200, "{}", res.text().await?);
        let kept = both(app, "AdministratifMetier", "recupererIAEtapes_v3", &[("codEtu", &cod_etu), ("annee", "2026")]).await?;
        assert_eq!((kept[0]["regimeIns"]["codRgi"].as_str(), kept[0]["dateIAE"].as_str()), (Some("1"), Some(today.as_str())), "{kept:?}");
        let years = both(app, "AdministratifMetier", "recupererIAAnnuelles_v2", &[("codEtu", &cod_etu), ("annee", "toutes")]).await?;
        assert_eq!(years.iter().map(|y| (y["anneeIAA"].as_str(), y["dateIAA"].as_str())).collect::<Vec<_>>(),
                   [(Some("2024"), None), (Some("2026"), Some(today.as_str()))], "the register's year has no date: {years:?}");
        let (status, problem) = post(app, "/api/v1/inscriptions", reins.clone()).await?;
        assert_eq!((status, reasons(&problem)), (409, vec!["ACCES_BLOCAGE".to_owned()]), "{problem}");
        // A VET not opened that year is named.
        let closed = json!({"codEtu": cod_etu, "codAnu": "2027", "codEtp": "ETP03", "codVrsVet": 1});
        let (status, problem) = post(app, "/api/v1/inscriptions", closed).await?;
        assert_eq!(status, 409, "{problem}");
        assert!(reasons(&problem).contains(&"ACCES_AUCUN_DROIT".to_owned()), "{problem}");

        // 6. The ban lifted, the student re-enrols through the LP REINS.
        banned["blocages"] = json!([]);
        let res = app.put(&format!("/api/v1/etudiants/{cod_etu}")).json(&banned).send().await?;
        assert_eq!(res.status(), 200);
        let (status, done2) = post(app, "/api/v1/inscriptions", reins.clone()).await?;
        assert_eq!(status, 201, "{done2}");
        assert_eq!((done2["codEtu"].to_string(), done2["etudiantCree"].as_bool(), done2["source"].as_str()), (cod_etu.clone(), Some(false), Some("lp")), "{done2}");
        let iae = both(app, "AdministratifMetier", "recupererIAEtapes_v3", &[("codEtu", &cod_etu), ("annee", "2027"), ("etatIAA", "E"), ("etatIAE", "E")]).await?;
        assert_eq!(iae.len(), 1, "{iae:?}");
        // The student file survived the student PUT without a dossier.
        let adm = both(app, "EtudiantMetier", "recupererInfosAdmEtu_v4", &[("codEtu", &cod_etu)]).await?;
        assert_eq!(adm[0]["sexe"], "F");

        // 7. Cancelling the 2027 enrolment: étape and year cancelled, the codEtu kept.
        let res = app.http.delete(app.url(&format!("/api/v1/inscriptions/{cod_etu}/2027/ETP01/1"))).bearer_auth(&app.admin_token).send().await?;
        assert_eq!(res.status(), 200);
        let cancelled: Value = res.json().await?;
        assert_eq!((cancelled["etapesAnnulees"].as_u64(), cancelled["annuelleAnnulee"].as_bool()), (Some(1), Some(true)), "{cancelled}");
        let res = app.http.delete(app.url(&format!("/api/v1/inscriptions/{cod_etu}/2027/ETP01/1"))).bearer_auth(&app.admin_token).send().await?;
        assert_eq!(res.status(), 404, "nothing left to cancel");
        let (status, problem) = post(app, "/api/v1/inscriptions", reins).await?;
        assert_eq!((status, reasons(&problem)), (409, vec!["ACCES_IAA_ANNULEE".to_owned()]), "{problem}");
        Ok(())
    }
}

both_backends! {
    async fn an_enrolment_batch_reports_every_line(app) {
        let (status, _) = app.soap("OpiMetier", example("captured/jaxws-mettreajourDonneesOpi_v10-create-with-address-and-bac.xml")?).await?;
        assert_eq!(status, 200);
        let opi: Value = app.get(&format!("/api/v1/opi/{OPI}")).send().await?.json().await?;
        cvec(app, "2026", "LEG1AAAAAA26", ("codIndOpi", opi["codIndOpi"].clone())).await?;
        // The vœu on ETP01 is favourable: no LP needed. ETP03 has no vœu; 10000003 is banned;
        // a bad line names its line number.
        let csv = format!("codOpiIntEpo,codEtu,codAnu,codEtp,codVrsVet\n{OPI},,2026,ETP01,1\n{OPI},,2026,ETP01,1\n,10000003,2026,ETP01,1\n\n,10000001,2026,ETPX,abc\n");
        let res = app.http.post(app.url("/api/v1/inscriptions/batch")).bearer_auth(&app.admin_token).header("content-type", "text/csv").body(csv).send().await?;
        assert_eq!(res.status(), 200);
        let report: Value = res.json().await?;
        assert_eq!((report["total"].as_u64(), report["created"].as_u64(), report["unchanged"].as_u64(), report["rejected"].as_u64()), (Some(4), Some(1), Some(1), Some(2)), "{report}");
        let lines = report["lines"].as_array().cloned().unwrap_or_default();
        assert_eq!(lines[0]["codEtu"], FIRST);
        assert_eq!((lines[1]["status"].as_str(), lines[1]["codEtu"].as_i64()), (Some("unchanged"), Some(FIRST)));
        assert_eq!(lines[2]["faultKey"].as_str().map(|k| k.starts_with("functionnal.borules.inscription.")), Some(true), "{report}");
        assert!(lines[2]["errors"].as_array().into_iter().flatten().any(|e| e["code"] == "ACCES_BLOCAGE"), "{report}");
        assert_eq!((lines[3]["line"].as_u64(), lines[3]["status"].as_str()), (Some(6), Some("rejected")), "{report}");
        assert_eq!(lines[3]["errors"][0]["line"], 6);
        // A header error writes nothing.
        let res = app.http.post(app.url("/api/v1/inscriptions/batch")).bearer_auth(&app.admin_token).header("content-type", "text/csv").body("codEtu,nope\n1,2\n").send().await?;
        assert_eq!(res.status(), 400);
        Ok(())
    }
}

/// An enrolment records the diploma version its LP names: AdministratifMetier and the
/// pedagogical contract answer that version, not the first one the referential links to the VET.
async fn the_recorded_diploma_version_is_answered_body(
    backend: crate::helpers::Backend,
) -> crate::helpers::TestResult {
    let Some(owned) = TestApp::spawn_with(backend, |s| s.enrolment.require_cvec = false).await
    else {
        return Ok(());
    };
    let app = &owned;
    assert_eq!(
        put_csv(
            app,
            "/api/v1/referential/versions-diplome",
            "codDip,codVrsVdi,libVdi,temEnSveVdi\nDIP01,2,Licence démo - version 2,O\n"
        )
        .await?,
        200
    );
    assert_eq!(put_csv(app, "/api/v1/referential/vdi-vet", "codDip,codVrsVdi,codEtp,codVrsVet,daaDebRctVet,daaFinRctVet\nDIP01,2,ETP01,1,2020,2030\n").await?, 200);
    let res = app
        .put("/api/v1/laissez-passer/REINS/10000001/2026/ETP01/1")
        .json(&json!({"codDip": "DIP01", "codVrsVdi": 2, "codRgi": "1"}))
        .send()
        .await?;
    assert!(res.status().is_success(), "{}", res.text().await?);
    let (status, done) = post(
        app,
        "/api/v1/inscriptions",
        json!({"codEtu": 10000001, "codAnu": "2026", "codEtp": "ETP01", "codVrsVet": 1}),
    )
    .await?;
    assert_eq!(status, 201, "{done}");
    let iae = both(
        app,
        "AdministratifMetier",
        "recupererIAEtapes_v3",
        &[("codEtu", "10000001"), ("annee", "2026")],
    )
    .await?;
    assert_eq!(
        (
            iae[0]["diplome"]["codeDiplome"].as_str(),
            iae[0]["diplome"]["versionDiplome"].as_str()
        ),
        (Some("DIP01"), Some("2")),
        "{iae:?}"
    );
    assert_eq!(
        iae[0]["diplome"]["libVdi"], "Licence démo - version 2",
        "{iae:?}"
    );
    let c = both(
        app,
        "PedagogiqueMetier",
        "recupererContratPedagogiqueResultatVdiVet_v2",
        &[("codEtu", "10000001"), ("codAnu", "2026")],
    )
    .await?;
    assert_eq!(
        (
            c[0]["diplome"]["codDip"].as_str(),
            c[0]["diplome"]["codVrsVdi"].as_i64()
        ),
        (Some("DIP01"), Some(2)),
        "{c:?}"
    );
    // The 2025 enrolment (loaded by the register, nothing recorded) keeps the referential's first link.
    let c = both(
        app,
        "PedagogiqueMetier",
        "recupererContratPedagogiqueResultatVdiVet_v2",
        &[("codEtu", "10000001"), ("codAnu", "2025")],
    )
    .await?;
    assert_eq!(c[0]["diplome"]["codVrsVdi"], 1, "{c:?}");
    owned.stop().await;
    Ok(())
}

mod the_recorded_diploma_version_is_answered {
    #[tokio::test]
    async fn sqlite() -> crate::helpers::TestResult {
        super::the_recorded_diploma_version_is_answered_body(crate::helpers::Backend::Sqlite).await
    }

    #[tokio::test]
    async fn postgres() -> crate::helpers::TestResult {
        super::the_recorded_diploma_version_is_answered_body(crate::helpers::Backend::Postgres)
            .await
    }
}
