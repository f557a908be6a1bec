//! `apogee`: pushes OPIs, laissez-passer and enrolments, imports the referential, reads students
//! and the journal, from files and scripts.
//! Settings from flags, `APOGEE_URL` / `APOGEE_TOKEN` / `APOGEE_USER`. Exit codes: 0 all good,
//! 1 some records or rows refused, 2 usage or connection error.

use apogee_client::gateway::{BatchAnswer, ClientError, GatewayClient};
use clap::{CommandFactory, Parser, Subcommand};
use serde_json::Value;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Command line of the Apogée gateway.
#[derive(Debug, Parser)]
#[command(name = "apogee", version, about)]
struct Cli {
    /// Gateway base URL.
    #[arg(
        long,
        env = "APOGEE_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    url: String,
    /// API client secret (REST Bearer; SOAP Basic password).
    #[arg(
        long,
        env = "APOGEE_TOKEN",
        hide_env_values = true,
        global = true,
        default_value = ""
    )]
    token: String,
    /// API client name (HTTP Basic user of SOAP calls).
    #[arg(long, env = "APOGEE_USER", default_value = "admin", global = true)]
    user: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// OPIs (pre-registrations).
    #[command(subcommand)]
    Opi(OpiCommand),
    /// The referential.
    #[command(subcommand)]
    Ref(RefCommand),
    /// Laissez-passer.
    #[command(subcommand)]
    Lp(LpCommand),
    /// Attachments (pièces justificatives) of OPIs.
    #[command(subcommand)]
    Pj(PjCommand),
    /// CVEC attestations.
    #[command(subcommand)]
    Cvec(CvecCommand),
    /// Administrative enrolments (IA).
    #[command(subcommand)]
    Ia(IaCommand),
    /// Students.
    #[command(subcommand)]
    Etudiant(EtudiantCommand),
    /// The call journal.
    Journal {
        /// Only calls of the last period: `30m`, `1h`, `2d`.
        #[arg(long)]
        since: Option<String>,
        /// `ok`, `rejected` or `error`.
        #[arg(long)]
        outcome: Option<String>,
        /// Operation (`mettreajourDonneesOpi_v10`, `PUT /api/v1/opi/{code}` …).
        #[arg(long)]
        operation: Option<String>,
        /// Client name.
        #[arg(long)]
        client: Option<String>,
        /// Business key (codOpiIntEpo, numOPI, codEtu …).
        #[arg(long)]
        key: Option<String>,
        /// Most entries shown.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Shell completion script.
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
enum OpiCommand {
    /// Push OPIs: one JSON file, an NDJSON file, or a Pégase `candidat` + `candidature` pair.
    Push {
        /// `.json` (one OPI), `.ndjson` (one per line), or the Pégase `candidat` file.
        file: PathBuf,
        /// The Pégase `candidature` file (makes FILE the `candidat` file).
        #[arg(long)]
        candidatures: Option<PathBuf>,
        /// Batch mode: `partial` (default) or `atomic`.
        #[arg(long, default_value = "partial")]
        mode: String,
        /// One OPI: store the valid vœux and report the rejected ones.
        #[arg(long)]
        partial: bool,
        /// One OPI: push over SOAP (`mettreajourDonneesOpi_v10`) instead of REST.
        #[arg(long)]
        soap: bool,
        /// Write the per-line report (JSON) to this file.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Show a stored OPI.
    Get {
        /// codOpiIntEpo (or an alias).
        code: String,
    },
}

#[derive(Debug, Subcommand)]
enum LpCommand {
    /// Import a file of laissez-passer (CSV with header, NDJSON or JSON array), streamed, with
    /// an Idempotency-Key (re-running the same command after an interruption resumes it).
    Import {
        /// The file.
        file: PathBuf,
        /// `partial` (default: valid rows written, invalid reported) or `atomic`.
        #[arg(long, default_value = "partial")]
        mode: String,
        /// Idempotency key (default: derived from the file's name, size and modification time).
        #[arg(long)]
        key: Option<String>,
        /// Where to write the per-row report (JSON).
        #[arg(long)]
        report: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum IaCommand {
    /// Enrol a campaign from a file (CSV `codOpiIntEpo,codEtu,codAnu,codEtp,codVrsVet,codRgi,codStu,etaPmtIae`
    /// or NDJSON), streamed, with an Idempotency-Key (re-running the same command replays the
    /// first report).
    Push {
        /// The file.
        file: PathBuf,
        /// Idempotency key (default: derived from the file's name, size and modification time).
        #[arg(long)]
        key: Option<String>,
        /// Where to write the per-line report (JSON).
        #[arg(long)]
        report: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum EtudiantCommand {
    /// Show a student: identity, file, yearly and VET enrolments, bans.
    Get {
        /// Student number (codEtu).
        cod_etu: String,
    },
}

#[derive(Debug, Subcommand)]
enum PjCommand {
    /// Upload (or replace) an attachment of an OPI.
    Put {
        /// codOpiIntEpo.
        code: String,
        /// PJ type (PJ01 …).
        cod_tpj: String,
        /// The file (PDF, JPEG or PNG).
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum CvecCommand {
    /// Check an attestation code (number + first surname letters) for an enrolment.
    Check {
        /// Attestation code, e.g. `VER1ABCDEF12MARTI`.
        code: String,
        /// The person's INE.
        #[arg(long)]
        ine: Option<String>,
        /// Birth surname.
        #[arg(long)]
        nom: Option<String>,
        /// First name.
        #[arg(long)]
        prenom: Option<String>,
        /// Birth date (yyyy-MM-dd, dd/MM/yyyy or ddMMyyyy).
        #[arg(long)]
        date_naissance: Option<String>,
        /// Enrolment year (default: the current campaign).
        #[arg(long)]
        annee: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum RefCommand {
    /// Import `<table>.csv` files of a directory (or one file), in dependency order.
    Import {
        /// Directory or file.
        path: PathBuf,
        /// Write the valid rows even when some are refused.
        #[arg(long)]
        partial: bool,
    },
}

/// Outcome of a command: 0 all good, 1 refusals.
type Outcome = Result<u8, anyhow::Error>;

fn print(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

fn refusal(e: &ClientError) -> Option<u8> {
    match e {
        ClientError::Problem(p) => {
            eprintln!("refusé ({} {}) : {}", p.status, p.fault_key, p.detail);
            for err in &p.errors {
                let at = err
                    .line
                    .map(|l| format!("ligne {l} : "))
                    .unwrap_or_default();
                eprintln!("  {at}{} ({})", err.message, err.fault_key);
            }
            Some(1)
        }
        ClientError::Fault { key, message } => {
            eprintln!("faute SOAP {key} : {message}");
            Some(1)
        }
        _ => None,
    }
}

/// A refusal the gateway explained (problem body, SOAP fault) is exit code 1; anything else
/// stays an error (exit 2).
fn refused(e: anyhow::Error) -> Outcome {
    match e.downcast_ref::<ClientError>().and_then(refusal) {
        Some(c) => Ok(c),
        None => Err(e),
    }
}

fn progress_bar(total: u64) -> indicatif::ProgressBar {
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(total);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    }
}

fn since(spec: &str) -> anyhow::Result<String> {
    let (n, unit) = spec.split_at(
        spec.trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .len(),
    );
    let n: i64 = n
        .parse()
        .map_err(|_| anyhow::anyhow!("--since: `{spec}` (30m, 1h, 2d)"))?;
    let d = match unit {
        "s" => chrono::Duration::seconds(n),
        "m" => chrono::Duration::minutes(n),
        "h" | "" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        _ => anyhow::bail!("--since: unit `{unit}` (s, m, h, d)"),
    };
    Ok((chrono::Utc::now() - d).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

async fn batch_report(report: Value, out: Option<&Path>) -> Outcome {
    let s = &report["summary"];
    eprintln!(
        "{} lus : {} créés, {} mis à jour, {} inchangés, {} rejetés{}",
        s["total"],
        s["created"],
        s["updated"],
        s["unchanged"],
        s["rejected"],
        if report["written"] == false {
            " (mode atomique : rien n'a été écrit)"
        } else {
            ""
        }
    );
    for line in report["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| l["status"] == "rejected")
    {
        eprintln!(
            "  ligne {} ({}) : {} ({})",
            line["line"],
            line["key"].as_str().unwrap_or("-"),
            line["message"].as_str().unwrap_or(""),
            line["faultKey"].as_str().unwrap_or("")
        );
    }
    if let Some(path) = out {
        tokio::fs::write(path, serde_json::to_vec_pretty(&report)?).await?;
        eprintln!("rapport : {}", path.display());
    }
    Ok(if s["rejected"].as_u64().unwrap_or(0) > 0 {
        1
    } else {
        0
    })
}

async fn push(client: &GatewayClient, user: &str, cmd: OpiCommand) -> Outcome {
    let OpiCommand::Push {
        file,
        candidatures,
        mode,
        partial,
        soap,
        report,
    } = cmd
    else {
        anyhow::bail!("not a push");
    };
    let query = vec![("mode", mode)];
    if let Some(cands) = candidatures {
        let boundary = format!("apogee-cli-{}", chrono::Utc::now().timestamp_micros());
        let mut body = Vec::new();
        for (name, path) in [("candidat", &file), ("candidature", &cands)] {
            let content = tokio::fs::read(path).await?;
            body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.csv\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes());
            body.extend(content);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").as_bytes());
        let bar = progress_bar(body.len() as u64);
        let b = bar.clone();
        let r = client
            .opi_batch(
                std::io::Cursor::new(body),
                &format!("multipart/form-data; boundary={boundary}"),
                &query,
                move |n| b.set_position(n),
            )
            .await;
        bar.finish_and_clear();
        return batch_report(r?, report.as_deref()).await;
    }
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext == "ndjson" || ext == "jsonl" {
        let f = tokio::fs::File::open(&file).await?;
        let bar = progress_bar(f.metadata().await?.len());
        let b = bar.clone();
        let r = client
            .opi_batch(f, "application/x-ndjson", &query, move |n| {
                b.set_position(n)
            })
            .await;
        bar.finish_and_clear();
        return batch_report(r?, report.as_deref()).await;
    }
    let donnees: apogee_domain::opi::dto::DonneesOpi =
        serde_json::from_slice(&tokio::fs::read(&file).await?)?;
    let code = donnees
        .individu
        .as_ref()
        .and_then(|i| i.cod_opi_int_epo.clone())
        .ok_or_else(|| anyhow::anyhow!("individu.codOpiIntEpo manquant"))?;
    if soap {
        client.opi_soap_v10(user, &donnees).await?;
        eprintln!("OPI {code} enregistrée (SOAP)");
        return Ok(0);
    }
    let answer = client.opi_put(&code, &donnees, partial).await?;
    print(&answer);
    Ok(
        if answer["voeux"]["rejected"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
        {
            1
        } else {
            0
        },
    )
}

/// FNV-1a, 64 bits: a hash that stays the same from one run (and one build) to the next.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// What a streamed file upload needs: its idempotency key, media type and progress reporter.
struct Upload {
    key: String,
    content_type: &'static str,
    bar: indicatif::ProgressBar,
    progress: Box<dyn Fn(u64) + Send + Sync>,
    started: std::time::Instant,
}

/// The upload of `file`: `key` or one derived from the file's name, size and modification time
/// (the same file re-sent is the same request); the media type from the extension; a progress
/// bar on a terminal, else a line every 10 %.
async fn upload(file: &Path, key: Option<String>, default_name: &str) -> anyhow::Result<Upload> {
    let meta = tokio::fs::metadata(file).await?;
    let key = key.unwrap_or_else(|| {
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        // A header value: the name's ASCII letters, digits and `.-_` (others as `_`), at most
        // 64 of them, and a hash of the absolute path (two folders, two keys).
        let name: String = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(default_name)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        let path = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_path_buf());
        let place = fnv1a(path.to_string_lossy().as_bytes());
        format!("apogee-cli:{name}:{place:016x}:{}:{modified}", meta.len())
    });
    let content_type = match file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("ndjson" | "jsonl") => "application/x-ndjson",
        Some("json") => "application/json",
        _ => "text/csv",
    };
    let bar = progress_bar(meta.len());
    let b = bar.clone();
    let plain = !std::io::stderr().is_terminal();
    let (len, step) = (meta.len(), (meta.len() / 10).max(1));
    let last = std::sync::atomic::AtomicU64::new(0);
    let progress = move |n: u64| {
        b.set_position(n);
        if plain && n / step > last.load(std::sync::atomic::Ordering::Relaxed) {
            last.store(n / step, std::sync::atomic::Ordering::Relaxed);
            eprintln!("envoyé {n} octets sur {len}");
        }
    };
    Ok(Upload {
        key,
        content_type,
        bar,
        progress: Box::new(progress),
        started: std::time::Instant::now(),
    })
}

/// Prints the summary, the first 20 rejected rows with their line, writes the report to `out`;
/// 1 when something was refused. The counts are the report's `summary` (LP batches) or its top
/// level (enrolment batches); the rows its `lines` (or `rows`, `report`).
async fn upload_report(answer: &BatchAnswer, secs: f64, out: Option<&Path>) -> Outcome {
    let report = &answer.report;
    let counts = if report["summary"].is_object() {
        &report["summary"]
    } else {
        report
    };
    let rows: &[Value] = ["lines", "rows", "report"]
        .iter()
        .find_map(|k| report[*k].as_array())
        .map_or(&[], Vec::as_slice);
    if answer.replayed {
        eprintln!(
            "rapport rejoué : ce fichier a déjà été envoyé avec cette clé, rien n'a été réécrit"
        );
    }
    let total = counts["total"].as_u64().unwrap_or(0);
    let secs = secs.max(0.001);
    eprintln!(
        "{total} lignes en {secs:.1} s ({:.0} lignes/s) : {} créés, {} mis à jour, {} inchangés, {} rejetés",
        total as f64 / secs,
        counts["created"].as_u64().unwrap_or(0),
        counts["updated"].as_u64().unwrap_or(0),
        counts["unchanged"].as_u64().unwrap_or(0),
        counts["rejected"].as_u64().unwrap_or(0)
    );
    for r in rows.iter().filter(|r| r["status"] == "rejected").take(20) {
        let who = r["personne"]
            .as_str()
            .map(|p| format!(" ({p})"))
            .unwrap_or_default();
        let reasons: Vec<&str> = r["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["code"].as_str())
            .collect();
        let reasons = if reasons.is_empty() {
            String::new()
        } else {
            format!(" [{}]", reasons.join(", "))
        };
        eprintln!(
            "  ligne {}{who} : {} ({}){reasons}",
            r["line"],
            r["message"].as_str().unwrap_or(""),
            r["faultKey"].as_str().unwrap_or("")
        );
    }
    if let Some(path) = out {
        tokio::fs::write(path, serde_json::to_vec_pretty(report)?).await?;
        eprintln!("rapport : {}", path.display());
    }
    // `fileErrors`: the file-level errors of an LP batch (a list of messages).
    let file_errors = counts["fileErrors"].as_array().cloned().unwrap_or_default();
    for e in &file_errors {
        eprintln!("  fichier : {}", e.as_str().unwrap_or_default());
    }
    let rejected = counts["rejected"].as_u64().unwrap_or(0) + file_errors.len() as u64;
    Ok(u8::from(rejected > 0))
}

async fn lp_import(
    client: &GatewayClient,
    file: &Path,
    mode: String,
    key: Option<String>,
    out: Option<&Path>,
) -> Outcome {
    let up = upload(file, key, "lp").await?;
    let f = tokio::fs::File::open(file).await?;
    let answer = client
        .lp_batch(f, up.content_type, &[("mode", mode)], &up.key, up.progress)
        .await;
    up.bar.finish_and_clear();
    upload_report(&answer?, up.started.elapsed().as_secs_f64(), out).await
}

/// `apogee ia push`: the enrolment batch.
async fn ia_push(
    client: &GatewayClient,
    file: &Path,
    key: Option<String>,
    out: Option<&Path>,
) -> Outcome {
    let up = upload(file, key, "ia").await?;
    let f = tokio::fs::File::open(file).await?;
    let answer = client
        .inscriptions_batch(f, up.content_type, &up.key, up.progress)
        .await;
    up.bar.finish_and_clear();
    upload_report(&answer?, up.started.elapsed().as_secs_f64(), out).await
}

async fn import(client: &GatewayClient, path: &Path, partial: bool) -> Outcome {
    let mut files: Vec<PathBuf> = if path.is_dir() {
        std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "csv"))
            .collect()
    } else {
        vec![path.to_path_buf()]
    };
    let order = |p: &PathBuf| {
        let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        apogee_domain::referential::TABLES
            .iter()
            .position(|t| t.name == stem)
            .unwrap_or(usize::MAX)
    };
    files.sort_by_key(order);
    let mut code = 0;
    for f in files {
        let Some(table) = f
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| apogee_domain::referential::table(s).is_some())
        else {
            anyhow::bail!("{} : pas une table du référentiel", f.display());
        };
        match client
            .referential_put_csv(table, tokio::fs::read(&f).await?, partial)
            .await
        {
            Ok(r) => eprintln!(
                "{:<28} {} créés, {} mis à jour, {} inchangés, {} rejetés",
                table, r["created"], r["updated"], r["unchanged"], r["rejected"]
            ),
            Err(e) => match refusal(&e) {
                Some(c) => code = c,
                None => return Err(e.into()),
            },
        }
    }
    Ok(code)
}

async fn run(cli: Cli) -> Outcome {
    if let Command::Completions { shell } = &cli.command {
        clap_complete::generate(
            *shell,
            &mut Cli::command(),
            "apogee",
            &mut std::io::stdout(),
        );
        return Ok(0);
    }
    if cli.token.is_empty() {
        anyhow::bail!("secret manquant : --token ou APOGEE_TOKEN");
    }
    let client = GatewayClient::new(&cli.url, &cli.token)?;
    let result = match cli.command {
        Command::Opi(OpiCommand::Get { code }) => client.opi_get(&code).await.map(|v| {
            print(&v);
            0
        }),
        Command::Opi(cmd) => {
            return push(&client, &cli.user, cmd).await.or_else(refused);
        }
        Command::Ref(RefCommand::Import { path, partial }) => {
            return import(&client, &path, partial).await;
        }
        Command::Lp(LpCommand::Import {
            file,
            mode,
            key,
            report,
        }) => {
            return lp_import(&client, &file, mode, key, report.as_deref())
                .await
                .or_else(refused);
        }
        Command::Ia(IaCommand::Push { file, key, report }) => {
            return ia_push(&client, &file, key, report.as_deref())
                .await
                .or_else(refused);
        }
        Command::Etudiant(EtudiantCommand::Get { cod_etu }) => {
            client.etudiant(&cod_etu).await.map(|v| {
                print(&v);
                0
            })
        }
        Command::Pj(PjCommand::Put {
            code,
            cod_tpj,
            file,
        }) => {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("piece")
                .to_owned();
            let bytes = tokio::fs::read(&file).await?;
            client.pj_put(&code, &cod_tpj, &name, bytes).await.map(|v| {
                print(&v);
                0
            })
        }
        Command::Cvec(CvecCommand::Check {
            code,
            ine,
            nom,
            prenom,
            date_naissance,
            annee,
        }) => {
            let request = serde_json::json!({"code": code, "ine": ine, "nom": nom, "prenom": prenom, "dateNaissance": date_naissance, "codAnu": annee});
            client.cvec_check(&request).await.map(|v| {
                print(&v);
                u8::from(v["result"] != "VALIDE" && v["result"] != "NON_REQUISE")
            })
        }
        Command::Journal {
            since: s,
            outcome,
            operation,
            client: c,
            key,
            limit,
        } => {
            let mut q = vec![("limit", limit.to_string())];
            if let Some(s) = s {
                q.push(("from", since(&s)?));
            }
            for (k, v) in [
                ("outcome", outcome),
                ("operation", operation),
                ("client", c),
                ("key", key),
            ] {
                if let Some(v) = v {
                    q.push((k, v));
                }
            }
            client.journal(&q).await.map(|v| {
                for e in v["entries"].as_array().into_iter().flatten() {
                    println!(
                        "{} {:<8} {:<9} {:<40} {:<12} {}",
                        e["at"].as_str().unwrap_or(""),
                        e["outcome"].as_str().unwrap_or(""),
                        e["client"].as_str().unwrap_or("-"),
                        e["operation"].as_str().unwrap_or(""),
                        e["key"].as_str().unwrap_or("-"),
                        e["faultKey"].as_str().unwrap_or("")
                    );
                }
                0
            })
        }
        Command::Completions { .. } => Ok(0),
    };
    match result {
        Ok(c) => Ok(c),
        Err(e) => match refusal(&e) {
            Some(c) => Ok(c),
            None => Err(e.into()),
        },
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("erreur : {e:#}");
            ExitCode::from(2)
        }
    }
}
