//! `/api/v1/reports/…` on both backends: a bad OPI pushed over SOAP is counted under its cause
//! and listed with its journal row; CSV by `Accept`; filters; scope; LP batches; counters.

use crate::both_backends;
use crate::helpers::TestApp;
use serde_json::Value;

pub fn captured_opi() -> String {
    std::fs::read_to_string(format!(
        "{}/../soap/tests/examples/captured/jaxws-mettreajourDonneesOpi_v10-create.xml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_default()
}

/// Pushes the captured OPI with a wrong INE key (cause `ine`) and one with an unknown étape.
pub async fn push_bad_opis(app: &TestApp) -> Result<(), Box<dyn std::error::Error>> {
    let good = captured_opi();
    assert!(good.contains("3211354385T"));
    let bad_ine = good.replace("3211354385T", "3211354385X");
    let (status, body) = app.soap("OpiMetier", bad_ine).await?;
    assert_eq!(status, 500, "{body}");
    assert!(body.contains("codNneIndOpi"), "{body}");
    let bad_etp = good.replacen("<codEtp>ETP01</codEtp>", "<codEtp>ETP99</codEtp>", 1);
    let (status, body) = app.soap("OpiMetier", bad_etp).await?;
    assert_eq!(status, 500, "{body}");
    let (status, body) = app.soap("OpiMetier", good).await?;
    assert_eq!(status, 200, "{body}");
    app.flush_journal().await;
    Ok(())
}

fn cause<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["causes"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["cause"] == name))
        .unwrap_or(&Value::Null)
}

both_backends! {
    async fn rejects_are_grouped_by_cause_with_their_journal_rows(app) {
        push_bad_opis(app).await?;
        let report: Value = app.get("/api/v1/reports/rejects").send().await?.json().await?;
        assert_eq!(report["causes"].as_array().map(Vec::len), Some(8), "{report}");
        let ine = cause(&report, "ine");
        assert_eq!(ine["count"], 1, "{report}");
        assert_eq!(ine["label"], "INE / INES");
        assert_eq!(ine["faultKeys"][0]["faultKey"], "technical.parameter.noncoherentinput.codNneIndOpi");
        assert_eq!(ine["faultKeys"][0]["operation"], "mettreajourDonneesOpi_v10");
        assert_eq!(cause(&report, "code-inconnu")["count"], 1, "{report}");
        assert_eq!(cause(&report, "boursiers")["count"], 0);
        assert_eq!(report["total"], 2);
        // The row behind the cause, with its request id.
        let rows: Value = app.get("/api/v1/reports/rejects/ine").send().await?.json().await?;
        assert_eq!(rows["meta"]["total"], 1, "{rows}");
        let entry = &rows["entries"][0];
        assert_eq!(entry["key"], "JVMWT75DRZ", "{entry}");
        assert_eq!(entry["client"], "admin");
        assert_eq!(entry["faultKey"], "technical.parameter.noncoherentinput.codNneIndOpi");
        assert!(entry["requestId"].as_str().is_some_and(|r| !r.is_empty()));
        let journal: Value = app.get(&format!("/api/v1/journal?requestId={}", entry["requestId"].as_str().unwrap_or_default())).send().await?.json().await?;
        assert_eq!(journal["entries"][0]["id"], entry["id"]);
        // Filters: another client, a past campaign, a future date range: nothing.
        for q in ["client=nobody", "campaign=2001", "from=2999-01-01"] {
            let r: Value = app.get(&format!("/api/v1/reports/rejects?{q}")).send().await?.json().await?;
            assert_eq!(r["total"], 0, "{q}: {r}");
            let rows: Value = app.get(&format!("/api/v1/reports/rejects/ine?{q}")).send().await?.json().await?;
            assert_eq!(rows["entries"].as_array().map(Vec::len), Some(0), "{q}: {rows}");
        }
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let r: Value = app.get(&format!("/api/v1/reports/rejects?from={today}&to={today}&client=admin")).send().await?.json().await?;
        assert_eq!(r["total"], 2, "{r}");
        // CSV.
        let res = app.get("/api/v1/reports/rejects/ine").header("Accept", "text/csv").send().await?;
        assert_eq!(res.status(), 200);
        assert!(res.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/csv")));
        let csv = res.text().await?;
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("id,at,client,operation,keyKind,key,outcome,httpStatus,faultKey,message,requestId"));
        let line = lines.next().unwrap_or_default();
        assert!(line.contains("JVMWT75DRZ") && line.contains("noncoherentinput.codNneIndOpi"), "{csv}");
        let csv = app.get("/api/v1/reports/rejects").header("Accept", "text/csv").send().await?.text().await?;
        assert!(csv.contains("ine,INE / INES,mettreajourDonneesOpi_v10,technical.parameter.noncoherentinput.codNneIndOpi,1"), "{csv}");
        Ok(())
    }
}

both_backends! {
    async fn bad_filters_accept_and_scopes_are_refused(app) {
        for q in ["/api/v1/reports/rejects?from=hier", "/api/v1/reports/rejects?campaign=26", "/api/v1/reports/activity?from=2026-05-02&to=2026-05-01", "/api/v1/reports/rejects/bourse", "/api/v1/reports/rejects/ine?limit=x"] {
            let res = app.get(q).send().await?;
            assert_eq!(res.status(), 400, "{q}");
        }
        let res = app.get("/api/v1/reports/rejects").header("Accept", "application/xml").send().await?;
        assert_eq!(res.status(), 406);
        let body: Value = res.json().await?;
        assert_eq!(body["faultKey"], "technical.parameter.noncoherentinput.accept");
        let res = app.get("/api/v1/reports/rejects").header("Accept", "text/csv;q=0, application/json").send().await?;
        assert_eq!(res.status(), 200);
        assert!(res.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json")));
        let reader = app.client_with("lecteur-opi", "opi:read").await;
        let res = app.http.get(app.url("/api/v1/reports/rejects")).bearer_auth(&reader).send().await?;
        assert_eq!(res.status(), 403);
        let journal = app.client_with("scolarite", "journal:read").await;
        let res = app.http.get(app.url("/api/v1/reports/cvec")).bearer_auth(&journal).send().await?;
        assert_eq!(res.status(), 200);
        let res = app.http.get(app.url("/api/v1/reports/counters")).send().await?;
        assert_eq!(res.status(), 401);
        Ok(())
    }
}

both_backends! {
    async fn activity_counters_lp_batches_cvec_and_duplicates(app) {
        push_bad_opis(app).await?;
        let head = "typLpa,codAnu,numOPI,codEtp,codVrsVet,codDip,codVrsVdi,libCmtLpa\r\n";
        for lines in ["IAPRIMO,2026,JVMWT75DRZ,ETP01,1,DIP01,1,premier\r\n", "IAPRIMO,2026,JVMWT75DRZ,ETP02,1,,,\r\nIAPRIMO,2026,INCONNU01,ETP01,1,,,\r\n"] {
            let res = app.http.post(app.url("/api/v1/laissez-passer/batch?mode=partial")).bearer_auth(&app.admin_token).header("Content-Type", "text/csv").body(format!("{head}{lines}")).send().await?;
            assert!(res.status().is_success(), "{}", res.text().await?);
        }
        app.flush_journal().await;
        let batches: Value = app.get("/api/v1/reports/lp-batches").send().await?.json().await?;
        assert_eq!(batches["meta"]["total"], 2, "{batches}");
        let b = &batches["batches"][0];
        assert_eq!(b["client"], "admin");
        assert_eq!(b["status"], "completed");
        assert_eq!(b["summary"]["rejected"], 1, "{b}");
        let link = b["report"].as_str().unwrap_or_default().to_owned();
        assert!(link.starts_with("/api/v1/laissez-passer/batches/"));
        assert_eq!(app.get(&link).send().await?.status(), 200);
        let csv = app.get("/api/v1/reports/lp-batches").header("Accept", "text/csv").send().await?.text().await?;
        assert!(csv.starts_with("id,client,statut,") && csv.contains(&link), "{csv}");

        let activity: Value = app.get("/api/v1/reports/activity").send().await?.json().await?;
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let day = activity["days"].as_array().and_then(|d| d.last()).cloned().unwrap_or_default();
        assert_eq!(day["day"], today.as_str(), "{activity}");
        assert!(day["calls"].as_i64().unwrap_or(0) >= 4, "{activity}");
        assert!(day["rejects"].as_i64().unwrap_or(0) >= 2, "{activity}");
        assert_eq!(activity["clients"][0]["client"], "admin");

        let year = chrono::Utc::now().format("%Y").to_string();
        let counters: Value = app.get(&format!("/api/v1/reports/counters?campaign={year}")).send().await?.json().await?;
        let get = |name: &str| counters["counters"].as_array().and_then(|c| c.iter().find(|c| c["name"] == name)).cloned().unwrap_or_default();
        assert_eq!(get("opi")["today"], 1, "{counters}");
        assert_eq!(get("lp")["campaign"], 1, "{counters}");
        assert!(get("rejects")["today"].as_i64().unwrap_or(0) >= 2, "{counters}");

        let cvec: Value = app.get("/api/v1/reports/cvec").send().await?.json().await?;
        assert_eq!(cvec["total"], 0, "{cvec}");
        assert_eq!(cvec["backlog"]["meta"]["total"], 0);
        let dups: Value = app.get("/api/v1/reports/duplicates").send().await?.json().await?;
        assert!(dups["duplicates"].is_array(), "{dups}");
        let csv = app.get("/api/v1/reports/duplicates").header("Accept", "text/csv").send().await?.text().await?;
        assert!(csv.starts_with("critere,valeur,codOpiIntEpo1,codOpiIntEpo2"), "{csv}");
        Ok(())
    }
}
