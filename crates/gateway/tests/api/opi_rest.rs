//! OPI over REST: the same rules as SOAP, with identifiers, per-vœu outcomes and warnings.

use crate::both_backends;
use serde_json::{Value, json};

fn opi(code: &str, ine: Option<&str>, voeux: Value) -> Value {
    json!({
        "individu": {
            "codOpiIntEpo": code,
            "donneesNaissance": {"dateNaiIndOpi": "14032005", "temDateNaiRelOpi": "N", "codTypDepPayNai": "D", "codDepPayNai": "025", "codPayNat": "100"},
            "etatCivil": {"codNneIndOpi": ine, "libNomPatIndOpi": "MARTIN", "libPr1IndOpi": "LÉA", "codSexEtuOpi": "F"},
            "donneesPersonnelles": {"adrMailOpi": "lea.martin@example.org", "numTelPorOpi": "06 12 34 56 78"}
        },
        "bac": {"codBac": "S", "daaObtBacOba": "2020"},
        "voeux": {"item": voeux}
    })
}

fn voeu(etp: &str) -> Value {
    json!({"codCge": "CG1", "codEtp": etp, "codVrsVet": 1, "numCls": 1, "codDemDos": "C", "codDecVeu": "F"})
}

both_backends! {
    async fn push_read_update_and_delete(app) {
        let res = app.put("/api/v1/opi/EC00000001").json(&opi("EC00000001", Some("0123456789M"), json!([voeu("ETP01"), voeu("ETP02")]))).send().await?;
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await?;
        assert_eq!(body["created"], true);
        assert!(body["codIndOpi"].as_i64().is_some_and(|n| n > 0));
        assert_eq!(body["codOpiIntEpo"], "EC00000001");
        assert_eq!(body["matchedBy"], "created");
        assert_eq!(body["ine"]["check"], "ok");
        assert_eq!(body["traceId"].as_str().map(str::len), Some(26));
        let statuses: Vec<&str> = body["voeux"]["accepted"].as_array().into_iter().flatten().filter_map(|v| v["status"].as_str()).collect();
        assert_eq!(statuses, vec!["created", "created"]);
        // Re-sending the same payload changes nothing (OPI-8), not even the update time.
        let before: Value = app.get("/api/v1/opi/EC00000001").send().await?.json().await?;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let res = app.put("/api/v1/opi/ec00000001").json(&opi("EC00000001", Some("0123456789M"), json!([voeu("ETP01"), voeu("ETP02")]))).send().await?;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await?;
        let statuses: Vec<&str> = body["voeux"]["accepted"].as_array().into_iter().flatten().filter_map(|v| v["status"].as_str()).collect();
        assert_eq!(statuses, vec!["unchanged", "unchanged"]);
        let after: Value = app.get("/api/v1/opi/EC00000001").send().await?.json().await?;
        assert_eq!(after, before);
        // Withdrawal: ETP02 disappears, reported as deleted.
        let body: Value = app.put("/api/v1/opi/EC00000001").json(&opi("EC00000001", Some("0123456789M"), json!([voeu("ETP01")]))).send().await?.json().await?;
        assert_eq!(body["voeux"]["deleted"][0]["codEtp"], "ETP02", "{body}");
        let stored: Value = app.get("/api/v1/opi/EC00000001").send().await?.json().await?;
        assert_eq!(stored["donnees"]["individu"]["donneesPersonnelles"]["numTelPorOpi"], "0612345678", "separators removed");
        assert_eq!(stored["voeux"].as_array().map(Vec::len), Some(1));
        let found: Value = app.get("/api/v1/opi?nom=Martin&prenom=lea&dateNaissance=14032005").send().await?.json().await?;
        assert_eq!(found["meta"]["total"], 1);
        let found: Value = app.get("/api/v1/opi?ine=0123456789m").send().await?.json().await?;
        assert_eq!(found["opis"][0]["codOpiIntEpo"], "EC00000001");
        // Path and body codes must agree.
        let res = app.put("/api/v1/opi/EC00000002").json(&opi("EC00000001", None, json!([]))).send().await?;
        assert_eq!(res.status(), 400);
        let res = app.http.delete(app.url("/api/v1/opi/EC00000001/voeux")).bearer_auth(&app.admin_token).send().await?;
        assert_eq!(res.status(), 200);
        let stored: Value = app.get("/api/v1/opi/EC00000001").send().await?.json().await?;
        assert_eq!(stored["voeux"].as_array().map(Vec::len), Some(0));
        let res = app.http.delete(app.url("/api/v1/opi/EC00000001")).bearer_auth(&app.admin_token).send().await?;
        assert_eq!(res.status(), 204);
        assert_eq!(app.get("/api/v1/opi/EC00000001").send().await?.status(), 404);
        // Scopes.
        let reader = app.client_with("lecteur", "opi:read").await;
        let res = app.http.put(app.url("/api/v1/opi/EC00000009")).bearer_auth(&reader).json(&opi("EC00000009", None, json!([]))).send().await?;
        assert_eq!(res.status(), 403);
        Ok(())
    }
}

both_backends! {
    async fn all_or_nothing_by_default_partial_on_request(app) {
        let payload = opi("EC00000003", None, json!([voeu("ETP01"), voeu("ETP99"), {"codCge": "CG1"}]));
        let res = app.put("/api/v1/opi/EC00000003").json(&payload).send().await?;
        assert_eq!(res.status(), 400);
        let problem: Value = res.json().await?;
        let keys: Vec<&str> = problem["errors"].as_array().into_iter().flatten().filter_map(|e| e["faultKey"].as_str()).collect();
        assert_eq!(keys, vec!["technical.data.nullretrieve.vet", "technical.parameter.noncoherentinput.codEtpobligatoire"], "{problem}");
        assert_eq!(app.get("/api/v1/opi/EC00000003").send().await?.status(), 404, "nothing written");
        let res = app.put("/api/v1/opi/EC00000003?partial=true").json(&payload).send().await?;
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await?;
        assert_eq!(body["voeux"]["accepted"].as_array().map(Vec::len), Some(1));
        assert_eq!(body["voeux"]["rejected"].as_array().map(Vec::len), Some(2));
        assert_eq!(body["voeux"]["rejected"][0]["reason"], "VOEU_VET_INCONNUE");
        // Every item rejected: the call fails even in partial mode.
        let res = app.put("/api/v1/opi/EC00000004?partial=true").json(&opi("EC00000004", None, json!([voeu("ETP99")]))).send().await?;
        assert_eq!(res.status(), 400);
        // A missing INE where the bac requires one is a warning.
        let warnings: Vec<String> = body["warnings"].as_array().into_iter().flatten().filter_map(|w| w["code"].as_str().map(str::to_owned)).collect();
        assert!(warnings.contains(&"INE_MANQUANT".to_owned()), "{warnings:?}");
        Ok(())
    }
}

both_backends! {
    async fn merges_by_ine_keep_the_stored_code_and_duplicates_are_reported(app) {
        app.put("/api/v1/opi/EC00000005").json(&opi("EC00000005", Some("1234567890V"), json!([voeu("ETP01")]))).send().await?;
        let res = app.put("/api/v1/opi/PS00000005").json(&opi("PS00000005", Some("1234567890V"), json!([voeu("ETP02")]))).send().await?;
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await?;
        assert_eq!(body["codeModifie"], true);
        assert_eq!(body["matchedBy"], "ine");
        assert_eq!(body["codOpiIntEpo"], "EC00000005");
        assert!(body["warnings"].as_array().into_iter().flatten().any(|w| w["code"] == "OPI_CODE_MODIFIE"));
        let via_alias: Value = app.get("/api/v1/opi/ps00000005").send().await?.json().await?;
        assert_eq!(via_alias["codOpiIntEpo"], "EC00000005");
        assert_eq!(via_alias["aliases"][0], "PS00000005");
        // Same INE, another person: refused, nothing written.
        let mut other = opi("XX00000005", Some("1234567890V"), json!([voeu("ETP01")]));
        other["individu"]["donneesNaissance"]["dateNaiIndOpi"] = json!("01012001");
        other["individu"]["etatCivil"]["libNomPatIndOpi"] = json!("DURAND");
        other["individu"]["etatCivil"]["libPr1IndOpi"] = json!("PAUL");
        let res = app.put("/api/v1/opi/XX00000005").json(&other).send().await?;
        assert_eq!(res.status(), 409);
        let problem: Value = res.json().await?;
        assert_eq!(problem["faultKey"], "functionnal.borules.doublon.identite");
        assert_eq!(app.get("/api/v1/opi/XX00000005").send().await?.status(), 404);
        // Same name and birth date, no INE: accepted with a warning, listed as a suspect pair.
        let body: Value = app.put("/api/v1/opi/EC00000006").json(&opi("EC00000006", None, json!([voeu("ETP01")]))).send().await?.json().await?;
        assert!(body["warnings"].as_array().into_iter().flatten().any(|w| w["code"] == "DOUBLON_SUSPECT"), "{body}");
        let dups: Value = app.get("/api/v1/opi/duplicates").send().await?.json().await?;
        let pairs = dups["duplicates"].as_array().cloned().unwrap_or_default();
        assert!(pairs.iter().any(|p| p["matchedBy"] == "matchKey" && p["codOpiIntEpo"] == json!(["EC00000005", "EC00000006"])), "{dups}");
        Ok(())
    }
}
