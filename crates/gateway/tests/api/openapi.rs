//! The committed OpenAPI document (`openapi/openapi.json`) equals the one the server serves, and
//! Swagger UI is served from the binary (no network). `APOGEE_UPDATE_OPENAPI=1` rewrites the
//! committed copy.

use crate::helpers::{Backend, TestApp, TestResult};

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/openapi.json");

#[tokio::test]
async fn committed_openapi_equals_served_and_docs_work_offline() -> TestResult {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return Ok(());
    };
    let served = app
        .http
        .get(app.url("/api-docs/openapi.json"))
        .send()
        .await?
        .text()
        .await?;
    let served_json: serde_json::Value = serde_json::from_str(&served)?;
    if std::env::var("APOGEE_UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(
            COMMITTED,
            format!("{}\n", serde_json::to_string_pretty(&served_json)?),
        )?;
    }
    let committed: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(COMMITTED)?)?;
    assert!(
        committed == served_json,
        "openapi/openapi.json differs from the served document: run `APOGEE_UPDATE_OPENAPI=1 cargo test -p apogee-gateway --test api openapi` and commit"
    );
    assert_eq!(
        served_json["openapi"].as_str().map(|v| v.starts_with("3.")),
        Some(true)
    );
    let docs = app.http.get(app.url("/docs/")).send().await?;
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await?.contains("swagger-ui"));
    for asset in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-initializer.js",
    ] {
        let res = app.http.get(app.url(asset)).send().await?;
        assert_eq!(res.status(), 200, "{asset}");
        if asset.ends_with("initializer.js") {
            assert!(res.text().await?.contains("/api-docs/openapi.json"));
        }
    }
    app.stop().await;
    Ok(())
}
