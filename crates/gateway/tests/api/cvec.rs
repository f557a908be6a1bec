//! CVEC: the CNOUS-compatible `GET /api/attestation/{code}` (contract, every vector row), the
//! attestation register, `POST /api/v1/cvec/check` with each result and reason, journal rows
//! and stored checks, and the upstream mode against a fake CNOUS API served on loopback inside
//! the test (real HTTP): cache, 5xx with retries, slow upstream, flapping upstream and breaker.

use crate::helpers::{Backend, TestApp, TestResult};
use crate::{both_backends, on_both};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const NOT_FOUND: &str = "L'attestation n'a pas été trouvée";
const MISSING: &str = "Le paramètre code est manquant";

/// Percent-encodes everything but unreserved characters and `/`.
fn encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn cnous(app: &TestApp, code: &str) -> Result<(u16, Value), Box<dyn std::error::Error>> {
    let res = app
        .http
        .get(app.url(&format!("/api/attestation/{}", encode(code))))
        .send()
        .await?;
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/json", "{code}");
    Ok((status, res.json().await?))
}

async fn check(app: &TestApp, body: Value) -> Result<(u16, Value), Box<dyn std::error::Error>> {
    let res = app
        .http
        .post(app.url("/api/v1/cvec/check"))
        .bearer_auth(&app.admin_token)
        .json(&body)
        .send()
        .await?;
    let status = res.status().as_u16();
    Ok((status, res.json().await?))
}

fn codes(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["code"].as_str().map(str::to_owned))
        .collect()
}

async fn load(app: &TestApp, csv: &str) -> Result<Value, Box<dyn std::error::Error>> {
    let res = app
        .put("/api/v1/cvec/attestations")
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await?;
    assert_eq!(res.status(), 200);
    Ok(res.json().await?)
}

async fn journal_for(app: &TestApp, key: &str) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    app.flush_journal().await;
    let body: Value = app
        .get(&format!("/api/v1/journal?key={key}"))
        .send()
        .await?
        .json()
        .await?;
    Ok(body["entries"].as_array().cloned().unwrap_or_default())
}

both_backends! {
    async fn cnous_endpoint_answers_as_cnous_does(app) {
        // A known attestation of the demo register: 200 with the CNOUS body, no credentials.
        let (status, body) = cnous(app, "VER1ABCDEF12MARTI").await?;
        assert_eq!(status, 200);
        assert_eq!(body, json!({
            "nom": "MARTIN", "prenom": "LÉA", "sexe": "F", "dateNaissance": "2005-03-14",
            "ine": "0123456789M", "crous": "Versailles (démo)",
            "etat": {"code": "70", "libelle": "Attestation valide (démo)"},
            "exoneration": {"active": false, "motif": null}
        }));
        // CVEC-3 normalisation and the ?etudiant= form.
        assert_eq!(cnous(app, "ver1 abcdef 12 / marti").await?.0, 200);
        let res = app.http.get(app.url("/api/attestation/VER1ABCDEF12?etudiant=Marti")).send().await?;
        assert_eq!(res.status(), 200);
        // Birth surname or usage surname (CVEC-6).
        assert_eq!(cnous(app, "NCY5HJKLMN42LEGAL").await?.0, 200);
        assert_eq!(cnous(app, "NCY5HJKLMN42BERNA").await?.0, 200);
        // A non-valid state is still an attestation: 200, its etat says it.
        let (status, body) = cnous(app, "BFC2ZXCVBN8PETIT").await?;
        assert_eq!((status, &body["etat"]["code"]), (200, &json!("72")));
        assert_eq!(body["etat"]["libelle"], "Attestation non valide (test)");
        // Unknown: 400 with CNOUS's message, word for word.
        assert_eq!(cnous(app, "VER1ZZZZZZ12MARTI").await?, (400, json!({"code": "400", "message": NOT_FOUND})));
        // Surname mismatch and other campaign: 400 too, the message says why.
        let (status, body) = cnous(app, "VER1ABCDEF12DUPON").await?;
        assert_eq!(status, 400);
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(NOT_FOUND) && message.contains("lettres du nom"), "{message}");
        let (status, body) = cnous(app, "VER1QSDFGH34MARTI").await?;
        assert_eq!(status, 400);
        assert!(body["message"].as_str().unwrap_or_default().contains("campagne 2025"), "{body}");
        // Missing code: 404.
        for path in ["/api/attestation/", "/api/attestation", "/api/attestation/%20%20"] {
            let res = app.http.get(app.url(path)).send().await?;
            assert_eq!(res.status(), 404, "{path}");
            assert_eq!(res.json::<Value>().await?, json!({"code": "404", "message": MISSING}), "{path}");
        }
        let (status, body) = cnous(app, "VER1ABCDEF12MAR\u{FFFD}").await?;
        assert_eq!((status, &body["code"]), (400, &json!("400")), "{body}");
        let res = app.http.get(app.url("/api/attestation/VER1%FF")).send().await?;
        assert_eq!(res.status(), 400);
        assert_eq!(res.json::<Value>().await?["code"], "400");
        let res = app.http.post(app.url("/api/attestation/VER1ABCDEF12MARTI")).send().await?;
        assert_eq!(res.status(), 405);
        assert_eq!(res.json::<Value>().await?["code"], "405");
        // The journal keeps the number (never the letters) and the precise reason.
        let entries = journal_for(app, "VER1ABCDEF12").await?;
        let mismatch = entries.iter().find(|e| e["httpStatus"] == 400).ok_or("no 400 entry")?;
        assert_eq!(mismatch["faultKey"], "functionnal.borules.cvec.nom");
        assert!(mismatch["message"].as_str().unwrap_or_default().starts_with("CVEC_NOM_INCOHERENT"));
        assert_eq!(mismatch["operation"], "GET /api/attestation/{code}");
        assert!(entries.iter().all(|e| e["key"] == "VER1ABCDEF12"));
        Ok(())
    }
}

/// The spec's vector rows, read from `vectors/cvec-codes.csv` (RFC 4180, quotes only on the
/// first column).
/// A vector row: raw code, expected validity, rule code.
type Vector = (String, bool, String);

fn vectors() -> Result<Vec<Vector>, Box<dyn std::error::Error>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../domain/tests/vectors/cvec-codes.csv"
    );
    let mut rows = Vec::new();
    for line in std::fs::read_to_string(path)?.lines().skip(1) {
        let (value, rest) = match line.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"').ok_or("unterminated quote")?;
                (quoted[..end].to_owned(), &quoted[end + 2..])
            }
            None => {
                let (v, r) = line.split_once(',').ok_or("no comma")?;
                (v.to_owned(), r)
            }
        };
        let (valid, reason) = rest.split_once(',').ok_or("no reason")?;
        let code = reason
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        rows.push((value, valid == "true", code));
    }
    Ok(rows)
}

both_backends! {
    async fn every_vector_row_behaves_as_listed(app) {
        let rows = vectors()?;
        assert!(rows.len() >= 25, "{} rows", rows.len());
        // One attestation per number of the valid rows; its surname letters are the first row's
        // (VER1ABCDEF12 also carries a usage surname, LI).
        let mut csv = String::from("numAttestation,nom,nomUsage,prenom,dateNaissance,etatCode\n");
        let mut numbers: Vec<String> = Vec::new();
        for (value, valid, _) in &rows {
            let code = apogee_domain::cvec::parse(value);
            if *valid && !numbers.contains(&code.number) {
                let usage = if code.number == "VER1ABCDEF12" { "LI" } else { "" };
                csv.push_str(&format!("{},{}T,{usage},Test,2005-03-14,70\n", code.number, code.letters));
                numbers.push(code.number);
            }
        }
        load(app, &csv).await?;
        for (value, valid, reason) in &rows {
            let expected = apogee_domain::cvec::parse(value);
            assert_eq!((expected.valid, expected.reason.as_str()), (*valid, reason.as_str()), "{value:?}");
            let (status, body) = cnous(app, value).await?;
            let message = body["message"].as_str().unwrap_or_default();
            if *valid {
                // Well-formed: found, or only the surname letters differ (same number, other row).
                assert!(
                    status == 200 || (status == 400 && message.contains("lettres du nom")),
                    "{value:?}: {status} {body}"
                );
            } else if reason == "CVEC_CODE_EMPTY" {
                assert_eq!((status, message), (404, MISSING), "{value:?}");
            } else {
                assert_eq!(status, 400, "{value:?}");
                assert_eq!(message, format!("{NOT_FOUND} : {}", expected.message), "{value:?}");
            }
        }
        // Through the check, a malformed code is INVALIDE with its CVEC_CODE_* reason, no lookup.
        for (value, valid, reason) in rows.iter().filter(|r| !r.1 && r.2 != "CVEC_CODE_EMPTY") {
            let (status, body) = check(app, json!({"code": value, "ine": "0123456789M"})).await?;
            assert_eq!(status, 200, "{value:?}: {body}");
            assert_eq!((body["result"].as_str(), body["reason"].as_str(), *valid), (Some("INVALIDE"), Some(reason.as_str()), false), "{value:?}");
            assert_eq!(body["source"], Value::Null);
        }
        let entries = journal_for(app, "VER1AB3DEF12").await?;
        assert!(entries.iter().any(|e| e["warnings"].as_array().is_some_and(|w| w.contains(&json!("CVEC_CODE_LAYOUT")))), "{entries:?}");
        Ok(())
    }
}

const TEST_REGISTER: &str = "codAnu;numAttestation;nom;prenom;sexe;dateNaissance;ine;etatCode;etatLibelle;exonerationActive;exonerationMotif\n\
    2026;TST1AAAAAA11;Dupont;Marie;F;2005-03-14;0123456789M;70;Valide;N;\n\
    2026;TST1AAAAAA12;Dupont;Marie;F;2005-03-14;0123456789M;72;Attestation non valide (test);N;\n\
    2026;TST1AAAAAA13;Dupont;Marie;F;2005-03-14;0123456789M;71;Valide boursier;O;boursier\n\
    2026;TST1AAAAAA14;Dupont;Marie;F;2005-03-14;0123456789M;75;Valide payée;N;\n\
    2026;TST1AB3DEF12;Dupont;Marie;F;2005-03-14;0123456789M;70;Valide;N;\n";

both_backends! {
    async fn register_loads_report_every_line(app) {
        let bad = "numAttestation,nom,prenom,dateNaissance,etatCode\nTST1BBBBBB11,Durand,Paul,2004-11-02,70\nTST1BBBB,Durand,Paul,31/02/2004,70\n\nTST1BBBBBB12,Petit,Lou,02112004,75\n";
        let res = app.put("/api/v1/cvec/attestations").header("content-type", "text/csv").body(bad).send().await?;
        assert_eq!(res.status(), 400);
        let problem: Value = res.json().await?;
        let errors = problem["errors"].as_array().cloned().unwrap_or_default();
        assert_eq!(errors.len(), 2, "{problem}");
        assert!(errors.iter().all(|e| e["line"] == 3), "{problem}");
        assert_eq!(errors[0]["code"], "CVEC_CODE_NUMBER");
        assert_eq!(errors[1]["field"], "dateNaissance");
        let listed: Value = app.get("/api/v1/cvec/attestations?numAttestation=tst1bbbbbb11").send().await?.json().await?;
        assert_eq!(listed["meta"]["total"], 0, "atomic by default: nothing written");
        let res = app.put("/api/v1/cvec/attestations?partial=true").header("content-type", "text/csv").body(bad).send().await?;
        assert_eq!(res.status(), 200);
        let report: Value = res.json().await?;
        assert_eq!((report["received"].as_u64(), report["created"].as_u64(), report["rejected"].as_u64()), (Some(3), Some(2), Some(1)), "{report}");
        assert_eq!(report["table"], "cvec-attestations");
        assert_eq!(report["errors"][0]["line"], 3);
        // Upsert: the same lines again change nothing; a changed state updates.
        let again = load(app, "numAttestation,nom,prenom,dateNaissance,etatCode\nTST1BBBBBB11,Durand,Paul,2004-11-02,98\nTST1BBBBBB12,Petit,Lou,02112004,75\n").await?;
        assert_eq!((again["updated"].as_u64(), again["unchanged"].as_u64()), (Some(1), Some(1)), "{again}");
        // NDJSON in the CNOUS shape.
        let ndjson = "{\"codAnu\":\"2025\",\"numAttestation\":\"TST1BBBBBB11\",\"nom\":\"Durand\",\"prenom\":\"Paul\",\"dateNaissance\":\"2004-11-02\",\"etat\":{\"code\":\"75\",\"libelle\":\"Payée\"},\"exoneration\":{\"active\":false}}\n";
        let res = app.put("/api/v1/cvec/attestations").header("content-type", "application/x-ndjson").body(ndjson).send().await?;
        assert_eq!(res.status(), 200);
        let listed: Value = app.get("/api/v1/cvec/attestations?numAttestation=TST1BBBBBB11").send().await?.json().await?;
        assert_eq!(listed["meta"]["total"], 2);
        assert_eq!(listed["attestations"][0]["codAnu"], "2026");
        assert_eq!(listed["attestations"][0]["etat"], json!({"code": "98", "libelle": null}));
        assert_eq!(listed["attestations"][0]["etatValide"], true);
        assert_eq!(listed["attestations"][1]["codAnu"], "2025");
        // Media type and scopes.
        let res = app.put("/api/v1/cvec/attestations").header("content-type", "application/xml").body("<x/>").send().await?;
        assert_eq!(res.status(), 415);
        let reader = app.client_with("scolarite", "cvec:read").await;
        let res = app.http.put(app.url("/api/v1/cvec/attestations")).bearer_auth(&reader).header("content-type", "text/csv").body(bad).send().await?;
        assert_eq!(res.status(), 403);
        let res = app.http.get(app.url("/api/v1/cvec/attestations")).bearer_auth(&reader).send().await?;
        assert_eq!(res.status(), 200);
        let demo: Value = res.json().await?;
        assert!(demo["meta"]["total"].as_i64().is_some_and(|n| n >= 5), "{demo}");
        Ok(())
    }
}

both_backends! {
    async fn check_answers_each_result_and_reason(app) {
        load(app, TEST_REGISTER).await?;
        let marie = |code: &str| json!({"code": code, "ine": "0123456789M", "nom": "Dupont", "prenom": "Marie", "dateNaissance": "14/03/2005"});
        // VALIDE, from the register.
        let (status, body) = check(app, marie("TST1AAAAAA11DUPON")).await?;
        assert_eq!(status, 200, "{body}");
        assert_eq!((body["result"].as_str(), body["valid"].as_bool(), body["enrolmentAllowed"].as_bool()), (Some("VALIDE"), Some(true), Some(true)), "{body}");
        assert_eq!((body["source"].as_str(), body["codAnu"].as_str(), body["campaign"].as_str()), (Some("register"), Some("2026"), Some("2026")));
        assert_eq!(body["numAttestation"], "TST1AAAAAA11");
        assert_eq!(body["exoneration"], json!({"active": false, "motif": null}));
        assert!(body["checkId"].as_i64().is_some_and(|n| n > 0));
        // Number + surname; names without accents and case; no INE: surname + birth date.
        let (_, body) = check(app, json!({"numAttestation": "tst1aaaaaa13", "nom": "DUPONT", "dateNaissance": "2005-03-14", "boursier": false})).await?;
        assert_eq!(body["result"], "VALIDE", "{body}");
        assert_eq!(body["exoneration"], json!({"active": true, "motif": "boursier"}));
        assert_eq!(codes(&body["warnings"]), vec!["CVEC_EXONERATION_NON_REPORTEE"]);
        // INE divergent but surname and birth date equal: valid with a warning.
        let (_, body) = check(app, json!({"code": "TST1AAAAAA14DUPON", "ine": "1234567890V", "nom": "dupont", "dateNaissance": "14032005"})).await?;
        assert_eq!(body["result"], "VALIDE", "{body}");
        assert_eq!(codes(&body["warnings"]), vec!["CVEC_INE_DIVERGENT"]);
        // Unusual number layout: valid with CVEC_CODE_LAYOUT.
        let (_, body) = check(app, marie("TST1AB3DEF12DUPON")).await?;
        assert_eq!((body["result"].as_str(), codes(&body["warnings"])), (Some("VALIDE"), vec!["CVEC_CODE_LAYOUT".to_owned()]));
        // INVALIDE, each reason.
        let (_, body) = check(app, marie("TST1AAAAAA12DUPON")).await?;
        assert_eq!((body["result"].as_str(), body["reason"].as_str()), (Some("INVALIDE"), Some("CVEC_ETAT_INVALIDE")), "{body}");
        assert!(body["reasons"][0]["message"].as_str().unwrap_or_default().contains("72 (Attestation non valide (test))"));
        assert_eq!(body["etat"]["code"], "72");
        let (_, body) = check(app, json!({"code": "TST1AAAAAA11DUPON", "ine": "1234567890V", "nom": "Durand", "dateNaissance": "2004-11-02"})).await?;
        assert_eq!(body["reason"], "CVEC_IDENTITE", "{body}");
        let message = body["reasons"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("INE différent") && message.contains("nom de naissance différent") && message.contains("date de naissance différent"), "{message}");
        let (_, body) = check(app, json!({"code": "TST1AAAAAA11DUPON", "nom": "Dupont", "dateNaissance": "2005-03-15"})).await?;
        assert_eq!(body["reason"], "CVEC_IDENTITE", "birth date differs: {body}");
        let (_, body) = check(app, marie("TST1AAAAAA11DURAN")).await?;
        assert_eq!((body["reason"].as_str(), body["source"].as_str()), (Some("CVEC_NOM_INCOHERENT"), Some("register")), "{body}");
        let (_, body) = check(app, marie("TST1ZZZZZZ99DUPON")).await?;
        assert_eq!(body["reason"], "CVEC_INTROUVABLE", "{body}");
        let (_, body) = check(app, json!({"code": "VER1QSDFGH34MARTI", "ine": "0123456789M"})).await?;
        assert_eq!((body["result"].as_str(), body["reason"].as_str()), (Some("INVALIDE"), Some("CVEC_CAMPAGNE")), "another campaign: {body}");
        assert!(body["reasons"][0]["message"].as_str().unwrap_or_default().contains("2025"));
        // Another year: the register answers for it; otherwise not verifiable (no call).
        let (_, body) = check(app, json!({"code": "VER1QSDFGH34MARTI", "ine": "0123456789M", "codAnu": "2025"})).await?;
        assert_eq!((body["result"].as_str(), body["codAnu"].as_str()), (Some("VALIDE"), Some("2025")), "{body}");
        let (_, body) = check(app, json!({"code": "TST1ZZZZZZ99DUPON", "ine": "0123456789M", "codAnu": "2027"})).await?;
        assert_eq!((body["result"].as_str(), body["reason"].as_str(), body["enrolmentAllowed"].as_bool()), (Some("NON_VERIFIEE"), Some("CVEC_CAMPAGNE"), Some(false)), "{body}");
        // Uniqueness (CVEC-11 step 6): two persons with the same INE but different COD_IND.
        let (_, body) = check(app, json!({"code": "TST1AAAAAA11DUPON", "ine": "0123456789M", "codInd": 1001})).await?;
        assert_eq!(body["result"], "VALIDE", "{body}");
        let (_, body) = check(app, json!({"code": "TST1AAAAAA11DUPON", "ine": "0123456789M", "codInd": 1001})).await?;
        assert_eq!(body["result"], "VALIDE", "the same person again: {body}");
        let (_, body) = check(app, json!({"code": "TST1AAAAAA11DUPON", "ine": "0123456789M", "codInd": 1002})).await?;
        assert_eq!((body["result"].as_str(), codes(&body["reasons"])), (Some("INVALIDE"), vec!["CVEC_DEJA_UTILISEE".to_owned()]), "{body}");
        // Malformed requests are problems, not results.
        for (bad, field) in [
            (json!({"ine": "0123456789M"}), "code"),
            (json!({"code": "TST1AAAAAA11DUPON"}), "ine"),
            (json!({"code": "TST1AAAAAA11DUPON", "nom": "Dupont", "dateNaissance": "2005-14-03"}), "dateNaissance"),
            (json!({"code": "TST1AAAAAA11DUPON", "ine": "012"}), "ine"),
            (json!({"code": "TST1AAAAAA11DUPON", "ine": "0123456789M", "codAnu": "26"}), "codAnu"),
            (json!({"code": "TST1AAAAAA11DUPON", "ine": "0123456789M", "codIndOpi": 99999}), "codIndOpi"),
        ] {
            let (status, problem) = check(app, bad.clone()).await?;
            assert_eq!(status, 400, "{bad}: {problem}");
            assert_eq!(problem["errors"][0]["field"], field, "{bad}: {problem}");
        }
        let (status, _) = check(app, json!({"code": "X", "ine": "0123456789M", "unknown": 1})).await?;
        assert_eq!(status, 400);
        let res = app.http.post(app.url("/api/v1/cvec/check")).json(&marie("TST1AAAAAA11DUPON")).send().await?;
        assert_eq!(res.status(), 401);
        let other = app.client_with("ecandidat", "opi:write").await;
        let res = app.http.post(app.url("/api/v1/cvec/check")).bearer_auth(&other).json(&marie("TST1AAAAAA11DUPON")).send().await?;
        assert_eq!(res.status(), 403);
        // Every check is journaled with its outcome and reason, and stored (CVEC-13).
        let entries = journal_for(app, "TST1AAAAAA12").await?;
        let entry = entries.first().ok_or("no journal entry")?;
        assert_eq!((entry["outcome"].as_str(), entry["httpStatus"].as_i64()), (Some("rejected"), Some(200)));
        assert_eq!(entry["faultKey"], "functionnal.borules.cvec.etat");
        assert!(entry["message"].as_str().unwrap_or_default().starts_with("CVEC_ETAT_INVALIDE : "));
        let entries = journal_for(app, "TST1AAAAAA13").await?;
        assert_eq!(entries.first().map(|e| (e["outcome"].clone(), e["warnings"].clone())), Some((json!("ok"), json!(["CVEC_EXONERATION_NON_REPORTEE"]))));
        let stored: Value = app.get("/api/v1/cvec/checks?numAttestation=TST1AAAAAA11").send().await?.json().await?;
        let checks = stored["checks"].as_array().cloned().unwrap_or_default();
        assert!(checks.len() >= 6, "{stored}");
        assert_eq!((checks[0]["result"].as_str(), checks[0]["reason"].as_str(), checks[0]["codInd"].as_i64()), (Some("INVALIDE"), Some("CVEC_DEJA_UTILISEE"), Some(1002)));
        assert_eq!((checks[0]["lettresNom"].as_str(), checks[0]["source"].as_str(), checks[0]["httpStatus"].as_i64()), (Some("DUPON"), Some("register"), Some(200)));
        let layout: Value = app.get("/api/v1/cvec/checks?numAttestation=TST1AB3DEF12").send().await?.json().await?;
        assert_eq!(layout["checks"][0]["warnings"], json!(["CVEC_CODE_LAYOUT"]), "{layout}");
        let unverified: Value = app.get("/api/v1/cvec/checks?result=NON_VERIFIEE").send().await?.json().await?;
        assert_eq!(unverified["meta"]["total"], 1);
        assert_eq!(app.get("/api/v1/cvec/checks?result=PEUT_ETRE").send().await?.status(), 400);
        Ok(())
    }
}

async fn exempt_enrolments_need_no_attestation_body(backend: Backend) -> TestResult {
    let Some(app) = TestApp::spawn_with(backend, |s| {
        s.cvec.exempt_regimes = vec!["2".into()];
        s.cvec.exempt_statuts = vec!["04".into()];
    })
    .await
    else {
        return Ok(());
    };
    let (_, body) = check(&app, json!({"ine": "0123456789M", "codRgi": "2"})).await?;
    assert_eq!(
        (body["result"].as_str(), body["enrolmentAllowed"].as_bool()),
        (Some("NON_REQUISE"), Some(true)),
        "{body}"
    );
    let (_, body) = check(
        &app,
        json!({"code": "VER1ABCDEF12MARTI", "ine": "0123456789M", "codRgi": "1", "codStu": "04"}),
    )
    .await?;
    assert_eq!(body["result"], "NON_REQUISE", "{body}");
    assert_eq!(body["numAttestation"], "VER1ABCDEF12");
    let (status, _) = check(&app, json!({"ine": "0123456789M", "codRgi": "1"})).await?;
    assert_eq!(status, 400, "formation initiale needs an attestation");
    app.stop().await;
    Ok(())
}
on_both!(
    exempt_enrolments_need_no_attestation,
    exempt_enrolments_need_no_attestation_body
);

async fn bearer_required_on_the_cnous_api_when_configured_body(backend: Backend) -> TestResult {
    let Some(app) =
        TestApp::spawn_with(backend, |s| s.cvec.require_bearer_on_cnous_api = true).await
    else {
        return Ok(());
    };
    let (status, body) = cnous(&app, "VER1ABCDEF12MARTI").await?;
    assert_eq!((status, &body["code"]), (401, &json!("401")), "{body}");
    let res = app.get("/api/attestation/VER1ABCDEF12MARTI").send().await?;
    assert_eq!(res.status(), 200);
    let other = app.client_with("ecandidat", "opi:write").await;
    let res = app
        .http
        .get(app.url("/api/attestation/VER1ABCDEF12MARTI"))
        .bearer_auth(&other)
        .send()
        .await?;
    assert_eq!(res.status(), 403);
    assert_eq!(res.json::<Value>().await?["code"], "403");
    app.stop().await;
    Ok(())
}
on_both!(
    bearer_required_on_the_cnous_api_when_configured,
    bearer_required_on_the_cnous_api_when_configured_body
);

// ---------------------------------------------------------------------------------------------
// Upstream mode: a fake CNOUS API on 127.0.0.1:0, served by actix-web in its own thread.

const UPSTREAM_FOUND: &str = r#"{"nom":"DUPONT","prenom":"Marie","sexe":"F","dateNaissance":"14/03/2005","ine":"0123456789M","crous":"Versailles","etat":{"code":71,"libelle":"Valide boursier"},"exoneration":{"active":true,"motif":"boursier"}}"#;
const UPSTREAM_NOT_FOUND: &str = r#"{"code":"400","message":"L'attestation n'a pas été trouvée"}"#;
const UPSTREAM_CODE: &str = "UPS1ABCDEF11DUPON";

#[derive(Clone, Copy)]
struct Reply {
    status: u16,
    body: &'static str,
    delay: Duration,
}

fn reply(status: u16, body: &'static str) -> Reply {
    Reply {
        status,
        body,
        delay: Duration::ZERO,
    }
}

struct Upstream {
    base: String,
    hits: Arc<AtomicUsize>,
    handle: actix_web::dev::ServerHandle,
}

impl Upstream {
    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// What the fake upstream answers to the n-th request (0-based) for a path.
type Answer = dyn Fn(usize, &str) -> Reply + Send + Sync;

/// Serves `answer(n, path)` to the n-th request (0-based).
fn upstream(
    answer: impl Fn(usize, &str) -> Reply + Send + Sync + 'static,
) -> Result<Upstream, Box<dyn std::error::Error>> {
    let hits = Arc::new(AtomicUsize::new(0));
    let answer: Arc<Answer> = Arc::new(answer);
    let counter = hits.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                let (counter, answer) = (counter.clone(), answer.clone());
                App::new().default_service(web::to(move |req: HttpRequest| {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    let r = answer(n, req.path());
                    async move {
                        actix_web::rt::time::sleep(r.delay).await;
                        HttpResponse::build(
                            actix_web::http::StatusCode::from_u16(r.status)
                                .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
                        )
                        .content_type("application/json")
                        .body(r.body)
                    }
                }))
            })
            .workers(1)
            .shutdown_timeout(0)
            .bind("127.0.0.1:0");
            let server = match server {
                Ok(s) => s,
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            };
            let port = server.addrs().first().map_or(0, |a| a.port());
            let server = server.run();
            let _ = tx.send(Ok((port, server.handle())));
            let _ = server.await;
        })
    });
    let (port, handle) = rx.recv()??;
    Ok(Upstream {
        base: format!("http://127.0.0.1:{port}"),
        hits,
        handle,
    })
}

async fn spawn_with_upstream(
    backend: Backend,
    upstream: &Upstream,
    tweak: impl FnOnce(&mut apogee_gateway::Settings),
) -> Option<TestApp> {
    let base = upstream.base.clone();
    TestApp::spawn_with(backend, move |s| {
        s.cvec.upstream_url = Some(base);
        s.cvec.retry_backoff_ms = 20;
        tweak(s);
    })
    .await
}

fn dupont(code: &str) -> Value {
    json!({"code": code, "ine": "0123456789M", "nom": "Dupont", "dateNaissance": "2005-03-14"})
}

async fn upstream_answers_are_cached_body(backend: Backend) -> TestResult {
    let fake = upstream(|_, path| {
        if path.ends_with(UPSTREAM_CODE) {
            reply(200, UPSTREAM_FOUND)
        } else {
            reply(400, UPSTREAM_NOT_FOUND)
        }
    })?;
    let Some(app) = spawn_with_upstream(backend, &fake, |_| {}).await else {
        return Ok(());
    };
    let (_, body) = check(&app, dupont(UPSTREAM_CODE)).await?;
    assert_eq!(
        (body["result"].as_str(), body["source"].as_str()),
        (Some("VALIDE"), Some("upstream")),
        "{body}"
    );
    assert_eq!(
        body["etat"],
        json!({"code": "71", "libelle": "Valide boursier"})
    );
    let (_, body) = check(&app, dupont(UPSTREAM_CODE)).await?;
    assert_eq!(
        (body["result"].as_str(), body["source"].as_str()),
        (Some("VALIDE"), Some("cache")),
        "{body}"
    );
    // The CNOUS-compatible endpoint uses the same lookup (and the same cache).
    let (status, body) = cnous(&app, UPSTREAM_CODE).await?;
    assert_eq!((status, &body["etat"]["code"]), (200, &json!("71")));
    assert_eq!(fake.hits(), 1, "asked once");
    // Negative answers are cached too.
    let (_, body) = check(&app, dupont("UPS1ABCDEF12DUPON")).await?;
    assert_eq!(
        (body["reason"].as_str(), body["source"].as_str()),
        (Some("CVEC_INTROUVABLE"), Some("upstream")),
        "{body}"
    );
    let (_, body) = check(&app, dupont("UPS1ABCDEF12DUPON")).await?;
    assert_eq!(body["source"], "cache");
    assert_eq!(
        cnous(&app, "UPS1ABCDEF12DUPON").await?,
        (400, json!({"code": "400", "message": NOT_FOUND}))
    );
    assert_eq!(fake.hits(), 2);
    // The register comes first: no upstream call for a registered attestation.
    let (_, body) = check(
        &app,
        json!({"code": "VER1ABCDEF12MARTI", "ine": "0123456789M"}),
    )
    .await?;
    assert_eq!(body["source"], "register", "{body}");
    assert_eq!(fake.hits(), 2);
    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await?
        .text()
        .await?;
    for needle in [
        "apogee_cvec_lookups_total{result=\"found\",source=\"cache\"}",
        "apogee_cvec_lookups_total{result=\"found\",source=\"register\"}",
        "apogee_cvec_lookups_total{result=\"not_found\",source=\"upstream\"}",
        "apogee_cvec_upstream_duration_seconds_count{outcome=\"found\"} 1",
        "apogee_cvec_checks_total{reason=\"CVEC_INTROUVABLE\",result=\"INVALIDE\"} 2",
    ] {
        assert!(metrics.contains(needle), "{needle}");
    }
    let stored: Value = app
        .get("/api/v1/cvec/checks?numAttestation=UPS1ABCDEF11")
        .send()
        .await?
        .json()
        .await?;
    let sources: Vec<&str> = stored["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["source"].as_str())
        .collect();
    assert_eq!(sources, vec!["cache", "upstream"]);
    // Upstream gone: cached answers still come back; anything else fails fast.
    fake.handle.stop(false).await;
    let (_, body) = check(&app, dupont(UPSTREAM_CODE)).await?;
    assert_eq!(
        (body["result"].as_str(), body["source"].as_str()),
        (Some("VALIDE"), Some("cache")),
        "{body}"
    );
    let start = Instant::now();
    let (_, body) = check(&app, dupont("UPS1ABCDEF13DUPON")).await?;
    assert_eq!(body["reason"], "CVEC_SERVICE_INDISPONIBLE", "{body}");
    assert!(start.elapsed() < Duration::from_secs(3));
    app.stop().await;
    Ok(())
}
on_both!(
    upstream_answers_are_cached,
    upstream_answers_are_cached_body
);

async fn upstream_5xx_is_retried_then_not_verified_body(backend: Backend) -> TestResult {
    let fake = upstream(|_, _| reply(503, "{}"))?;
    let Some(app) = spawn_with_upstream(backend, &fake, |s| s.cvec.retries = 2).await else {
        return Ok(());
    };
    let (_, body) = check(&app, dupont(UPSTREAM_CODE)).await?;
    assert_eq!(
        (
            body["result"].as_str(),
            body["reason"].as_str(),
            body["enrolmentAllowed"].as_bool()
        ),
        (
            Some("NON_VERIFIEE"),
            Some("CVEC_SERVICE_INDISPONIBLE"),
            Some(false)
        ),
        "{body}"
    );
    assert!(
        body["reasons"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("HTTP 503")
    );
    assert_eq!(fake.hits(), 3, "one call and two retries");
    // Not cached: the next check asks again.
    check(&app, dupont(UPSTREAM_CODE)).await?;
    assert_eq!(fake.hits(), 6);
    // The CNOUS-compatible endpoint fails with a clear 503; the register still answers.
    let (status, body) = cnous(&app, UPSTREAM_CODE).await?;
    assert_eq!((status, &body["code"]), (503, &json!("503")), "{body}");
    let (status, _) = cnous(&app, "VER1ABCDEF12MARTI").await?;
    assert_eq!(status, 200);
    let entries = journal_for(&app, "UPS1ABCDEF11").await?;
    let entry = entries.first().ok_or("no journal entry")?;
    assert_eq!(entry["outcome"], "error");
    assert_eq!(entry["faultKey"], "technical.service.unavailable.cvec");
    app.stop().await;
    fake.handle.stop(false).await;
    Ok(())
}
on_both!(
    upstream_5xx_is_retried_then_not_verified,
    upstream_5xx_is_retried_then_not_verified_body
);

async fn slow_upstream_fails_fast_body(backend: Backend) -> TestResult {
    let fake = upstream(|_, _| Reply {
        status: 200,
        body: UPSTREAM_FOUND,
        delay: Duration::from_secs(10),
    })?;
    let Some(app) = spawn_with_upstream(backend, &fake, |s| {
        s.cvec.upstream_timeout_ms = 300;
        s.cvec.retries = 2;
    })
    .await
    else {
        return Ok(());
    };
    let start = Instant::now();
    let (_, body) = check(&app, dupont(UPSTREAM_CODE)).await?;
    let took = start.elapsed();
    assert_eq!(
        (body["result"].as_str(), body["reason"].as_str()),
        (Some("NON_VERIFIEE"), Some("CVEC_SERVICE_INDISPONIBLE")),
        "{body}"
    );
    assert!(
        body["reasons"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("300 ms")
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(fake.hits(), 1, "a timeout is not retried");
    app.stop().await;
    fake.handle.stop(false).await;
    Ok(())
}
on_both!(slow_upstream_fails_fast, slow_upstream_fails_fast_body);

async fn flapping_upstream_opens_the_circuit_then_recovers_body(backend: Backend) -> TestResult {
    // Down for two requests, then healthy.
    let fake = upstream(|n, _| {
        if n < 2 {
            reply(500, "{}")
        } else {
            reply(200, UPSTREAM_FOUND)
        }
    })?;
    let Some(app) = spawn_with_upstream(backend, &fake, |s| {
        s.cvec.retries = 0;
        s.cvec.breaker_threshold = 2;
        s.cvec.breaker_cooldown_ms = 500;
    })
    .await
    else {
        return Ok(());
    };
    for _ in 0..2 {
        let (_, body) = check(&app, dupont(UPSTREAM_CODE)).await?;
        assert_eq!(body["result"], "NON_VERIFIEE", "{body}");
    }
    // Open: answered at once, without calling.
    let start = Instant::now();
    let (_, body) = check(&app, dupont(UPSTREAM_CODE)).await?;
    assert_eq!(body["result"], "NON_VERIFIEE");
    assert!(
        body["reasons"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("suspendu"),
        "{body}"
    );
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(fake.hits(), 2);
    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await?
        .text()
        .await?;
    assert!(metrics.contains("apogee_cvec_upstream_circuit_open 1"));
    // After the cool-down the probe succeeds and the circuit closes.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (_, body) = check(&app, dupont(UPSTREAM_CODE)).await?;
    assert_eq!(
        (body["result"].as_str(), body["source"].as_str()),
        (Some("VALIDE"), Some("upstream")),
        "{body}"
    );
    assert_eq!(fake.hits(), 3);
    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await?
        .text()
        .await?;
    assert!(metrics.contains("apogee_cvec_upstream_circuit_open 0"));
    app.stop().await;
    fake.handle.stop(false).await;
    Ok(())
}
on_both!(
    flapping_upstream_opens_the_circuit_then_recovers,
    flapping_upstream_opens_the_circuit_then_recovers_body
);

async fn down_upstream_fails_fast_without_a_server_body(backend: Backend) -> TestResult {
    // Nothing listens: connection refused, retried, then NON_VERIFIEE quickly.
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let base = format!("http://{}", listener.local_addr()?);
    drop(listener);
    let Some(app) = TestApp::spawn_with(backend, move |s| {
        s.cvec.upstream_url = Some(base);
        s.cvec.retry_backoff_ms = 20;
    })
    .await
    else {
        return Ok(());
    };
    let start = Instant::now();
    let (_, body) = check(&app, dupont(UPSTREAM_CODE)).await?;
    assert_eq!(body["reason"], "CVEC_SERVICE_INDISPONIBLE", "{body}");
    assert!(
        body["reasons"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("injoignable"),
        "{body}"
    );
    assert!(start.elapsed() < Duration::from_secs(3));
    let (_, body) = check(
        &app,
        json!({"code": "VER1ABCDEF12MARTI", "ine": "0123456789M"}),
    )
    .await?;
    assert_eq!(
        (body["result"].as_str(), body["source"].as_str()),
        (Some("VALIDE"), Some("register"))
    );
    app.stop().await;
    Ok(())
}
on_both!(
    down_upstream_fails_fast_without_a_server,
    down_upstream_fails_fast_without_a_server_body
);
