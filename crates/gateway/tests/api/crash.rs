//! Crash safety of laissez-passer batch files (LP-19): the real binary is killed (`SIGKILL`)
//! in the middle of a batch, restarted on the same data directory, and the file is posted again
//! (same `Idempotency-Key`: the batch resumes after its last committed line; no key, partial
//! mode: every row is upserted again). The LP table, and with a key the report, must end as
//! after one clean run of the same file on a fresh data directory.

use crate::helpers::TestResult;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

const STUDENTS: usize = 8000;

struct Running {
    process: crate::process::Running,
    base: String,
    token: String,
    http: reqwest::Client,
}

/// The lease of an idempotency key, short here: after a crash, the batch is taken over once it
/// expires.
const LEASE: &[(&str, &str)] = &[("APOGEE_IDEMPOTENCY__LEASE_SECS", "2")];

fn start(data_dir: &Path) -> Result<Running, Box<dyn std::error::Error>> {
    let process = crate::process::start_with(data_dir, LEASE)?;
    let token = std::fs::read_to_string(data_dir.join("admin.token"))?
        .trim()
        .to_owned();
    Ok(Running {
        base: format!("http://127.0.0.1:{}", process.port),
        process,
        token,
        http: reqwest::Client::new(),
    })
}

impl Running {
    fn post(&self, path: &str, content_type: &str, body: String) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("Content-Type", content_type)
            .body(body)
    }

    async fn get(&self, path: &str) -> Result<Value, Box<dyn std::error::Error>> {
        let text = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?
            .text()
            .await?;
        Ok(serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?)
    }

    async fn students(&self) -> TestResult {
        let mut csv = String::from("codEtu,libNomPatInd,libPr1Ind,dateNaiInd\n");
        for i in 0..STUDENTS {
            let name: String = format!("{i:05}")
                .bytes()
                .map(|d| char::from(b'A' + (d - b'0')))
                .collect();
            csv.push_str(&format!("{},NOM{name},PRENOM,2004-01-01\n", 30_000_000 + i));
        }
        let r: Value = self
            .post("/api/v1/etudiants/batch", "text/csv", csv)
            .send()
            .await?
            .json()
            .await?;
        assert_eq!(r["created"], STUDENTS, "{}", r["lines"][0]);
        Ok(())
    }

    /// Every LP of 2026, without the times and trace ids (they differ between runs).
    async fn lps(&self) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
        let mut out = Vec::new();
        loop {
            let page = self
                .get(&format!(
                    "/api/v1/laissez-passer?codAnu=2026&limit=1000&offset={}",
                    out.len()
                ))
                .await?;
            let rows = page["laissezPasser"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if rows.is_empty() {
                return Ok(out);
            }
            for mut r in rows {
                if let Some(o) = r.as_object_mut() {
                    o.remove("datCreLpa");
                    let modified = o.remove("datModLpa").is_some_and(|v| !v.is_null());
                    o.insert("modified".into(), Value::Bool(modified));
                }
                out.push(r);
            }
        }
    }

    async fn lp_count(&self) -> Result<i64, Box<dyn std::error::Error>> {
        let v = self
            .get("/api/v1/laissez-passer?codAnu=2026&limit=1")
            .await?;
        Ok(v["meta"]["total"].as_i64().unwrap_or(0))
    }

    fn kill9(&mut self) -> TestResult {
        self.process.child.kill()?;
        self.process.child.wait()?;
        Ok(())
    }
}

/// Three VETs per student, a duplicate and a comment changed by it, and a bad row every 1000.
fn file() -> String {
    let mut f = String::from("typLpa,codAnu,codEtu,codEtp,codVrsVet,codRgi,libCmtLpa\n");
    for i in 0..STUDENTS {
        let etu = 30_000_000 + i;
        for etp in ["ETP01", "ETP02", "ETP03"] {
            f.push_str(&format!("REINS,2026,{etu},{etp},1,1,lot {i}\n"));
        }
        if i % 1000 == 7 {
            f.push_str(&format!("REINS,2026,{etu},ETP01,1,,doublon\n"));
            f.push_str(&format!("REINS,2026,{etu},ETP99,1,,VET inconnue\n"));
        }
    }
    f
}

/// Posts the file; while the key's lease is held (by the killed process), waits `Retry-After`.
async fn post_batch(
    server: &Running,
    key: Option<&str>,
) -> Result<Value, Box<dyn std::error::Error>> {
    for _ in 0..30 {
        let mut req = server.post("/api/v1/laissez-passer/batch", "text/csv", file());
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        let res = req.send().await?;
        if res.status() == 409 {
            let wait: u64 = res
                .headers()
                .get("Retry-After")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .ok_or("409 without Retry-After")?;
            assert!(
                (1..=3).contains(&wait),
                "Retry-After {wait} for a 2 s lease"
            );
            tokio::time::sleep(Duration::from_secs(wait)).await;
            continue;
        }
        let text = res.text().await?;
        return Ok(serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?);
    }
    Err("the key stayed busy".into())
}

/// Posts the file in the background and kills the server once some LPs are committed.
async fn crash_mid_batch(
    server: &mut Running,
    key: Option<&str>,
) -> Result<i64, Box<dyn std::error::Error>> {
    let mut req = server.post("/api/v1/laissez-passer/batch", "text/csv", file());
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let pending = tokio::spawn(req.send());
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = 0;
    while seen == 0 {
        if Instant::now() > deadline {
            return Err("no progress".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        seen = server.lp_count().await?;
    }
    server.kill9()?;
    pending.abort();
    Ok(seen)
}

fn report_lines(v: &Value) -> Vec<Value> {
    v["lines"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_killed_batch_resumes_with_its_key_as_one_clean_run() -> TestResult {
    let clean_dir = tempfile::tempdir()?;
    let clean = start(clean_dir.path())?;
    clean.students().await?;
    let expected = post_batch(&clean, Some("campagne-2026")).await?;
    let expected_lps = clean.lps().await?;
    assert_eq!(expected["status"], "completed", "{}", expected["summary"]);
    assert_eq!(expected["summary"]["rejected"], STUDENTS / 1000);
    drop(clean);

    let dir = tempfile::tempdir()?;
    let mut server = start(dir.path())?;
    server.students().await?;
    let seen = crash_mid_batch(&mut server, Some("campagne-2026")).await?;
    drop(server);
    let server = start(dir.path())?;
    let committed = server.lp_count().await?;
    assert!(committed >= seen, "{committed} < {seen}");
    assert!(
        committed < expected_lps.len() as i64,
        "the kill came after the end of the batch ({committed} LPs): nothing to resume"
    );
    let resumed = post_batch(&server, Some("campagne-2026")).await?;
    assert_eq!(resumed["status"], "completed");
    assert_eq!(resumed["summary"], expected["summary"]);
    assert_eq!(report_lines(&resumed), report_lines(&expected));
    assert_eq!(server.lps().await?, expected_lps);
    // The stored batch too.
    let id = resumed["id"].as_str().ok_or("id")?;
    let stored = server
        .get(&format!("/api/v1/laissez-passer/batches/{id}"))
        .await?;
    assert_eq!(report_lines(&stored), report_lines(&expected));
    // Once more with the key: the stored report, nothing written.
    let again = post_batch(&server, Some("campagne-2026")).await?;
    assert_eq!(again["id"], resumed["id"]);
    assert_eq!(again["summary"], expected["summary"]);
    Ok(())
}

#[tokio::test]
async fn a_killed_batch_reposted_without_key_ends_as_one_clean_run() -> TestResult {
    let clean_dir = tempfile::tempdir()?;
    let clean = start(clean_dir.path())?;
    clean.students().await?;
    let expected = post_batch(&clean, None).await?;
    let expected_lps = clean.lps().await?;
    drop(clean);

    let dir = tempfile::tempdir()?;
    let mut server = start(dir.path())?;
    server.students().await?;
    crash_mid_batch(&mut server, None).await?;
    drop(server);
    let server = start(dir.path())?;
    let again = post_batch(&server, None).await?;
    assert_eq!(again["status"], "completed");
    let s = &again["summary"];
    assert_eq!(s["total"], expected["summary"]["total"]);
    assert_eq!(s["rejected"], expected["summary"]["rejected"]);
    // Rows committed before the kill are now unchanged (or updated: the duplicate).
    let done = |v: &Value| {
        ["created", "updated", "unchanged"]
            .iter()
            .map(|k| v[k].as_i64().unwrap_or(0))
            .sum::<i64>()
    };
    assert_eq!(done(s), done(&expected["summary"]));
    // Same rows and attributes; `modified` may differ for the rows re-sent after the crash.
    let strip = |v: Vec<Value>| -> Vec<Value> {
        v.into_iter()
            .map(|mut r| {
                if let Some(o) = r.as_object_mut() {
                    o.remove("modified");
                    o.remove("codUtiModLpa");
                }
                r
            })
            .collect()
    };
    assert_eq!(strip(server.lps().await?), strip(expected_lps));
    Ok(())
}

/// The OPI pushes and piece uploads of the OPI/PJ crash test: `(code, OPI body, piece)`.
fn writes() -> Vec<(String, Value, Vec<u8>)> {
    (0..400)
        .map(|i| {
            let code = format!("KILL{i:04}");
            let name: String = format!("{i:04}")
                .bytes()
                .map(|d| char::from(b'A' + (d - b'0')))
                .collect();
            let body = serde_json::json!({
                "individu": {
                    "codOpiIntEpo": code,
                    "donneesNaissance": {"dateNaiIndOpi": "14032005", "temDateNaiRelOpi": "N"},
                    "etatCivil": {"libNomPatIndOpi": format!("NOM{name}"), "libPr1IndOpi": "LEA"}
                },
                "voeux": {"item": [
                    {"codCge": "CG1", "codEtp": "ETP01", "codVrsVet": 1, "numCls": 1, "codDemDos": "C", "codDecVeu": "F"},
                    {"codCge": "CG1", "codEtp": "ETP02", "codVrsVet": 1, "numCls": 2, "codDemDos": "C", "codDecVeu": "F"}
                ]}
            });
            let mut pdf = b"%PDF-1.4\n".to_vec();
            pdf.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, 30_000 + i));
            pdf.extend_from_slice(b"\n%%EOF\n");
            (code, body, pdf)
        })
        .collect()
}

impl Running {
    /// Pushes every OPI and its piece, 8 at a time; returns the failures (none expected).
    async fn push_all(&self, writes: &[(String, Value, Vec<u8>)]) -> Vec<String> {
        let mut failures = Vec::new();
        for group in writes.chunks(8) {
            let sent = group.iter().map(|(code, body, pdf)| async move {
                let put = self
                    .http
                    .put(format!("{}/api/v1/opi/{code}", self.base))
                    .bearer_auth(&self.token)
                    .json(body)
                    .send()
                    .await;
                let opi = put.map(|r| r.status().as_u16()).unwrap_or(0);
                let piece = self
                    .http
                    .put(format!(
                        "{}/api/v1/opi/{code}/pj/PJ01?nomFic=photo.pdf",
                        self.base
                    ))
                    .bearer_auth(&self.token)
                    .body(pdf.clone())
                    .send()
                    .await;
                let pj = piece.map(|r| r.status().as_u16()).unwrap_or(0);
                (code, opi, pj)
            });
            for (code, opi, pj) in futures_util::future::join_all(sent).await {
                if !(200..300).contains(&opi) || !(200..300).contains(&pj) {
                    failures.push(format!("{code}: opi {opi}, pj {pj}"));
                }
            }
        }
        failures
    }

    /// Every stored OPI with its vœux count, and each piece's SHA-256 as downloaded.
    async fn stored_opis(
        &self,
    ) -> Result<Vec<(String, usize, Option<String>)>, Box<dyn std::error::Error>> {
        let list = self.get("/api/v1/opi?limit=1000").await?;
        let mut out = Vec::new();
        for o in list["opis"].as_array().into_iter().flatten() {
            let code = o["codOpiIntEpo"].as_str().unwrap_or_default().to_owned();
            let one = self.get(&format!("/api/v1/opi/{code}")).await?;
            let voeux = one["voeux"].as_array().map_or(0, Vec::len);
            let piece = match one["pj"].as_array().and_then(|p| p.first()) {
                None => None,
                Some(p) => {
                    let res = self
                        .http
                        .get(format!("{}/api/v1/opi/{code}/pj/PJ01", self.base))
                        .bearer_auth(&self.token)
                        .send()
                        .await?;
                    assert_eq!(res.status(), 200, "{code}: a piece row without its file");
                    let bytes = res.bytes().await?;
                    use sha2::Digest;
                    let sha = hex::encode(sha2::Sha256::digest(&bytes));
                    assert_eq!(
                        p["sha256"].as_str(),
                        Some(sha.as_str()),
                        "{code}: the file is not the row's"
                    );
                    Some(sha)
                }
            };
            out.push((code, voeux, piece));
        }
        out.sort();
        Ok(out)
    }
}

#[tokio::test]
async fn killed_during_opi_pushes_and_piece_uploads_leaves_nothing_half_written() -> TestResult {
    let writes = writes();
    let clean_dir = tempfile::tempdir()?;
    let clean = start(clean_dir.path())?;
    assert!(clean.push_all(&writes).await.is_empty());
    let expected = clean.stored_opis().await?;
    assert_eq!(expected.len(), writes.len());
    drop(clean);

    let dir = tempfile::tempdir()?;
    let mut server = start(dir.path())?;
    let pushing = {
        let (base, token, http) = (
            server.base.clone(),
            server.token.clone(),
            server.http.clone(),
        );
        let writes = writes.clone();
        tokio::spawn(async move {
            for (code, body, pdf) in &writes {
                let _ = http
                    .put(format!("{base}/api/v1/opi/{code}"))
                    .bearer_auth(&token)
                    .json(body)
                    .send()
                    .await;
                let _ = http
                    .put(format!("{base}/api/v1/opi/{code}/pj/PJ01?nomFic=photo.pdf"))
                    .bearer_auth(&token)
                    .body(pdf.clone())
                    .send()
                    .await;
            }
        })
    };
    // Kill while OPIs and pieces are being written.
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if server.get("/api/v1/opi?limit=1").await?["meta"]["total"]
            .as_u64()
            .unwrap_or(0)
            >= 60
        {
            break;
        }
    }
    server.kill9()?;
    pushing.abort();
    drop(server);
    let server = start(dir.path())?;
    // What the crash left: whole OPIs (both vœux) and, for each piece row, its file.
    let left = server.stored_opis().await?;
    assert!(
        !left.is_empty() && left.len() < writes.len(),
        "{} OPIs",
        left.len()
    );
    for (code, voeux, _) in &left {
        assert_eq!(*voeux, 2, "{code}: an OPI without all its vœux");
    }
    // Sent again, everything converges to the one-shot result.
    assert!(server.push_all(&writes).await.is_empty());
    assert_eq!(server.stored_opis().await?, expected);
    Ok(())
}
