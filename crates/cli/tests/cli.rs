//! The `apogee` binary end to end against a real gateway on a random port.

use std::process::{Command, Output};

type TestResult = Result<(), Box<dyn std::error::Error>>;

struct Gateway {
    url: String,
    token: String,
    dir: tempfile::TempDir,
    _server: apogee_gateway::startup::Spawned,
}

fn gateway() -> Result<Gateway, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let settings = apogee_gateway::Settings {
        bind: "127.0.0.1:0".into(),
        data_dir: dir.path().to_path_buf(),
        database_url: Some(
            apogee_db::testing::TestDatabase::sqlite(dir.path())
                .url
                .clone(),
        ),
        workers: Some(2),
        ..apogee_gateway::Settings::default()
    };
    let server = apogee_gateway::startup::spawn_in_thread(settings)?;
    let token = std::fs::read_to_string(dir.path().join("admin.token"))?
        .trim()
        .to_owned();
    Ok(Gateway {
        url: format!("http://127.0.0.1:{}", server.port),
        token,
        dir,
        _server: server,
    })
}

impl Gateway {
    fn apogee(&self, args: &[&str]) -> Result<Output, std::io::Error> {
        Command::new(env!("CARGO_BIN_EXE_apogee"))
            .args(args)
            .env("APOGEE_URL", &self.url)
            .env("APOGEE_TOKEN", &self.token)
            .env("APOGEE_USER", "admin")
            .output()
    }

    fn file(&self, name: &str, content: &str) -> Result<String, std::io::Error> {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content)?;
        Ok(path.display().to_string())
    }
}

fn opi(code: &str, cge: &str) -> String {
    serde_json::json!({"individu": {"codOpiIntEpo": code,
        "donneesNaissance": {"dateNaiIndOpi": "01022004", "temDateNaiRelOpi": "N"},
        "etatCivil": {"libNomPatIndOpi": format!("NOM{}", code.chars().last().map(|c| if c.is_ascii_digit() { (b'A' + c as u8 - b'0') as char } else { c }).unwrap_or('A')), "libPr1IndOpi": "ALEX"}},
        "voeux": {"item": [{"codCge": cge, "codEtp": "ETP01", "codVrsVet": 1, "numCls": 1, "codDemDos": "C", "codDecVeu": "F"}]}})
    .to_string()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn push_get_journal_and_exit_codes() -> TestResult {
    let gw = gateway()?;
    let one = gw.file("one.json", &opi("CL00000001", "CG1"))?;
    let out = gw.apogee(&["opi", "push", &one])?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("\"codIndOpi\""));
    let out = gw.apogee(&["opi", "get", "CL00000001"])?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // SOAP channel, then a refusal carrying the Apogée key: exit 1.
    let soap = gw.file("soap.json", &opi("CL00000002", "CG1"))?;
    let out = gw.apogee(&["opi", "push", &soap, "--soap"])?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let bad = gw.file("bad.json", &opi("CL00000003", "ZZZ"))?;
    let out = gw.apogee(&["opi", "push", &bad, "--soap"])?;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("technical.data.nullretrieve.codCge"),
        "{}",
        text(&out)
    );
    let out = gw.apogee(&["opi", "push", &bad])?;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // NDJSON batch with one bad line: exit 1 and a report file.
    let ndjson = gw.file(
        "batch.ndjson",
        &format!(
            "{}\n{}\n{}\n",
            opi("CL00000004", "CG1"),
            opi("CL00000005", "ZZZ"),
            opi("CL00000006", "CG1")
        ),
    )?;
    let report = gw.dir.path().join("report.json");
    let out = gw.apogee(&[
        "opi",
        "push",
        &ndjson,
        "--report",
        &report.display().to_string(),
    ])?;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("ligne 2"), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&report)?)?;
    assert_eq!(report["summary"]["created"], 2);

    let out = gw.apogee(&["journal", "--since", "1h", "--outcome", "rejected"])?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("CL00000003"), "{}", text(&out));

    // Referential import of a directory.
    let refdir = gw.dir.path().join("ref");
    std::fs::create_dir_all(&refdir)?;
    std::fs::write(
        refdir.join("etapes.csv"),
        "codEtp,libEtp\nCLI01,Étape CLI\n",
    )?;
    let out = gw.apogee(&["ref", "import", &refdir.display().to_string()])?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("1 créés"), "{}", text(&out));

    // An attachment, and CVEC checks (demo attestations).
    let pdf = gw.dir.path().join("piece.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n% apogee cli test\n%%EOF\n")?;
    let out = gw.apogee(&[
        "pj",
        "put",
        "CL00000001",
        "PJ01",
        &pdf.display().to_string(),
    ])?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("sha256"), "{}", text(&out));
    let out = gw.apogee(&["cvec", "check", "VER1ABCDEF12MARTI", "--ine", "0123456789M"])?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("VALIDE"), "{}", text(&out));
    let out = gw.apogee(&[
        "cvec",
        "check",
        "BFC2ZXCVBN8PETIT",
        "--nom",
        "PETIT",
        "--date-naissance",
        "2004-01-01",
    ])?;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // Usage and connection errors: exit 2.
    let out = Command::new(env!("CARGO_BIN_EXE_apogee"))
        .args(["opi", "get", "X"])
        .env("APOGEE_URL", "http://127.0.0.1:9")
        .env("APOGEE_TOKEN", "t")
        .output()?;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = Command::new(env!("CARGO_BIN_EXE_apogee"))
        .args(["completions", "bash"])
        .output()?;
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("apogee"));
    Ok(())
}

#[test]
fn lp_import_reports_progress_rows_and_exit_codes() -> TestResult {
    let gw = gateway()?;
    // 300 OPIs, each with a laissez-passer on two VETs: 600 rows, then one bad row.
    let opis: String = (0..300)
        .map(|i| format!("{}\n", opi(&format!("LP{i:08}"), "CG1")))
        .collect();
    let out = gw.apogee(&["opi", "push", &gw.file("opis.ndjson", &opis)?])?;
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
    let mut csv =
        String::from("typLpa,codAnu,numOPI,codEtp,codVrsVet,codDip,codVrsVdi,libCmtLpa\n");
    for i in 0..300 {
        for etp in ["ETP01", "ETP02"] {
            csv.push_str(&format!(
                "IAPRIMO,2026,LP{i:08},{etp},1,DIP01,1,import CLI\n"
            ));
        }
    }
    let good = gw.file("lp.csv", &csv)?;
    let report = gw.dir.path().join("lp-report.json");
    let out = gw.apogee(&[
        "lp",
        "import",
        &good,
        "--report",
        &report.display().to_string(),
    ])?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("600 lignes"), "{}", text(&out));
    assert!(
        text(&out).contains("envoyé"),
        "plain progress lines when not on a terminal: {}",
        text(&out)
    );
    let stored: serde_json::Value = serde_json::from_slice(&std::fs::read(&report)?)?;
    assert_eq!(stored["summary"]["created"], 600, "{stored}");
    // Same file again (new key): every row unchanged. A bad row: exit 1, reported with its line.
    csv.push_str("IAPRIMO,2026,INCONNU99,ETP01,1,DIP01,1,x\n");
    let bad = gw.file("lp-bad.csv", &csv)?;
    let out = gw.apogee(&["lp", "import", &bad, "--key", "second"])?;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("ligne 602"), "{}", text(&out));
    assert!(text(&out).contains("600 inchangés"), "{}", text(&out));
    Ok(())
}
