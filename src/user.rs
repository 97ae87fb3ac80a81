//! `hotline user add` / `hotline user passwd`: console users (lawyer, supervisor or admin).
//! Passwords are read from standard input and stored only as argon2id hashes; the lawyer id
//! and region are checked against the dialplan, so a typo cannot create a user who sees
//! nothing.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use hotline_cases::{Store, StoreError};
use hotline_console::admin::{MIN_PASSWORD_LEN, NewUser, prepare_user};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a console user; the password is read from standard input (never a flag, so it does
    /// not end up in shell history or `ps`).
    Add(AddArgs),
    /// Set a console user's new password (read from standard input); their sessions end.
    Passwd {
        /// Login name.
        username: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Args)]
pub struct AddArgs {
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
    /// Dialplan directory the lawyer id and region are checked against.
    #[arg(long, env = "HOTLINE_DIALPLANS", default_value = "dialplans")]
    dialplans: PathBuf,
    #[command(flatten)]
    store: StoreArgs,
}

/// Where the store is, and the password switch every user command needs.
#[derive(Args)]
pub struct StoreArgs {
    /// Read the password from standard input (required).
    #[arg(long)]
    password_stdin: bool,
    /// Data directory holding the default SQLite database.
    #[arg(long, env = "HOTLINE_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Database URL [default: sqlite://DATA_DIR/hotline.db].
    #[arg(long, env = "HOTLINE_DATABASE_URL")]
    database_url: Option<String>,
}

impl StoreArgs {
    fn password(&self) -> anyhow::Result<String> {
        if !self.password_stdin {
            bail!("pass --password-stdin and give the password on standard input");
        }
        let mut password = String::new();
        std::io::stdin()
            .read_to_string(&mut password)
            .context("reading the password")?;
        Ok(password.trim_end_matches(['\r', '\n']).to_owned())
    }

    async fn open(&self) -> anyhow::Result<Store> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        let url = self
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}/hotline.db", self.data_dir.display()));
        Ok(Store::open(&url).await?)
    }
}

pub async fn run(cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add(args) => add(args).await,
        UserCommand::Passwd { username, store } => passwd(&username, &store).await,
    }
}

async fn add(a: AddArgs) -> anyhow::Result<()> {
    let plan = load_plan(&a.dialplans)?;
    let password = a.store.password()?;
    let user = prepare_user(
        NewUser {
            username: a.username,
            password,
            role: a.role,
            lawyer_id: a.lawyer,
            region: a.region,
            name: a.name,
            lang: a.lang,
        },
        &plan,
    )
    .map_err(anyhow::Error::msg)?;
    let store = a.store.open().await?;
    let created = store.create_user(&user).await;
    store.close().await;
    match created {
        Ok(()) => {}
        Err(StoreError::Duplicate) => {
            bail!("a console user named {} already exists", user.username)
        }
        Err(e) => return Err(e.into()),
    }
    eprintln!("console user {} ({}) added", user.username, user.role);
    Ok(())
}

async fn passwd(username: &str, args: &StoreArgs) -> anyhow::Result<()> {
    let password = args.password()?;
    if password.chars().count() < MIN_PASSWORD_LEN {
        bail!("password must have at least {MIN_PASSWORD_LEN} characters");
    }
    let hash = hotline_console::auth::hash_password(&password).map_err(anyhow::Error::msg)?;
    let store = args.open().await?;
    let found = store.set_user_password(username, &hash).await;
    store.close().await;
    if !found? {
        bail!("no console user named {username}");
    }
    eprintln!("password of console user {username} changed; their sessions ended");
    Ok(())
}

fn load_plan(dir: &Path) -> anyhow::Result<hotline_ivr::Dialplan> {
    hotline_ivr::load(dir).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        anyhow::anyhow!(
            "the dialplan in {} (--dialplans) has problems:\n{}",
            dir.display(),
            list.join("\n")
        )
    })
}
