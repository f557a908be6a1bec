//! Laissez-passer batch files (`POST /api/v1/laissez-passer/batch`, LP-16 … LP-20) on both
//! backends: formats, header rules, modes, duplicates, idempotency, report formats.

use crate::helpers::{Backend, TestApp, TestResult};
use crate::{both_backends, on_both};
use serde_json::Value;

const LEGACY: &str = "typLpa,codAnu,numOPI,codEtp,codVrsVet,codDip,codVrsVdi,libCmtLpa";

async fn push_captured_opi(app: &TestApp) -> TestResult {
    let xml = std::fs::read_to_string(format!(
        "{}/../soap/tests/examples/captured/jaxws-mettreajourDonneesOpi_v10-create.xml",
        env!("CARGO_MANIFEST_DIR")
    ))?;
    let (status, body) = app.soap("OpiMetier", xml).await?;
    assert_eq!(status, 200, "{body}");
    Ok(())
}

async fn post(
    app: &TestApp,
    query: &str,
    content_type: &str,
    body: &str,
    key: Option<&str>,
) -> Result<(u16, Value), Box<dyn std::error::Error>> {
    let mut req = app
        .http
        .post(app.url(&format!("/api/v1/laissez-passer/batch{query}")))
        .bearer_auth(&app.admin_token)
        .header("Content-Type", content_type)
        .body(body.to_owned());
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let text = resp.text().await?;
    let v = serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?;
    Ok((status, v))
}

fn statuses(v: &Value) -> Vec<String> {
    v["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| l["status"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn lp_total(app: &TestApp, query: &str) -> Result<i64, Box<dyn std::error::Error>> {
    let v: Value = app
        .get(&format!("/api/v1/laissez-passer?{query}"))
        .send()
        .await?
        .json()
        .await?;
    v["meta"]["total"]
        .as_i64()
        .ok_or_else(|| format!("{v}").into())
}

both_backends! {
    async fn legacy_csv_is_read_reported_and_stored(app) {
        push_captured_opi(app).await?;
        let file = format!(
            "\u{feff}{LEGACY}\r\n\
             IAPRIMO,2026,JVMWT75DRZ,ETP01,1,DIP01,1,premier\r\n\
             \r\n\
             IAPRIMO,2026,jvmwt75drz,ETP02,1,,,\"avec, virgule\"\r\n\
             REINS,2026,22512345,ETP01,1,,,\r\n\
             IAPRIMO,2026,JVMWT75DRZ,ETP01,1\r\n\
             IAPRIMO,2026,JVMWT75DRZ,ETP01,1,DIP01,1,premier\r\n\
             IAPRIMO,2026,INCONNU01,ETP01,1,,,\r\n"
        );
        let (status, v) = post(app, "", "text/csv", &file, None).await?;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["status"], "completed", "{v}");
        assert_eq!(v["mode"], "partial");
        assert_eq!(v["format"], "csv");
        assert_eq!(v["written"], true);
        assert_eq!(statuses(&v), ["created", "created", "rejected", "rejected", "unchanged", "rejected"], "{v}");
        let lines = &v["lines"];
        assert_eq!(lines[0]["line"], 2);
        assert_eq!(lines[1]["line"], 4);
        assert_eq!(lines[2]["faultKey"], "technical.parameter.noncoherentinput.codEtuobligatoire", "{v}");
        assert_eq!(lines[3]["faultKey"], "technical.parameter.noncoherentinput.ligne");
        assert_eq!(lines[4]["line"], 7);
        assert!(lines[4]["warnings"].as_array().into_iter().flatten().any(|w| w == "LP_DOUBLON_FICHIER:2"), "{v}");
        assert_eq!(lines[5]["faultKey"], "technical.data.nullretrieve.numOPI");
        assert!(lines[5]["message"].as_str().unwrap_or_default().starts_with("Laissez-passer IAPRIMO OPI INCONNU01"), "{v}");
        assert!(lines[0]["codIndOpi"].is_i64(), "{v}");
        let s = &v["summary"];
        assert_eq!((s["total"].as_i64(), s["created"].as_i64(), s["unchanged"].as_i64(), s["rejected"].as_i64()), (Some(6), Some(2), Some(1), Some(3)), "{v}");
        let one: Value = app.get("/api/v1/laissez-passer/IAPRIMO/JVMWT75DRZ/2026/ETP02/1").send().await?.json().await?;
        assert_eq!(one["libCmtLpa"], "avec, virgule", "{one}");

        // The stored batch, as JSON and CSV.
        let id = v["id"].as_str().ok_or("id")?;
        let got: Value = app.get(&format!("/api/v1/laissez-passer/batches/{id}")).send().await?.json().await?;
        assert_eq!(got["summary"], v["summary"]);
        assert_eq!(got["lines"], v["lines"]);
        let csv = app.get(&format!("/api/v1/laissez-passer/batches/{id}")).header("Accept", "text/csv").send().await?.text().await?;
        let mut rows = csv.lines();
        assert_eq!(rows.next(), Some("line,typLpa,codAnu,numOPI,codEtu,codEtp,codVrsVet,status,faultKey,message,warnings,codIndOpi,codInd"));
        assert!(rows.next().unwrap_or_default().starts_with("2,IAPRIMO,2026,JVMWT75DRZ,,ETP01,1,created,"), "{csv}");
        let nd = app.get(&format!("/api/v1/laissez-passer/batches/{id}")).header("Accept", "application/x-ndjson").send().await?.text().await?;
        assert_eq!(nd.lines().count(), 7, "{nd}");
        let missing = app.get("/api/v1/laissez-passer/batches/01ARZ3NDEKTSV4RRFFQ69G5FAV").send().await?;
        assert_eq!(missing.status(), 404);

        // The journal: one entry, key kind `batch`, outcome rejected.
        app.flush_journal().await;
        let j: Value = app.get(&format!("/api/v1/journal?key={id}")).send().await?.json().await?;
        let entries: Vec<Value> = j["entries"].as_array().cloned().unwrap_or_default().into_iter().filter(|e| e["operation"] == "POST /api/v1/laissez-passer/batch").collect();
        assert_eq!(entries.len(), 1, "{j}");
        assert_eq!(entries[0]["outcome"], "rejected", "{j}");
        Ok(())
    }
}

both_backends! {
    async fn headers_formats_and_modes(app) {
        // Bad headers reject the file, nothing stored.
        for header in ["typLpa,codAnu,numOPI,codEtp,codVrsVet,inconnue", "typLpa,codAnu,codEtp,codVrsVet", ""] {
            let (status, v) = post(app, "", "text/csv", &format!("{header}\nREINS,2026,1,ETP01,1\n"), None).await?;
            assert_eq!(status, 400, "{header}: {v}");
            assert_eq!(v["errors"][0]["code"], "FICHIER_FORMAT", "{v}");
        }
        // Extended CSV (any V2 names, any order).
        let (status, v) = post(app, "", "text/csv", "codEtu,typLpa,codEtp,codVrsVet,codAnu,codRgi\n10000001,REINS,ETP01,1,2026,1\n10000002,REINS,ETP01,1,2026,\n", None).await?;
        assert_eq!(status, 200, "{v}");
        assert_eq!(statuses(&v), ["created", "created"], "{v}");
        assert!(v["lines"][1]["warnings"].as_array().into_iter().flatten().any(|w| w == "LP_INE_MANQUANT"), "{v}");
        // Atomic with one bad row: nothing written, full report.
        let nd = "{\"typLpa\":\"REINS\",\"codEtu\":10000003,\"codAnu\":2026,\"codEtp\":\"ETP01\",\"codVrsVet\":1}\n\n{\"typLpa\":\"REINS\",\"codEtu\":10000004,\"codAnu\":2026,\"codEtp\":\"ETP99\",\"codVrsVet\":1}\n";
        let (status, v) = post(app, "?mode=atomic", "application/x-ndjson", nd, None).await?;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["written"], false, "{v}");
        assert_eq!(statuses(&v), ["created", "rejected"], "{v}");
        assert_eq!(v["lines"][1]["line"], 3);
        assert_eq!(lp_total(app, "codEtu=10000003").await?, 0);
        // Dry run: validated, not written.
        let one = "[{\"typLpa\":\"REINS\",\"codEtu\":10000003,\"codAnu\":2026,\"codEtp\":\"ETP01\",\"codVrsVet\":1}]";
        let (_, v) = post(app, "?dryRun=true", "application/json", one, None).await?;
        assert_eq!((v["written"].as_bool(), v["dryRun"].as_bool()), (Some(false), Some(true)), "{v}");
        assert_eq!(statuses(&v), ["created"]);
        assert_eq!(lp_total(app, "codEtu=10000003").await?, 0);
        // Atomic and clean: written (JSON array).
        let (_, v) = post(app, "?mode=atomic", "application/json", one, None).await?;
        assert_eq!(v["written"], true, "{v}");
        assert_eq!(lp_total(app, "codEtu=10000003").await?, 1);
        // NDJSON answer.
        let resp = app.http.post(app.url("/api/v1/laissez-passer/batch")).bearer_auth(&app.admin_token)
            .header("Content-Type", "application/json").header("Accept", "application/x-ndjson").body(one).send().await?;
        let text = resp.text().await?;
        let mut lines = text.lines();
        let head: Value = serde_json::from_str(lines.next().unwrap_or_default())?;
        assert_eq!(head["summary"]["unchanged"], 1, "{text}");
        let line: Value = serde_json::from_str(lines.next().unwrap_or_default())?;
        assert_eq!(line["status"], "unchanged");
        // Unsupported content type.
        let resp = app.http.post(app.url("/api/v1/laissez-passer/batch")).bearer_auth(&app.admin_token)
            .header("Content-Type", "application/xml").body("<x/>").send().await?;
        assert_eq!(resp.status(), 415);
        Ok(())
    }
}

both_backends! {
    async fn idempotency_key_and_reposts(app) {
        let file = "typLpa,codAnu,codEtu,codEtp,codVrsVet,libCmtLpa\nREINS,2026,10000001,ETP02,1,a\nREINS,2026,10000002,ETP02,1,b\nREINS,2026,10000001,ETP02,1,c\n";
        let (_, first) = post(app, "", "text/csv", file, Some("campagne-1")).await?;
        assert_eq!(statuses(&first), ["created", "created", "updated"], "{first}");
        assert!(first["lines"][2]["warnings"].as_array().into_iter().flatten().any(|w| w == "LP_DOUBLON_FICHIER:2"), "{first}");
        // Change the stored LP, then re-post with the same key: the first report, nothing written.
        let put = app.put("/api/v1/laissez-passer/REINS/10000002/2026/ETP02/1").json(&serde_json::json!({"libCmtLpa": "modifié"})).send().await?;
        assert_eq!(put.status(), 200);
        let (status, again) = post(app, "", "text/csv", file, Some("campagne-1")).await?;
        assert_eq!(status, 200);
        assert_eq!(again["id"], first["id"]);
        assert_eq!(again["lines"], first["lines"]);
        let one: Value = app.get("/api/v1/laissez-passer/REINS/10000002/2026/ETP02/1").send().await?.json().await?;
        assert_eq!(one["libCmtLpa"], "modifié", "nothing written again: {one}");
        // Without a key, in partial mode: processed again (the changed row is restored).
        let (_, third) = post(app, "", "text/csv", file, None).await?;
        assert_ne!(third["id"], first["id"]);
        assert_eq!(statuses(&third), ["updated", "updated", "updated"], "{third}");
        let (_, fourth) = post(app, "", "text/csv", file, None).await?;
        assert_eq!(statuses(&fourth), ["updated", "unchanged", "updated"], "{fourth}");
        Ok(())
    }
}

/// Duplicates met after their first lines were spilled to disk (`[lp] batch_keys_in_memory = 1`:
/// every key spills as its own run and four runs merge): the report names the same first lines
/// as in memory, in both modes, after a chunk boundary (the index grows between chunks).
async fn duplicates_found_after_a_spill_body(backend: Backend) -> TestResult {
    let Some(app) = TestApp::spawn_with(backend, |s| s.lp.batch_keys_in_memory = 1).await else {
        return Ok(());
    };
    let result = async {
        let mut file = String::from("typLpa,codAnu,codEtu,codEtp,codVrsVet,libCmtLpa\n");
        for (etu, etp) in [(1, 1), (2, 1), (3, 1), (1, 2), (2, 2)] {
            file.push_str(&format!("REINS,2026,1000000{etu},ETP0{etp},1,a\n")); // lines 2-6
        }
        // 2,000 rejected rows (unknown student: not keys): the next ones fall in chunk 2.
        file.push_str(&"REINS,2026,99999999,ETP01,1,x\n".repeat(2000)); // lines 7-2006
        for (etu, etp) in [(1, 1), (3, 2), (2, 2), (3, 2)] {
            file.push_str(&format!("REINS,2026,1000000{etu},ETP0{etp},1,b\n")); // lines 2007-2010
        }
        for mode in ["", "?mode=atomic"] {
            let (status, v) = post(&app, mode, "text/csv", &file, None).await?;
            assert_eq!(status, 200, "{v}");
            let lines = v["lines"].as_array().ok_or("lines")?;
            assert_eq!(lines.len(), 2009, "{mode}");
            let dup = |i: usize| -> Vec<String> {
                lines[i]["warnings"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|w| {
                        w.as_str()
                            .filter(|w| w.starts_with("LP_DOUBLON"))
                            .map(str::to_owned)
                    })
                    .collect()
            };
            assert!(
                (0..5).all(|i| dup(i).is_empty()),
                "{mode}: {:?}",
                &lines[..5]
            );
            assert_eq!(
                dup(2005),
                ["LP_DOUBLON_FICHIER:2"],
                "{mode}: {:?}",
                lines[2005]
            );
            assert!(dup(2006).is_empty(), "{mode}: {:?}", lines[2006]);
            assert_eq!(
                dup(2007),
                ["LP_DOUBLON_FICHIER:6"],
                "{mode}: {:?}",
                lines[2007]
            );
            assert_eq!(
                dup(2008),
                ["LP_DOUBLON_FICHIER:2008"],
                "{mode}: {:?}",
                lines[2008]
            );
            assert_eq!(v["summary"]["rejected"], 2000, "{mode}");
        }
        Ok(())
    }
    .await;
    app.stop().await;
    result
}

on_both!(
    duplicates_found_after_a_spill,
    duplicates_found_after_a_spill_body
);
