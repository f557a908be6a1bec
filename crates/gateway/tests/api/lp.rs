//! Laissez-passer over SOAP (`LaissezPasserMetier` V1 and V2) and REST, the student register
//! and the admissions view (LP-1 … LP-15), on both backends.

use crate::both_backends;
use crate::helpers::{TestApp, TestResult};
use serde_json::{Value, json};

fn example(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../soap/tests/examples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_default()
}

fn tag<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(&xml[start..end])
}

const LP_NS: &str = "gouv.education.apogee.commun.servicesmetiers.LaissezPasserMetier";

/// A request envelope with the parameters given (in order; absent ones omitted, as JAX-WS does).
fn envelope(op: &str, params: &[(&str, &str)]) -> String {
    let inner: String = params
        .iter()
        .map(|(k, v)| format!("<{k}>{v}</{k}>"))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><ns2:{op} xmlns:ns2="{LP_NS}">{inner}</ns2:{op}></S:Body></S:Envelope>"#
    )
}

fn v2(params: &[(&str, &str)]) -> String {
    envelope("mettreAJourLaissezPasserWS_V2", params)
}

/// An IAPRIMO V2 LP for the captured OPI, with `changes` applied (an empty value removes).
fn base_v2<'a>(changes: &[(&'a str, &'a str)]) -> String {
    let mut params: Vec<(&'a str, &'a str)> = vec![
        ("typLpa", "IAPRIMO"),
        ("codAnu", "2026"),
        ("numOPI", "JVMWT75DRZ"),
        ("codEtp", "ETP01"),
        ("codVrsVet", "1"),
        ("codDip", "DIP01"),
        ("codVrsVdi", "1"),
    ];
    for (k, v) in changes {
        params.retain(|(name, _)| name != k);
        if !v.is_empty() {
            params.push((k, v));
        }
    }
    v2(&params)
}

async fn push_captured_opi(app: &TestApp) -> TestResult {
    let (status, body) = app
        .soap(
            "OpiMetier",
            example("captured/jaxws-mettreajourDonneesOpi_v10-create.xml"),
        )
        .await?;
    assert_eq!(status, 200, "{body}");
    Ok(())
}

async fn delete(app: &TestApp, path: &str) -> Result<reqwest::Response, reqwest::Error> {
    app.http
        .delete(app.url(path))
        .bearer_auth(&app.admin_token)
        .send()
        .await
}

fn codes(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w["code"].as_str().or(w.as_str()).map(str::to_owned))
        .collect()
}

both_backends! {
    async fn soap_v1_and_v2_create_lps_that_read_back(app) {
        push_captured_opi(app).await?;
        let (status, body) = app.soap("LaissezPasserMetier", example("captured/jaxws-mettreAJourLaissezPasserWS.xml")).await?;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("<ns0:mettreAJourLaissezPasserWSResponse/>"), "{body}");
        let (status, body) = app.soap("LaissezPasserMetier", example("captured/jaxws-mettreAJourLaissezPasserWS_V2.xml")).await?;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("<ns0:mettreAJourLaissezPasserWSResponse_V2/>"), "{body}");

        let list: Value = app.get("/api/v1/laissez-passer?numOpi=JVMWT75DRZ").send().await?.json().await?;
        assert_eq!(list["meta"]["total"], 2, "{list}");
        let v1 = &list["laissezPasser"][0];
        assert_eq!(v1["typLpa"], "IAPRIMO");
        assert_eq!(v1["numOPI"], "JVMWT75DRZ");
        assert_eq!(v1["codAnu"], "2026");
        assert_eq!(v1["codEtp"], "ETP01");
        assert_eq!(v1["codVrsVet"], 1);
        assert_eq!(v1["codDip"], "DIP01");
        assert_eq!(v1["codVrsVdi"], 1);
        assert_eq!(v1["libCmtLpa"], "acceptance java V1");
        assert_eq!(v1["codRgi"], Value::Null);
        assert_eq!(v1["codUtiCreLpa"], "admin");
        assert_eq!(v1["datModLpa"], Value::Null);
        let v2 = &list["laissezPasser"][1];
        assert_eq!((v2["codEtp"].as_str(), v2["codDip"].as_str()), (Some("ETP02"), None));
        assert_eq!(v2["libCmtLpa"], "acceptance java V2");
        let one: Value = app.get("/api/v1/laissez-passer/iaprimo/jvmwt75drz/2026/ETP01/1").send().await?.json().await?;
        assert_eq!(one["libCmtLpa"], "acceptance java V1", "{one}");

        // The same LP again: one row, unchanged (LP-8).
        let (status, _) = app.soap("LaissezPasserMetier", example("captured/jaxws-mettreAJourLaissezPasserWS.xml")).await?;
        assert_eq!(status, 200);
        let list: Value = app.get("/api/v1/laissez-passer?numOpi=JVMWT75DRZ").send().await?.json().await?;
        assert_eq!(list["meta"]["total"], 2);

        // V2 sets a fee category; a later V1 call leaves it (LP-2).
        let (status, body) = app.soap("LaissezPasserMetier", base_v2(&[("libCmtLpa", "acceptance java V1"), ("codCatExoExt", "01")])).await?;
        assert_eq!(status, 200, "{body}");
        let (status, _) = app.soap("LaissezPasserMetier", example("captured/jaxws-mettreAJourLaissezPasserWS.xml")).await?;
        assert_eq!(status, 200);
        let one: Value = app.get("/api/v1/laissez-passer/IAPRIMO/JVMWT75DRZ/2026/ETP01/1").send().await?.json().await?;
        assert_eq!(one["codCatExoExt"], "01", "{one}");
        assert_eq!(one["codUtiModLpa"], "admin");
        // OPI-21: the OPI read lists its laissez-passer (and its pieces).
        let opi: Value = app.get("/api/v1/opi/JVMWT75DRZ").send().await?.json().await?;
        assert!(opi["laissezPasser"].as_array().is_some_and(|l| !l.is_empty()), "{opi}");
        assert!(opi["pj"].is_array(), "{opi}");

        // A V2-only element in a V1 call is not a V1 parameter: ignored, reported.
        let v1_extra = example("captured/jaxws-mettreAJourLaissezPasserWS.xml")
            .replace("<_libCmtLpa>", "<_codCatExoExt>09</_codCatExoExt><_libCmtLpa>");
        let (status, body) = app.soap("LaissezPasserMetier", v1_extra).await?;
        assert_eq!(status, 200, "{body}");

        app.flush_journal().await;
        let journal: Value = app.get("/api/v1/journal?operation=mettreAJourLaissezPasserWS").send().await?.json().await?;
        assert_eq!(journal["meta"]["total"], 4, "{journal}");
        let entries = journal["entries"].as_array().cloned().unwrap_or_default();
        assert!(entries.iter().all(|e| e["key"] == "JVMWT75DRZ" && e["keyKind"] == "numOPI" && e["channel"] == "soap"), "{journal}");
        let warnings: Vec<String> = entries.iter().flat_map(|e| codes(&e["warnings"])).collect();
        for w in ["LP_CREE", "LP_INCHANGE", "ELEMENT_IGNORE:_codCatExoExt"] {
            assert!(warnings.iter().any(|x| x == w), "{w}: {warnings:?}");
        }
        let journal: Value = app.get("/api/v1/journal?operation=mettreAJourLaissezPasserWS_V2").send().await?.json().await?;
        assert_eq!(journal["meta"]["total"], 2);
        assert!(codes(&journal["entries"][0]["warnings"]).contains(&"LP_MODIFIE".to_owned()), "{journal}");
        Ok(())
    }
}

both_backends! {
    async fn contract_examples_with_their_referential(app) {
        app.load_example_referential().await?;
        let (status, body) = app.soap("OpiMetier", example("opi-v10-request-minimal.xml")).await?;
        assert_eq!(status, 200, "{body}");
        // As written, the examples target 2025, closed for enrolment in the demo referential.
        let (status, body) = app.soap("LaissezPasserMetier", example("lp-v1-request.xml")).await?;
        assert_eq!(status, 500);
        assert_eq!(tag(&body, "faultstring"), Some("technical.parameter.noncoherentinput.codAnu"), "{body}");
        let last = tag(&body, "lastErrorMsg").unwrap_or_default();
        assert!(last.starts_with("Laissez-passer IAPRIMO OPI EC25A7K3Q9, année 2025, VET L1PSY1/101 : "), "{last}");
        let (status, body) = app.soap("LaissezPasserMetier", example("lp-v1-request.xml").replace("2025", "2026")).await?;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("<ns0:mettreAJourLaissezPasserWSResponse/>"));
        // V2 example: REINS for the demo student 22512345.
        let (status, body) = app.soap("LaissezPasserMetier", example("lp-v2-request.xml").replace("2025", "2026")).await?;
        assert_eq!(status, 200, "{body}");
        let one: Value = app.get("/api/v1/laissez-passer/REINS/22512345/2026/L2PSY1/101").send().await?.json().await?;
        assert_eq!(one["codStu"], "01", "{one}");
        assert_eq!(one["codCatExoExt"], "01");
        assert_eq!(one["codEtu"], 22512345);
        // The fault example: an unknown OPI number.
        let (status, body) = app.soap("LaissezPasserMetier", example("lp-v1-request.xml").replace("2025", "2026").replace("EC25A7K3Q9", "EC25ZZZZZZ")).await?;
        assert_eq!(status, 500);
        assert_eq!(tag(&body, "faultstring"), Some("technical.data.nullretrieve.numOPI"));
        assert!(tag(&body, "lastErrorMsg").is_some_and(|m| m.contains("Aucune OPI trouvée pour le numéro EC25ZZZZZZ") || m.contains("aucune OPI trouvée pour le numéro EC25ZZZZZZ")), "{body}");
        Ok(())
    }
}

both_backends! {
    async fn every_lp_fault_has_the_contract_layout_and_writes_nothing(app) {
        push_captured_opi(app).await?;
        // A VET that exists but is opened for no year (LP-5).
        let res = app.put("/api/v1/referential/versions-etape").header("content-type", "text/csv")
            .body("codEtp,codVrsVet,libVet,temEnSveVet\nETP02,2,L2 démo - version 2,O\n").send().await?;
        assert_eq!(res.status(), 200);
        let long = "x".repeat(201);
        let cases: Vec<(String, &str)> = vec![
            (base_v2(&[("typLpa", "PRIMO")]), "technical.parameter.noncoherentinput.typLpa"),
            (base_v2(&[("typLpa", "")]), "technical.parameter.noncoherentinput.typLpaobligatoire"),
            (base_v2(&[("numOPI", "")]), "technical.parameter.noncoherentinput.numOPIobligatoire"),
            (base_v2(&[("numOPI", "EC25ZZZZZZ")]), "technical.data.nullretrieve.numOPI"),
            (base_v2(&[("typLpa", "REINS"), ("codEtu", "99999999")]), "technical.data.nullretrieve.etudiant"),
            (base_v2(&[("typLpa", "REINS"), ("codEtu", "12A")]), "technical.parameter.noncoherentinput.codEtu"),
            (base_v2(&[("typLpa", "REINS")]), "technical.parameter.noncoherentinput.codEtuobligatoire"),
            (base_v2(&[("codAnu", "2025")]), "technical.parameter.noncoherentinput.codAnu"),
            (base_v2(&[("codAnu", "2031")]), "technical.data.nullretrieve.codAnu"),
            (base_v2(&[("codAnu", "")]), "technical.parameter.noncoherentinput.codAnuobligatoire"),
            (base_v2(&[("codEtp", "ETP99")]), "technical.data.nullretrieve.vet"),
            (base_v2(&[("codEtp", "ETP02"), ("codVrsVet", "2"), ("codDip", ""), ("codVrsVdi", "")]), "technical.parameter.noncoherentinput.codEtp"),
            (base_v2(&[("codVrsVet", "1000")]), "technical.parameter.noncoherentinput.codVrsVet"),
            (base_v2(&[("codDip", "DIP99")]), "technical.parameter.noncoherentinput.codDip"),
            (base_v2(&[("codVrsVdi", "")]), "technical.parameter.noncoherentinput.codDip"),
            (base_v2(&[("codRgi", "7")]), "technical.data.nullretrieve.codRgi"),
            (base_v2(&[("codRgi", "9")]), "technical.parameter.noncoherentinput.codRgi"),
            (base_v2(&[("codStu", "77")]), "technical.data.nullretrieve.codStu"),
            (base_v2(&[("codCatOuiSi", "03")]), "technical.parameter.noncoherentinput.codCatOuiSi"),
            (base_v2(&[("codCatExoExt", "77")]), "technical.data.nullretrieve.codCatExoExt"),
            (base_v2(&[("mtfCat", "motif")]), "technical.parameter.noncoherentinput.mtfCat"),
            (base_v2(&[("libCmtLpa", long.as_str())]), "technical.parameter.noncoherentinput.libCmtLpa"),
        ];
        for (xml, key) in cases {
            let (status, body) = app.soap("LaissezPasserMetier", xml).await?;
            assert_eq!(status, 500, "{key}: {body}");
            assert_eq!(tag(&body, "faultstring"), Some(key), "{body}");
            assert_eq!(tag(&body, "faultcode"), Some("soap-env:Server"), "{body}");
            assert!(body.contains("<ns0:fault>") && body.contains(&format!("xmlns:ns0=\"{LP_NS}\"")), "{body}");
            let fault_key = apogee_domain::FaultKey::from(key);
            let [t, d, n, e] = fault_key.segments();
            for (name, v) in [("type", t), ("domaine", d), ("nature", n), ("element", e)] {
                assert_eq!(tag(&body, name), Some(v), "{key}: {name}");
            }
            // Children in XSD order, lastErrorMsg a French sentence naming the row (LP-1).
            let order: Vec<usize> = ["<domaine>", "<element>", "<messages>", "<nature>", "<type>", "<lastErrorMsg>"].iter().filter_map(|t| body.find(t)).collect();
            assert_eq!(order.len(), 6, "{body}");
            assert!(order.windows(2).all(|w| w[0] < w[1]), "{body}");
            let last = tag(&body, "lastErrorMsg").unwrap_or_default();
            assert!(last.starts_with("Laissez-passer "), "{last}");
            assert!(tag(&body, "item").is_some_and(|m| m.starts_with(key)), "{body}");
        }
        let list: Value = app.get("/api/v1/laissez-passer").send().await?.json().await?;
        assert_eq!(list["meta"]["total"], 0, "nothing written: {list}");
        app.flush_journal().await;
        let journal: Value = app.get("/api/v1/journal?faultKey=technical.data.nullretrieve.etudiant").send().await?.json().await?;
        assert_eq!(journal["meta"]["total"], 1);
        assert_eq!(journal["entries"][0]["outcome"], "rejected");
        assert_eq!(journal["entries"][0]["key"], "99999999");
        Ok(())
    }
}

both_backends! {
    async fn rest_put_get_delete_and_list(app) {
        push_captured_opi(app).await?;
        let path = "/api/v1/laissez-passer/IAPRIMO/JVMWT75DRZ/2026/ETP01/1";
        let body = json!({"codDip": "DIP01", "codVrsVdi": 1, "codRgi": "1", "libCmtLpa": "dérogation capacité"});
        let res = app.put(path).json(&body).send().await?;
        assert_eq!(res.status(), 201);
        let created: Value = res.json().await?;
        assert_eq!(created["status"], "created");
        assert!(created["codIndOpi"].as_i64().is_some_and(|n| n > 0), "{created}");
        assert_eq!(created["traceId"].as_str().map(str::len), Some(26));
        // The captured OPI has no bac: reported, not refused (LP-11).
        assert_eq!(codes(&created["warnings"]), vec!["LP_BAC_MANQUANT"]);
        let res = app.put(path).json(&body).send().await?;
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await?["status"], "unchanged");
        // An absent attribute clears the stored one, with a warning (LP-8).
        let res = app.put(path).json(&json!({"codDip": "DIP01", "codVrsVdi": "1", "libCmtLpa": "dérogation capacité"})).send().await?;
        assert_eq!(res.status(), 200);
        let updated: Value = res.json().await?;
        assert_eq!(updated["status"], "updated");
        assert!(updated["warnings"].as_array().into_iter().flatten().any(|w| w["code"] == "LP_ATTRIBUT_EFFACE" && w["field"] == "codRgi"), "{updated}");
        let one: Value = app.get(path).send().await?.json().await?;
        assert_eq!(one["codRgi"], Value::Null);
        assert_eq!(one["libCmtLpa"], "dérogation capacité");
        assert!(one["datModLpa"].is_string());
        // A régime not allowed on the VET is accepted with a warning (LP-11).
        let res = app.put("/api/v1/laissez-passer/IAPRIMO/jvmwt75drz/2026/ETP02/1").json(&json!({"codRgi": "3", "codEtu": "12345"})).send().await?;
        assert_eq!(res.status(), 201);
        let w = codes(&res.json::<Value>().await?["warnings"]);
        assert!(w.contains(&"LP_REGIME_NON_AUTORISE".to_owned()) && w.contains(&"LP_IDENTIFIANT_IGNORE".to_owned()), "{w:?}");
        let res = app.put("/api/v1/laissez-passer/REINS/10000001/2026/ETP02/1").json(&json!({})).send().await?;
        assert_eq!(res.status(), 201);
        let reins: Value = res.json().await?;
        assert!(reins["codInd"].as_i64().is_some(), "{reins}");
        // Rule violations: 400 problem bodies with the SOAP fault key.
        let res = app.put(path).json(&json!({"codRgi": "7"})).send().await?;
        assert_eq!(res.status(), 400);
        let problem: Value = res.json().await?;
        assert_eq!(problem["faultKey"], "technical.data.nullretrieve.codRgi");
        assert!(problem["detail"].as_str().is_some_and(|d| d.starts_with("Laissez-passer IAPRIMO OPI JVMWT75DRZ, année 2026, VET ETP01/1 : ")), "{problem}");
        let res = app.put(path).json(&json!({"codAnu": "2025"})).send().await?;
        assert_eq!(res.status(), 400, "path and body disagree");
        let res = app.put("/api/v1/laissez-passer/IAPRIMO/NOPE0000/2026/ETP01/1").json(&json!({})).send().await?;
        assert_eq!(res.status(), 400);
        assert_eq!(res.json::<Value>().await?["faultKey"], "technical.data.nullretrieve.numOPI");
        let res = app.get("/api/v1/laissez-passer/IAPRIMO/NOPE0000/2026/ETP01/1").send().await?;
        assert_eq!(res.status(), 404);
        let res = app.get("/api/v1/laissez-passer/IAPRIMO/JVMWT75DRZ/2026/ETP03/1").send().await?;
        assert_eq!(res.status(), 404);
        assert_eq!(res.json::<Value>().await?["faultKey"], "technical.data.nullretrieve.laissezPasser");
        // Lists and filters.
        for (query, total) in [("codAnu=2026", 3), ("numOpi=jvmwt75drz", 2), ("codEtu=10000001", 1), ("codEtp=ETP02", 2), ("typLpa=REINS", 1), ("codAnu=2025", 0), ("numOpi=NOPE", 0)] {
            let list: Value = app.get(&format!("/api/v1/laissez-passer?{query}")).send().await?.json().await?;
            assert_eq!(list["meta"]["total"], total, "{query}: {list}");
        }
        let page: Value = app.get("/api/v1/laissez-passer?codAnu=2026&limit=1&offset=2").send().await?.json().await?;
        assert_eq!(page["laissezPasser"].as_array().map(Vec::len), Some(1));
        assert_eq!(page["laissezPasser"][0]["typLpa"], "REINS");
        assert_eq!(page["laissezPasser"][0]["codEtu"], 10000001);
        // The OPI cannot be deleted while LPs reference it (OPI-21).
        let res = delete(app, "/api/v1/opi/JVMWT75DRZ").await?;
        assert_eq!(res.status(), 409);
        assert_eq!(res.json::<Value>().await?["faultKey"], "functionnal.bddrules.integrite.laissezPasser");
        assert_eq!(delete(app, path).await?.status(), 204);
        assert_eq!(delete(app, path).await?.status(), 404);
        assert_eq!(app.get(path).send().await?.status(), 404);
        assert_eq!(delete(app, "/api/v1/laissez-passer/IAPRIMO/JVMWT75DRZ/2026/ETP02/1").await?.status(), 204);
        assert_eq!(delete(app, "/api/v1/opi/JVMWT75DRZ").await?.status(), 204);
        // Scopes: lp:read reads, lp:write writes.
        let reader = app.client_with("lecteur-lp", "lp:read").await;
        let res = app.http.get(app.url("/api/v1/laissez-passer")).bearer_auth(&reader).send().await?;
        assert_eq!(res.status(), 200);
        let res = app.http.put(app.url("/api/v1/laissez-passer/REINS/10000001/2026/ETP01/1")).bearer_auth(&reader).json(&json!({})).send().await?;
        assert_eq!(res.status(), 403);
        Ok(())
    }
}

both_backends! {
    async fn students_put_get_list_and_batch(app) {
        let student = json!({"ine": "2250123451K", "libNomPatInd": "Durand", "libPr1Ind": "Zoé", "dateNaiInd": "2005-09-30",
                             "blocages": [{"codBlo": "SCO", "typBlo": "T", "libBlo": "Scolarité"}]});
        let res = app.put("/api/v1/etudiants/30000001").json(&student).send().await?;
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await?;
        assert_eq!((body["status"].as_str(), body["codEtu"].as_i64()), (Some("created"), Some(30000001)));
        let res = app.put("/api/v1/etudiants/30000001").json(&student).send().await?;
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await?["status"], "unchanged");
        let stored: Value = app.get("/api/v1/etudiants/30000001").send().await?.json().await?;
        assert_eq!(stored["ine"], "2250123451K");
        assert_eq!(stored["dateNaiInd"], "2005-09-30");
        assert_eq!(stored["blocages"][0]["codBlo"], "SCO");
        let found: Value = app.get("/api/v1/etudiants?ine=2250123451k").send().await?.json().await?;
        assert_eq!(found["meta"]["total"], 1);
        assert_eq!(found["etudiants"][0]["codEtu"], 30000001);
        let res = app.put("/api/v1/etudiants/30000001").json(&json!({"codEtu": "30000009", "libNomPatInd": "A", "libPr1Ind": "B", "dateNaiInd": "2005-01-01"})).send().await?;
        assert_eq!(res.status(), 400);
        let res = app.put("/api/v1/etudiants/30000005").json(&json!({"ine": "0123456789A", "libNomPatInd": "A", "libPr1Ind": "B", "dateNaiInd": "2005-01-01"})).send().await?;
        assert_eq!(res.status(), 400);
        assert_eq!(res.json::<Value>().await?["faultKey"], "technical.parameter.noncoherentinput.ine");
        assert_eq!(app.get("/api/v1/etudiants/30000005").send().await?.status(), 404);

        // CSV batch: a blank line, a bad INE on physical line 4, names rewritten in capitals.
        let csv = "codEtu,ine,libNomPatInd,libNomUsuInd,libPr1Ind,dateNaiInd\n30000002,,MOREAU,,JULES,12032004\n\n30000003,0123456789A,LEROY,,EMMA,2004-03-12\n30000001,2250123451K,DURAND,,ZOÉ,2005-09-30\n";
        let res = app.http.post(app.url("/api/v1/etudiants/batch")).bearer_auth(&app.admin_token).header("content-type", "text/csv").body(csv).send().await?;
        assert_eq!(res.status(), 200);
        let report: Value = res.json().await?;
        assert_eq!((report["total"].as_u64(), report["created"].as_u64(), report["updated"].as_u64(), report["rejected"].as_u64()), (Some(3), Some(1), Some(1), Some(1)), "{report}");
        let lines: Vec<(u64, String)> = report["lines"].as_array().into_iter().flatten().map(|l| (l["line"].as_u64().unwrap_or(0), l["status"].as_str().unwrap_or("").to_owned())).collect();
        assert_eq!(lines, vec![(2, "created".into()), (4, "rejected".into()), (5, "updated".into())]);
        assert_eq!(report["lines"][1]["faultKey"], "technical.parameter.noncoherentinput.ine");
        assert_eq!(report["lines"][1]["errors"][0]["line"], 4);
        let moreau: Value = app.get("/api/v1/etudiants/30000002").send().await?.json().await?;
        assert_eq!(moreau["dateNaiInd"], "2004-03-12");
        let durand: Value = app.get("/api/v1/etudiants/30000001").send().await?.json().await?;
        assert_eq!(durand["blocages"][0]["codBlo"], "SCO", "lists absent from the file are kept");
        // A bad header rejects the file.
        let res = app.http.post(app.url("/api/v1/etudiants/batch")).bearer_auth(&app.admin_token).header("content-type", "text/csv").body("codEtu,nom\n1,x\n").send().await?;
        assert_eq!(res.status(), 400);
        assert_eq!(res.json::<Value>().await?["errors"][0]["code"], "FICHIER_FORMAT");
        // NDJSON.
        let nd = "{\"codEtu\": 30000004, \"libNomPatInd\": \"NOËL\", \"libPr1Ind\": \"ANNE\", \"dateNaiInd\": \"2004-12-25\", \"inscriptionsAnnuelles\": [{\"codAnu\": \"2026\", \"etaIaa\": \"A\"}]}\n{oops\n";
        let res = app.http.post(app.url("/api/v1/etudiants/batch")).bearer_auth(&app.admin_token).header("content-type", "application/x-ndjson").body(nd).send().await?;
        let report: Value = res.json().await?;
        assert_eq!((report["created"].as_u64(), report["rejected"].as_u64()), (Some(1), Some(1)), "{report}");
        assert_eq!(report["lines"][1]["line"], 2);
        // A file larger than one chunk: every line written, numbered.
        let mut big = String::from("codEtu;libNomPatInd;libPr1Ind;dateNaiInd\n");
        for i in 0..1200 {
            big.push_str(&format!("{};NOM;PRENOM;2004-01-01\n", 40_000_000 + i));
        }
        let res = app.http.post(app.url("/api/v1/etudiants/batch")).bearer_auth(&app.admin_token).header("content-type", "text/csv").body(big).send().await?;
        let report: Value = res.json().await?;
        assert_eq!((report["total"].as_u64(), report["created"].as_u64()), (Some(1200), Some(1200)));
        assert_eq!(report["lines"][1199]["line"], 1201);
        let all: Value = app.get("/api/v1/etudiants?limit=1").send().await?.json().await?;
        assert_eq!(all["meta"]["total"], 1200 + 3 + 5, "demo students included");
        // Scopes.
        let reader = app.client_with("lecteur-etu", "lp:read").await;
        let res = app.http.put(app.url("/api/v1/etudiants/30000009")).bearer_auth(&reader).json(&student).send().await?;
        assert_eq!(res.status(), 403);
        Ok(())
    }
}

fn opi(code: &str, ine: Option<&str>, voeux: Value) -> Value {
    json!({
        "individu": {
            "codOpiIntEpo": code,
            "donneesNaissance": {"dateNaiIndOpi": "14032005", "temDateNaiRelOpi": "N", "codTypDepPayNai": "D", "codDepPayNai": "025", "codPayNat": "100"},
            "etatCivil": {"codNneIndOpi": ine, "libNomPatIndOpi": "MARTIN", "libPr1IndOpi": "LÉA", "codSexEtuOpi": "F"}
        },
        "bac": {"codBac": "S", "daaObtBacOba": "2020"},
        "voeux": {"item": voeux}
    })
}

fn line<'a>(admissions: &'a Value, key: &str, value: Value, etp: &str) -> Option<&'a Value> {
    admissions["admissions"]
        .as_array()?
        .iter()
        .find(|l| l[key] == value && l["codEtp"] == etp)
}

both_backends! {
    async fn admissions_show_lp_priority_and_what_an_lp_never_lifts(app) {
        // Openings without dates: the checks below do not depend on today's date.
        let res = app.put("/api/v1/referential/vet-ouvertures").header("content-type", "text/csv")
            .body("codAnu,codEtp,codVrsVet,codCgeMinpVet,codCgeMinVet\n2026,ETP01,1,CG1,CG1\n2026,ETP02,1,CG1,CG1\n").send().await?;
        assert_eq!(res.status(), 200);
        let voeux = json!([
            {"codCge": "CG1", "codEtp": "ETP01", "codVrsVet": 1, "numCls": 1, "codDemDos": "C", "codDecVeu": "D", "codRge": "2", "codCatExoExt": "02"},
            {"codCge": "CG1", "codEtp": "ETP02", "codVrsVet": 1, "numCls": 2, "codDemDos": "C", "codDecVeu": "D"}
        ]);
        let res = app.put("/api/v1/opi/EC10000001").json(&opi("EC10000001", Some("0123456789M"), voeux.clone())).send().await?;
        assert_eq!(res.status(), 201);
        // The LP on ETP01 overrides the unfavourable vœu; its régime wins, the vœu's fee category stays.
        let res = app.put("/api/v1/laissez-passer/IAPRIMO/EC10000001/2026/ETP01/1").json(&json!({"codRgi": "1"})).send().await?;
        assert_eq!(res.status(), 201);
        assert_eq!(res.json::<Value>().await?["warnings"], json!([]));
        let view: Value = app.get("/api/v1/admissions/EC10000001").send().await?.json().await?;
        assert_eq!(view["codAnu"], "2026");
        let etp01 = line(&view, "codOpiIntEpo", json!("EC10000001"), "ETP01").ok_or("ETP01")?;
        assert_eq!(etp01["source"], "lp", "{etp01}");
        assert_eq!(etp01["voeuCouvert"], true);
        assert_eq!(etp01["voeu"]["codDecVeu"], "D");
        assert_eq!(etp01["accesAutorise"], true, "{etp01}");
        assert_eq!(etp01["blocages"], json!([]));
        assert_eq!(etp01["profil"]["codRgi"], json!({"value": "1", "origin": "lp"}));
        assert_eq!(etp01["profil"]["codCatExoExt"], json!({"value": "02", "origin": "voeu"}));
        let etp02 = line(&view, "codOpiIntEpo", json!("EC10000001"), "ETP02").ok_or("ETP02")?;
        assert_eq!(etp02["source"], "voeu");
        assert_eq!(etp02["accesAutorise"], false);
        assert_eq!(etp02["blocages"], json!(["ACCES_DECISION_DEFAVORABLE"]));
        // The same person by INE.
        let by_ine: Value = app.get("/api/v1/admissions/0123456789m").send().await?.json().await?;
        assert!(line(&by_ine, "codOpiIntEpo", json!("EC10000001"), "ETP01").is_some(), "{by_ine}");

        // Missing INE: reported on insertion, still blocking.
        app.put("/api/v1/opi/EC10000002").json(&opi("EC10000002", None, json!([]))).send().await?;
        let res = app.put("/api/v1/laissez-passer/IAPRIMO/EC10000002/2026/ETP01/1").json(&json!({})).send().await?;
        assert!(codes(&res.json::<Value>().await?["warnings"]).contains(&"LP_INE_MANQUANT".to_owned()));
        let view: Value = app.get("/api/v1/admissions/EC10000002").send().await?.json().await?;
        let l = line(&view, "codOpiIntEpo", json!("EC10000002"), "ETP01").ok_or("EC10000002")?;
        assert_eq!((l["source"].as_str(), l["accesAutorise"].as_bool()), (Some("lp"), Some(false)));
        assert_eq!(l["blocages"], json!(["ACCES_INE_MANQUANT"]));

        // A ban (demo student 10000003).
        let res = app.put("/api/v1/laissez-passer/REINS/10000003/2026/ETP02/1").json(&json!({})).send().await?;
        assert!(codes(&res.json::<Value>().await?["warnings"]).contains(&"LP_BLOCAGE".to_owned()));
        let view: Value = app.get("/api/v1/admissions/10000003").send().await?.json().await?;
        assert_eq!(line(&view, "codEtu", json!(10000003), "ETP02").ok_or("10000003")?["blocages"], json!(["ACCES_BLOCAGE"]));
        // A régime not allowed on the VET (10000001: ETP02 allows 1 and 2).
        let res = app.put("/api/v1/laissez-passer/REINS/10000001/2026/ETP02/1").json(&json!({"codRgi": "3"})).send().await?;
        assert!(codes(&res.json::<Value>().await?["warnings"]).contains(&"LP_REGIME_NON_AUTORISE".to_owned()));
        let res = app.put("/api/v1/laissez-passer/REINS/10000001/2026/ETP01/1").json(&json!({})).send().await?;
        assert_eq!(res.json::<Value>().await?["warnings"], json!([]));
        let view: Value = app.get("/api/v1/admissions/10000001?codAnu=2026").send().await?.json().await?;
        assert_eq!(line(&view, "codEtu", json!(10000001), "ETP02").ok_or("ETP02")?["blocages"], json!(["ACCES_REGIME_NON_AUTORISE"]));
        assert_eq!(line(&view, "codEtu", json!(10000001), "ETP01").ok_or("ETP01")?["accesAutorise"], true);
        // A cancelled annual enrolment (10000004) and a student without INE (10000002).
        let res = app.put("/api/v1/laissez-passer/REINS/10000004/2026/ETP01/1").json(&json!({})).send().await?;
        assert!(codes(&res.json::<Value>().await?["warnings"]).contains(&"LP_IAA_ANNULEE".to_owned()));
        app.put("/api/v1/laissez-passer/REINS/10000002/2026/ETP01/1").json(&json!({})).send().await?;

        // The list for one étape: every person with an LP or a vœu there.
        let list: Value = app.get("/api/v1/admissions?codAnu=2026&codEtp=ETP01").send().await?.json().await?;
        assert_eq!(list["meta"]["total"], 5, "{list}");
        let rows = list["admissions"].as_array().cloned().unwrap_or_default();
        assert!(rows.iter().all(|r| r["codEtp"] == "ETP01"));
        let by_etu = |etu: i64| rows.iter().find(|r| r["codEtu"] == etu).map(|r| r["blocages"].clone());
        assert_eq!(by_etu(10000004), Some(json!(["ACCES_IAA_ANNULEE"])));
        assert_eq!(by_etu(10000002), Some(json!(["ACCES_INE_MANQUANT"])));
        let page: Value = app.get("/api/v1/admissions?codEtp=ETP01&limit=2&offset=4").send().await?.json().await?;
        assert_eq!(page["admissions"].as_array().map(Vec::len), Some(1));
        assert_eq!(app.get("/api/v1/admissions/ZZ99").send().await?.status(), 404);
        // LPs survive the replacement of the vœux (LP-9).
        app.put("/api/v1/opi/EC10000001").json(&opi("EC10000001", Some("0123456789M"), json!([voeux[1].clone()]))).send().await?;
        let view: Value = app.get("/api/v1/admissions/EC10000001").send().await?.json().await?;
        let etp01 = line(&view, "codOpiIntEpo", json!("EC10000001"), "ETP01").ok_or("ETP01 after")?;
        assert_eq!((etp01["source"].as_str(), etp01["voeuCouvert"].as_bool()), (Some("lp"), Some(false)));
        Ok(())
    }
}

both_backends! {
    async fn the_student_file_travels_in_put_and_batch_and_old_files_keep_it(app) {
        use crate::read_services::both;
        let dossier = json!({"codSexEtu": "F", "libPr2Ind": "Claire", "codPayNat": "100", "codTypDepPayNai": "D", "codDepPayNai": "054",
                             "libVilNaiEtu": "NANCY", "adrMail": "zoe.durand@example.org", "daaEtb": "2023", "temBoursier": "O",
                             "bacs": [{"codBac": "S", "daaObtBac": "2023", "codMnb": "AB"}],
                             "adresseFixe": {"libAd1": "1 RUE HAUTE", "codBdi": "54000", "codCom": "54395", "codPay": "100"},
                             "adressesAnnuelles": [{"codAnu": "2026", "libAd1": "CITE U", "codBdi": "54000", "codPay": "100", "codThb": "1"}]});
        // Apogée answers the addresses of a year the student is enrolled in.
        let student = json!({"libNomPatInd": "Durand", "libPr1Ind": "Zoé", "dateNaiInd": "2005-09-30", "dossier": dossier,
                             "inscriptionsAnnuelles": [{"codAnu": "2026", "etaIaa": "E"}]});
        let res = app.put("/api/v1/etudiants/30000011").json(&student).send().await?;
        assert_eq!(res.status(), 201, "{}", res.text().await?);
        let stored: Value = app.get("/api/v1/etudiants/30000011").send().await?.json().await?;
        let d = &stored["dossier"];
        assert_eq!((d["codSexEtu"].as_str(), d["libPr2Ind"].as_str(), d["temBoursier"].as_str()), (Some("F"), Some("Claire"), Some("O")), "{stored}");
        assert_eq!(d["bacs"][0]["codBac"], "S", "{stored}");
        assert_eq!(d["adressesAnnuelles"][0]["codThb"], "1", "{stored}");
        // EtudiantMetier answers from it.
        let adm = both(app, "EtudiantMetier", "recupererInfosAdmEtu_v4", &[("codEtu", "30000011")]).await?;
        assert_eq!((adm[0]["sexe"].as_str(), adm[0]["prenom2"].as_str()), (Some("F"), Some("Claire")), "{:?}", adm[0]);
        assert_eq!(adm[0]["listeBacs"][0]["codBac"], "S");
        let adr = both(app, "EtudiantMetier", "recupererAdressesEtudiant_v2", &[("codEtu", "30000011"), ("annee", "2026")]).await?;
        assert_eq!(adr[0]["adresseFixe"]["libAd1"], "1 RUE HAUTE");
        assert_eq!(adr[0]["email"], "zoe.durand@example.org");
        // A PUT without a dossier keeps the stored file; a bad one is refused with its path, writing nothing.
        let res = app.put("/api/v1/etudiants/30000011").json(&json!({"libNomPatInd": "Durand", "libPr1Ind": "Zoé", "dateNaiInd": "2005-09-30"})).send().await?;
        assert_eq!(res.status(), 200);
        let mut bad = student.clone();
        bad["dossier"]["codSexEtu"] = json!("X");
        bad["libPr1Ind"] = json!("Autre");
        let res = app.put("/api/v1/etudiants/30000011").json(&bad).send().await?;
        assert_eq!(res.status(), 400);
        let problem: Value = res.json().await?;
        assert!(problem["errors"].as_array().into_iter().flatten().any(|e| e["field"] == "dossier.codSexEtu" || e["path"] == "dossier.codSexEtu"), "{problem}");
        let kept: Value = app.get("/api/v1/etudiants/30000011").send().await?.json().await?;
        assert_eq!((kept["libPr1Ind"].as_str(), kept["dossier"]["codSexEtu"].as_str()), (Some("Zoé"), Some("F")), "{kept}");

        // The batch file: the file columns are optional; a line that leaves them all empty, and an
        // old file without them, keep what is stored.
        let csv = "codEtu,libNomPatInd,libPr1Ind,dateNaiInd,codSexEtu,adrMail,bac.codBac,bac.daaObtBac,adresseFixe.libAd1,adresseFixe.codPay,adresseAnnuelle.codAnu,adresseAnnuelle.libAd1,adresseAnnuelle.codPay\n\
                   30000012,MARTIN,LEO,2004-02-02,M,leo.martin@example.org,S,2022,2 RUE BASSE,100,2026,FOYER,100\n\
                   30000011,DURAND,ZOÉ,2005-09-30,,,,,,,,,\n\
                   30000013,PETIT,ANA,2004-02-02,Z,,,,,,,,\n";
        let res = app.http.post(app.url("/api/v1/etudiants/batch")).bearer_auth(&app.admin_token).header("content-type", "text/csv").body(csv).send().await?;
        assert_eq!(res.status(), 200);
        let report: Value = res.json().await?;
        assert_eq!((report["created"].as_u64(), report["rejected"].as_u64()), (Some(1), Some(1)), "{report}");
        assert_eq!(report["lines"][2]["errors"][0]["line"], 4, "{report}");
        let leo: Value = app.get("/api/v1/etudiants/30000012").send().await?.json().await?;
        assert_eq!((leo["dossier"]["codSexEtu"].as_str(), leo["dossier"]["bacs"][0]["daaObtBac"].as_str()), (Some("M"), Some("2022")), "{leo}");
        assert_eq!(leo["dossier"]["adressesAnnuelles"][0]["libAd1"], "FOYER", "{leo}");
        let old = "codEtu,ine,libNomPatInd,libNomUsuInd,libPr1Ind,dateNaiInd\n30000011,,DURAND,,ZOÉ,2005-09-30\n30000012,,MARTIN,,LEO,2004-02-02\n";
        let res = app.http.post(app.url("/api/v1/etudiants/batch")).bearer_auth(&app.admin_token).header("content-type", "text/csv").body(old).send().await?;
        let report: Value = res.json().await?;
        assert_eq!(report["rejected"], 0, "{report}");
        for (cod, sex) in [("30000011", "F"), ("30000012", "M")] {
            let s: Value = app.get(&format!("/api/v1/etudiants/{cod}")).send().await?.json().await?;
            assert_eq!(s["dossier"]["codSexEtu"], sex, "the old file format keeps the file: {s}");
        }
        assert_eq!(app.get("/api/v1/etudiants/30000013").send().await?.status(), 404, "the refused line wrote nothing");
        Ok(())
    }
}
