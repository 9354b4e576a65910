use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = freshbot::cli::Cli::parse();
    match freshbot::cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
