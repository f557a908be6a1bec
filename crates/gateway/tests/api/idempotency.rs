//! `Idempotency-Key` on batch uploads (the key is the client's, bound to the route and the body),
//! the leases of running requests, and the admission limits of batches (`503` with
//! `Retry-After`), slow bodies (`408`).

use crate::both_backends;
use crate::helpers::{Backend, TestApp, TestResult};
use apogee_db::repo::idempotency::{self, KeyRow};
use serde_json::Value;
use std::time::Duration;

const FILE: &str =
    "typLpa,codAnu,codEtu,codEtp,codVrsVet,libCmtLpa\nREINS,2026,10000001,ETP02,1,a\n";

async fn post(
    app: &TestApp,
    path: &str,
    token: &str,
    body: &str,
    key: &str,
) -> Result<(u16, reqwest::header::HeaderMap, Value), Box<dyn std::error::Error>> {
    let resp = app
        .http
        .post(app.url(path))
        .bearer_auth(token)
        .header(
            "Content-Type",
            if path.contains("opi") {
                "application/x-ndjson"
            } else {
                "text/csv"
            },
        )
        .header("Idempotency-Key", key)
        .body(body.to_owned())
        .send()
        .await?;
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    let text = resp.text().await?;
    Ok((
        status,
        headers,
        serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?,
    ))
}

fn opi_line(code: &str) -> String {
    format!(
        "{{\"individu\":{{\"codOpiIntEpo\":\"{code}\",\"donneesNaissance\":{{\"dateNaiIndOpi\":\"14032005\",\"temDateNaiRelOpi\":\"N\"}},\"etatCivil\":{{\"libNomPatIndOpi\":\"MARTIN\",\"libPr1IndOpi\":\"LEA\"}}}}}}\n"
    )
}

both_backends! {
    async fn a_key_is_bound_to_its_body_and_its_client(app) {
        let (status, _, first) = post(app, "/api/v1/laissez-passer/batch", &app.admin_token, FILE, "lot-1").await?;
        assert_eq!(status, 200, "{first}");
        // The same key with another file: 422 naming the key, nothing processed.
        let other = FILE.replace(",a\n", ",b\n");
        let (status, _, refused) = post(app, "/api/v1/laissez-passer/batch", &app.admin_token, &other, "lot-1").await?;
        assert_eq!(status, 422, "{refused}");
        assert_eq!(refused["faultKey"], "technical.parameter.noncoherentinput.idempotencyKey");
        assert!(refused["detail"].as_str().is_some_and(|d| d.contains("lot-1")), "{refused}");
        let lp: Value = app.get("/api/v1/laissez-passer/REINS/10000001/2026/ETP02/1").send().await?.json().await?;
        assert_eq!(lp["libCmtLpa"], "a", "the other file was not processed: {lp}");
        // The same key on another route is another use of it.
        let (status, _, _) = post(app, "/api/v1/etudiants/batch", &app.admin_token, "codEtu,libNomPatInd,libPr1Ind,dateNaiInd\n10000009,NOM,PRENOM,2004-01-01\n", "lot-1").await?;
        assert_eq!(status, 422);
        // Keys are per client: another client's "lot-1" is its own.
        let other_client = app.client_with("autre", "lp:write").await;
        let (status, _, theirs) = post(app, "/api/v1/laissez-passer/batch", &other_client, &other, "lot-1").await?;
        assert_eq!(status, 200, "{theirs}");
        assert_ne!(theirs["id"], first["id"]);
        Ok(())
    }
}

both_backends! {
    async fn opi_and_student_batches_answer_a_repeated_key_from_storage(app) {
        let body = format!("{}{}", opi_line("IDEM000001"), opi_line("IDEM000002"));
        let (status, headers, first) = post(app, "/api/v1/opi/batch", &app.admin_token, &body, "opi-1").await?;
        assert_eq!(status, 200, "{first}");
        assert!(headers.get("Idempotent-Replayed").is_none());
        assert_eq!(first["summary"]["created"], 2, "{first}");
        let (status, headers, again) = post(app, "/api/v1/opi/batch", &app.admin_token, &body, "opi-1").await?;
        assert_eq!(status, 200);
        assert_eq!(headers.get("Idempotent-Replayed").and_then(|v| v.to_str().ok()), Some("true"));
        assert_eq!(again, first, "the stored answer, as first sent");
        // Without the key, the file runs again (now unchanged).
        let resp = app.http.post(app.url("/api/v1/opi/batch")).bearer_auth(&app.admin_token)
            .header("Content-Type", "application/x-ndjson").body(body.clone()).send().await?;
        let rerun: Value = resp.json().await?;
        assert_eq!(rerun["summary"]["unchanged"], 2, "{rerun}");
        let students = "codEtu,libNomPatInd,libPr1Ind,dateNaiInd\n10000009,NOM,PRENOM,2004-01-01\n";
        let (status, _, first) = post(app, "/api/v1/etudiants/batch", &app.admin_token, students, "etu-1").await?;
        assert_eq!((status, first["created"].as_u64()), (200, Some(1)), "{first}");
        let (_, headers, again) = post(app, "/api/v1/etudiants/batch", &app.admin_token, students, "etu-1").await?;
        assert_eq!(headers.get("Idempotent-Replayed").and_then(|v| v.to_str().ok()), Some("true"));
        assert_eq!(again, first);
        Ok(())
    }
}

/// Stores a running request on `key` whose lease ends in `lease_secs` (negative: expired).
async fn running(app: &TestApp, key: &str, body_sha256: String, lease_secs: i64) -> TestResult {
    let now = chrono::Utc::now().naive_utc();
    let row = KeyRow {
        client: "admin".into(),
        idem_key: key.into(),
        route: "POST /api/v1/laissez-passer/batch".into(),
        body_sha256,
        status: "running".into(),
        owner: "01ELSEWHERE0000000000000000".chars().take(26).collect(),
        lease_until: now + chrono::Duration::seconds(lease_secs),
        resource: Some("01BATCHOFACRASHEDPROCESS00".into()),
        response_status: None,
        response_body: None,
        created_at: now,
        finished_at: None,
    };
    app.state
        .db
        .write(move |c| {
            idempotency::insert_if_absent(c, &row).map_err(apogee_db::DbError::from)?;
            idempotency::renew(c, ("admin", &row.idem_key), &row.owner, row.lease_until)
                .map_err(apogee_db::DbError::from)
        })
        .await?;
    Ok(())
}

fn sha256(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

both_backends! {
    async fn a_held_lease_answers_409_and_an_expired_one_is_taken_over(app) {
        running(app, "pris", sha256(FILE), 30).await?;
        let (status, headers, busy) = post(app, "/api/v1/laissez-passer/batch", &app.admin_token, FILE, "pris").await?;
        assert_eq!(status, 409, "{busy}");
        let wait: u64 = headers.get("Retry-After").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).ok_or("Retry-After")?;
        assert!((25..=31).contains(&wait), "{wait}");
        // The lease expires (its process crashed): the next post takes it over and runs the batch
        // the key names.
        running(app, "pris", sha256(FILE), -1).await?;
        let (status, _, resumed) = post(app, "/api/v1/laissez-passer/batch", &app.admin_token, FILE, "pris").await?;
        assert_eq!(status, 200, "{resumed}");
        assert_eq!(resumed["id"], "01BATCHOFACRASHEDPROCESS00");
        assert_eq!(resumed["status"], "completed");
        let (_, _, replay) = post(app, "/api/v1/laissez-passer/batch", &app.admin_token, FILE, "pris").await?;
        assert_eq!(replay["id"], resumed["id"]);
        Ok(())
    }
}

/// A body that sends `first`, then nothing for `stall`, then `rest`.
fn slow_body(first: &'static str, stall: Duration, rest: &'static str) -> reqwest::Body {
    let parts = futures_util::stream::iter([(first, Duration::ZERO), (rest, stall)]).then(
        |(text, wait)| async move {
            tokio::time::sleep(wait).await;
            Ok::<_, std::io::Error>(text.as_bytes().to_vec())
        },
    );
    reqwest::Body::wrap_stream(parts)
}

use futures_util::StreamExt;

#[tokio::test]
async fn batches_over_the_limits_wait_and_silent_bodies_are_cut() -> TestResult {
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.limits.batches_per_client = 1;
        s.limits.body_idle_timeout_secs = 1;
    })
    .await
    else {
        return Ok(());
    };
    let header = "codEtu,libNomPatInd,libPr1Ind,dateNaiInd\n";
    // A streamed student batch that stalls holds the client's only batch slot …
    let slow = app
        .http
        .post(app.url("/api/v1/etudiants/batch"))
        .bearer_auth(&app.admin_token)
        .header("Content-Type", "text/csv")
        .body(slow_body(
            header,
            Duration::from_secs(3),
            "10000009,NOM,PRENOM,2004-01-01\n",
        ))
        .send();
    let slow = tokio::spawn(slow);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // … so a second batch of the same client is refused at once: 503 with Retry-After.
    let (status, headers, refused) = post(
        &app,
        "/api/v1/laissez-passer/batch",
        &app.admin_token,
        FILE,
        "second",
    )
    .await?;
    assert_eq!(status, 503, "{refused}");
    assert!(headers.get("Retry-After").is_some());
    // The stalled body is cut after 1 s of silence: 408.
    let cut = slow.await??;
    assert_eq!(cut.status(), 408);
    let problem: Value = cut.json().await?;
    assert_eq!(
        problem["type"], "urn:apogee-gateway:problem:request-timeout",
        "{problem}"
    );
    // The slot is free again.
    let (status, _, ok) = post(
        &app,
        "/api/v1/laissez-passer/batch",
        &app.admin_token,
        FILE,
        "third",
    )
    .await?;
    assert_eq!(status, 200, "{ok}");
    let health = app.http.get(app.url("/health/ready")).send().await?;
    assert_eq!(health.status(), 200);
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn an_exhausted_pool_answers_503_with_retry_after_and_does_not_hang() -> TestResult {
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.db.pool_size = 2;
        s.db.connection_timeout_secs = 1;
    })
    .await
    else {
        return Ok(());
    };
    // Warm the secret cache, then hold every pooled connection.
    assert_eq!(app.get("/api/v1/me").send().await?.status(), 200);
    let held = {
        let db = app.state.db.clone();
        tokio::task::spawn_blocking(move || -> Result<_, apogee_db::DbError> {
            Ok((db.conn()?, db.conn()?))
        })
        .await??
    };
    let started = std::time::Instant::now();
    let res = app.get("/api/v1/journal?limit=1").send().await?;
    assert_eq!(res.status(), 503);
    assert_eq!(
        res.headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered, not hung"
    );
    let problem: Value = res.json().await?;
    assert_eq!(
        problem["faultKey"], "technical.data.transaction.connexion",
        "{problem}"
    );
    drop(held);
    assert_eq!(
        app.get("/api/v1/journal?limit=1").send().await?.status(),
        200
    );
    app.stop().await;
    Ok(())
}
