//! `apogee-gateway`: parses the command line, sets up logging, runs the server or a command.

use apogee_app::Settings;
use apogee_app::settings::LogFormat;
use apogee_gateway::cli::{Cli, Command};
use clap::Parser;
use tracing_subscriber::EnvFilter;

fn init_tracing(settings: &Settings) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(settings.log.level.clone()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match settings.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = cli.settings()?;
    init_tracing(&settings);
    match &cli.command {
        None | Some(Command::Serve) => actix_web::rt::System::new().block_on(async move {
            let app = apogee_gateway::Application::build(settings).await?;
            tracing::info!(port = app.port(), "apogee-gateway listening");
            app.run_until_stopped().await?;
            Ok(())
        }),
        Some(other) => apogee_gateway::cli::run_offline(other, &settings),
    }
}
