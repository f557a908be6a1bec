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
    gateway_with(|_| {})
}

fn gateway_with(
    tune: impl FnOnce(&mut apogee_gateway::Settings),
) -> Result<Gateway, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mut settings = apogee_gateway::Settings {
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
    tune(&mut settings);
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

/// A valid BEA-family INE: ten digits and their key (number mod 23 as a letter, no I, O, Q).
fn bea(n: u64) -> String {
    const KEYS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";
    format!("{n:010}{}", KEYS[(n % 23) as usize] as char)
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

#[test]
fn ia_push_enrols_a_campaign_and_etudiant_get_shows_the_student() -> TestResult {
    // CVEC checks are the enrolment tests' business: here the campaign is enrolled on vœux.
    let gw = gateway_with(|s| s.enrolment.require_cvec = false)?;
    // A primo enrolment copies the OPI's INE, bac and nationality into the student's file.
    let opis: String = (0..3_u64)
        .map(|i| {
            let mut o: serde_json::Value = serde_json::from_str(&opi(&format!("IA{i:08}"), "CG1"))?;
            o["individu"]["etatCivil"]["codNneIndOpi"] = bea(4_200_000_000 + i).into();
            o["individu"]["donneesNaissance"]["codPayNat"] = "100".into();
            o["bac"] = serde_json::json!({"codBac": "S", "daaObtBacOba": "2025"});
            Ok(format!("{o}\n"))
        })
        .collect::<Result<_, serde_json::Error>>()?;
    let out = gw.apogee(&["opi", "push", &gw.file("ia-opis.ndjson", &opis)?])?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // Three primo enrolments on a favourable vœu, 10000003 banned, a line without a VET.
    let csv = "codOpiIntEpo,codEtu,codAnu,codEtp,codVrsVet\n\
               IA00000000,,2026,ETP01,1\nIA00000001,,2026,ETP01,1\nIA00000002,,2026,ETP01,1\n\
               ,10000003,2026,ETP01,1\n,10000001,2026,,1\n";
    let file = gw.file("inscriptions-été 2026.csv", csv)?; // not a header value as such
    let report = gw.dir.path().join("ia-report.json");
    let out = gw.apogee(&[
        "ia",
        "push",
        &file,
        "--report",
        &report.display().to_string(),
    ])?;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("5 lignes") && said.contains("3 créés") && said.contains("2 rejetés"),
        "{said}"
    );
    assert!(
        said.contains("ligne 5 (10000003)") && said.contains("ACCES_BLOCAGE"),
        "every reason named: {said}"
    );
    assert!(said.contains("ligne 6"), "{said}");
    assert!(
        said.contains("envoyé"),
        "progress when not on a terminal: {said}"
    );
    let stored: serde_json::Value = serde_json::from_slice(&std::fs::read(&report)?)?;
    let cod_etu = stored["lines"][0]["codEtu"]
        .as_i64()
        .ok_or("no codEtu allocated")?;

    // The same command again replays the first report: the same student numbers, nothing new.
    let out = gw.apogee(&[
        "ia",
        "push",
        &file,
        "--report",
        &report.display().to_string(),
    ])?;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let again: serde_json::Value = serde_json::from_slice(&std::fs::read(&report)?)?;
    assert_eq!(again["lines"][0]["codEtu"], cod_etu, "{again}");
    assert!(text(&out).contains("3 créés"), "{}", text(&out));
    assert!(
        text(&out).contains("rapport rejoué"),
        "the re-run says it replayed: {}",
        text(&out)
    );

    let out = gw.apogee(&["etudiant", "get", &cod_etu.to_string()])?;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let student: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(student["codEtu"], cod_etu);
    assert_eq!(student["libNomPatInd"], "NOMA", "{student}");
    assert_eq!(
        student["inscriptionsEtapes"][0]["codEtp"], "ETP01",
        "{student}"
    );
    let out = gw.apogee(&["etudiant", "get", "99999999"])?;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("404"), "{}", text(&out));
    Ok(())
}
