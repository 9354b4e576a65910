//! `serve`, `migrate` and `demo`: the commands that open the database.

use std::process::ExitCode;

use anyhow::Context;

/// Options of `freshbot serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Load the demo business before serving (idempotent).
    #[arg(long)]
    pub demo: bool,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let settings = crate::config::Settings::load().context("loading settings")?;
    runtime()?.block_on(async move {
        let app = crate::app::Application::build(settings, args.demo).await?;
        app.run_until_stopped().await
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn migrate() -> anyhow::Result<ExitCode> {
    let settings = crate::config::Settings::load().context("loading settings")?;
    runtime()?.block_on(async move {
        crate::store::Store::connect(&settings.database_url()?)
            .await
            .context("opening the database")?;
        tracing::info!("migrations applied");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn demo() -> anyhow::Result<ExitCode> {
    let settings = crate::config::Settings::load().context("loading settings")?;
    runtime()?.block_on(async move {
        let store = crate::store::Store::connect(&settings.database_url()?)
            .await
            .context("opening the database")?;
        let report = crate::demo::load(&store, &settings).await?;
        println!("{}", serde_json::to_string(&report)?);
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}
