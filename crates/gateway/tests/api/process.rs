//! The `apogee-gateway` binary itself: graceful shutdown, restarts, CLI commands, and the files
//! that deploy it.

use crate::helpers::TestResult;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_apogee-gateway");

/// The real binary, started on a free port; killed when dropped.
pub(crate) struct Running {
    pub(crate) child: Child,
    pub(crate) port: u16,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `apogee-gateway` on `data_dir` and waits until it listens.
pub(crate) fn start(data_dir: &Path) -> Result<Running, Box<dyn std::error::Error>> {
    start_with(data_dir, &[])
}

/// [`start`] with more environment (configuration keys: `APOGEE_<SECTION>__<KEY>`).
pub(crate) fn start_with(
    data_dir: &Path,
    env: &[(&str, &str)],
) -> Result<Running, Box<dyn std::error::Error>> {
    let mut child = Command::new(BIN)
        .args([
            "--bind",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--data-dir",
        ])
        .arg(data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("APOGEE_CONFIG")
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
    let port = rx.recv_timeout(Duration::from_secs(60))?;
    Ok(Running { child, port })
}

fn sigterm(child: &Child) -> TestResult {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id())?);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)?;
    Ok(())
}

fn wait_exit(
    child: &mut Child,
    within: Duration,
) -> Result<std::process::ExitStatus, Box<dyn std::error::Error>> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() > deadline {
            return Err("process did not exit".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn token(data_dir: &Path) -> Result<String, std::io::Error> {
    Ok(std::fs::read_to_string(data_dir.join("admin.token"))?
        .trim()
        .to_owned())
}

#[test]
fn sigterm_lets_in_flight_requests_finish() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut server = start(dir.path())?;
    let token = token(dir.path())?;
    let body = "codCge,libCge\nCGS,Arrêt propre\n";
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", server.port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "PUT /api/v1/referential/centres-gestion HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    let (head, tail) = body.split_at(10);
    stream.write_all(head.as_bytes())?;
    stream.flush()?;
    std::thread::sleep(Duration::from_millis(300));
    // The request is in flight (headers and part of the body received): stop the server.
    sigterm(&server.child)?;
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        server.child.try_wait()?.is_none(),
        "the server waits for the in-flight request"
    );
    stream.write_all(tail.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"created\":1"), "{response}");
    let status = wait_exit(&mut server.child, Duration::from_secs(30))?;
    assert!(status.success(), "{status}");
    Ok(())
}

#[test]
fn restart_on_the_same_data_dir_keeps_data_and_token() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut first = start(dir.path())?;
    let token1 = token(dir.path())?;
    let url = format!(
        "http://127.0.0.1:{}/api/v1/referential/centres-gestion",
        first.port
    );
    let out = curl(&[
        "-s",
        "-X",
        "PUT",
        "-H",
        &format!("Authorization: Bearer {token1}"),
        "-H",
        "Content-Type: text/csv",
        "--data-binary",
        "codCge,libCge\nCGR,Redémarrage\n",
        &url,
    ])?;
    assert!(out.contains("\"created\":1"), "{out}");
    sigterm(&first.child)?;
    wait_exit(&mut first.child, Duration::from_secs(30))?;

    let second = start(dir.path())?;
    assert_eq!(
        token(dir.path())?,
        token1,
        "the admin token is not regenerated"
    );
    let url = format!(
        "http://127.0.0.1:{}/api/v1/referential/centres-gestion?codCge=CGR",
        second.port
    );
    let out = curl(&["-s", "-H", &format!("Authorization: Bearer {token1}"), &url])?;
    assert!(out.contains("Redémarrage"), "{out}");
    let list = cli(dir.path(), &["clients", "list"])?;
    assert_eq!(
        list.lines().filter(|l| l.starts_with("admin ")).count(),
        1,
        "{list}"
    );
    Ok(())
}

/// Renames the journal table (the database then refuses journal rows) or back.
fn journal_table(dir: &Path, on: bool) -> TestResult {
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let mut conn =
        diesel::SqliteConnection::establish(&dir.join("apogee.db").display().to_string())?;
    conn.batch_execute("PRAGMA busy_timeout = 5000;")?;
    let sql = if on {
        "ALTER TABLE call_journal_off RENAME TO call_journal"
    } else {
        "ALTER TABLE call_journal RENAME TO call_journal_off"
    };
    conn.batch_execute(sql)?;
    Ok(())
}

#[test]
fn journal_entries_the_database_refuses_are_retried_kept_and_loaded_at_restart() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mut first = start(dir.path())?;
    let token1 = token(dir.path())?;
    let me = |port: u16, id: &str| {
        curl(&[
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            &format!("X-Request-Id: {id}"),
            "-H",
            &format!("Authorization: Bearer {token1}"),
            &format!("http://127.0.0.1:{port}/api/v1/me"),
        ])
    };
    journal_table(dir.path(), false)?;
    // Calls go on while the journal cannot be written …
    for i in 0..3 {
        assert_eq!(me(first.port, &format!("retried-{i}"))?, "200");
    }
    std::thread::sleep(Duration::from_millis(300));
    // … and their rows are written once the table is back (the writer retries).
    journal_table(dir.path(), true)?;
    let journal = |port: u16, id: &str| {
        curl(&[
            "-s",
            "-H",
            &format!("Authorization: Bearer {token1}"),
            &format!("http://127.0.0.1:{port}/api/v1/journal?requestId={id}"),
        ])
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !journal(first.port, "retried-2")?.contains("\"total\":1") {
        assert!(
            Instant::now() < deadline,
            "the refused rows were not retried"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(journal(first.port, "retried-0")?.contains("\"total\":1"));
    // Refused until shutdown: kept in the data directory, loaded at the next start.
    journal_table(dir.path(), false)?;
    for i in 0..3 {
        assert_eq!(me(first.port, &format!("kept-{i}"))?, "200");
    }
    sigterm(&first.child)?;
    wait_exit(&mut first.child, Duration::from_secs(30))?;
    let kept = std::fs::read_to_string(dir.path().join("journal-unwritten.ndjson"))?;
    assert!(kept.lines().any(|l| l.contains("kept-2")), "{kept}");
    journal_table(dir.path(), true)?;
    let second = start(dir.path())?;
    for i in 0..3 {
        let found = journal(second.port, &format!("kept-{i}"))?;
        assert!(found.contains("\"total\":1"), "kept-{i}: {found}");
    }
    assert!(!dir.path().join("journal-unwritten.ndjson").exists());
    Ok(())
}

fn curl(args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let out = Command::new("curl").args(args).output()?;
    Ok(String::from_utf8(out.stdout)?)
}

/// Runs `apogee-gateway --data-dir <data_dir> <args>`: its stdout, or its stderr as the error.
pub(crate) fn cli(data_dir: &Path, args: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("APOGEE_CONFIG")
        .output()?;
    if !out.status.success() {
        return Err(format!("{args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// Every section of the settings is configurable from `APOGEE_<SECTION>__<KEY>`, including the
/// ones added after the environment layer was written (`enrolment`).
#[test]
fn every_settings_section_is_configurable_from_the_environment() -> TestResult {
    let dir = tempfile::tempdir()?;
    let defaults: toml::Value = toml::from_str(&cli(dir.path(), &["config"])?)?;
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .arg("config")
        .env_remove("DATABASE_URL")
        .env_remove("APOGEE_CONFIG")
        .env("APOGEE_ENROLMENT__REQUIRE_CVEC", "false")
        .env("APOGEE_ENROLMENT__COD_ETU_FIRST", "30000001")
        .env("APOGEE_LIMITS__JSON_BYTES", "1234567")
        // The CLI's variable is not a server key (else `deny_unknown_fields` refuses to start).
        .env("APOGEE_URL", "http://not-a-server-key")
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config: toml::Value = toml::from_str(&String::from_utf8(out.stdout)?)?;
    assert_eq!(defaults["enrolment"]["require_cvec"].as_bool(), Some(true));
    assert_eq!(
        config["enrolment"]["require_cvec"].as_bool(),
        Some(false),
        "{config}"
    );
    assert_eq!(
        config["enrolment"]["cod_etu_first"].as_integer(),
        Some(30_000_001)
    );
    assert_eq!(config["limits"]["json_bytes"].as_integer(), Some(1_234_567));
    assert!(
        config.get("url").is_none(),
        "the CLI's variables are not server keys"
    );
    Ok(())
}

#[test]
fn cli_clients_config_and_referential_import() -> TestResult {
    let dir = tempfile::tempdir()?;
    let secret = cli(
        dir.path(),
        &[
            "clients", "add", "lecteur", "--scopes", "opi:read", "lp:read",
        ],
    )?;
    assert!(secret.trim().starts_with("apg_"), "{secret}");
    let list = cli(dir.path(), &["clients", "list"])?;
    assert!(
        list.contains("lecteur") && list.contains("opi:read lp:read"),
        "{list}"
    );
    assert!(
        cli(
            dir.path(),
            &["clients", "add", "lecteur", "--scopes", "opi:read"]
        )
        .is_err(),
        "duplicate name"
    );
    assert!(
        cli(
            dir.path(),
            &["clients", "add", "x", "--scopes", "opi:delete"]
        )
        .is_err(),
        "unknown scope"
    );
    cli(dir.path(), &["clients", "revoke", "lecteur"])?;
    assert!(cli(dir.path(), &["clients", "list"])?.contains("revoked"));

    let config = cli(
        dir.path(),
        &[
            "--database-url",
            "postgres://gw:s3cret@db:5432/apogee",
            "config",
        ],
    )?;
    assert!(
        config.contains("postgres://gw:***@db:5432/apogee"),
        "{config}"
    );
    assert!(!config.contains("s3cret"));
    let config: toml::Value = toml::from_str(&config)?;
    assert_eq!(config["bind"].as_str(), Some("127.0.0.1:8080"));

    let files = tempfile::tempdir()?;
    std::fs::write(
        files.path().join("etapes.csv"),
        "codEtp,libEtp\nETPX,Étape importée\n",
    )?;
    std::fs::write(
        files.path().join("etapes-cge.csv"),
        "codEtp,codCge\nETPX,CG1\n",
    )?;
    let out = cli(dir.path(), &["referential", "import"])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(out.contains("PATH") || out.contains("path"), "{out}");
    let out = cli(
        dir.path(),
        &[
            "--no-demo",
            "referential",
            "import",
            &files.path().display().to_string(),
        ],
    )?;
    assert!(
        out.contains("etapes.csv") && out.contains("1 created"),
        "{out}"
    );
    std::fs::write(
        files.path().join("etapes.csv"),
        "codEtp,libEtp\nETPY,ok\nTROPLONG9,x\n",
    )?;
    let err = cli(
        dir.path(),
        &[
            "referential",
            "import",
            &files.path().join("etapes.csv").display().to_string(),
        ],
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(err.contains("line 3"), "{err}");
    std::fs::write(files.path().join("inconnue.csv"), "a\n1\n")?;
    assert!(
        cli(
            dir.path(),
            &["referential", "import", &files.path().display().to_string()]
        )
        .is_err()
    );
    Ok(())
}

#[test]
fn example_config_file_matches_the_defaults() -> TestResult {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../apogee.example.toml");
    let text = std::fs::read_to_string(path)?;
    let parsed: apogee_gateway::Settings = toml::from_str(&text)?;
    let defaults = toml::to_string(&apogee_gateway::Settings::default())?;
    assert_eq!(
        toml::to_string(&parsed)?,
        defaults,
        "apogee.example.toml drifted from Settings::default()"
    );
    Ok(())
}

#[test]
fn docker_compose_file_is_valid() -> TestResult {
    // No Docker engine on our machines: check the file's structure instead of running it.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docker-compose.yml");
    let compose: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(path)?)?;
    let services = &compose["services"];
    let pg = &services["postgres"];
    assert!(
        pg["image"]
            .as_str()
            .is_some_and(|i| i.starts_with("postgres:15"))
    );
    assert!(pg["healthcheck"]["test"].is_sequence());
    assert!(pg["volumes"].is_sequence());
    let gw = &services["gateway"];
    assert!(gw["build"].is_mapping() || gw["build"].is_string());
    assert_eq!(
        gw["depends_on"]["postgres"]["condition"].as_str(),
        Some("service_healthy")
    );
    assert!(gw["healthcheck"]["test"].is_sequence());
    let env = serde_yaml::to_string(&gw["environment"])?;
    assert!(env.contains("postgres://"), "{env}");
    // No demo data and no password in the file: the password comes from `.env`.
    assert_eq!(gw["environment"]["APOGEE_DEMO"].as_str(), Some("false"));
    assert_eq!(gw["env_file"].as_str(), Some(".env"));
    assert!(
        env.contains("${POSTGRES_PASSWORD:?"),
        "the database password comes from .env: {env}"
    );
    assert_eq!(
        pg["environment"]["POSTGRES_PASSWORD"].as_str(),
        Some("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}")
    );
    assert!(compose["volumes"].is_mapping());
    // The build context leaves out build outputs, data, tokens and secrets.
    let ignore =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.dockerignore"))?;
    for entry in ["target", "data", "*.token", ".env", ".git"] {
        assert!(
            ignore.lines().any(|l| l.trim() == entry),
            ".dockerignore lacks {entry}"
        );
    }
    let gitignore =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.gitignore"))?;
    assert!(gitignore.lines().any(|l| l.trim() == ".env"));
    let dockerfile =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Dockerfile"))?;
    assert!(
        dockerfile.matches("FROM ").count() >= 2,
        "multi-stage Dockerfile"
    );
    Ok(())
}
