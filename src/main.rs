//! `hotline`: the 12348 legal-service hotline server and its operator commands.

mod calls;
mod config;
mod console_bridge;
mod memory;
mod model_cmd;
mod phone;
mod register;
mod serve;
mod talk_spans;
mod transcribe_cmd;
mod transcribe_workers;
mod user;

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
    Serve(Box<config::ServeArgs>),
    /// Work with dialplans.
    Dialplan {
        #[command(subcommand)]
        command: DialplanCommand,
    },
    /// Manage lawyers' phone accounts (SIP digest credentials).
    Phone {
        #[command(subcommand)]
        command: phone::PhoneCommand,
    },
    /// Manage console users (lawyers, supervisors, admins).
    User {
        #[command(subcommand)]
        command: user::UserCommand,
    },
    /// Get or convert whisper models.
    Model {
        #[command(subcommand)]
        command: model_cmd::ModelCommand,
    },
    /// Transcribe recordings offline (batch), printing each dialogue and its real-time factor.
    Transcribe(transcribe_cmd::TranscribeArgs),
}

#[derive(Subcommand)]
enum DialplanCommand {
    /// Validate a dialplan directory; prints `file:line: what is wrong` for each problem and
    /// exits 1 when there is any.
    Check {
        /// The directory [default: ./dialplans].
        #[arg(default_value = "dialplans")]
        dir: std::path::PathBuf,
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
        Command::User { command } => runtime.block_on(user::run(command)),
        Command::Model { command } => model_cmd::run(command),
        Command::Transcribe(args) => transcribe_cmd::run(args),
        Command::Dialplan {
            command: DialplanCommand::Check { dir },
        } => {
            let problems = hotline_ivr::check(&dir);
            for p in &problems {
                println!("{p}");
            }
            if !problems.is_empty() {
                std::process::exit(1);
            }
            println!("{}: ok", dir.display());
            Ok(())
        }
    }
}
