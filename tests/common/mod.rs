//! End-to-end harness: the real `hotline` binary against real SIPp, on
//! 127.0.0.1 only, every run bounded in calls and in time.
//!
//! * [`Server::start`] picks free loopback ports, makes a fresh data dir,
//!   adds the SIP accounts (`hotline phone add`), spawns `hotline serve`
//!   with its stderr in `DATA_DIR/server.log`, and waits for `/healthz`.
//!   Dropping it sends SIGTERM (SIGKILL after 5 s); when the test is
//!   failing it prints the tail of the server log and keeps the data dir.
//! * [`Sipp::run`] runs one SIPp scenario from `tests/sipp/` against it
//!   and returns a [`SippOutcome`]: exit status, call counters from the
//!   `-trace_stat` file, and the paths of SIPp's logs (messages, errors,
//!   screen), which [`SippOutcome::assert_all_ok`] prints on failure.
//!
//! SIPp must be installed (`scripts/test.sh` installs Debian's
//! `sip-tester`); it is not optional: a missing `sipp` fails the tests.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

mod dialplan;
mod store;
#[allow(unused_imports)] // not every test target rings lawyers
pub use dialplan::{Open, TestDialplan, lawyer_phone};
#[allow(unused_imports)] // not every test target reads the store
pub use store::StoreView;

/// The binary under test, built by cargo for this integration test.
pub const HOTLINE: &str = env!("CARGO_BIN_EXE_hotline");

/// The SIP user the scenarios call (`[service]` in SIPp).
pub const HOTLINE_NUMBER: &str = "12348";

/// How long `hotline serve` may take to answer `/healthz`.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How long after SIGTERM before SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

pub fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("sipp")
}

// ---------------------------------------------------------------- ports

fn used_ports() -> &'static Mutex<HashSet<u16>> {
    static USED: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    USED.get_or_init(|| Mutex::new(HashSet::new()))
}

/// A loopback port free for both UDP and TCP right now, never handed out
/// twice by this process (tests run in parallel threads).
pub fn free_port() -> u16 {
    for _ in 0..500 {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind UDP 127.0.0.1:0");
        let port = udp.local_addr().expect("local_addr").port();
        let Ok(tcp) = TcpListener::bind((Ipv4Addr::LOCALHOST, port)) else {
            continue;
        };
        let mut used = used_ports().lock().unwrap_or_else(|e| e.into_inner());
        if used.insert(port) {
            drop(tcp);
            drop(udp);
            return port;
        }
    }
    panic!("could not find a free loopback port (UDP+TCP) after 500 tries");
}

/// A range of RTP ports of its own for each server of this process, below
/// Linux's ephemeral range (32768+) so it never meets `free_port()`.
/// SIPp's media port (it also binds the next three): from 10000-19999, below the servers' RTP
/// ranges and the ephemeral ports `free_port` hands out, so they never collide.
fn sipp_media_port() -> u16 {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst) % 100;
    let base = 10_000 + (std::process::id() as usize % 24) * 400;
    (base + n * 4) as u16
}

fn rtp_range() -> (u16, u16) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    const SIZE: usize = 300;
    let n = NEXT.fetch_add(1, Ordering::SeqCst) % 40;
    let lo = 20_000 + n * SIZE;
    (lo as u16, (lo + SIZE - 1) as u16)
}

/// A fresh, empty directory under the system temp dir, unique in this process (for fixtures a
/// test writes before it starts a server, e.g. a dialplan for `--dialplans`).
pub fn unique_dir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir =
        std::env::temp_dir().join(format!("hotline-e2e-{}-{}-{}", name, std::process::id(), n));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

// ---------------------------------------------------------------- signals

mod sys {
    unsafe extern "C" {
        // libc's kill(2); std links libc on every unix target.
        fn kill(pid: i32, sig: i32) -> i32;
    }
    pub const SIGTERM: i32 = 15;

    pub fn signal(pid: u32, sig: i32) -> bool {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe { kill(pid as i32, sig) == 0 }
    }
}

/// The last `max_lines` lines of a text file (lossy UTF-8), or a note.
pub fn tail(path: &Path, max_lines: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(max_lines);
            let mut out = String::new();
            if start > 0 {
                out.push_str(&format!(
                    "[... {start} earlier lines in {}]\n",
                    path.display()
                ));
            }
            for l in &lines[start..] {
                out.push_str(l);
                out.push('\n');
            }
            out
        }
        Err(e) => format!("[cannot read {}: {e}]\n", path.display()),
    }
}

/// The first `max_bytes` of a text file (lossy UTF-8), or a note.
pub fn head(path: &Path, max_bytes: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let cut = bytes.len().min(max_bytes);
            let mut s = String::from_utf8_lossy(&bytes[..cut]).into_owned();
            if cut < bytes.len() {
                s.push_str(&format!(
                    "\n[... {} more bytes in {}]\n",
                    bytes.len() - cut,
                    path.display()
                ));
            }
            s
        }
        Err(e) => format!("[cannot read {}: {e}]\n", path.display()),
    }
}

// ---------------------------------------------------------------- server

#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Short name, used in the data dir's name.
    pub name: String,
    /// `--answer-delay-ms`: 0 answers at once, else 180 then 200 after it.
    pub answer_delay_ms: u64,
    /// SIP accounts to create first: (username, password).
    pub phones: Vec<(String, String)>,
    /// More arguments for `hotline serve`.
    pub extra_args: Vec<String>,
    /// Run on an existing data directory (a restart after a crash).
    pub data_dir: Option<PathBuf>,
    /// A fixed RTP port range instead of this process's share.
    pub rtp_ports: Option<(u16, u16)>,
}

impl ServerOptions {
    pub fn named(name: &str) -> Self {
        ServerOptions {
            name: name.to_string(),
            answer_delay_ms: 0,
            phones: Vec::new(),
            extra_args: Vec::new(),
            data_dir: None,
            rtp_ports: None,
        }
    }
    /// Serves RTP from exactly this range (to run out of ports on purpose).
    pub fn rtp_ports(mut self, first: u16, last: u16) -> Self {
        self.rtp_ports = Some((first, last));
        self
    }
    /// Reuses the data directory of a previous server (for restarts).
    pub fn data_dir(mut self, dir: &Path) -> Self {
        self.data_dir = Some(dir.to_path_buf());
        self
    }
    pub fn answer_delay_ms(mut self, ms: u64) -> Self {
        self.answer_delay_ms = ms;
        self
    }
    pub fn phone(mut self, user: &str, password: &str) -> Self {
        self.phones.push((user.to_string(), password.to_string()));
        self
    }
}

pub struct Server {
    child: Option<Child>,
    pub sip_port: u16,
    pub http_port: u16,
    pub data_dir: PathBuf,
    pub log_path: PathBuf,
    stopped: Option<ExitStatus>,
}

impl Server {
    pub fn sip_addr(&self) -> String {
        format!("127.0.0.1:{}", self.sip_port)
    }

    fn database_url(data_dir: &Path) -> String {
        format!("sqlite://{}/hotline.db", data_dir.display())
    }

    pub fn start(opts: ServerOptions) -> Server {
        let data_dir = opts
            .data_dir
            .clone()
            .unwrap_or_else(|| unique_dir(&opts.name));
        let db = Self::database_url(&data_dir);

        for (user, password) in &opts.phones {
            add_phone(&data_dir, &db, user, password);
        }

        let sip_port = free_port();
        let http_port = free_port();
        let (rtp_lo, rtp_hi) = opts.rtp_ports.unwrap_or_else(rtp_range);
        let log_path = data_dir.join(if opts.data_dir.is_some() {
            "server-restarted.log"
        } else {
            "server.log"
        });
        let log = fs::File::create(&log_path).expect("create server.log");
        let out = fs::File::create(data_dir.join("server.stdout.log")).expect("create stdout log");

        let mut cmd = Command::new(HOTLINE);
        cmd.arg("serve")
            .arg("--sip-listen")
            .arg(format!("127.0.0.1:{sip_port}"))
            .arg("--http-listen")
            .arg(format!("127.0.0.1:{http_port}"))
            .arg("--rtp-ports")
            .arg(format!("{rtp_lo}-{rtp_hi}"))
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("--database-url")
            .arg(&db)
            .arg("--answer-delay-ms")
            .arg(opts.answer_delay_ms.to_string())
            .arg("--sip-realm")
            .arg("hotline")
            .args(&opts.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(log));
        if std::env::var_os("RUST_LOG").is_none() {
            // SIP-level detail in server.log helps read a failing test.
            cmd.env("RUST_LOG", "info,hotline=debug,hotline_sip=debug");
        }
        eprintln!(
            "[{}] hotline serve: SIP 127.0.0.1:{sip_port} (UDP+TCP), HTTP 127.0.0.1:{http_port}, RTP {rtp_lo}-{rtp_hi}, data {}",
            opts.name,
            data_dir.display()
        );
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {HOTLINE} serve: {e}"));

        let mut server = Server {
            child: Some(child),
            sip_port,
            http_port,
            data_dir,
            log_path,
            stopped: None,
        };
        if !server.wait_ready() {
            // A port picked free was taken before the server bound it (another test's SIPp):
            // start again on new ports, in the same data directory.
            eprintln!(
                "[{}] a port was taken meanwhile; starting again on new ports",
                opts.name
            );
            server.child = None;
            let mut again = opts.clone();
            again.phones.clear();
            again.data_dir = Some(server.data_dir.clone());
            return Server::start(again);
        }
        server
    }

    /// Waits for `/healthz`; false when the server could not bind a port (retry on others).
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                if fs::read_to_string(&self.log_path)
                    .is_ok_and(|l| l.contains("Address already in use"))
                {
                    return false;
                }
                panic!(
                    "hotline serve exited before it was ready ({status}); server log:\n{}",
                    tail(&self.log_path, 80)
                );
            }
            match http_get(self.http_port, "/healthz") {
                Ok(200) => return true,
                Ok(_) | Err(_) if Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(50))
                }
                other => panic!(
                    "hotline serve not ready after {READY_TIMEOUT:?} (GET /healthz: {other:?}); server log:\n{}",
                    tail(&self.log_path, 80)
                ),
            }
        }
    }

    /// `kill -9`: the crash every durability promise is about.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            if let Ok(status) = child.wait() {
                self.stopped = Some(status);
            }
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// The process is still running.
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status
    /// and whether it had to be killed.
    fn terminate(&mut self, grace: Duration) -> Option<(ExitStatus, bool)> {
        let mut child = self.child.take()?;
        if let Ok(Some(status)) = child.try_wait() {
            return Some((status, false));
        }
        sys::signal(child.id(), sys::SIGTERM);
        let deadline = Instant::now() + grace;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Some((status, false)),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
                _ => break,
            }
        }
        let _ = child.kill();
        child.wait().ok().map(|s| (s, true))
    }

    /// Stop the server with SIGTERM (SIGKILL after `grace`) and return how
    /// it exited and how long it took; panics if it had to be killed.
    pub fn stop_within(&mut self, grace: Duration) -> (ExitStatus, Duration) {
        let t0 = Instant::now();
        let (status, killed) = self.terminate(grace).expect("server already stopped");
        let took = t0.elapsed();
        self.stopped = Some(status);
        if killed {
            panic!(
                "hotline serve did not exit within {grace:?} of SIGTERM (SIGKILLed); server log:\n{}",
                tail(&self.log_path, 60)
            );
        }
        (status, took)
    }

    /// [`Server::stop_within`] the usual 5 s.
    pub fn stop(&mut self) -> ExitStatus {
        self.stop_within(STOP_TIMEOUT).0
    }

    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log_path, lines)
    }

    /// The whole server log so far (lossy UTF-8).
    pub fn log(&self) -> String {
        fs::read(&self.log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Wait until the server log contains `needle` at least `count` times, at most `max`.
    pub fn wait_for_log(&self, needle: &str, count: usize, max: Duration) -> bool {
        let deadline = Instant::now() + max;
        loop {
            if self.log().matches(needle).count() >= count {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

/// A SIPp run that is dropped unfinished (its server crashed on purpose) is stopped, so no
/// test leaves a SIPp behind.
impl Drop for SippRun {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let result = self.terminate(STOP_TIMEOUT);
        if thread::panicking() {
            let how = match result {
                Some((s, true)) => format!("{s}, killed: SIGTERM was not enough within 5 s"),
                Some((s, false)) => s.to_string(),
                None => format!("{:?}", self.stopped),
            };
            eprintln!(
                "---- hotline serve (exit: {how}), last lines of {} ----\n{}---- data dir kept: {} ----",
                self.log_path.display(),
                tail(&self.log_path, 60),
                self.data_dir.display()
            );
        } else if std::env::var_os("HOTLINE_KEEP_TEST_DIRS").is_none() {
            let _ = fs::remove_dir_all(&self.data_dir);
        }
    }
}

/// Runs `hotline ARGS... --password-stdin` with `password` typed on stdin (the way the README
/// tells operators to add phones and console users); returns its output.
pub fn hotline_with_password<S: AsRef<std::ffi::OsStr>>(
    args: &[S],
    password: &str,
) -> std::process::Output {
    let mut child = Command::new(HOTLINE)
        .args(args)
        .arg("--password-stdin")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {HOTLINE}: {e}"));
    writeln!(child.stdin.take().expect("stdin"), "{password}").expect("type the password");
    child.wait_with_output().expect("wait for hotline")
}

/// The `--data-dir` and `--database-url` of `server`'s SQLite store, for `hotline` commands.
pub fn store_args(server: &Server) -> Vec<String> {
    vec![
        "--data-dir".into(),
        server.data_dir.display().to_string(),
        "--database-url".into(),
        format!("sqlite://{}/hotline.db", server.data_dir.display()),
    ]
}

/// `hotline phone add USER --password-stdin ...`
pub fn add_phone(data_dir: &Path, database_url: &str, user: &str, password: &str) {
    let data_dir = data_dir.display().to_string();
    let out = hotline_with_password(
        &[
            "phone",
            "add",
            user,
            "--data-dir",
            &data_dir,
            "--database-url",
            database_url,
        ],
        password,
    );
    assert!(
        out.status.success(),
        "hotline phone add {user} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Plain HTTP/1.1 GET on 127.0.0.1:port; returns the status code.
pub fn http_get(port: u16, path: &str) -> std::io::Result<u16> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.set_write_timeout(Some(Duration::from_secs(2)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    // The status line is enough.
    while !buf.windows(2).any(|w| w == b"\r\n") {
        let n = s.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let line = String::from_utf8_lossy(&buf);
    let code = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad HTTP response: {line:?}")))?;
    Ok(code)
}

// ---------------------------------------------------------------- sipp

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// One SIPp run: `Sipp::new("uac_basic.xml").calls(200).rate(50).run(&server)`.
#[derive(Clone, Debug)]
pub struct Sipp {
    pub scenario: String,
    /// -m: stop after this many calls.
    pub calls: u32,
    /// -r: calls per second.
    pub rate: u32,
    /// -l: at most this many calls at once.
    pub limit: u32,
    pub transport: Transport,
    /// -s: the user part of the Request-URI ([service]).
    pub service: String,
    /// -timeout: the whole run, then SIPp stops and fails (-timeout_error).
    pub timeout: Duration,
    pub extra_args: Vec<String>,
    /// Files copied into SIPp's working directory first (audio for `rtp_stream`).
    pub files: Vec<PathBuf>,
    /// -mp: SIPp's media port, picked free for each run so parallel tests do not collide.
    pub media_port: u16,
}

impl Sipp {
    pub fn new(scenario: &str) -> Sipp {
        Sipp {
            scenario: scenario.to_string(),
            calls: 1,
            rate: 10,
            limit: 10,
            transport: Transport::Udp,
            service: HOTLINE_NUMBER.to_string(),
            timeout: Duration::from_secs(60),
            extra_args: Vec::new(),
            files: Vec::new(),
            media_port: sipp_media_port(),
        }
    }
    /// Copies `path` (relative to the repository) into SIPp's working directory.
    pub fn file(mut self, path: &str) -> Self {
        self.files
            .push(Path::new(env!("CARGO_MANIFEST_DIR")).join(path));
        self
    }
    pub fn calls(mut self, n: u32) -> Self {
        self.calls = n;
        self
    }
    pub fn rate(mut self, r: u32) -> Self {
        self.rate = r;
        self
    }
    pub fn limit(mut self, l: u32) -> Self {
        self.limit = l;
        self
    }
    pub fn tcp(mut self) -> Self {
        self.transport = Transport::Tcp;
        self
    }
    pub fn service(mut self, s: &str) -> Self {
        self.service = s.to_string();
        self
    }
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }
    pub fn arg(mut self, a: &str) -> Self {
        self.extra_args.push(a.to_string());
        self
    }
    pub fn args(mut self, a: &[&str]) -> Self {
        self.extra_args.extend(a.iter().map(|s| s.to_string()));
        self
    }

    /// Run to the end (bounded by `timeout` plus a margin).
    pub fn run(self, server: &Server) -> SippOutcome {
        self.spawn(server).wait()
    }

    /// Start SIPp and return at once; see [`SippRun::wait`].
    pub fn spawn(self, server: &Server) -> SippRun {
        let scenario_path = scenario_dir().join(&self.scenario);
        assert!(
            scenario_path.is_file(),
            "no such scenario: {}",
            scenario_path.display()
        );
        let stem = self.scenario.trim_end_matches(".xml").to_string();
        static RUN: AtomicUsize = AtomicUsize::new(0);
        let n = RUN.fetch_add(1, Ordering::SeqCst);
        let dir = server.data_dir.join(format!("sipp-{stem}-{n}"));
        fs::create_dir_all(&dir).expect("create sipp dir");
        for f in &self.files {
            let name = f.file_name().expect("a file name");
            fs::copy(f, dir.join(name)).expect("copy a file for sipp");
        }
        let files = SippFiles {
            stats: dir.join("stats.csv"),
            errors: dir.join("errors.log"),
            messages: dir.join("messages.log"),
            screen: dir.join("screen.log"),
            stdout: dir.join("stdout.log"),
            stderr: dir.join("stderr.log"),
            dir: dir.clone(),
        };
        let local_port = free_port();
        let mut cmd = Command::new("sipp");
        cmd.arg(server.sip_addr())
            .arg("-sf")
            .arg(&scenario_path)
            .args(["-i", "127.0.0.1", "-mi", "127.0.0.1"])
            .arg("-mp")
            .arg(self.media_port.to_string())
            .arg("-p")
            .arg(local_port.to_string())
            .arg("-t")
            .arg(match self.transport {
                Transport::Udp => "u1",
                Transport::Tcp => "t1",
            })
            .arg("-s")
            .arg(&self.service)
            .arg("-m")
            .arg(self.calls.to_string())
            .arg("-l")
            .arg(self.limit.to_string())
            .arg("-r")
            .arg(self.rate.to_string())
            .arg("-timeout")
            .arg(format!("{}s", self.timeout.as_secs().max(1)))
            .arg("-timeout_error")
            .arg("-nostdin")
            .arg("-trace_stat")
            .arg("-stf")
            .arg(&files.stats)
            .arg("-trace_err")
            .arg("-error_file")
            .arg(&files.errors)
            .arg("-trace_msg")
            .arg("-message_file")
            .arg(&files.messages)
            .arg("-trace_screen")
            .arg("-screen_file")
            .arg(&files.screen)
            .args(&self.extra_args)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(
                fs::File::create(&files.stdout).expect("create sipp stdout"),
            ))
            .stderr(Stdio::from(
                fs::File::create(&files.stderr).expect("create sipp stderr"),
            ));
        let command_line = format!("{cmd:?}");
        eprintln!("[sipp] {command_line}");
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "`sipp` is not installed (Debian package sip-tester): run `bash scripts/test.sh`, which installs it"
            ),
            Err(e) => panic!("cannot start sipp: {e}"),
        };
        SippRun {
            child,
            started: Instant::now(),
            limit: self.timeout + Duration::from_secs(30),
            files,
            scenario: self.scenario,
            command_line,
        }
    }
}

#[derive(Clone, Debug)]
pub struct SippFiles {
    pub dir: PathBuf,
    pub stats: PathBuf,
    pub errors: PathBuf,
    pub messages: PathBuf,
    pub screen: PathBuf,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

pub struct SippRun {
    child: Child,
    started: Instant,
    limit: Duration,
    pub files: SippFiles,
    pub scenario: String,
    pub command_line: String,
}

impl SippRun {
    /// SIPp's message log so far (to wait for a step of the scenario).
    pub fn messages_so_far(&self) -> String {
        fs::read(&self.files.messages)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Wait until SIPp's message log contains `needle`, at most `max`.
    pub fn wait_for_message(&mut self, needle: &str, max: Duration) -> bool {
        let deadline = Instant::now() + max;
        while Instant::now() < deadline {
            if self.messages_so_far().contains(needle) {
                return true;
            }
            if let Ok(Some(_)) = self.child.try_wait() {
                return self.messages_so_far().contains(needle);
            }
            thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn wait(mut self) -> SippOutcome {
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(s)) => break Some(s),
                Ok(None) if self.started.elapsed() < self.limit => {
                    thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    break None;
                }
            }
        };
        let stats = parse_stats(&self.files.stats);
        let num = |k: &str| {
            stats
                .get(k)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        SippOutcome {
            exit_code: status.and_then(|s| s.code()),
            killed: status.is_none(),
            created: num("TotalCallCreated"),
            successful: num("SuccessfulCall(C)"),
            failed: num("FailedCall(C)"),
            stats,
            files: self.files.clone(),
            scenario: self.scenario.clone(),
            command_line: self.command_line.clone(),
            elapsed: self.started.elapsed(),
        }
    }
}

/// The last line of SIPp's `-trace_stat` CSV as name -> value.
fn parse_stats(path: &Path) -> HashMap<String, String> {
    let Ok(text) = fs::read_to_string(path) else {
        return HashMap::new();
    };
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return HashMap::new();
    };
    let Some(last) = lines.next_back() else {
        return HashMap::new();
    };
    header
        .split(';')
        .zip(last.split(';'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

#[derive(Debug)]
pub struct SippOutcome {
    /// 0: all calls succeeded; 1: some failed; 97: internal command;
    /// 99: no call processed; 255: fatal error; 254: cannot bind.
    pub exit_code: Option<i32>,
    /// SIPp overran its own -timeout by 30 s and was killed.
    pub killed: bool,
    pub created: u64,
    pub successful: u64,
    pub failed: u64,
    pub stats: HashMap<String, String>,
    pub files: SippFiles,
    pub scenario: String,
    pub command_line: String,
    pub elapsed: Duration,
}

impl SippOutcome {
    pub fn all_ok(&self, expected_calls: u64) -> bool {
        self.exit_code == Some(0) && self.successful == expected_calls && self.failed == 0
    }

    /// Non-zero `Failed*` and other telling counters.
    pub fn notable_counters(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .stats
            .iter()
            .filter(|(k, val)| {
                k.ends_with("(C)")
                    && (k.starts_with("Failed")
                        || k.starts_with("Retransmissions")
                        || k.starts_with("OutOfCall")
                        || k.starts_with("DeadCall")
                        || k.starts_with("AutoAnswered"))
                    && val.parse::<f64>().map(|x| x != 0.0).unwrap_or(false)
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        v.sort();
        v
    }

    pub fn report(&self) -> String {
        let meaning = match self.exit_code {
            Some(0) => "all calls successful",
            Some(1) => "at least one call failed",
            Some(97) => "exit on internal command",
            Some(99) => "normal exit without calls processed",
            Some(255) => "fatal error (e.g. global -timeout reached, or a scenario error)",
            Some(254) => "fatal error binding a socket",
            None if self.killed => "killed by the harness (ran past its -timeout)",
            _ => "unknown",
        };
        let mut r = String::new();
        r.push_str(&format!(
            "==== SIPp {} : exit {:?} ({meaning}) after {:.1?}\n",
            self.scenario, self.exit_code, self.elapsed
        ));
        r.push_str(&format!(
            "calls created {}, successful {}, failed {}\n",
            self.created, self.successful, self.failed
        ));
        for (k, v) in self.notable_counters() {
            r.push_str(&format!("  {k} = {v}\n"));
        }
        r.push_str(&format!("command: {}\n", self.command_line));
        r.push_str(&format!("logs in {}\n", self.files.dir.display()));
        r.push_str("---- sipp errors (-trace_err) ----\n");
        r.push_str(&head(&self.files.errors, 6000));
        r.push_str("\n---- sipp stderr ----\n");
        r.push_str(&head(&self.files.stderr, 2000));
        r.push_str("\n---- sipp screen at exit ----\n");
        r.push_str(&tail(&self.files.screen, 45));
        r.push_str("---- sipp messages (-trace_msg), last lines ----\n");
        r.push_str(&tail(&self.files.messages, 120));
        r
    }

    /// Panics with the full report unless exactly `expected_calls` calls
    /// succeeded, none failed and SIPp exited 0.
    #[track_caller]
    pub fn assert_all_ok(&self, expected_calls: u64) {
        if !self.all_ok(expected_calls) {
            panic!(
                "expected {expected_calls} successful SIPp call(s) and none failed\n{}",
                self.report()
            );
        }
        eprintln!(
            "[sipp] {}: {} call(s) successful in {:.1?}",
            self.scenario, self.successful, self.elapsed
        );
    }

    /// The whole SIPp message log.
    pub fn messages(&self) -> String {
        fs::read(&self.files.messages)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }
}

// ---------------------------------------------------------------- trace

/// One SIP message from SIPp's `-trace_msg` log.
#[derive(Clone, Debug)]
pub struct TracedMessage {
    /// Seconds since midnight (the log's wall-clock time).
    pub at: f64,
    /// Sent by SIPp (else received).
    pub sent: bool,
    /// "INVITE sip:... SIP/2.0" or "SIP/2.0 200 OK".
    pub first_line: String,
    pub text: String,
}

impl TracedMessage {
    /// The value of the first header called `name` (or its compact form).
    pub fn header(&self, name: &str, compact: Option<&str>) -> Option<String> {
        for line in self.text.lines().skip(1) {
            if line.is_empty() {
                break;
            }
            let Some((n, v)) = line.split_once(':') else {
                continue;
            };
            let n = n.trim();
            if n.eq_ignore_ascii_case(name) || compact.is_some_and(|c| n.eq_ignore_ascii_case(c)) {
                return Some(v.trim().to_string());
            }
        }
        None
    }
    pub fn call_id(&self) -> Option<String> {
        self.header("Call-ID", Some("i"))
    }
    pub fn cseq(&self) -> Option<String> {
        self.header("CSeq", None)
    }
    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        let rest = self.first_line.strip_prefix("SIP/2.0 ")?;
        rest.split_whitespace().next()?.parse().ok()
    }
}

/// Parse SIPp's `-trace_msg` log. Each entry starts with a line of dashes
/// and a timestamp, then "UDP message sent (N bytes):" or "... message
/// received [N] bytes :", a blank line and the message.
pub fn parse_trace(log: &str) -> Vec<TracedMessage> {
    let mut out = Vec::new();
    for block in log.split("-----------------------------------------------") {
        let mut lines = block.lines();
        let Some(stamp) = lines.next() else { continue };
        // " 2026-11-25 11:58:24.529962"
        let Some(time) = stamp.split_whitespace().nth(1) else {
            continue;
        };
        let mut hms = time.split(':');
        let (Some(h), Some(m), Some(sec)) = (hms.next(), hms.next(), hms.next()) else {
            continue;
        };
        let (Ok(h), Ok(m), Ok(sec)) = (h.parse::<f64>(), m.parse::<f64>(), sec.parse::<f64>())
        else {
            continue;
        };
        let Some(kind) = lines.next() else { continue };
        let sent = if kind.contains("message sent") {
            true
        } else if kind.contains("message received") {
            false
        } else {
            continue;
        };
        let text: String = lines
            .skip_while(|l| l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let first_line = text.lines().next().unwrap_or("").trim().to_string();
        out.push(TracedMessage {
            at: h * 3600.0 + m * 60.0 + sec,
            sent,
            first_line,
            text,
        });
    }
    out
}

// ---------------------------------------------------------------- linphonec

/// How long `linphonec` may take to exit after `quit` before it is killed.
const LINPHONE_QUIT_TIMEOUT: Duration = Duration::from_secs(3);

/// A lawyer's phone: `linphonec` (Debian package linphone-cli) registered to a [`Server`] as
/// one of its phone accounts, auto-answering (`-a`), driven over its standard input.
///
/// Everything lives in `dir` (inside the server's data dir, so it is kept when a test fails):
/// `home/` (its `$HOME`; linphonec never opens its SIP socket unless
/// `$HOME/.local/share/linphone` exists), `linphonerc` (which it rewrites on exit),
/// `stdout.log` (what it prints: "Receiving tone 5 ...", "Call 1 ... ended") and
/// `linphonec.log` (its debug log with the SIP messages). It binds 127.0.0.1 only: SIP on
/// `sip_port` (UDP; TCP and TLS off), RTP on `rtp_port` and RTCP on `rtp_port + 1`.
///
/// Dropping it sends `quit` (linphonec 5.1 does not unregister then), and SIGKILLs it after
/// 3 s.
pub struct Linphone {
    child: Child,
    stdin: Option<std::process::ChildStdin>,
    pub user: String,
    pub dir: PathBuf,
    pub sip_port: u16,
    pub rtp_port: u16,
    pub stdout_path: PathBuf,
    pub log_path: PathBuf,
    exited: Option<ExitStatus>,
}

impl Linphone {
    /// Starts `linphonec -a` registering `sip:USER@127.0.0.1:PORT` at `server` with digest
    /// credentials `user`/`password` (realm "hotline"). Returns at once; see
    /// [`Linphone::wait_registered`].
    pub fn start(server: &Server, user: &str, password: &str) -> Linphone {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = server.data_dir.join(format!(
            "linphone-{user}-{}",
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let home = dir.join("home");
        fs::create_dir_all(home.join(".local/share/linphone"))
            .unwrap_or_else(|e| panic!("create {}: {e}", home.display()));
        let sip_port = free_port();
        let rtp_port = free_rtp_pair();
        let rc = dir.join("linphonerc");
        fs::write(
            &rc,
            format!(
                "[sip]\n\
                 sip_port={sip_port}\n\
                 sip_tcp_port=0\n\
                 sip_tls_port=0\n\
                 use_ipv6=0\n\
                 bind_address=127.0.0.1\n\
                 guess_hostname=0\n\
                 register_only_when_network_is_up=0\n\
                 auto_net_state_mon=0\n\
                 contact=\"{user}\" <sip:{user}@127.0.0.1>\n\
                 default_proxy=0\n\
                 \n\
                 [net]\n\
                 firewall_policy=0\n\
                 \n\
                 [rtp]\n\
                 bind_address=127.0.0.1\n\
                 audio_rtp_port={rtp_port}\n\
                 \n\
                 [sound]\n\
                 echocancellation=0\n\
                 \n\
                 [proxy_0]\n\
                 reg_proxy=<sip:127.0.0.1:{server_port};transport=udp>\n\
                 reg_identity=sip:{user}@127.0.0.1:{server_port}\n\
                 reg_expires=600\n\
                 reg_sendregister=1\n\
                 publish=0\n\
                 \n\
                 [auth_info_0]\n\
                 username={user}\n\
                 userid={user}\n\
                 passwd={password}\n\
                 realm=hotline\n",
                server_port = server.sip_port,
            ),
        )
        .expect("write linphonerc");
        let stdout_path = dir.join("stdout.log");
        let log_path = dir.join("linphonec.log");
        let out = fs::File::create(&stdout_path).expect("create linphonec stdout.log");
        let err = out.try_clone().expect("clone linphonec stdout.log");
        let mut cmd = Command::new("linphonec");
        cmd.arg("-c")
            .arg(&rc)
            .arg("-a")
            .args(["-d", "6", "-l"])
            .arg(&log_path)
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        eprintln!(
            "[linphonec] {user}: SIP 127.0.0.1:{sip_port}, RTP 127.0.0.1:{rtp_port}, dir {}",
            dir.display()
        );
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "`linphonec` is not installed (Debian package linphone-cli): run `bash scripts/test.sh`, which installs it"
            ),
            Err(e) => panic!("cannot start linphonec: {e}"),
        };
        let stdin = child.stdin.take();
        Linphone {
            child,
            stdin,
            user: user.to_string(),
            dir,
            sip_port,
            rtp_port,
            stdout_path,
            log_path,
            exited: None,
        }
    }

    /// Types one command line (`soundcard use files`, `play F.wav`, `record F.wav`, ...).
    pub fn command(&mut self, line: &str) {
        if let Some(stdin) = self.stdin.as_mut() {
            // A linphonec that died already shows up in its output and in the assertions.
            let _ = writeln!(stdin, "{line}").and_then(|_| stdin.flush());
        }
    }

    /// What linphonec printed so far (lossy UTF-8).
    pub fn output(&self) -> String {
        fs::read(&self.stdout_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Wait until the output contains `needle` at least `count` times, at most `max`.
    pub fn wait_output(&mut self, needle: &str, count: usize, max: Duration) -> bool {
        let deadline = Instant::now() + max;
        loop {
            if self.output().matches(needle).count() >= count {
                return true;
            }
            if Instant::now() >= deadline || !self.is_running() {
                return self.output().matches(needle).count() >= count;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Asks `status register` until linphonec says it is registered, at most `max`.
    pub fn wait_registered(&mut self, max: Duration) -> bool {
        let deadline = Instant::now() + max;
        while Instant::now() < deadline && self.is_running() {
            self.command("status register");
            // "registered, identity=sip:lawyer1@... duration=600" (else "registered=-1").
            if self.wait_output("registered, identity=", 1, Duration::from_millis(500)) {
                return true;
            }
        }
        self.output().contains("registered, identity=")
    }

    pub fn is_running(&mut self) -> bool {
        if self.exited.is_some() {
            return false;
        }
        match self.child.try_wait() {
            Ok(Some(status)) => {
                self.exited = Some(status);
                false
            }
            Ok(None) => true,
            Err(_) => false,
        }
    }

    /// `quit` (it unregisters and closes its files), SIGKILL after 3 s. Returns how it
    /// exited and whether it had to be killed.
    pub fn quit(&mut self) -> Option<(ExitStatus, bool)> {
        if !self.is_running() {
            return self.exited.map(|s| (s, false));
        }
        self.command("quit");
        self.stdin = None; // EOF as well
        let deadline = Instant::now() + LINPHONE_QUIT_TIMEOUT;
        while Instant::now() < deadline {
            if !self.is_running() {
                return self.exited.map(|s| (s, false));
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let status = self.child.wait().ok()?;
        self.exited = Some(status);
        Some((status, true))
    }

    /// The last lines of what it printed, for failure messages.
    pub fn output_tail(&self, lines: usize) -> String {
        format!(
            "---- linphonec {} output ({}) ----\n{}---- its debug log: {} ----\n",
            self.user,
            self.stdout_path.display(),
            tail(&self.stdout_path, lines),
            self.log_path.display()
        )
    }
}

impl Drop for Linphone {
    fn drop(&mut self) {
        let quit = self.quit();
        if thread::panicking() {
            eprintln!("[linphonec] exit: {quit:?}\n{}", self.output_tail(40));
        }
    }
}

/// A loopback UDP port `p` with `p + 1` free too (RTP and RTCP), from [`free_port`].
pub fn free_rtp_pair() -> u16 {
    for _ in 0..100 {
        let p = free_port();
        if p < u16::MAX && UdpSocket::bind((Ipv4Addr::LOCALHOST, p + 1)).is_ok() {
            used_ports()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(p + 1);
            return p;
        }
    }
    panic!("could not find two free consecutive loopback UDP ports");
}

// ---------------------------------------------------------------- media checks

/// The call recordings a server wrote, oldest first.
pub fn recordings(data_dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(data_dir.join("recordings"))
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "wav"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Bytes waiting in the receive queue of the UDP socket on 127.0.0.1:`port` (SIPp never reads
/// its media port, so what the server sent it piles up there).
pub fn udp_rx_queue(port: u16) -> Option<u64> {
    let table = fs::read_to_string("/proc/net/udp").ok()?;
    let local = format!("0100007F:{port:04X}");
    table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        (cols.get(1) == Some(&local.as_str()))
            .then(|| {
                cols.get(4)
                    .and_then(|q| q.split(':').nth(1))
                    .and_then(|rx| u64::from_str_radix(rx, 16).ok())
            })
            .flatten()
    })
}

/// Amplitude of the `hz` component of `x` (Goertzel), in sample units: a full-block sine of
/// amplitude A gives about A. Tells apart the tones each side of a call sends.
pub fn goertzel(x: &[f64], hz: f64, rate: u32) -> f64 {
    let w = 2.0 * std::f64::consts::PI * hz / f64::from(rate);
    let c = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for v in x {
        let s0 = v + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - c * s1 * s2;
    2.0 * power.max(0.0).sqrt() / x.len().max(1) as f64
}

/// Copies a directory tree (a dialplan the test edits without touching the shipped one).
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    for entry in fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display())) {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copy {}: {e}", entry.path().display()));
        }
    }
}

/// Fails the test unless `hotline dialplan check` accepts the dialplan in `dir` (a test's edited
/// copy of the shipped one), printing the checker's `file:line` problems.
pub fn assert_dialplan_checks(dir: &Path) {
    let out = Command::new(HOTLINE)
        .args(["dialplan", "check"])
        .arg(dir)
        .output()
        .expect("run hotline dialplan check");
    assert!(
        out.status.success(),
        "the test dialplan in {} does not check:\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
