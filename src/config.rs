//! `hotline serve` settings: command-line flags, `HOTLINE_*` environment variables, an optional
//! `hotline.toml`, then defaults, in that order of precedence.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use serde::Deserialize;

/// Flags of `hotline serve` (each also readable from the environment and `hotline.toml`).
#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (default: ./hotline.toml when it exists).
    #[arg(long, env = "HOTLINE_CONFIG")]
    pub config: Option<PathBuf>,
    /// SIP address, served on UDP and TCP [default: 127.0.0.1:5060].
    #[arg(long, env = "HOTLINE_SIP_LISTEN")]
    pub sip_listen: Option<SocketAddr>,
    /// Console and API address [default: 127.0.0.1:8080].
    #[arg(long, env = "HOTLINE_HTTP_LISTEN")]
    pub http_listen: Option<SocketAddr>,
    /// RTP port range A-B [default: 20000-29999].
    #[arg(long, env = "HOTLINE_RTP_PORTS")]
    pub rtp_ports: Option<String>,
    /// Directory for the database, recordings and models [default: ./data].
    #[arg(long, env = "HOTLINE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Dialplan directory [default: ./dialplans].
    #[arg(long, env = "HOTLINE_DIALPLANS")]
    pub dialplans: Option<PathBuf>,
    /// sqlite://... or postgres://... [default: sqlite://DATA_DIR/hotline.db].
    #[arg(long, env = "HOTLINE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Digest realm phones authenticate in [default: hotline].
    #[arg(long, env = "HOTLINE_SIP_REALM")]
    pub sip_realm: Option<String>,
    /// Ring this long (180 Ringing) before answering [default: 0].
    #[arg(long, env = "HOTLINE_ANSWER_DELAY_MS")]
    pub answer_delay_ms: Option<u64>,
    /// This node's name in a shared database; a restart only marks its own unfinished calls
    /// as cut off [default: the host name].
    #[arg(long, env = "HOTLINE_NODE")]
    pub node: Option<String>,
    /// Mark the console's session cookie `Secure` (serve the console over HTTPS, e.g. behind
    /// a TLS proxy) [default: off, for http://localhost].
    #[arg(long, env = "HOTLINE_COOKIE_SECURE", num_args = 0..=1, default_missing_value = "true")]
    pub cookie_secure: Option<bool>,
    /// Transcription workers, one call each at a time; 0 disables transcription [default: 1].
    #[arg(long, env = "HOTLINE_TRANSCRIBE_WORKERS")]
    pub transcribe_workers: Option<usize>,
    /// whisper threads per transcription worker [default: 1].
    #[arg(long, env = "HOTLINE_TRANSCRIBE_THREADS")]
    pub transcribe_threads: Option<usize>,
    /// ggml whisper model [default: DATA_DIR/models/ggml-base.bin; `hotline model fetch`].
    #[arg(long, env = "HOTLINE_MODEL")]
    pub model: Option<PathBuf>,
    /// Risk keywords and redaction rules [default: DIALPLANS/quality.toml].
    #[arg(long, env = "HOTLINE_QUALITY")]
    pub quality: Option<PathBuf>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    sip_listen: Option<SocketAddr>,
    http_listen: Option<SocketAddr>,
    rtp_ports: Option<String>,
    data_dir: Option<PathBuf>,
    dialplans: Option<PathBuf>,
    database_url: Option<String>,
    sip_realm: Option<String>,
    answer_delay_ms: Option<u64>,
    node: Option<String>,
    cookie_secure: Option<bool>,
    transcribe_workers: Option<usize>,
    transcribe_threads: Option<usize>,
    model: Option<PathBuf>,
    quality: Option<PathBuf>,
}

/// Resolved settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub sip_listen: SocketAddr,
    pub http_listen: SocketAddr,
    pub rtp_ports: (u16, u16),
    pub data_dir: PathBuf,
    pub dialplans: PathBuf,
    pub database_url: String,
    pub sip_realm: String,
    pub answer_delay_ms: u64,
    pub node: String,
    pub cookie_secure: bool,
    pub transcribe_workers: usize,
    pub transcribe_threads: usize,
    pub model: PathBuf,
    pub quality: PathBuf,
}

impl ServeArgs {
    /// Merges flags/environment over the file over defaults.
    pub fn resolve(self) -> anyhow::Result<Config> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None if Path::new("hotline.toml").exists() => read_file(Path::new("hotline.toml"))?,
            None => FileConfig::default(),
        };
        let data_dir = self
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| "data".into());
        let rtp = self
            .rtp_ports
            .or(file.rtp_ports)
            .unwrap_or_else(|| "20000-29999".into());
        let database_url = self
            .database_url
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}/hotline.db", data_dir.display()));
        let dialplans = self
            .dialplans
            .or(file.dialplans)
            .unwrap_or_else(|| "dialplans".into());
        Ok(Config {
            transcribe_workers: self
                .transcribe_workers
                .or(file.transcribe_workers)
                .unwrap_or(1),
            transcribe_threads: self
                .transcribe_threads
                .or(file.transcribe_threads)
                .unwrap_or(1),
            model: self
                .model
                .or(file.model)
                .unwrap_or_else(|| data_dir.join("models/ggml-base.bin")),
            quality: self
                .quality
                .or(file.quality)
                .unwrap_or_else(|| dialplans.join("quality.toml")),
            sip_listen: self
                .sip_listen
                .or(file.sip_listen)
                .unwrap_or(([127, 0, 0, 1], 5060).into()),
            http_listen: self
                .http_listen
                .or(file.http_listen)
                .unwrap_or(([127, 0, 0, 1], 8080).into()),
            rtp_ports: parse_port_range(&rtp)?,
            dialplans,
            sip_realm: self
                .sip_realm
                .or(file.sip_realm)
                .unwrap_or_else(|| "hotline".into()),
            answer_delay_ms: self.answer_delay_ms.or(file.answer_delay_ms).unwrap_or(0),
            node: self.node.or(file.node).unwrap_or_else(host_name),
            cookie_secure: self.cookie_secure.or(file.cookie_secure).unwrap_or(false),
            database_url,
            data_dir,
        })
    }
}

/// The machine's host name (Linux), the default node name.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "hotline".into())
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{}: invalid configuration", path.display()))
}

/// Parses `A-B` with at least one even port pair inside.
pub fn parse_port_range(s: &str) -> anyhow::Result<(u16, u16)> {
    let (a, b) = s
        .split_once('-')
        .context("--rtp-ports must look like 20000-29999")?;
    let (a, b): (u16, u16) = (a.trim().parse()?, b.trim().parse()?);
    if a >= b || a < 1024 {
        bail!("--rtp-ports {s}: need 1024 <= A < B");
    }
    Ok((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_file_and_defaults_fill_the_rest() {
        let dir = std::env::temp_dir().join(format!("hotline-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("hotline.toml");
        std::fs::write(
            &file,
            "sip_listen = \"127.0.0.1:5080\"\nrtp_ports = \"40000-40100\"\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(file),
            rtp_ports: Some("30000-30010".into()),
            ..Default::default()
        };
        let c = args.resolve().unwrap();
        assert_eq!(c.sip_listen, "127.0.0.1:5080".parse().unwrap());
        assert_eq!(c.rtp_ports, (30000, 30010));
        assert_eq!(c.database_url, "sqlite://data/hotline.db");
        assert!(!c.cookie_secure, "off by default (http://localhost)");
    }

    #[test]
    fn cookie_secure_from_the_flag_or_the_file() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            args: ServeArgs,
        }
        let on = Cli::try_parse_from(["hotline", "--cookie-secure"]).unwrap();
        assert_eq!(on.args.cookie_secure, Some(true));
        let off = Cli::try_parse_from(["hotline", "--cookie-secure=false"]).unwrap();
        assert_eq!(off.args.cookie_secure, Some(false));
        let dir = std::env::temp_dir().join(format!("hotline-cfg-cookie-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("hotline.toml");
        std::fs::write(&file, "cookie_secure = true\n").unwrap();
        let c = ServeArgs {
            config: Some(file),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert!(c.cookie_secure);
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(parse_port_range("30000").is_err());
        assert!(parse_port_range("30010-30000").is_err());
        let dir = std::env::temp_dir().join(format!("hotline-cfg-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("hotline.toml");
        std::fs::write(&file, "sip_lisen = \"x\"\n").unwrap();
        let err = ServeArgs {
            config: Some(file),
            ..Default::default()
        }
        .resolve()
        .unwrap_err();
        assert!(format!("{err:#}").contains("unknown field"), "{err:#}");
    }
}
