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
                assert_eq!(a["listeBacs"], json!([]), "an empty container, never nil");
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
        assert_eq!(coord[0]["email"], Value::Null, "no e-mail stored yet");

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
        let (status, body) = app.soap(ETU, envelope(ETU, "recupererInfosAdmEtu_v4", &[]).replace("recupererInfosAdmEtu_v4", "recupererListeEtudiants")).await?;
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
