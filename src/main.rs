use std::process::ExitCode;

/// See Cargo.toml: glibc malloc was an eighth of a chat turn's CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
