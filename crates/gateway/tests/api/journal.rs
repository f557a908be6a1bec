use crate::both_backends;
use serde_json::Value;

both_backends! {
    async fn every_call_is_journaled_and_searchable(app) {
        app.get("/api/v1/referential/etapes").send().await?;
        app.http.get(app.url("/api/v1/referential/etapes")).send().await?;
        app.put("/api/v1/referential/centres-gestion").header("content-type", "text/csv").body("codCge,libCge\nX1234,y\n").send().await?;
        app.flush_journal().await;
        let body: Value = app.get("/api/v1/journal?operation=GET%20/api/v1/referential/{table}").send().await?.json().await?;
        assert_eq!(body["meta"]["total"], 2, "{body}");
        let entries = body["entries"].as_array().cloned().unwrap_or_default();
        // Newest first: the refused call, then the admin's.
        assert_eq!(entries[0]["outcome"], "rejected");
        assert_eq!(entries[0]["httpStatus"], 401);
        assert_eq!(entries[0]["faultKey"], "technical.security.invaliduser.user");
        assert_eq!(entries[1]["client"], "admin");
        assert_eq!(entries[1]["key"], "etapes");
        assert_eq!(entries[1]["outcome"], "ok");
        assert_eq!(entries[1]["channel"], "rest");
        let rejected: Value = app.get("/api/v1/journal?outcome=rejected&faultKey=technical.parameter.noncoherentinput.codCge").send().await?.json().await?;
        assert_eq!(rejected["meta"]["total"], 1, "{rejected}");
        assert_eq!(rejected["entries"][0]["key"], "centres-gestion");
        let by_client: Value = app.get("/api/v1/journal?client=admin&from=2020-01-01T00:00:00Z").send().await?.json().await?;
        assert!(by_client["meta"]["total"].as_i64().unwrap_or(0) >= 2);
        let future: Value = app.get("/api/v1/journal?from=2999-01-01T00:00:00Z").send().await?.json().await?;
        assert_eq!(future["meta"]["total"], 0);
        let res = app.get("/api/v1/journal?from=yesterday").send().await?;
        assert_eq!(res.status(), 400);
        let res = app.get("/api/v1/journal?outcome=maybe").send().await?;
        assert_eq!(res.status(), 400);
        Ok(())
    }
}
