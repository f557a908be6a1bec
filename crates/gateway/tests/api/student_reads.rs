//! EtudiantMetier and AdministratifMetier over SOAP on the demo students
//! (`crates/db/demo/etudiants.csv`): every answer read element by element against the DTO shapes
//! and equal to its REST twin, for every demo student and every lookup key; the "not found" and
//! bad-parameter faults clients map; scope `etudiant:read`.

use crate::both_backends;
use crate::read_services::{both, envelope, fault, rest, soap};
use serde_json::{Value, json};

const ETU: &str = "EtudiantMetier";
const ADM: &str = "AdministratifMetier";

/// (codEtu, INE, birth surname, first name, birth date) of the demo students.
const DEMO: &[(&str, Option<&str>, &str, &str, &str)] = &[
    (
        "10000001",
        Some("2204123456R"),
        "DUPONT",
        "ALICE",
        "2004-05-12",
    ),
    ("10000002", None, "BERNARD", "HUGO", "2003-11-02"),
    (
        "10000003",
        Some("2301987654U"),
        "THOMAS",
        "INÈS",
        "2004-01-20",
    ),
    (
        "10000004",
        Some("2102345678W"),
        "PETIT",
        "LOUIS",
        "2002-07-08",
    ),
    (
        "22512345",
        Some("1907654321F"),
        "ROBERT",
        "CHLOÉ",
        "2003-03-03",
    ),
];

fn years(items: &[Value]) -> Vec<&str> {
    items.iter().filter_map(|i| i["annee"].as_str()).collect()
}

both_backends! {
    async fn every_demo_student_is_answered_by_every_key_and_operation(app) {
        for (cod_etu, ine, nom, prenom, date) in DEMO {
            let ids = both(app, ETU, "recupererIdentifiantsEtudiant_v2", &[("codEtu", cod_etu), ("temoinRecupAnnu", "N")]).await?;
            assert_eq!(ids[0]["codEtu"].to_string(), *cod_etu);
            let cod_ind = ids[0]["codInd"].as_i64().unwrap_or_default();
            assert!(cod_ind > 0, "codInd never nil: {ids:?}");
            assert_eq!(ids[0]["numeroINE"].as_str(), *ine);
            assert_eq!(ids[0]["emailAnnuaire"], Value::Null);
            // The same student by each other key, PHP style (every parameter, '' when unset).
            let by_ind = both(app, ETU, "recupererIdentifiantsEtudiant_v2", &[("codEtu", ""), ("codInd", &cod_ind.to_string()), ("numINE", ""), ("numBoursier", ""), ("codOPI", ""), ("nom", ""), ("prenom", ""), ("dateNaiss", ""), ("temoinRecupAnnu", "")]).await?;
            assert_eq!(by_ind, ids);
            if let Some(ine) = ine {
                assert_eq!(both(app, ETU, "recupererIdentifiantsEtudiant_v2", &[("numINE", &ine.to_lowercase())]).await?, ids);
            }
            let french = format!("{}/{}/{}", &date[8..10], &date[5..7], &date[..4]);
            assert_eq!(both(app, ETU, "recupererIdentifiantsEtudiant_v2", &[("nom", &nom.to_lowercase()), ("prenom", prenom), ("dateNaiss", &french)]).await?, ids);

            for v in ["recupererInfosAdmEtu_v4", "recupererInfosAdmEtu_v3"] {
                let adm = both(app, ETU, v, &[("codEtu", cod_etu)]).await?;
                let a = &adm[0];
                assert_eq!(a["numEtu"].to_string(), *cod_etu);
                assert_eq!((a["nomPatronymique"].as_str(), a["prenom1"].as_str()), (Some(*nom), Some(*prenom)));
                assert_eq!(a["dateNaissance"], format!("{date}T00:00:00"), "local midnight, no offset");
                assert_eq!(a["numeroINE"].as_str(), *ine);
                // Every demo student holds a bac but 10000003 (born abroad): an empty container then, never nil.
                let bacs = a["listeBacs"].as_array().map(Vec::len);
                assert_eq!(bacs, Some(usize::from(*cod_etu != "10000003")), "{cod_etu}: {}", a["listeBacs"]);
                assert!(a["listeBlocages"].is_array(), "never nil");
                for block in ["etbPremiereInscUniv", "nationaliteDTO", "paysNaissance", "departementNaissance"] {
                    assert!(a[block].is_object(), "{block}: an empty block, never nil");
                }
            }
            let coord = both(app, ETU, "recupererAdressesEtudiant_v2", &[("codEtu", cod_etu), ("recupAnnuaire", "N")]).await?;
            assert!(coord[0]["adresseFixe"]["pays"].is_object() && coord[0]["adresseAnnuelle"]["pays"].is_object());
            assert!(coord[0]["typeHebergement"].is_object());
            let all_years = both(app, ADM, "recupererAnneesIa", &[("codEtu", cod_etu)]).await?;
            assert_eq!(coord[0]["annee"].as_str(), years(&all_years).last().copied(), "the latest yearly enrolment");

            let iaa = both(app, ADM, "recupererIAAnnuelles_v2", &[("codEtu", cod_etu), ("annee", "toutes"), ("etatIAA", "ARE")]).await?;
            let iaa_years: Vec<&str> = iaa.iter().filter_map(|i| i["anneeIAA"].as_str()).collect();
            assert_eq!(iaa_years, years(&all_years));
            let iae = both(app, ADM, "recupererIAEtapes_v3", &[("codEtu", cod_etu), ("annee", "2025"), ("etatIAA", "E"), ("etatIAE", "E")]).await?;
            for i in &iae {
                assert_eq!(i["anneeIAE"], "2025");
                for never_nil in ["etape", "composante", "diplome", "cge", "etatIae", "etatIaa", "codeInscriptionPayee", "inscriptionPayee"] {
                    assert!(!i[never_nil].is_null(), "{never_nil} never nil");
                }
            }
        }

        // What the demo students hold, field by field.
        let iae = both(app, ADM, "recupererIAEtapes_v3", &[("codEtu", "10000001")]).await?;
        assert_eq!(iae.len(), 1);
        let i = &iae[0];
        assert_eq!(i["etape"], json!({"codeEtp": "ETP01", "libLongEtp": "L1 démo", "libWebVet": "Licence 1re année (démo)", "versionEtp": "1"}));
        assert_eq!(i["diplome"]["codeDiplome"], "DIP01");
        assert_eq!(i["diplome"]["versionDiplome"], "1");
        assert_eq!(i["diplome"]["libVdi"], "Licence démo - version 1");
        assert_eq!(i["composante"]["codComposante"], "UFR");
        assert_eq!(i["cge"], json!({"codeCGE": "CG1", "libCGE": "Centre de gestion démo 1"}));
        assert_eq!((i["codeInscriptionPayee"].as_str(), i["inscriptionPayee"].as_str()), (Some("P"), Some("Paiement effectué")));
        assert_eq!(i["etatIae"]["codeEtatIAE"], "E");
        assert_eq!(i["etatIaa"]["libEtatIAA"], "En cours");
        assert_eq!(i["listeSpecialiteSISE"], json!([]));
        assert_eq!(i["catOuiSi"], Value::Null);

        let blo = both(app, ETU, "recupererInfosAdmEtu_v4", &[("codEtu", "10000003")]).await?;
        assert_eq!(blo[0]["listeBlocages"][0]["codBlocage"], "BU");
        assert_eq!(blo[0]["listeBlocages"][0]["libBlocage"], "Dette bibliothèque (démo)");
        assert_eq!(blo[0]["listeBlocages"][0]["typBlocage"]["codTypBlocage"], "A");

        // 10000004: 2025 in progress, 2026 cancelled.
        assert_eq!(years(&both(app, ADM, "recupererAnneesIa", &[("codEtu", "10000004")]).await?), ["2025", "2026"]);
        assert_eq!(years(&both(app, ADM, "recupererAnneesIa", &[("codEtu", "10000004"), ("etatInscriptionIA", "E")]).await?), ["2025"]);
        let cancelled = both(app, ADM, "recupererIAAnnuelles_v2", &[("codEtu", "10000004"), ("annee", "2026")]).await?;
        assert_eq!(cancelled[0]["etatIaa"], json!({"codeEtatIAA": "A", "libEtatIAA": "Annulée", "temDosIAA": null}));
        let coord = both(app, ETU, "recupererAdressesEtudiant_v2", &[("codEtu", "10000004"), ("annee", "2025")]).await?;
        assert_eq!(coord[0]["annee"], "2025");
        assert_eq!(coord[0]["email"], "louis.petit@example.org");
        assert_eq!(coord[0]["adresseFixe"]["libAd1"], "22 RUE SERPENOISE");

        // The full files of the demo: bac, birth abroad, nationality.
        let alice = &both(app, ETU, "recupererInfosAdmEtu_v4", &[("codEtu", "10000001")]).await?[0];
        assert_eq!((alice["listeBacs"][0]["codBac"].as_str(), alice["listeBacs"][0]["anneeObtentionBac"].as_str()), (Some("GDEM"), Some("2022")));
        assert_eq!(alice["prenom2"], "MARIE");
        let ines = &both(app, ETU, "recupererInfosAdmEtu_v4", &[("codEtu", "10000003")]).await?[0];
        assert_eq!(ines["paysNaissance"]["codPay"], "109", "{ines}");
        assert_eq!(ines["libVilleNaissance"], "BERLIN", "{ines}");

        // By OPI number: the student an OPI names (codEtuOpi).
        let opi = json!({"individu": {
            "codOpiIntEpo": "EC10000001", "codEtuOpi": 10000001,
            "donneesNaissance": {"dateNaiIndOpi": "12052004", "temDateNaiRelOpi": "N", "codTypDepPayNai": "D", "codDepPayNai": "025", "codPayNat": "100"},
            "etatCivil": {"codNneIndOpi": "2204123456R", "libNomPatIndOpi": "DUPONT", "libPr1IndOpi": "ALICE", "codSexEtuOpi": "F"}
        }});
        let res = app.put("/api/v1/opi/EC10000001").json(&opi).send().await?;
        assert!(res.status().is_success(), "{}", res.text().await?);
        let by_opi = both(app, ETU, "recupererIdentifiantsEtudiant_v2", &[("codOPI", "ec10000001")]).await?;
        assert_eq!(by_opi[0]["codEtu"], 10000001);
        Ok(())
    }
}

both_backends! {
    async fn unknown_students_and_bad_parameters_are_the_faults_clients_map(app) {
        let nothing = "technical.data.nullretrieve.";
        for (service, name, params, entity) in [
            (ETU, "recupererIdentifiantsEtudiant_v2", vec![("codEtu", "99999999")], "etudiant"),
            (ETU, "recupererIdentifiantsEtudiant_v2", vec![("numINE", "0000000000A")], "etudiant"),
            (ETU, "recupererIdentifiantsEtudiant_v2", vec![("codOPI", "NOPE")], "etudiant"),
            (ETU, "recupererIdentifiantsEtudiant_v2", vec![("numBoursier", "B123")], "etudiant"),
            (ETU, "recupererIdentifiantsEtudiant_v2", vec![("nom", "DUPONT"), ("prenom", "ALICE"), ("dateNaiss", "13/05/2004")], "etudiant"),
            (ETU, "recupererIdentifiantsEtudiant_v2", vec![("codEtu", "10000001"), ("numINE", "2301987654U")], "etudiant"),
            (ETU, "recupererInfosAdmEtu_v4", vec![("codEtu", "99999999")], "etudiant"),
            (ETU, "recupererInfosAdmEtu_v3", vec![("codEtu", "99999999")], "etudiant"),
            (ETU, "recupererAdressesEtudiant_v2", vec![("codEtu", "99999999")], "etudiant"),
            (ETU, "recupererAdressesEtudiant_v2", vec![("codEtu", "10000001"), ("annee", "2019")], "findIAA"),
            (ADM, "recupererIAAnnuelles_v2", vec![("codEtu", "99999999")], "etudiant"),
            (ADM, "recupererIAAnnuelles_v2", vec![("codEtu", "10000001"), ("annee", "2019")], "findIAA"),
            (ADM, "recupererIAAnnuelles_v2", vec![("codEtu", "10000004"), ("annee", "2026"), ("etatIAA", "E")], "findIAA"),
            (ADM, "recupererIAEtapes_v3", vec![("codEtu", "99999999")], "etudiant"),
            (ADM, "recupererIAEtapes_v3", vec![("codEtu", "10000001"), ("annee", "2026")], "findIAE"),
        ] {
            fault(app, service, name, &params, &format!("{nothing}{entity}"), 404).await?;
        }
        let bad = "technical.parameter.noncoherentinput.";
        for (service, name, params, element) in [
            (ETU, "recupererIdentifiantsEtudiant_v2", vec![("codEtu", "12AB")], "codEtu"),
            (ETU, "recupererIdentifiantsEtudiant_v2", vec![("codEtu", "123456789")], "codEtu"),
            (ETU, "recupererIdentifiantsEtudiant_v2", vec![("codInd", "x")], "codInd"),
            (ETU, "recupererIdentifiantsEtudiant_v2", vec![("numINE", "123")], "numINE"),
            (ETU, "recupererIdentifiantsEtudiant_v2", vec![("nom", "DUPONT"), ("prenom", "ALICE"), ("dateNaiss", "hier")], "dateNaiss"),
            (ETU, "recupererIdentifiantsEtudiant_v2", vec![("nom", "DUPONT")], "prenomobligatoire"),
            (ETU, "recupererIdentifiantsEtudiant_v2", vec![], "identifiantobligatoire"),
            (ETU, "recupererIdentifiantsEtudiant_v2", vec![("codEtu", "10000001"), ("temoinRecupAnnu", "peut-être")], "temoinRecupAnnu"),
            (ETU, "recupererInfosAdmEtu_v4", vec![("codEtu", "abc")], "codEtu"),
            (ETU, "recupererInfosAdmEtu_v4", vec![], "codEtuobligatoire"),
            (ETU, "recupererAdressesEtudiant_v2", vec![("codEtu", "10000001"), ("annee", "25")], "annee"),
            (ADM, "recupererAnneesIa", vec![("codEtu", "10000001"), ("etatInscriptionIA", "X")], "etatInscriptionIA"),
            (ADM, "recupererIAAnnuelles_v2", vec![("codEtu", "10000001"), ("annee", "l'an dernier")], "annee"),
            (ADM, "recupererIAEtapes_v3", vec![("codEtu", "10000001"), ("etatIAE", "Z")], "etatIAE"),
        ] {
            fault(app, service, name, &params, &format!("{bad}{element}"), 400).await?;
        }
        // recupererAnneesIa: nothing is an empty answer, not a fault (§10.3).
        for params in [vec![("codEtu", "99999999")], vec![("codEtu", "10000004"), ("etatInscriptionIA", "R")]] {
            match soap(app, ADM, "recupererAnneesIa", &params).await? {
                Ok(items) => assert!(items.is_empty(), "{items:?}"),
                Err(f) => panic!("{params:?}: {f:?}"),
            }
            let (status, body) = rest(app, ADM, "recupererAnneesIa", &params).await?;
            assert_eq!((status, &body["items"]), (200, &json!([])));
        }
        // Declared, not served.
        let (status, body) = app.soap(ETU, envelope(ETU, "recupererInfosAdmEtu_v4", &[]).replace("recupererInfosAdmEtu_v4", "recupererNumeroSecuriteSociale")).await?;
        assert_eq!(status, 500);
        assert!(body.contains("<faultstring>technical.parameter.noncoherentinput.operation</faultstring>"), "{body}");
        Ok(())
    }
}

both_backends! {
    async fn the_student_services_need_etudiant_read(app) {
        let secret = app.client_with("referentiel-seul", "ref:read").await;
        for (service, name) in [(ETU, "recupererInfosAdmEtu_v4"), (ADM, "recupererIAEtapes_v3")] {
            let res = app.http.post(app.url(&format!("/apo-commun-servicesMetiers/services/{service}")))
                .bearer_auth(&secret)
                .header("Content-Type", "text/xml; charset=utf-8")
                .body(envelope(service, name, &[("codEtu", "10000001")]))
                .send().await?;
            assert_eq!(res.status(), 403);
            assert!(res.text().await?.contains("technical.security.forbidden.etudiant:read"));
            let res = app.http.get(app.url(&format!("/api/v1/services/{service}/{name}?codEtu=10000001"))).bearer_auth(&secret).send().await?;
            assert_eq!(res.status(), 403);
        }
        let reader = app.client_with("esup-mdw", "etudiant:read").await;
        let res = app.http.get(app.url("/api/v1/services/EtudiantMetier/recupererInfosAdmEtu_v4?codEtu=10000001")).bearer_auth(&reader).send().await?;
        assert_eq!(res.status(), 200);
        let res = app.http.get(app.url("/api/v1/services/ReferentielMetier/recupererCGE")).bearer_auth(&reader).send().await?;
        assert_eq!(res.status(), 403, "etudiant:read does not grant ref:read");
        // Journaled like the other SOAP services, with the student number as key.
        let res = app.http.post(app.url("/apo-commun-servicesMetiers/services/EtudiantMetier"))
            .bearer_auth(&reader)
            .header("Content-Type", "text/xml; charset=utf-8")
            .body(envelope(ETU, "recupererIdentifiantsEtudiant_v2", &[("codEtu", "10000003")]))
            .send().await?;
        assert_eq!(res.status(), 200);
        app.flush_journal().await;
        let journal: Value = app.get("/api/v1/journal?operation=recupererIdentifiantsEtudiant_v2").send().await?.json().await?;
        let text = journal.to_string();
        assert!(text.contains("10000003") && text.contains("esup-mdw"), "{journal}");
        Ok(())
    }
}

/// A `recupererListeEtudiants` envelope as JAX-WS sends it (§17.3): unset single criteria nil,
/// `listEtapes`/`listDiplomes` one container with an item per code (its versions repeated),
/// repeated leaves one element per value; from the REST twin's parameters (`CODE:VERSION`).
fn liste_envelope(params: &[(&str, &str)]) -> String {
    let mut inner = String::new();
    let single = |name: &str| params.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    inner.push_str(&match single("annee") {
        Some(y) => format!("<annee>{y}</annee>"),
        None => "<annee xsi:nil=\"true\"/>".to_owned(),
    });
    for list in ["listDiplomes", "listEtapes"] {
        let mut items: Vec<(String, Vec<String>)> = Vec::new();
        for (_, v) in params.iter().filter(|(n, _)| *n == list) {
            let (code, version) = v.split_once(':').map_or((*v, None), |(c, v)| (c, Some(v)));
            match items.iter_mut().find(|(c, _)| c == code) {
                Some((_, vs)) => vs.extend(version.map(str::to_owned)),
                None => items.push((
                    code.to_owned(),
                    version.map(str::to_owned).into_iter().collect(),
                )),
            }
        }
        if items.is_empty() {
            inner.push_str(&format!("<{list} xsi:nil=\"true\"/>"));
            continue;
        }
        inner.push_str(&format!("<{list}>"));
        for (code, versions) in items {
            inner.push_str(&format!("<item><code>{code}</code>"));
            for v in versions {
                inner.push_str(&format!("<listVersion>{v}</listVersion>"));
            }
            inner.push_str("</item>");
        }
        inner.push_str(&format!("</{list}>"));
    }
    inner.push_str("<codeCollectionVET xsi:nil=\"true\"/><codeGroupeVET xsi:nil=\"true\"/>");
    for leaf in ["listCentreGestion", "listComposante"] {
        for (_, v) in params.iter().filter(|(n, _)| *n == leaf) {
            inner.push_str(&format!("<{leaf}>{v}</{leaf}>"));
        }
    }
    inner.push_str("<temVapp xsi:nil=\"true\"/><objetResultat xsi:nil=\"true\"/>");
    format!(
        r#"<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><S:Body><ns2:recupererListeEtudiants xmlns:ns2="{ns}"><_parametres>{inner}</_parametres></ns2:recupererListeEtudiants></S:Body></S:Envelope>"#,
        ns = apogee_domain::refread::ETUDIANT_NS
    )
}

/// `recupererListeEtudiants` over both channels: the codEtu of the items, or the fault key.
async fn liste(
    app: &crate::helpers::TestApp,
    params: &[(&str, &str)],
) -> Result<Result<Vec<String>, String>, Box<dyn std::error::Error>> {
    use crate::read_services::{find, parse, read};
    let (status, body) = app.soap(ETU, liste_envelope(params)).await?;
    let root = parse(&body)?;
    let (rest_status, rest_body) = rest(app, ETU, "recupererListeEtudiants", params).await?;
    if let Some(f) = find(&root, "faultstring") {
        assert_eq!(status, 500);
        assert_eq!(
            rest_body["faultKey"].as_str(),
            Some(f.text()),
            "{params:?}: SOAP ≠ REST"
        );
        return Ok(Err(f.text().to_owned()));
    }
    assert_eq!((status, rest_status), (200, 200), "{body} {rest_body}");
    let wrapper = find(&root, "recupererListeEtudiantsResponse").ok_or("no wrapper")?;
    let mut items = Vec::new();
    for (i, item) in wrapper.children().iter().enumerate() {
        assert_eq!(item.name(), "etudiant", "the return element is etudiant");
        items.push(read(
            item,
            &apogee_domain::refread::student_types::etu::EtudiantDTO2,
            &format!("etudiant[{i}]"),
        )?);
    }
    assert_eq!(
        rest_body["items"],
        Value::Array(items.clone()),
        "{params:?}: SOAP ≠ REST"
    );
    Ok(Ok(items
        .iter()
        .filter_map(|i| i["codEtu"].as_str().map(str::to_owned))
        .collect()))
}

both_backends! {
    async fn the_students_of_a_year_and_etapes_diplomas_composantes(app) {
        let all = ["10000001", "10000002", "10000003", "10000004", "22512345"];
        let ufr = &all[..4];
        assert_eq!(liste(app, &[("annee", "2025")]).await?, Ok(all.map(str::to_owned).to_vec()));
        assert_eq!(liste(app, &[("annee", "2025"), ("listEtapes", "ETP01:1")]).await?, Ok(ufr.iter().map(|s| s.to_string()).collect()));
        assert_eq!(liste(app, &[("annee", "2025"), ("listEtapes", "ETP01")]).await?, Ok(ufr.iter().map(|s| s.to_string()).collect()));
        assert_eq!(liste(app, &[("annee", "2025"), ("listDiplomes", "DIP01:1")]).await?, Ok(ufr.iter().map(|s| s.to_string()).collect()));
        assert_eq!(liste(app, &[("annee", "2025"), ("listComposante", "UFR"), ("listComposante", "INF")]).await?, Ok(ufr.iter().map(|s| s.to_string()).collect()));
        assert_eq!(liste(app, &[("annee", "2025"), ("listCentreGestion", "CG1"), ("listEtapes", "ETP01:1"), ("listDiplomes", "DIP01")]).await?, Ok(ufr.iter().map(|s| s.to_string()).collect()));
        // AND: a composante whose étapes have no student, a version nobody is in, another year.
        let nobody = Err("technical.data.nullretrieve.etudiant".to_owned());
        for params in [
            vec![("annee", "2025"), ("listEtapes", "ETP01:1"), ("listComposante", "INF")],
            vec![("annee", "2025"), ("listEtapes", "ETP01:2")],
            vec![("annee", "2026"), ("listEtapes", "ETP01:1")],
            vec![("annee", "2025"), ("listDiplomes", "NOPE")],
        ] {
            assert_eq!(liste(app, &params).await?, nobody, "{params:?}");
        }
        for (params, key) in [
            (vec![("listEtapes", "ETP01:1")], "technical.parameter.noncoherentinput.anneeobligatoire"),
            (vec![("annee", "2025"), ("listEtapes", "ETP01:v1")], "technical.parameter.noncoherentinput.listEtapes"),
        ] {
            assert_eq!(liste(app, &params).await?, Err(key.to_owned()), "{params:?}");
        }
        // Every field, as esup-siscol reads them.
        let one = both_list_item(app).await?;
        assert_eq!(one, json!({"codEtu": "10000001", "nom": "DUPONT", "prenom": "ALICE", "dateNaissance": "12/05/2004", "numeroIne": "2204123456R"}));
        // A cancelled yearly enrolment leaves the student out: 10000004 in 2026 (no IAE there anyway) —
        // and a new étape enrolment that year is not enough.
        let res = app.put("/api/v1/etudiants/10000004").json(&json!({
            "codEtu": 10000004, "ine": "2102345678W", "libNomPatInd": "PETIT", "libPr1Ind": "LOUIS", "dateNaiInd": "2002-07-08",
            "inscriptionsAnnuelles": [{"codAnu": "2025", "etaIaa": "E"}, {"codAnu": "2026", "etaIaa": "A"}],
            "inscriptionsEtapes": [{"codAnu": "2025", "codEtp": "ETP01", "codVrsVet": 1, "etaIae": "E", "etaPmtIae": "P"}, {"codAnu": "2026", "codEtp": "ETP01", "codVrsVet": 1, "etaIae": "E"}]
        })).send().await?;
        assert!(res.status().is_success(), "{}", res.text().await?);
        assert_eq!(liste(app, &[("annee", "2026")]).await?, nobody);
        Ok(())
    }
}

async fn both_list_item(
    app: &crate::helpers::TestApp,
) -> Result<Value, Box<dyn std::error::Error>> {
    let (_, body) = rest(
        app,
        ETU,
        "recupererListeEtudiants",
        &[("annee", "2025"), ("listEtapes", "ETP01:1")],
    )
    .await?;
    Ok(body["items"][0].clone())
}

const PED: &str = "PedagogiqueMetier";

both_backends! {
    async fn accommodation_types_and_pedagogical_contracts(app) {
        let all = both(app, ETU, "recupererTypeHebergement", &[]).await?;
        let codes: Vec<&str> = all.iter().filter_map(|i| i["codTypeHebergement"].as_str()).collect();
        assert_eq!(codes, ["1", "2", "3", "4", "5", "6", "7"]);
        assert_eq!(all[3], json!({"codTypeHebergement": "4", "libTypeHebergement": "Domicile parental", "libWebTypeHebergement": "Domicile parental", "temEnSveTypeHebergement": "O", "temMinTypeHebergement": "N"}));
        assert_eq!(both(app, ETU, "recupererTypeHebergement", &[("code", "6"), ("temoinService", "O"), ("temoinAD", "")]).await?.len(), 1);
        fault(app, ETU, "recupererTypeHebergement", &[("code", "9")], "technical.data.nullretrieve.typeHebergement", 404).await?;
        fault(app, ETU, "recupererTypeHebergement", &[("temoinService", "N")], "technical.data.nullretrieve.typeHebergement", 404).await?;
        fault(app, ETU, "recupererTypeHebergement", &[("temoinAD", "O")], "technical.parameter.noncoherentinput.temoinAD", 400).await?;

        // eCandidat's call: every demo student answered, as a student without results.
        let ecandidat = |cod_etu| vec![("codEtu", cod_etu), ("codAnu", "toutes"), ("sourceRes", "Apogee"), ("etatDelib", "T"), ("codSes", "toutes"), ("typeRes", "tous"), ("codEtaIae", "E")];
        for cod_etu in ["10000001", "10000002", "10000003", "10000004", "22512345"] {
            let contracts = both(app, PED, "recupererContratPedagogiqueResultatVdiVet_v2", &ecandidat(cod_etu)).await?;
            for c in &contracts {
                assert_eq!(c["resultatVdi"], json!([]), "no results stored: an empty container");
                for e in c["etapes"].as_array().into_iter().flatten() {
                    assert_eq!(e["codAnu"], "2025");
                    assert!(e["etape"]["codVrsVet"].is_i64(), "never nil, an int");
                    assert_eq!((&e["resultatVet"], &e["groupes"]), (&json!([]), &json!([])));
                }
            }
        }
        let c = both(app, PED, "recupererContratPedagogiqueResultatVdiVet_v2", &ecandidat("10000001")).await?;
        assert_eq!(c.len(), 1);
        assert_eq!(c[0]["annee"], "2025");
        assert_eq!(c[0]["diplome"], json!({"codDip": "DIP01", "codVrsVdi": 1, "libDip": "Licence démo", "libWebVdi": "Licence démo - version 1", "licVdi": null}));
        assert_eq!(c[0]["etapes"][0]["etape"], json!({"codEtp": "ETP01", "codVrsVet": 1, "libEtp": "L1 démo", "libWebVet": "Licence 1re année (démo)", "temDipVet": null, "libEtatIae": "En cours"}));
        assert_eq!((&c[0]["datObtVdi"], &c[0]["datValDip"]), (&Value::Null, &Value::Null));
        // 22512345's VET is not linked to a diploma in the referential: a contract without diploma.
        let c = both(app, PED, "recupererContratPedagogiqueResultatVdiVet_v2", &[("codEtu", "22512345")]).await?;
        assert_eq!((c.len(), &c[0]["diplome"]), (1, &Value::Null));
        assert_eq!(c[0]["etapes"][0]["etape"]["codEtp"], "L1PSY1");

        fault(app, PED, "recupererContratPedagogiqueResultatVdiVet_v2", &ecandidat("99999999"), "technical.data.nullretrieve.etudiant", 404).await?;
        fault(app, PED, "recupererContratPedagogiqueResultatVdiVet_v2", &[("codEtu", "10000001"), ("codAnu", "2019")], "technical.data.nullretrieve.codAnu", 404).await?;
        fault(app, PED, "recupererContratPedagogiqueResultatVdiVet_v2", &[("codEtu", "10000001"), ("codEtaIae", "A")], "technical.data.nullretrieve.findIAA", 404).await?;
        fault(app, PED, "recupererContratPedagogiqueResultatVdiVet_v2", &[("codEtu", "1234567890")], "technical.parameter.noncoherentinput.codEtu", 400).await?;
        fault(app, PED, "recupererContratPedagogiqueResultatVdiVet_v2", &[], "technical.parameter.noncoherentinput.codEtuobligatoire", 400).await?;
        fault(app, PED, "recupererContratPedagogiqueResultatVdiVet_v2", &[("codEtu", "10000001"), ("sourceRes", "Pegase")], "technical.parameter.noncoherentinput.sourceRes", 400).await?;
        // A student without any étape enrolment: the "no IA" fault eCandidat expects.
        let res = app.put("/api/v1/etudiants/10000009").json(&json!({
            "codEtu": 10000009, "libNomPatInd": "SANS", "libPr1Ind": "IA", "dateNaiInd": "2001-01-01"
        })).send().await?;
        assert!(res.status().is_success(), "{}", res.text().await?);
        fault(app, PED, "recupererContratPedagogiqueResultatVdiVet_v2", &ecandidat("10000009"), "technical.data.nullretrieve.findIAA", 404).await?;
        Ok(())
    }
}
