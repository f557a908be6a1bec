//! Command line of `apogee-gateway`.

use crate::config::{FlagOverrides, LogOverride};
use anyhow::Context;
use apogee_app::settings::LogFormat;
use apogee_app::{Call, Settings, clients, journal, referential};
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
    pub log_format: Option<LogFormatArg>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormatArg {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl From<LogFormatArg> for LogFormat {
    fn from(f: LogFormatArg) -> Self {
        match f {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        }
    }
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
    /// The Apogée-compatible SQL schema for eCandidat (PostgreSQL only).
    #[command(subcommand)]
    CompatSql(CompatSqlCommand),
}

/// `compat-sql …`
#[derive(Debug, Subcommand)]
pub enum CompatSqlCommand {
    /// Give an existing PostgreSQL role what eCandidat's `jdbc/dbSiScol` needs: SELECT on the
    /// views of schema `apogee`, DELETE on `apogee.opi_pj`, EXECUTE on `pkb_bac`, search path
    /// `apogee`, and nothing on the gateway's tables. Run it again after an upgrade.
    Grant {
        /// The role (created beforehand: CREATE ROLE ecandidat LOGIN PASSWORD '…').
        #[arg(long)]
        role: String,
    },
}

/// `clients …`
#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Create a client and print its secret (shown once).
    Add {
        /// Client name (also the HTTP Basic user for SOAP).
        name: String,
        /// Scopes, separated by spaces or commas: opi:write opi:read pj:write pj:read lp:write
        /// lp:read cvec:read ref:write ref:read etudiant:read ia:write journal:read admin.
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
            log: self.log_format.map(|format| LogOverride {
                format: format.into(),
            }),
        };
        Ok(crate::config::load(self.config.as_deref(), flags)?)
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
            let db = apogee_app::state::open_db(settings)?;
            let applied = apogee_app::state::migrate(&db)?;
            println!("{} migration(s) applied", applied.len());
            for m in applied {
                println!("  {m}");
            }
            Ok(())
        }
        Command::Clients(cmd) => {
            let db = apogee_app::state::open_db(settings)?;
            apogee_app::state::migrate(&db)?;
            clients_command(&db, cmd)
        }
        Command::Referential(ReferentialCommand::Import { path, partial }) => {
            let db = apogee_app::state::open_db(settings)?;
            apogee_app::state::migrate(&db)?;
            import_referential(&db, path, *partial)
        }
        Command::CompatSql(CompatSqlCommand::Grant { role }) => compat_sql_grant(settings, role),
    }
}

fn compat_sql_grant(settings: &Settings, role: &str) -> anyhow::Result<()> {
    let report = apogee_app::compat_sql::grant(settings, role)?;
    println!(
        "role `{}`: CONNECT on {}, SELECT on the {} views of schema apogee, DELETE on apogee.opi_pj, EXECUTE on pkb_bac",
        report.role, report.database, report.views
    );
    if report.search_path_set {
        println!("search_path of `{}` set to apogee", report.role);
    } else {
        eprintln!(
            "warning: could not set the search path of `{}` (needs CREATEROLE): put currentSchema=apogee in the JDBC URL",
            report.role
        );
    }
    Ok(())
}

fn clients_command(db: &apogee_app::state::Db, cmd: &ClientsCommand) -> anyhow::Result<()> {
    let mut conn = db.conn()?;
    match cmd {
        ClientsCommand::Add { name, scopes } => {
            let scopes = Scopes::parse(&scopes.join(" "))?;
            let (client, secret) = clients::create(&mut conn, name, &scopes)
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

fn import_referential(
    db: &apogee_app::state::Db,
    path: &Path,
    partial: bool,
) -> anyhow::Result<()> {
    let plan = import_plan(path)?;
    let call = Call::system("cli");
    let started = std::time::Instant::now();
    let result = db.write_blocking(|c| {
        let mut reports = Vec::new();
        for (t, file) in &plan {
            reports.push((file.clone(), import_file(c, t, file, partial, &call)?));
        }
        Ok::<_, apogee_app::state::WriteError>(reports)
    });
    let result = result.map_err(apogee_domain::Error::from);
    let mut entry = journal::cli_entry(
        &call,
        "referential import",
        ("path", &path.display().to_string()),
        result.is_ok(),
        started,
    );
    entry.fault_key = result.as_ref().err().map(|e| e.fault_key.to_string());
    if let Err(e) = journal::record_now(db, &entry) {
        eprintln!("warning: the import was not journaled: {}", e.message);
    }
    match result {
        Ok(reports) => {
            print_reports(reports);
            Ok(())
        }
        Err(err) => {
            eprintln!("import refused, nothing written: {}", err.message);
            print_errors(&err.errors, true);
            anyhow::bail!("{} error(s)", err.errors.len().max(1))
        }
    }
}

/// One file of an import, in the import's transaction; its errors name the file.
fn import_file(
    c: &mut apogee_app::state::AnyConnection,
    table: &'static apogee_domain::referential::TableDef,
    file: &Path,
    partial: bool,
    call: &Call,
) -> Result<referential::ImportReport, apogee_app::state::WriteError> {
    let body = std::fs::read(file).map_err(|e| {
        apogee_domain::Error::invalid_field(
            apogee_domain::FaultKey::noncoherent("fichier"),
            "FICHIER_ILLISIBLE",
            "fichier",
            format!("{}: {e}", file.display()),
        )
    })?;
    let format = if file.extension().is_some_and(|x| x == "json") {
        referential::Format::Json
    } else {
        referential::Format::Csv
    };
    referential::import_in(c, table, format, &body, partial, call).map_err(|e| match e {
        apogee_app::state::WriteError::Domain(mut err) => {
            err.message = format!("{}: {}", file.display(), err.message);
            apogee_app::state::WriteError::Domain(err)
        }
        other => other,
    })
}

fn print_reports(reports: Vec<(PathBuf, referential::ImportReport)>) {
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
        print_errors(&r.errors, false);
    }
}

fn print_errors(errors: &[apogee_domain::FieldError], to_stderr: bool) {
    for e in errors {
        let line = format!(
            "  line {}: {} ({})",
            e.line.unwrap_or(0),
            e.message,
            e.fault_key
        );
        if to_stderr {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
}
