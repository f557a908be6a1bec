//! Two real `apogee-gateway` processes on one database (a SQLite file, a PostgreSQL database), and
//! 16 concurrent clients sending to both the same and distinct OPIs, pieces, laissez-passer and
//! LP batches (the same and different `Idempotency-Key`s). Every answer is a success, or a `409`
//! with `Retry-After` for a key whose batch runs in the other process; nothing is written twice
//! and nothing is lost.

use apogee_db::testing::TestDatabase;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const CLIENTS: usize = 16;
const ROUNDS: usize = 6;
/// Students created for the LP batches (one LP row each).
const STUDENTS: usize = 1500;
const FIRST_ETU: usize = 30_000_000;

struct Gateways {
    _a: crate::process::Running,
    _b: crate::process::Running,
    bases: [String; 2],
    token: String,
    http: reqwest::Client,
}

impl Gateways {
    fn start(dir: &Path, url: &str) -> Res<Self> {
        let env = [
            ("APOGEE_DATABASE_URL", url),
            ("APOGEE_IDEMPOTENCY__LEASE_SECS", "5"),
            ("APOGEE_LIMITS__BATCHES_PER_CLIENT", "16"),
            ("APOGEE_LIMITS__BATCHES", "16"),
        ];
        let a = crate::process::start_with(dir, &env).map_err(|e| e.to_string())?;
        // The second process starts once the first has migrated and bootstrapped the database.
        let b = crate::process::start_with(dir, &env).map_err(|e| e.to_string())?;
        let token = std::fs::read_to_string(dir.join("admin.token"))?
            .trim()
            .to_owned();
        Ok(Gateways {
            bases: [
                format!("http://127.0.0.1:{}", a.port),
                format!("http://127.0.0.1:{}", b.port),
            ],
            _a: a,
            _b: b,
            token,
            http: reqwest::Client::new(),
        })
    }

    fn url(&self, which: usize, path: &str) -> String {
        format!("{}{path}", self.bases[which % 2])
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Res<(u16, String, Option<u64>)> {
        let res = req.bearer_auth(&self.token).send().await?;
        let status = res.status().as_u16();
        let retry = res
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        Ok((status, res.text().await?, retry))
    }

    async fn get(&self, which: usize, path: &str) -> Res<Value> {
        let (status, text, _) = self.send(self.http.get(self.url(which, path))).await?;
        if status != 200 {
            return Err(format!("GET {path}: {status} {text}").into());
        }
        Ok(serde_json::from_str(&text)?)
    }
}

fn opi(code: &str, nom: &str) -> Value {
    json!({
        "individu": {
            "codOpiIntEpo": code,
            "donneesNaissance": {"dateNaiIndOpi": "14032005", "temDateNaiRelOpi": "N"},
            "etatCivil": {"libNomPatIndOpi": nom, "libPr1IndOpi": "LEA"}
        },
        "voeux": {"item": [{"codCge": "CG1", "codEtp": "ETP01", "codVrsVet": 1, "numCls": 1,
                            "codDemDos": "C", "codDecVeu": "F"}]}
    })
}

fn letters(mut i: usize) -> String {
    (0..6)
        .map(|_| {
            let c = char::from(b'A' + (i % 26) as u8);
            i /= 26;
            c
        })
        .collect()
}

fn pdf() -> Vec<u8> {
    let mut v = b"%PDF-1.4\n".to_vec();
    v.extend(std::iter::repeat_n(b'x', 20_000));
    v.extend_from_slice(b"\n%%EOF\n");
    v
}

fn lp_file() -> String {
    let mut f = String::from("typLpa,codAnu,codEtu,codEtp,codVrsVet\n");
    for i in 0..STUDENTS {
        f.push_str(&format!("REINS,2026,{},ETP01,1\n", FIRST_ETU + i));
    }
    f
}

/// One status that is not a success, with what was sent.
type Failure = String;

/// Sends until the answer is not a `409` with `Retry-After` (a key busy in the other process).
async fn until_free(
    gw: &Gateways,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Res<(u16, String, usize)> {
    let mut waited = 0;
    loop {
        let (status, text, retry) = gw.send(build()).await?;
        match (status, retry) {
            (409, Some(secs)) if waited < 60 => {
                waited += 1;
                tokio::time::sleep(Duration::from_millis(200 * secs.min(5))).await;
            }
            _ => return Ok((status, text, waited)),
        }
    }
}

/// What one client does: its rounds over both processes.
async fn client(
    gw: Arc<Gateways>,
    t: usize,
    file: Arc<String>,
) -> Res<(Vec<Failure>, Vec<String>)> {
    let mut failures = Vec::new();
    let mut batches = Vec::new();
    let mut check = |what: String, status: u16, text: &str| {
        if !(200..300).contains(&status) {
            failures.push(format!(
                "{what}: {status} {}",
                text.chars().take(300).collect::<String>()
            ));
        }
    };
    for round in 0..ROUNDS {
        let w = t + round;
        let shared = format!("MPS{}", round % 3);
        let body = opi(&shared, &format!("PARTAGE{}", letters(round % 3)));
        let (s, text, _) = gw
            .send(
                gw.http
                    .put(gw.url(w, &format!("/api/v1/opi/{shared}")))
                    .json(&body),
            )
            .await?;
        check(format!("PUT opi {shared}"), s, &text);
        let own = format!("MPO{t:02}{round}");
        let body = opi(&own, &format!("PROPRE{}", letters(t * ROUNDS + round)));
        let (s, text, _) = gw
            .send(
                gw.http
                    .put(gw.url(w + 1, &format!("/api/v1/opi/{own}")))
                    .json(&body),
            )
            .await?;
        check(format!("PUT opi {own}"), s, &text);
        let lp = "/api/v1/laissez-passer/REINS/10000001/2026/ETP01/1";
        let (s, text, _) = gw
            .send(
                gw.http
                    .put(gw.url(w, lp))
                    .json(&json!({"libCmtLpa": "partagé"})),
            )
            .await?;
        check("PUT lp shared".into(), s, &text);
        let pj = format!("/api/v1/opi/{shared}/pj/PJ01?nomFic=photo.pdf");
        let (s, text, _) = gw.send(gw.http.put(gw.url(w + 1, &pj)).body(pdf())).await?;
        check(format!("PUT pj {shared}"), s, &text);
    }
    // Batches: clients 0–3 post one file with one key to both processes; 4–7 each their own key.
    if t < 8 {
        let key = if t < 4 {
            "meme-cle".to_owned()
        } else {
            format!("cle-{t}")
        };
        let (s, text, _) = until_free(&gw, || {
            gw.http
                .post(gw.url(t, "/api/v1/laissez-passer/batch"))
                .header("Content-Type", "text/csv")
                .header("Accept", "application/x-ndjson")
                .header("Idempotency-Key", key.clone())
                .body(file.as_str().to_owned())
        })
        .await?;
        check(format!("POST batch {key}"), s, &text);
        if let Some(head) = text
            .lines()
            .next()
            .and_then(|l| serde_json::from_str::<Value>(l).ok())
        {
            batches.push(format!("{key}={}", head["id"].as_str().unwrap_or_default()));
        }
    }
    Ok((failures, batches))
}

async fn run(dir: &Path, url: &str) -> Res<()> {
    let gw = Arc::new(Gateways::start(dir, url)?);
    let mut students = String::from("codEtu,libNomPatInd,libPr1Ind,dateNaiInd\n");
    for i in 0..STUDENTS {
        students.push_str(&format!(
            "{},ETU{},MARIE,2004-05-12\n",
            FIRST_ETU + i,
            letters(i)
        ));
    }
    let (s, text, _) = gw
        .send(
            gw.http
                .post(gw.url(0, "/api/v1/etudiants/batch"))
                .header("Content-Type", "text/csv")
                .body(students),
        )
        .await?;
    assert_eq!(s, 200, "{text}");
    let file = Arc::new(lp_file());
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|t| tokio::spawn(client(Arc::clone(&gw), t, Arc::clone(&file))))
        .collect();
    let mut failures = Vec::new();
    let mut batches = Vec::new();
    for task in tasks {
        let (f, b) = task.await??;
        failures.extend(f);
        batches.extend(b);
    }
    assert!(
        failures.is_empty(),
        "{} failed calls: {failures:#?}",
        failures.len()
    );
    // One batch for the shared key, one per other key.
    let shared: BTreeSet<&String> = batches
        .iter()
        .filter(|b| b.starts_with("meme-cle="))
        .collect();
    assert_eq!(shared.len(), 1, "{batches:?}");
    assert_eq!(batches.len(), 8, "{batches:?}");
    // Every OPI once, with its vœu; the LP rows once each.
    let opis = gw.get(1, "/api/v1/opi?limit=1000").await?;
    let codes: Vec<&str> = opis["opis"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["codOpiIntEpo"].as_str())
        .collect();
    let distinct: BTreeSet<&str> = codes.iter().copied().collect();
    assert_eq!(codes.len(), distinct.len(), "duplicated OPIs");
    assert_eq!(distinct.len(), 3 + CLIENTS * ROUNDS, "OPIs lost");
    for code in ["MPS0", "MPS1", "MPS2", "MPO000", "MPO155"] {
        let one = gw.get(0, &format!("/api/v1/opi/{code}")).await?;
        assert_eq!(
            one["voeux"].as_array().map(Vec::len),
            Some(1),
            "{code}: {one}"
        );
    }
    let pieces = gw.get(0, "/api/v1/opi/MPS0/pj").await?;
    assert_eq!(pieces["meta"]["total"], 1, "{pieces}");
    let lps = gw
        .get(1, "/api/v1/laissez-passer?codAnu=2026&typLpa=REINS&limit=1")
        .await?;
    assert_eq!(lps["meta"]["total"], STUDENTS + 1, "{lps}");
    // No call ended in an error on either side.
    let errors = gw.get(0, "/api/v1/journal?outcome=error&limit=5").await?;
    assert_eq!(errors["meta"]["total"], 0, "{errors}");
    Ok(())
}

#[tokio::test]
async fn two_gateways_on_one_sqlite_file() -> Res<()> {
    let dir = tempfile::tempdir()?;
    let db = TestDatabase::sqlite(dir.path());
    run(dir.path(), &db.url).await
}

#[tokio::test]
async fn two_gateways_on_one_postgresql_database() -> Res<()> {
    let Some(db) = TestDatabase::postgres() else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    run(dir.path(), &db.url).await
}
