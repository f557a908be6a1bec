use crate::both_backends;
use serde_json::Value;

both_backends! {
    async fn health_and_metrics(app) {
        let live = app.http.get(app.url("/health/live")).send().await?;
        assert_eq!(live.status(), 200);
        let ready: Value = app.http.get(app.url("/health/ready")).send().await?.json().await?;
        assert_eq!(ready["status"], "ready");
        // Two referential calls, one refused; /metrics counts them by route and status.
        app.get("/api/v1/referential/etapes").send().await?;
        app.http.get(app.url("/api/v1/referential/etapes")).send().await?;
        let metrics = app.http.get(app.url("/metrics")).send().await?;
        assert_eq!(metrics.status(), 200);
        let text = metrics.text().await?;
        assert!(text.contains(r#"apogee_http_requests_total{method="GET",route="/api/v1/referential/{table}",status="200"} 1"#), "{text}");
        assert!(text.contains(r#"apogee_http_requests_total{method="GET",route="/api/v1/referential/{table}",status="401"} 1"#), "{text}");
        assert!(text.contains("apogee_http_request_duration_seconds_bucket"));
        assert!(text.contains(r#"apogee_db_pool_connections{state="max"}"#));
        Ok(())
    }
}

both_backends! {
    async fn request_id_is_echoed_or_generated(app) {
        let res = app.http.get(app.url("/health/live")).header("X-Request-Id", "abc-123").send().await?;
        assert_eq!(res.headers()["x-request-id"], "abc-123");
        let res = app.http.get(app.url("/health/live")).header("X-Request-Id", "bad id with spaces").send().await?;
        let generated = res.headers()["x-request-id"].to_str()?.to_owned();
        assert_eq!(generated.len(), 26, "a ULID: {generated}");
        let res = app.get("/api/v1/nope").send().await?;
        assert_eq!(res.status(), 404);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        Ok(())
    }
}

#[tokio::test]
async fn body_limits_answer_413_problems() -> crate::helpers::TestResult {
    let Some(app) = crate::helpers::TestApp::spawn_with(crate::helpers::Backend::Sqlite, |s| {
        s.limits.referential_bytes = 64;
    })
    .await
    else {
        return Ok(());
    };
    let big = format!("codCge,libCge\n{}", "CGZ,x\n".repeat(50));
    let res = app
        .put("/api/v1/referential/centres-gestion")
        .header("content-type", "text/csv")
        .body(big)
        .send()
        .await?;
    assert_eq!(res.status(), 413);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body: Value = res.json().await?;
    assert_eq!(
        body["faultKey"],
        "technical.parameter.noncoherentinput.body"
    );
    app.stop().await;
    Ok(())
}
