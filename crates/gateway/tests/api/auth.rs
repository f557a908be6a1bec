use crate::both_backends;
use serde_json::Value;

both_backends! {
    async fn missing_or_bad_credentials_get_401_problems(app) {
        let res = app.http.get(app.url("/api/v1/referential/etapes")).send().await?;
        assert_eq!(res.status(), 401);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        assert!(res.headers().contains_key("www-authenticate"));
        let body: Value = res.json().await?;
        assert_eq!(body["status"], 401);
        assert_eq!(body["faultKey"], "technical.security.invaliduser.user");
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        assert_eq!(body["traceId"].as_str().map(str::len), Some(26));
        let res = app.http.get(app.url("/api/v1/referential/etapes")).bearer_auth("apg_wrong").send().await?;
        assert_eq!(res.status(), 401);
        // HTTP Basic with the right secret but another name is refused too.
        let res = app.http.get(app.url("/api/v1/me")).basic_auth("someone", Some(&app.admin_token)).send().await?;
        assert_eq!(res.status(), 401);
        let me: Value = app.http.get(app.url("/api/v1/me")).basic_auth("admin", Some(&app.admin_token)).send().await?.json().await?;
        assert_eq!(me["client"], "admin");
        assert_eq!(me["scopes"].as_array().map(Vec::len), Some(13));
        assert!(me["scopes"].as_array().is_some_and(|s| s.iter().any(|v| v == "etudiant:read")), "{me}");
        assert!(me["scopes"].as_array().is_some_and(|s| s.iter().any(|v| v == "ia:write")), "{me}");
        Ok(())
    }
}

both_backends! {
    async fn reduced_scopes_get_403_where_they_should(app) {
        let reader = app.client_with("lecteur", "opi:read").await;
        let res = app.http.get(app.url("/api/v1/referential/etapes")).bearer_auth(&reader).send().await?;
        assert_eq!(res.status(), 200, "any client reads the referential");
        let res = app.http.get(app.url("/api/v1/journal")).bearer_auth(&reader).send().await?;
        assert_eq!(res.status(), 403);
        let body: Value = res.json().await?;
        assert_eq!(body["faultKey"], "technical.security.forbidden.journal:read");
        let res = app.http.put(app.url("/api/v1/referential/etapes")).bearer_auth(&reader)
            .header("content-type", "text/csv").body("codEtp,libEtp\nX,y\n").send().await?;
        assert_eq!(res.status(), 403);
        // Reading students does not enrol them.
        let student_reader = app.client_with("scolarite", "etudiant:read lp:write").await;
        let res = app.http.post(app.url("/api/v1/inscriptions")).bearer_auth(&student_reader)
            .json(&serde_json::json!({"codEtu": "10000001", "codAnu": "2026", "codEtp": "ETP01", "codVrsVet": 1})).send().await?;
        assert_eq!(res.status(), 403);
        let body: Value = res.json().await?;
        assert_eq!(body["faultKey"], "technical.security.forbidden.ia:write");
        let auditor = app.client_with("auditeur", "journal:read").await;
        let res = app.http.get(app.url("/api/v1/journal")).bearer_auth(&auditor).send().await?;
        assert_eq!(res.status(), 200);
        Ok(())
    }
}
