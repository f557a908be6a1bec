//! Command line of `apogee-gateway`.

use crate::config::{FlagOverrides, LogFormat, LogOverride, Settings};
use anyhow::Context;
use apogee_db::repo::{clients, journal, referential::Actor};
use apogee_domain::Scopes;
use apogee_domain::referential::{TABLES, table};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

/// Apogée SOAP/REST gateway.
#[derive(Debug, Parser)]
#[command(name = "apogee-gateway", version, about)]
pub struct Cli {
    /// TOML configuration file (also `APOGEE_CONFIG`).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Listen address [default: 127.0.0.1:8080].
    #[arg(long, global = true)]
    pub bind: Option<String>,
    /// Data directory: SQLite database, admin.token, stored files [default: ./data].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL, `sqlite://…` or `postgres://…` [default: sqlite://<data-dir>/apogee.db].
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Do not seed the demo referential on the first start of an empty database.
    #[arg(long, global = true)]
    pub no_demo: bool,
    /// Log format.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the effective configuration (secrets masked).
    Config,
    /// Manage API clients.
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Load the referential.
    #[command(subcommand)]
    Referential(ReferentialCommand),
}

/// `clients …`
#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Create a client and print its secret (shown once).
    Add {
        /// Client name (also the HTTP Basic user for SOAP).
        name: String,
        /// Scopes, separated by spaces or commas: opi:write opi:read pj:write pj:read lp:write
        /// lp:read cvec:read ref:write journal:read admin.
        #[arg(long, required = true, num_args = 1..)]
        scopes: Vec<String>,
    },
    /// List clients.
    List,
    /// Revoke a client.
    Revoke {
        /// Client name.
        name: String,
    },
}

/// `referential …`
#[derive(Debug, Subcommand)]
pub enum ReferentialCommand {
    /// Import CSV files named after their table (`etapes.csv` …): one file, or every file of a
    /// directory, in dependency order.
    Import {
        /// File or directory.
        path: PathBuf,
        /// Write the valid rows even when some are refused.
        #[arg(long)]
        partial: bool,
    },
}

impl Cli {
    /// The configuration layers with this command line on top.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let flags = FlagOverrides {
            bind: self.bind.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            demo: self.no_demo.then_some(false),
            log: self.log_format.map(|format| LogOverride { format }),
        };
        Ok(Settings::load(self.config.as_deref(), flags)?)
    }
}

/// Runs a subcommand other than `serve`.
pub fn run_offline(command: &Command, settings: &Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => unreachable!("serve runs the server"),
        Command::Config => {
            print!("{}", settings.to_masked_toml());
            Ok(())
        }
        Command::Migrate => {
            let db = crate::app::open_db(settings)?;
            let applied = crate::app::migrate(&db)?;
            println!("{} migration(s) applied", applied.len());
            for m in applied {
                println!("  {m}");
            }
            Ok(())
        }
        Command::Clients(cmd) => {
            let db = crate::app::open_db(settings)?;
            crate::app::migrate(&db)?;
            clients_command(&db, cmd)
        }
        Command::Referential(ReferentialCommand::Import { path, partial }) => {
            let db = crate::app::open_db(settings)?;
            crate::app::migrate(&db)?;
            import_referential(&db, path, *partial)
        }
    }
}

fn clients_command(db: &apogee_db::Db, cmd: &ClientsCommand) -> anyhow::Result<()> {
    let mut conn = db.conn()?;
    match cmd {
        ClientsCommand::Add { name, scopes } => {
            let scopes = Scopes::parse(&scopes.join(" "))?;
            let (client, secret) = crate::auth::create_client(&mut conn, name, &scopes)
                .map_err(|e| anyhow::anyhow!(e.message))?;
            eprintln!(
                "client `{}` created with scopes: {}",
                client.name, client.scopes
            );
            eprintln!("its secret is shown once; store it now:");
            println!("{secret}");
        }
        ClientsCommand::List => {
            println!(
                "{:<24} {:<8} {:<20} scopes",
                "name", "status", "created (UTC)"
            );
            for c in clients::list(&mut conn)? {
                let status = if c.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{:<24} {:<8} {:<20} {}",
                    c.name,
                    status,
                    c.created_at.format("%Y-%m-%d %H:%M:%S"),
                    c.scopes
                );
            }
        }
        ClientsCommand::Revoke { name } => {
            if clients::revoke(&mut conn, name)? {
                println!("client `{name}` revoked (active sessions end within 5 seconds)");
            } else {
                anyhow::bail!("no active client named `{name}`");
            }
        }
    }
    Ok(())
}

/// Files to import: `(table, path)` in table order.
fn import_plan(
    path: &Path,
) -> anyhow::Result<Vec<(&'static apogee_domain::referential::TableDef, PathBuf)>> {
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "csv" || x == "json"))
            .collect();
        v.sort();
        v
    } else {
        vec![path.to_path_buf()]
    };
    let mut plan = Vec::new();
    let mut unknown = Vec::new();
    for f in files {
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        match table(stem) {
            Some(t) => plan.push((t, f)),
            None => unknown.push(f.display().to_string()),
        }
    }
    if !unknown.is_empty() {
        let names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        anyhow::bail!(
            "file(s) not named after a referential table: {} (expected <table>.csv or .json, tables: {})",
            unknown.join(", "),
            names.join(", ")
        );
    }
    plan.sort_by_key(|(t, _)| TABLES.iter().position(|x| x.name == t.name));
    Ok(plan)
}

fn import_referential(db: &apogee_db::Db, path: &Path, partial: bool) -> anyhow::Result<()> {
    let plan = import_plan(path)?;
    let trace_id = ulid::Ulid::new().to_string();
    let started = std::time::Instant::now();
    let result = db.write_blocking(|c| {
        let mut reports = Vec::new();
        for (t, file) in &plan {
            let body = std::fs::read(file).map_err(|e| {
                apogee_domain::Error::invalid_field(
                    apogee_domain::FaultKey::noncoherent("fichier"),
                    "FICHIER_ILLISIBLE",
                    "fichier",
                    format!("{}: {e}", file.display()),
                )
            })?;
            let format = if file.extension().is_some_and(|x| x == "json") {
                crate::referential::Format::Json
            } else {
                crate::referential::Format::Csv
            };
            let report = crate::referential::import(
                c,
                t,
                format,
                &body,
                partial,
                Actor {
                    client: Some("cli"),
                    trace_id: &trace_id,
                    now: chrono::Utc::now().naive_utc(),
                },
            )
            .map_err(|e| match e {
                apogee_db::WriteError::Domain(mut err) => {
                    err.message = format!("{}: {}", file.display(), err.message);
                    apogee_db::WriteError::Domain(err)
                }
                other => other,
            })?;
            reports.push((file.clone(), report));
        }
        Ok::<_, apogee_db::WriteError>(reports)
    });
    let outcome = if result.is_ok() { "ok" } else { "rejected" };
    let entry = journal::NewJournalEntry {
        at: chrono::Utc::now().naive_utc(),
        request_id: trace_id,
        client_name: Some("cli".into()),
        channel: "cli".into(),
        operation: "referential import".into(),
        key_kind: Some("path".into()),
        key_value: Some(path.display().to_string().chars().take(100).collect()),
        outcome: outcome.into(),
        http_status: if result.is_ok() { 200 } else { 400 },
        fault_key: result
            .as_ref()
            .err()
            .map(|e| clone_err(e).fault_key.to_string()),
        message: None,
        warnings: None,
        duration_ms: i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX),
    };
    let _ = journal::insert_many(&mut *db.conn()?, &[entry]);
    match result {
        Ok(reports) => {
            for (file, r) in reports {
                println!(
                    "{:<40} {:>6} read {:>6} created {:>6} updated {:>6} unchanged {:>6} rejected",
                    file.display(),
                    r.received,
                    r.created,
                    r.updated,
                    r.unchanged,
                    r.rejected
                );
                for e in r.errors {
                    println!(
                        "  line {}: {} ({})",
                        e.line.unwrap_or(0),
                        e.message,
                        e.fault_key
                    );
                }
            }
            Ok(())
        }
        Err(apogee_db::WriteError::Domain(err)) => {
            eprintln!("import refused, nothing written: {}", err.message);
            for e in &err.errors {
                eprintln!(
                    "  line {}: {} ({})",
                    e.line.unwrap_or(0),
                    e.message,
                    e.fault_key
                );
            }
            anyhow::bail!("{} error(s)", err.errors.len().max(1))
        }
        Err(e) => Err(anyhow::anyhow!("{e}")),
    }
}

fn clone_err(e: &apogee_db::WriteError) -> apogee_domain::Error {
    match e {
        apogee_db::WriteError::Domain(d) => d.clone(),
        apogee_db::WriteError::Db(d) => apogee_domain::Error::internal(d.to_string()),
    }
}
