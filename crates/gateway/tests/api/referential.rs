use crate::both_backends;
use serde_json::Value;

both_backends! {
    async fn demo_referential_is_served_with_filters_and_pages(app) {
        let body: Value = app.get("/api/v1/referential/etapes").send().await?.json().await?;
        let codes: Vec<&str> = body["rows"].as_array().into_iter().flatten().filter_map(|r| r["codEtp"].as_str()).collect();
        assert!(codes.contains(&"ETP01") && codes.contains(&"ETP02"), "{body}");
        let body: Value = app.get("/api/v1/referential/versions-etape?codEtp=ETP02").send().await?.json().await?;
        assert_eq!(body["meta"]["total"], 1);
        assert_eq!(body["rows"][0]["codVrsVet"], 1);
        let body: Value = app.get("/api/v1/referential/departements?limit=10&offset=10").send().await?.json().await?;
        assert_eq!(body["rows"].as_array().map(Vec::len), Some(10));
        assert!(body["meta"]["total"].as_i64().unwrap_or(0) >= 101);
        let body: Value = app.get("/api/v1/referential/communes-bdi?codCom=25056").send().await?.json().await?;
        assert_eq!(body["rows"][0]["codBdi"], "25000");
        let body: Value = app.get("/api/v1/referential/annees?etaAnuIae=O").send().await?.json().await?;
        assert_eq!(body["rows"][0]["codAnu"], "2026");
        let res = app.get("/api/v1/referential/nope").send().await?;
        assert_eq!(res.status(), 404);
        let res = app.get("/api/v1/referential/etapes?colonne=x").send().await?;
        assert_eq!(res.status(), 400);
        let tables: Value = app.get("/api/v1/referential").send().await?.json().await?;
        assert_eq!(tables["tables"].as_array().map(Vec::len), Some(40));
        Ok(())
    }
}

both_backends! {
    async fn csv_upload_upserts_and_reports_lines(app) {
        let csv = "codCge,libCge,temAccesDistance\nCG7,Centre 7,O\nCG1,Centre de gestion démo 1 renommé,O\n";
        let report: Value = app.put("/api/v1/referential/centres-gestion").header("content-type", "text/csv").body(csv).send().await?.json().await?;
        assert_eq!((report["created"].as_u64(), report["updated"].as_u64(), report["rejected"].as_u64()), (Some(1), Some(1), Some(0)), "{report}");
        let again: Value = app.put("/api/v1/referential/centres-gestion").header("content-type", "text/csv").body(csv).send().await?.json().await?;
        assert_eq!(again["unchanged"], 2);

        // Atomic by default: two bad lines, nothing written, every error with its line.
        let bad = "codCge;libCge\nCG8;ok\n\nTOOLONG;x\nCG9;\n";
        let res = app.put("/api/v1/referential/centres-gestion").header("content-type", "text/csv").body(bad).send().await?;
        assert_eq!(res.status(), 400);
        let problem: Value = res.json().await?;
        let lines: Vec<i64> = problem["errors"].as_array().into_iter().flatten().filter_map(|e| e["line"].as_i64()).collect();
        assert_eq!(lines, vec![4, 5], "{problem}");
        assert_eq!(problem["errors"][0]["faultKey"], "technical.parameter.noncoherentinput.codCge");
        assert_eq!(problem["errors"][1]["faultKey"], "technical.parameter.noncoherentinput.libCgeobligatoire");
        let body: Value = app.get("/api/v1/referential/centres-gestion?codCge=CG8").send().await?.json().await?;
        assert_eq!(body["meta"]["total"], 0, "nothing written");

        // Partial: the valid line is written, the others reported.
        let report: Value = app.put("/api/v1/referential/centres-gestion?partial=true").header("content-type", "text/csv").body(bad).send().await?.json().await?;
        assert_eq!((report["created"].as_u64(), report["rejected"].as_u64()), (Some(1), Some(2)), "{report}");

        // The in-memory snapshot follows.
        assert!(app.state.referential().contains("centres-gestion", &["CG8"]));

        // JSON, and a header the table does not know.
        let json = r#"[{"codCge":"CJ1","libCge":"Json","temAccesDistance":"N"}]"#;
        let report: Value = app.put("/api/v1/referential/centres-gestion").header("content-type", "application/json").body(json).send().await?.json().await?;
        assert_eq!(report["created"], 1);
        let res = app.put("/api/v1/referential/centres-gestion").header("content-type", "text/csv").body("codCge,libelle\nX,y\n").send().await?;
        assert_eq!(res.status(), 400);
        let problem: Value = res.json().await?;
        assert!(problem["detail"].as_str().unwrap_or_default().contains("libelle"), "{problem}");
        let res = app.put("/api/v1/referential/centres-gestion").header("content-type", "application/xml").body("<x/>").send().await?;
        assert_eq!(res.status(), 415);
        Ok(())
    }
}
