//! Secrets and personal data in the logs: the real binary (`log.format = "json"`, level `info`),
//! real calls over every channel and every way in, then its whole stderr is searched for what the
//! calls sent. The journal keeps business keys, behind `journal:read`, but never a secret.

use crate::helpers::TestResult;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_apogee-gateway");

const FACADE_VALUE: &str = "facade-secret-logtest-7f3a";
const BAD_SECRETS: [&str; 3] = [
    "apg_BadBearerSecretForTheLogTest000000000000",
    "apg_BadBasicSecretForTheLogTest0000000000000",
    "apg_BadApiKeySecretForTheLogTest000000000000",
];
/// Personal data the calls send (besides the captured SOAP example's).
const INE: &str = "0123456789M";
const SURNAME: &str = "Quatremain-Logtest";
const FIRST_NAME: &str = "Zéphyrine";
const EMAIL: &str = "zephyrine.quatremain@example.org";

struct Server {
    child: Child,
    port: u16,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(dir: &Path) -> Result<Server, Box<dyn std::error::Error>> {
        let config = dir.join("apogee.toml");
        std::fs::write(
            &config,
            format!(
                r#"
bind = "127.0.0.1:0"
[log]
format = "json"
level = "info"
[auth]
api_key_header = "X-Api-Key"
[pj]
facade_header_name = "X-Facade-Key"
facade_header_value = "{FACADE_VALUE}"
[cvec]
# Nothing listens there: the upstream failure path logs too.
upstream_url = "http://127.0.0.1:9"
retries = 0
upstream_timeout_ms = 500
"#
            ),
        )?;
        let mut child = Command::new(BIN)
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir)
            .env_remove("DATABASE_URL")
            .env_remove("APOGEE_CONFIG")
            .env_remove("RUST_LOG")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = Arc::clone(&lines);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && let Some(port) = v["fields"]["port"].as_u64()
                {
                    let _ = tx.send(port as u16);
                }
                if let Ok(mut all) = sink.lock() {
                    all.push(line);
                }
            }
        });
        let port = rx.recv_timeout(Duration::from_secs(60))?;
        Ok(Server {
            child,
            port,
            lines,
            reader: Some(reader),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Stops the server (SIGTERM, the journal flushed) and returns everything it logged.
    fn stop(mut self) -> Result<Vec<String>, Box<dyn std::error::Error>> {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id())?);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)?;
        let status = self.child.wait()?;
        assert!(status.success(), "{status}");
        if let Some(reader) = self.reader.take() {
            reader.join().map_err(|_| "log reader panicked")?;
        }
        let lines = self.lines.lock().map_err(|_| "poisoned")?.clone();
        Ok(lines)
    }
}

/// The command line's output, trimmed.
fn cli(dir: &Path, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    Ok(crate::process::cli(dir, args)?.trim().to_owned())
}

fn captured_soap_example() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../soap/tests/examples/captured/jaxws-mettreajourDonneesOpi_v10-create.xml"
    ))
    .unwrap_or_default()
}

/// The text of element `name` in `xml`.
fn element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find("</")? + start;
    Some(&xml[start..end])
}

fn opi(code: &str) -> Value {
    json!({
        "individu": {
            "codOpiIntEpo": code,
            "donneesNaissance": {"dateNaiIndOpi": "14032005", "temDateNaiRelOpi": "N", "codTypDepPayNai": "D", "codDepPayNai": "025", "codPayNat": "100"},
            "etatCivil": {"codNneIndOpi": INE, "libNomPatIndOpi": SURNAME, "libPr1IndOpi": FIRST_NAME, "codSexEtuOpi": "F"},
            "donneesPersonnelles": {"adrMailOpi": EMAIL, "numTelPorOpi": "06 98 76 54 32"}
        },
        "bac": {"codBac": "S", "daaObtBacOba": "2020"},
        "voeux": {"item": [{"codCge": "CG1", "codEtp": "ETP01", "codVrsVet": 1, "numCls": 1, "codDemDos": "C", "codDecVeu": "F"}]}
    })
}

/// How a call authenticates.
enum Auth<'a> {
    None,
    Bearer(&'a str),
    Basic(&'a str, &'a str),
    Header(&'a str, &'a str),
}

struct Caller {
    http: reqwest::Client,
    sent: Vec<String>,
}

impl Caller {
    /// One call, tagged with a request id the logs must show.
    async fn call(
        &mut self,
        server: &Server,
        method: reqwest::Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<(&str, String)>,
    ) -> Result<u16, reqwest::Error> {
        let request_id = format!("logtest-{:02}", self.sent.len());
        let mut request = self
            .http
            .request(method, server.url(path))
            .header("X-Request-Id", &request_id);
        request = match auth {
            Auth::None => request,
            Auth::Bearer(secret) => request.bearer_auth(secret),
            Auth::Basic(name, secret) => request.basic_auth(name, Some(secret)),
            Auth::Header(name, value) => request.header(name, value),
        };
        if let Some((content_type, body)) = body {
            request = request.header("Content-Type", content_type).body(body);
        }
        let status = request.send().await?.status().as_u16();
        self.sent.push(request_id);
        Ok(status)
    }
}

#[tokio::test]
async fn logs_hold_no_secret_no_ine_and_no_name_sent() -> TestResult {
    use reqwest::Method;
    let dir = tempfile::tempdir()?;
    let server = Server::start(dir.path())?;
    let admin = std::fs::read_to_string(dir.path().join("admin.token"))?
        .trim()
        .to_owned();
    let writer = cli(
        dir.path(),
        &[
            "clients",
            "add",
            "log-writer",
            "--scopes",
            "opi:write",
            "opi:read",
            "pj:write",
            "pj:read",
            "lp:write",
            "lp:read",
            "cvec:read",
        ],
    )?;
    let reader = cli(
        dir.path(),
        &["clients", "add", "log-reader", "--scopes", "opi:read"],
    )?;
    let auditor = cli(
        dir.path(),
        &["clients", "add", "log-auditor", "--scopes", "journal:read"],
    )?;
    let soap = captured_soap_example();
    let mut personal: Vec<String> = [INE, SURNAME, FIRST_NAME, EMAIL, "0698765432"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    for name in [
        "codNneIndOpi",
        "libNomPatIndOpi",
        "libPr1IndOpi",
        "adrMailOpi",
        "numTelPorOpi",
    ] {
        personal.push(element(&soap, name).ok_or(name)?.to_owned());
    }

    let mut c = Caller {
        http: reqwest::Client::new(),
        sent: Vec::new(),
    };
    let json_body = |v: Value| Some(("application/json", v.to_string()));
    let s = &server;
    // REST, every way in, success and failures.
    let code = "LOGT000001";
    let status = c
        .call(
            s,
            Method::PUT,
            &format!("/api/v1/opi/{code}"),
            Auth::Bearer(&writer),
            json_body(opi(code)),
        )
        .await?;
    assert!(status < 500, "{status}");
    for (path, auth) in [
        (
            format!("/api/v1/opi/{code}"),
            Auth::Header("X-Api-Key", &reader),
        ),
        (
            format!("/api/v1/opi?nom={SURNAME}&prenom={FIRST_NAME}&ine={INE}"),
            Auth::Bearer(&reader),
        ),
        (
            format!("/api/v1/ine/{INE}"),
            Auth::Basic("log-reader", &reader),
        ),
        (format!("/api/v1/admissions/{INE}"), Auth::Bearer(&writer)),
        (
            format!("/api/v1/inconnu/{INE}/{SURNAME}"),
            Auth::Bearer(&admin),
        ),
        (format!("/api/v1/opi/{code}"), Auth::Bearer(BAD_SECRETS[0])),
        (
            format!("/api/v1/opi/{code}"),
            Auth::Basic("log-reader", BAD_SECRETS[1]),
        ),
        (
            format!("/api/v1/opi/{code}"),
            Auth::Header("X-Api-Key", BAD_SECRETS[2]),
        ),
        (format!("/api/v1/opi/{code}"), Auth::Basic(SURNAME, &reader)),
        (format!("/api/v1/opi/{code}"), Auth::None),
    ] {
        c.call(s, Method::GET, &path, auth, None).await?;
    }
    let student = json!({"codEtu": "30000001", "libNomPatInd": SURNAME, "libPr1Ind": FIRST_NAME, "dateNaiInd": "2005-03-14"});
    c.call(
        s,
        Method::PUT,
        "/api/v1/etudiants/30000001",
        Auth::Bearer(&writer),
        json_body(student),
    )
    .await?;
    // CVEC: the check, and the CNOUS-compatible API (the upstream is down: its failure is logged).
    let check = json!({"code": "TST9ZZZZZZ99QUATR", "ine": INE, "nom": SURNAME, "prenom": FIRST_NAME, "dateNaissance": "14/03/2005"});
    c.call(
        s,
        Method::POST,
        "/api/v1/cvec/check",
        Auth::Bearer(&writer),
        json_body(check),
    )
    .await?;
    c.call(
        s,
        Method::GET,
        &format!("/api/attestation/TST9ZZZZZZ98?etudiant={SURNAME}"),
        Auth::None,
        None,
    )
    .await?;
    // SOAP: Basic with the right and a wrong secret, an API key.
    let endpoint = "/apo-commun-servicesMetiers/services/OpiMetier";
    let xml = || Some(("text/xml; charset=utf-8", soap.clone()));
    let status = c
        .call(
            s,
            Method::POST,
            endpoint,
            Auth::Basic("log-writer", &writer),
            xml(),
        )
        .await?;
    assert!(status != 401 && status != 403, "{status}");
    c.call(
        s,
        Method::POST,
        endpoint,
        Auth::Basic("log-writer", BAD_SECRETS[1]),
        xml(),
    )
    .await?;
    c.call(
        s,
        Method::POST,
        endpoint,
        Auth::Header("X-Api-Key", &writer),
        xml(),
    )
    .await?;
    // Facades: the facade header, API credentials.
    for auth in [
        Auth::Header("X-Facade-Key", FACADE_VALUE),
        Auth::Header("X-Facade-Key", BAD_SECRETS[0]),
        Auth::Bearer(&writer),
    ] {
        c.call(
            s,
            Method::GET,
            "/apo-ws/services/PJ/info?codAnu=2026&codEtu=30000001&codTpj=PJ01",
            auth,
            None,
        )
        .await?;
    }
    c.call(
        s,
        Method::POST,
        "/ines/v1/check-ine",
        Auth::Header("X-Facade-Key", FACADE_VALUE),
        json_body(json!({"type": "INE", "ine": "0123456789", "cle": "M"})),
    )
    .await?;
    // The journal needs journal:read, and holds no secret.
    let status = c
        .call(
            s,
            Method::GET,
            "/api/v1/journal",
            Auth::Bearer(&reader),
            None,
        )
        .await?;
    assert_eq!(status, 403);
    let journal = c
        .http
        .get(s.url("/api/v1/journal?limit=1000"))
        .bearer_auth(&auditor)
        .send()
        .await?;
    assert_eq!(journal.status(), 200);
    let journal = journal.text().await?;
    let sent = c.sent.clone();
    let lines = server.stop()?;

    let secrets: Vec<&str> = [admin.as_str(), &writer, &reader, &auditor, FACADE_VALUE]
        .into_iter()
        .chain(BAD_SECRETS)
        .collect();
    assert!(
        journal.contains("log-writer"),
        "the journal holds the calls: {journal}"
    );
    for secret in &secrets {
        assert!(!journal.contains(secret), "a secret in the journal");
    }
    // The logs were captured: one access line per call, with its client.
    let all = lines.join("\n");
    for request_id in &sent {
        assert!(
            all.contains(&format!("\"request_id\":\"{request_id}\"")),
            "no access log line for {request_id}:\n{all}"
        );
    }
    assert!(all.contains("\"client\":\"log-writer\""), "{all}");
    assert!(all.contains("CNOUS API unavailable"), "{all}");
    let folded = all.to_lowercase();
    let mut leaks = Vec::new();
    for secret in &secrets {
        if all.contains(secret) {
            leaks.push(format!("secret {}…", &secret[..8]));
        }
    }
    for value in &personal {
        let value = value.to_lowercase();
        let without_separators = value.replace([' ', '-'], "");
        if folded.contains(&value) || folded.contains(&without_separators) {
            leaks.push(format!("personal data {value}"));
        }
    }
    if !leaks.is_empty() {
        for line in &lines {
            let folded = line.to_lowercase();
            if personal.iter().any(|p| folded.contains(&p.to_lowercase()))
                || secrets.iter().any(|s| line.contains(s))
            {
                eprintln!("leaking line: {line}");
            }
        }
    }
    assert!(leaks.is_empty(), "found in the logs: {leaks:?}");
    Ok(())
}
