//! OPI batch files: NDJSON, the Pégase candidat/candidature pair, the Parcoursup export.

use crate::both_backends;
use serde_json::{Value, json};

fn line(code: &str, cge: &str) -> String {
    json!({"individu": {"codOpiIntEpo": code,
        "donneesNaissance": {"dateNaiIndOpi": "01022004", "temDateNaiRelOpi": "N"},
        "etatCivil": {"libNomPatIndOpi": format!("NOM{}", &code[code.len() - 1..].replace(char::is_numeric, "X")), "libPr1IndOpi": "ALEX"}},
        "voeux": {"item": [{"codCge": cge, "codEtp": "ETP01", "codVrsVet": 1, "numCls": 1, "codDemDos": "C", "codDecVeu": "F"}]}})
    .to_string()
}

both_backends! {
    async fn ndjson_partial_and_atomic(app) {
        let body = format!("{}\n{}\n\n{}\nnot json\n", line("NB00000001", "CG1"), line("NB00000002", "ZZZ"), line("NB00000003", "CG1"));
        let report: Value = app.http.post(app.url("/api/v1/opi/batch?mode=atomic")).bearer_auth(&app.admin_token)
            .header("content-type", "application/x-ndjson").body(body.clone()).send().await?.json().await?;
        assert_eq!(report["written"], false, "{report}");
        assert_eq!(report["summary"]["rejected"], 2);
        assert_eq!(app.get("/api/v1/opi/NB00000001").send().await?.status(), 404, "atomic: nothing written");

        let report: Value = app.http.post(app.url("/api/v1/opi/batch")).bearer_auth(&app.admin_token)
            .header("content-type", "application/x-ndjson").body(body).send().await?.json().await?;
        assert_eq!(report["mode"], "partial");
        assert_eq!(report["written"], true);
        let lines: Vec<(i64, String)> = report["lines"].as_array().into_iter().flatten()
            .map(|l| (l["line"].as_i64().unwrap_or(0), l["status"].as_str().unwrap_or("").to_owned())).collect();
        assert_eq!(lines, vec![(1, "created".into()), (2, "rejected".into()), (4, "created".into()), (5, "rejected".into())], "{report}");
        assert_eq!(report["lines"][1]["faultKey"], "technical.data.nullretrieve.codCge");
        assert_eq!(report["lines"][1]["key"], "NB00000002");
        assert_eq!(report["summary"]["created"], 2);
        assert_eq!(app.get("/api/v1/opi/NB00000003").send().await?.status(), 200);
        // Re-posting: unchanged.
        let again: Value = app.http.post(app.url("/api/v1/opi/batch")).bearer_auth(&app.admin_token)
            .header("content-type", "application/x-ndjson").body(format!("{}\n", line("NB00000001", "CG1"))).send().await?.json().await?;
        assert_eq!(again["lines"][0]["status"], "unchanged", "{again}");
        app.flush_journal().await;
        let journal: Value = app.get("/api/v1/journal?operation=POST%20/api/v1/opi/batch").send().await?.json().await?;
        assert_eq!(journal["meta"]["total"], 3);
        Ok(())
    }
}

fn multipart(parts: &[(&str, &str, &str)]) -> (String, String) {
    let boundary = "xYzZY-batch-boundary";
    let mut body = String::new();
    for (name, file, content) in parts {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: text/csv\r\n\r\n{content}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

both_backends! {
    async fn pegase_candidat_and_candidature_files(app) {
        let candidat = "numero_candidat;sexe;nom_famille;nom_usuel;prenom;prenom2;prenom3;date_naissance;code_pays_naissance;code_commune_naissance;libelle_commune_naissance;code_nationalite;ine;adresse_code_pays;adresse_ligne1_etage;adresse_ligne2_batiment;adresse_ligne3_voie;adresse_ligne4_complement;adresse_code_postal;adresse_code_commune;adresse_cp_ville_etranger;numero_telephone1;numero_telephone2;courriel\n\
            4100001;F;DURAND;;CLARA;;;2005-06-01;100;25056;BESANCON;100;0123456789M;100;;;3 RUE DU PONT;;25000;25056;;0381000000;0612345678;clara@example.org\n\
            4100002;H;PETIT;;NOE;;;12/07/2004;100;54395;NANCY;100;;100;;;1 PLACE STANISLAS;;54000;54395;;;;noe@example.org\n\
            4100003;F;ROUX;;EVA;;;31/02/2004;100;;;100;;;;;;;;;;;;\n";
        let candidature = "numero_candidat;origine_admission;voie_admission;annee_concours;code_voeu;code_periode;code_formation_psup;code_sise;code_etablissement_affectation\n\
            4100001;EC;;2026;L1-DEMO-1;2026;;;\n4100001;EC;;2026;L2-DEMO-1;2026;;;\n4100002;EC;;2026;INCONNU;2026;;;\n";
        let (ct, body) = multipart(&[("candidat", "candidat-20261123.csv", candidat), ("candidature", "candidature-20261123.csv", candidature)]);
        let res = app.http.post(app.url("/api/v1/opi/batch")).bearer_auth(&app.admin_token).header("content-type", ct).body(body).send().await?;
        assert_eq!(res.status(), 200);
        let report: Value = res.json().await?;
        assert_eq!(report["format"], "pegase");
        assert_eq!(report["lines"][0]["status"], "created", "{report}");
        assert_eq!(report["lines"][1]["status"], "rejected");
        assert_eq!(report["lines"][1]["line"], 3);
        assert!(report["lines"][1]["message"].as_str().unwrap_or("").contains("INCONNU"), "{report}");
        assert_eq!(report["lines"][2]["faultKey"], "technical.parameter.noncoherentinput.date_naissance");
        let opi: Value = app.get("/api/v1/opi/4100001").send().await?.json().await?;
        assert_eq!(opi["voeux"].as_array().map(Vec::len), Some(2));
        assert_eq!(opi["donnees"]["individu"]["donneesNaissance"]["codDepPayNai"], "025");
        assert_eq!(opi["donnees"]["adresseFixe"]["lib1"], "3 RUE DU PONT", "empty lines skipped");
        Ok(())
    }
}

both_backends! {
    async fn parcoursup_export_with_label_mappings(app) {
        let csv = "Numéro candidat;Nom;Prénom;Civilité;Date de naissance;Numéro INE;Nationalité;Série diplôme;Mention diplôme;Pays de naissance;Ville de naissance;Adresse 1;Code postal;Commune;Pays;e-mail du candidat;Téléphone mobile\n\
            123456;BERNARD;LUCAS;M.;03/04/2006;;Française;Générale;Très bien;France;Dijon;2 RUE VERTE;25000;25056;France;lucas@example.org;0600000000\n\
            123457;MOREAU;INES;Mme;05/05/2006;;Lunaire;Générale;Bien;France;Metz;;;;;ines@example.org;\n";
        let res = app.http.post(app.url("/api/v1/opi/batch?codCge=CG1&codEtp=ETP01&codVrsVet=1&prefixe=PS")).bearer_auth(&app.admin_token)
            .header("content-type", "text/csv").body(csv).send().await?;
        assert_eq!(res.status(), 200);
        let report: Value = res.json().await?;
        assert_eq!(report["lines"][0]["status"], "created", "{report}");
        assert_eq!(report["lines"][0]["key"], "PS123456");
        assert_eq!(report["lines"][1]["status"], "rejected");
        assert_eq!(report["lines"][1]["line"], 3);
        assert!(report["lines"][1]["message"].as_str().unwrap_or("").contains("Lunaire"));
        let opi: Value = app.get("/api/v1/opi/PS123456").send().await?.json().await?;
        assert_eq!(opi["donnees"]["bac"]["codBac"], "GDEM");
        assert_eq!(opi["donnees"]["bac"]["codMention"], "TB");
        assert_eq!(opi["donnees"]["individu"]["donneesNaissance"]["codPayNat"], "100");
        // The target is mandatory.
        let res = app.http.post(app.url("/api/v1/opi/batch")).bearer_auth(&app.admin_token).header("content-type", "text/csv").body(csv).send().await?;
        assert_eq!(res.status(), 400);
        Ok(())
    }
}
