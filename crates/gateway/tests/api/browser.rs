//! The dashboard in a real headless browser: Debian's Chromium driven by playwright-core
//! (`tests/browser/dashboard.mjs`). The server is real; a bad OPI goes in over SOAP, an LP batch
//! and a CVEC check over REST, then the script logs in, finds the reject under its cause, opens
//! its journal row, downloads CSVs, opens the CVEC view and the batch report, and logs out.
//! Screenshots: `target/browser-artifacts/`. Without Chromium or node the test skips, except
//! with `CI=true` (`.ci/run` installs them).

use crate::helpers::{Backend, TestApp, TestResult};
use std::process::Command;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/browser");

fn tools_ready() -> bool {
    let chromium = std::path::Path::new("/usr/bin/chromium").exists();
    let playwright = std::path::Path::new(DIR)
        .join("node_modules/playwright-core")
        .exists();
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let ready = chromium && playwright && node;
    if !ready {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true and chromium ({chromium}), node ({node}) or playwright-core ({playwright}) is missing: .ci/run must install them"
        );
        eprintln!("skipping: chromium, node or tests/browser/node_modules missing");
    }
    ready
}

#[tokio::test]
async fn dashboard_in_headless_chromium() -> TestResult {
    if !tools_ready() {
        return Ok(());
    }
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return Ok(());
    };
    let result = drive(&app).await;
    app.stop().await;
    result
}

async fn drive(app: &TestApp) -> TestResult {
    crate::reports::push_bad_opis(app).await?;
    let csv = "typLpa,codAnu,numOPI,codEtp,codVrsVet,codDip,codVrsVdi,libCmtLpa\r\nIAPRIMO,2026,JVMWT75DRZ,ETP01,1,DIP01,1,premier\r\nIAPRIMO,2026,INCONNU01,ETP01,1,,,\r\n";
    let res = app
        .http
        .post(app.url("/api/v1/laissez-passer/batch?mode=partial"))
        .bearer_auth(&app.admin_token)
        .header("Content-Type", "text/csv")
        .body(csv)
        .send()
        .await?;
    let batch: serde_json::Value = res.json().await?;
    let batch_id = batch["id"].as_str().unwrap_or_default().to_owned();
    assert!(!batch_id.is_empty(), "{batch}");
    let res = app
        .http
        .post(app.url("/api/v1/cvec/check"))
        .bearer_auth(&app.admin_token)
        .json(&serde_json::json!({"code": "TST1AAAAAA99DUPON", "nom": "Dupont", "dateNaissance": "14/03/2005"}))
        .send()
        .await?;
    assert!(res.status().is_success(), "{}", res.text().await?);
    app.flush_journal().await;
    let secret = app.client_with("scolarite", "journal:read").await;
    let out = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/browser-artifacts"
    );
    let run = Command::new("node")
        .arg("dashboard.mjs")
        .current_dir(DIR)
        .env("BASE_URL", &app.base)
        .env("UI_SECRET", &secret)
        .env("BATCH_ID", &batch_id)
        .env("OUT_DIR", out)
        .output()?;
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "browser test failed ({}):\n{stdout}\n{stderr}",
        run.status
    );
    assert!(stdout.contains("browser test passed"), "{stdout}");
    for shot in [
        "02-tableau-de-bord-compteurs",
        "03-rejets-par-cause",
        "06-cvec",
        "08-rapport-lot",
    ] {
        assert!(
            std::path::Path::new(out)
                .join(format!("{shot}.png"))
                .exists(),
            "{shot}"
        );
    }
    Ok(())
}
