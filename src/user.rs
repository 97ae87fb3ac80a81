//! `hotline user add`: creates a console user (lawyer, supervisor or admin). The password is
//! read from standard input and stored only as an argon2id hash; the lawyer id and region
//! are checked against the dialplan, so a typo cannot create a user who sees nothing.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use hotline_cases::{Store, StoreError};
use hotline_console::admin::{NewUser, prepare_user};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a console user; the password is read from standard input (never a flag, so it does
    /// not end up in shell history or `ps`).
    Add {
        /// Login name.
        username: String,
        /// lawyer, supervisor or admin.
        #[arg(long)]
        role: String,
        /// The roster lawyer id (required for --role lawyer).
        #[arg(long)]
        lawyer: Option<String>,
        /// Supervisor scope: this region and the regions below it [default: everything].
        #[arg(long)]
        region: Option<String>,
        /// Display name [default: the roster name, or the username].
        #[arg(long)]
        name: Option<String>,
        /// Console language, zh or en [default: zh].
        #[arg(long)]
        lang: Option<String>,
        /// Read the password from standard input (required).
        #[arg(long)]
        password_stdin: bool,
        /// Dialplan directory the lawyer id and region are checked against.
        #[arg(long, env = "HOTLINE_DIALPLANS", default_value = "dialplans")]
        dialplans: PathBuf,
        /// Data directory holding the default SQLite database.
        #[arg(long, env = "HOTLINE_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
        /// Database URL [default: sqlite://DATA_DIR/hotline.db].
        #[arg(long, env = "HOTLINE_DATABASE_URL")]
        database_url: Option<String>,
    },
}

pub async fn run(cmd: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Add {
        username,
        role,
        lawyer,
        region,
        name,
        lang,
        password_stdin,
        dialplans,
        data_dir,
        database_url,
    } = cmd;
    if !password_stdin {
        bail!("pass --password-stdin and give the password on standard input");
    }
    let plan = hotline_ivr::load(&dialplans).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        anyhow::anyhow!(
            "the dialplan in {} (--dialplans) has problems:\n{}",
            dialplans.display(),
            list.join("\n")
        )
    })?;
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("reading the password")?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let user = prepare_user(
        NewUser {
            username,
            password,
            role,
            lawyer_id: lawyer,
            region,
            name,
            lang,
        },
        &plan,
    )
    .map_err(anyhow::Error::msg)?;
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let url = database_url.unwrap_or_else(|| format!("sqlite://{}/hotline.db", data_dir.display()));
    let store = Store::open(&url).await?;
    match store.create_user(&user).await {
        Ok(()) => {}
        Err(StoreError::Duplicate) => {
            bail!("a console user named {} already exists", user.username)
        }
        Err(e) => return Err(e.into()),
    }
    store.close().await;
    eprintln!("console user {} ({}) added", user.username, user.role);
    Ok(())
}
