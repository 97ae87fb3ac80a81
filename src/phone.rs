//! `hotline phone add`: creates a lawyer's phone account. Only the digest HA1 values are
//! stored (digest authentication needs them; the password itself is never kept or logged).

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use hotline_cases::{PhoneAccount, Store};
use hotline_sip::auth::{Algorithm, ha1};

#[derive(Subcommand)]
pub enum PhoneCommand {
    /// Add a phone account; the password is read from standard input (never a flag, so it
    /// does not end up in shell history or `ps`).
    Add {
        /// SIP username the phone registers with.
        username: String,
        /// Read the password from standard input (required).
        #[arg(long)]
        password_stdin: bool,
        /// Digest realm.
        #[arg(long, env = "HOTLINE_SIP_REALM", default_value = "hotline")]
        realm: String,
        /// Data directory holding the default SQLite database.
        #[arg(long, env = "HOTLINE_DATA_DIR", default_value = "data")]
        data_dir: PathBuf,
        /// Database URL [default: sqlite://DATA_DIR/hotline.db].
        #[arg(long, env = "HOTLINE_DATABASE_URL")]
        database_url: Option<String>,
    },
}

pub async fn run(cmd: PhoneCommand) -> anyhow::Result<()> {
    let PhoneCommand::Add {
        username,
        password_stdin,
        realm,
        data_dir,
        database_url,
    } = cmd;
    if !password_stdin {
        bail!("pass --password-stdin and give the password on standard input");
    }
    if username.is_empty()
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        bail!("username may contain only letters, digits, '-', '_' and '.'");
    }
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("reading the password")?;
    let password = password.trim_end_matches(['\r', '\n']);
    if password.len() < 8 {
        bail!("the password must have at least 8 characters");
    }
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let url = database_url.unwrap_or_else(|| format!("sqlite://{}/hotline.db", data_dir.display()));
    let store = Store::open(&url).await?;
    store
        .add_phone_account(&PhoneAccount {
            ha1_md5: ha1(Algorithm::Md5, &username, &realm, password),
            ha1_sha256: ha1(Algorithm::Sha256, &username, &realm, password),
            username: username.clone(),
            realm,
        })
        .await?;
    store.close().await;
    eprintln!("phone account {username} added");
    Ok(())
}
