//! `freshbot agent add`: console accounts for human agents.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;

#[derive(Debug, clap::Args)]
pub struct AgentArgs {
    #[command(subcommand)]
    pub command: AgentCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AgentCommand {
    /// Create an agent (or give a password to one without, like the demo agents). The password
    /// is read from standard input: typed at a prompt, or piped (`echo ... | freshbot agent add`).
    Add {
        /// The login name (letters, digits, '.', '_', '-').
        #[arg(long)]
        login: String,
        /// The name customers see ("小美").
        #[arg(long, default_value = "")]
        name: String,
        /// Replace the password of an agent who already has one.
        #[arg(long)]
        reset: bool,
        /// What the account may use: `agent` (the agent console), `picker` (the picker page)
        /// or `lead` (both).
        #[arg(long, default_value = "agent")]
        role: crate::domain::StaffRole,
    },
}

pub fn run(args: AgentArgs) -> anyhow::Result<ExitCode> {
    let AgentCommand::Add {
        login,
        name,
        reset,
        role,
    } = args.command;
    let password = read_password()?;
    let settings = crate::config::Settings::load().context("loading settings")?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(async move {
            let store = crate::store::Store::connect(&settings.database_url()?)
                .await
                .context("opening the database")?;
            let services = crate::services::Services::new(
                store,
                settings.business.clone(),
                std::sync::Arc::new(crate::services::SystemClock),
            );
            match services
                .add_agent(&login, &name, &password, reset, role)
                .await
            {
                Ok(id) => {
                    println!(
                        "{}",
                        serde_json::json!({ "agent_id": id, "login": login, "role": role })
                    );
                    anyhow::Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(ExitCode::from(2))
                }
            }
        })
}

/// One line from stdin, without its line ending. At a terminal the prompt goes to stderr; the
/// characters typed are visible, so prefer piping the password in scripts.
fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password for the new agent (at least 8 characters): ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}
