//! What the benches that drive the real `apogee-gateway` binary share: starting it on a
//! database, its referential and student loads, deterministic names and INEs, latencies.
// Each bench uses a part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_apogee-gateway");

pub type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

/// A gateway process; killed when dropped.
pub struct Gateway {
    pub child: Child,
    pub base: String,
    pub token: String,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary on `database_url` with `env` added, waits for its port.
pub fn start(
    data_dir: &std::path::Path,
    database_url: &str,
    env: &[(&str, &str)],
) -> BenchResult<Gateway> {
    let mut child = Command::new(BIN)
        .args([
            "--bind",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--data-dir",
        ])
        .arg(data_dir)
        .args(["--database-url", database_url])
        .env_remove("APOGEE_CONFIG")
        .env("APOGEE_LOG__LEVEL", "warn,apogee_gateway=info")
        .envs(env.iter().copied())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                && let Some(port) = v["fields"]["port"].as_u64()
            {
                let _ = tx.send(port as u16);
            }
        }
    });
    let port = rx.recv_timeout(Duration::from_secs(120))?;
    let token = std::fs::read_to_string(data_dir.join("admin.token"))?
        .trim()
        .to_owned();
    Ok(Gateway {
        child,
        base: format!("http://127.0.0.1:{port}"),
        token,
    })
}

/// The bench étape number `v`.
pub fn etp(v: usize) -> String {
    format!("BLK{v:02}")
}

/// Five letters naming `i` (distinct surnames keep the duplicate checks honest).
pub fn letters(mut i: usize) -> String {
    let mut s = String::new();
    for _ in 0..5 {
        s.push(char::from(b'A' + (i % 26) as u8));
        i /= 26;
    }
    s
}

/// A valid BEA-family INE for `n` (ten digits and their mod-23 key).
pub fn bea(n: u64) -> String {
    const KEYS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";
    format!("{n:010}{}", char::from(KEYS[(n % 23) as usize]))
}

/// `PUT` of a CSV body; the JSON answer.
pub async fn put_csv(
    http: &reqwest::Client,
    g: &Gateway,
    path: &str,
    body: String,
) -> BenchResult<serde_json::Value> {
    send_csv(
        http.put(format!("{}{path}", g.base)),
        g,
        path,
        body.into_bytes(),
    )
    .await
}

/// `POST` of a CSV batch; the JSON report.
pub async fn post_csv(
    http: &reqwest::Client,
    g: &Gateway,
    path: &str,
    body: Vec<u8>,
) -> BenchResult<serde_json::Value> {
    let request = http
        .post(format!("{}{path}", g.base))
        .header("Accept", "application/json");
    send_csv(request, g, path, body).await
}

async fn send_csv(
    request: reqwest::RequestBuilder,
    g: &Gateway,
    path: &str,
    body: Vec<u8>,
) -> BenchResult<serde_json::Value> {
    let r = request
        .bearer_auth(&g.token)
        .header("Content-Type", "text/csv")
        .body(body)
        .send()
        .await?;
    let status = r.status();
    let text = r.text().await?;
    if !status.is_success() {
        return Err(format!("{path}: {status} {text}").into());
    }
    Ok(serde_json::from_str(&text)?)
}

/// Étapes `BLK00` … and their VET 1, opened for 2026 in CG1 with régime 1.
pub async fn open_vets(http: &reqwest::Client, g: &Gateway, count: usize) -> BenchResult<()> {
    let mut etapes = String::from("codEtp,libEtp,temEnSveEtp\n");
    let mut vets = String::from("codEtp,codVrsVet,libVet,temEnSveVet\n");
    let mut open = String::from(
        "codAnu,codEtp,codVrsVet,codCgeMinpVet,datDebMinpVet,datFinMinpVet,codCgeMinVet,datDebMinVet,datFinMinVet\n",
    );
    let mut regimes = String::from("codEtp,codVrsVet,codRgi\n");
    for v in 0..count {
        let e = etp(v);
        etapes.push_str(&format!("{e},Bench {v},O\n"));
        vets.push_str(&format!("{e},1,Bench {v},O\n"));
        open.push_str(&format!(
            "2026,{e},1,CG1,2026-03-01,2027-08-31,CG1,2026-03-01,2027-08-31\n"
        ));
        regimes.push_str(&format!("{e},1,1\n"));
    }
    put_csv(http, g, "/api/v1/referential/etapes", etapes).await?;
    put_csv(http, g, "/api/v1/referential/versions-etape", vets).await?;
    put_csv(http, g, "/api/v1/referential/vet-ouvertures", open).await?;
    put_csv(http, g, "/api/v1/referential/vet-regimes", regimes).await?;
    Ok(())
}

/// Students `first_etu + s` for `s` in `range` through the student batch, 50,000 a post;
/// `extra` adds the header's and each line's optional columns.
pub async fn load_students(
    http: &reqwest::Client,
    g: &Gateway,
    first_etu: usize,
    range: std::ops::Range<usize>,
    extra: (&str, &dyn Fn(usize) -> String),
) -> BenchResult<()> {
    let (header, line) = extra;
    for start in range.clone().step_by(50_000) {
        let mut csv = format!("codEtu,ine,libNomPatInd,libPr1Ind,dateNaiInd{header}\n");
        for s in start..(start + 50_000).min(range.end) {
            csv.push_str(&format!(
                "{},{},NOM{},PRENOM,2004-01-01{}\n",
                first_etu + s,
                bea(2_000_000_000 + s as u64),
                letters(s),
                line(s)
            ));
        }
        let r = post_csv(http, g, "/api/v1/etudiants/batch", csv.into_bytes()).await?;
        if r["rejected"].as_u64() != Some(0) {
            return Err(format!("students rejected: {}", r["lines"][0]).into());
        }
    }
    Ok(())
}

/// The `p` percentile of sorted latencies, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx].as_secs_f64() * 1000.0
}
