//! `hotline`: the 12348 legal-service hotline server and its operator commands.

mod calls;
mod config;
mod phone;
mod serve;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "hotline",
    version,
    about = "12348 public legal-service hotline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the hotline: SIP on UDP+TCP, media, and the console.
    Serve(config::ServeArgs),
    /// Manage lawyers' phone accounts (SIP digest credentials).
    Phone {
        #[command(subcommand)]
        command: phone::PhoneCommand,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve::run(args.resolve()?)),
        Command::Phone { command } => runtime.block_on(phone::run(command)),
    }
}
