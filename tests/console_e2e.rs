//! The web console end to end: the real `hotline` binary with the shipped dialplan (a copy
//! whose Shicheng duty lawyer is on duty around the clock), that lawyer's phone (`linphonec`,
//! auto-answering), console users made with `hotline user add --password-stdin`, a SIPp caller
//! from a Shicheng landline, and headless Chromium (Debian's `chromium`) driven by the
//! Playwright script `tests/console/e2e.mjs` (playwright-core from npm, installed by
//! `scripts/test.sh` with `npm ci`).
//!
//! The script signs the lawyer in and clicks Ready, then prints `E2E READY_FOR_CALL`; this test
//! then places the call (1 Mandarin, 1 legal consultation, RFC 4733 keys; the lawyer's phone
//! answers about 25 s after the IVR does, the caller hangs up 10 s later). The script checks
//! the screen-pop's region, saves the ticket, and as a supervisor plays the recording, scores
//! the call, and looks at the wallboard and the statistics charts; as an admin it checks that
//! a broken roster edit is refused with `roster.toml:LINE`. Screenshots of every step go to
//! `$CARGO_TARGET_TMPDIR/console-screenshots/` (or `$HOTLINE_CONSOLE_ARTIFACTS`); the test
//! prints their paths and what each shows.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{
    Open, Server, ServerOptions, Sipp, TestDialplan, hotline_with_password, lawyer_phone,
    store_args,
};

/// A Shicheng County landline (`079757...`): the IVR finds the county from it.
const CALLER: &str = "07975712345";
const REGION: &str = "shicheng";
/// Shicheng's duty lawyer in the shipped roster, and the SIP username of their phone.
const LAWYER_ID: &str = "lai-zhiming";
const PHONE_PASSWORD: &str = "a long test password for a lawyer's phone";
/// The whole browser run; the test kills the script after this and a margin.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);
/// From the script's start until it is ready for the call (browser start, sign-in, Ready).
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The wallboard and the hourly chart count "today" in Beijing time: a call placed just before
/// Beijing midnight (16:00 UTC) and counted just after it would be yesterday's. The test takes
/// about two minutes, so it waits out the three minutes before midnight.
fn wait_out_beijing_midnight() {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
        % 86_400;
    let midnight = 16 * 3600;
    if (midnight - 180..midnight).contains(&secs) {
        let wait = Duration::from_secs(midnight - secs + 5);
        eprintln!("[console] waiting {wait:?} for Beijing midnight to pass");
        thread::sleep(wait);
    }
}

/// `hotline user add NAME --role ROLE ARGS... --password-stdin` on the server's store (the
/// lawyer id and region are checked against `dialplan`).
fn add_user(
    server: &Server,
    dialplan: &Path,
    name: &str,
    role: &str,
    args: &[&str],
    password: &str,
) {
    let mut all: Vec<String> = ["user", "add", name, "--role", role]
        .iter()
        .chain(args)
        .map(|a| a.to_string())
        .collect();
    all.extend(store_args(server));
    all.extend(["--dialplans".into(), dialplan.display().to_string()]);
    let out = hotline_with_password(&all, password);
    assert!(
        out.status.success(),
        "hotline user add {name} --role {role} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Where the screenshots go.
fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("HOTLINE_CONSOLE_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// The Playwright script, running; its output lines arrive on `lines` (and are echoed).
struct Script {
    child: Child,
    lines: mpsc::Receiver<String>,
    output: Vec<String>,
}

impl Script {
    fn start(server: &Server, artifacts: &Path, users: &[(&str, &str, &str)]) -> Script {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/console");
        assert!(
            dir.join("node_modules/playwright-core").is_dir(),
            "playwright-core is not installed in {}: run `bash scripts/test.sh` (it installs \
             chromium and nodejs from Debian and runs `npm ci` there)",
            dir.display()
        );
        let mut cmd = Command::new("node");
        cmd.arg("e2e.mjs")
            .current_dir(&dir)
            .env("E2E_URL", format!("http://127.0.0.1:{}", server.http_port))
            .env("E2E_ARTIFACTS", artifacts)
            .env("E2E_CALLER", CALLER)
            .env("E2E_REGION", REGION)
            .env("E2E_TIMEOUT_MS", SCRIPT_TIMEOUT.as_millis().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, user, password) in users {
            cmd.env(format!("E2E_{key}"), user)
                .env(format!("E2E_{key}_PW"), password);
        }
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot start node (Debian package nodejs; scripts/test.sh installs it): {e}")
        });
        let (tx, lines) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let tx = tx.clone();
            thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    eprintln!("[e2e.mjs] {line}");
                    let _ = tx.send(line);
                }
            });
        }
        Script {
            child,
            lines,
            output: Vec::new(),
        }
    }

    /// Waits for a line containing `needle`; false when the script ended or time ran out.
    fn wait_line(&mut self, needle: &str, max: Duration) -> bool {
        let deadline = Instant::now() + max;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self
                .lines
                .recv_timeout(left.min(Duration::from_millis(500)))
            {
                Ok(line) => {
                    let hit = line.contains(needle);
                    self.output.push(line);
                    if hit {
                        return true;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return false,
            }
        }
        false
    }

    /// Waits for the script to exit (killing it after `max`); returns whether it passed.
    fn finish(&mut self, max: Duration) -> bool {
        let deadline = Instant::now() + max;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                // the reader threads drain what is left
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(300)) {
                    self.output.push(line);
                }
                return status.success() && self.output.iter().any(|l| l == "E2E PASSED");
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                eprintln!("[e2e.mjs] killed after {max:?}");
                return false;
            }
            while let Ok(line) = self.lines.try_recv() {
                self.output.push(line);
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn lawyer_takes_a_call_and_a_supervisor_reviews_it_in_the_browser() {
    wait_out_beijing_midnight();
    let t0 = Instant::now();
    let plan = TestDialplan::write(
        "console",
        &[(LAWYER_ID, REGION)],
        Open::AroundTheClock,
        None,
        None,
    );
    let phone_user = plan.sip_user(LAWYER_ID);
    let mut opts = ServerOptions::named("console").phone(&phone_user, PHONE_PASSWORD);
    opts.extra_args = plan.args();
    let server = Server::start(opts);

    let users = [
        ("LAWYER", "lai", "a long password for the lawyer Lai"),
        (
            "SUPERVISOR",
            "banzhang",
            "a long password for the supervisor",
        ),
        ("ADMIN", "admin", "a long password for the administrator"),
    ];
    add_user(
        &server,
        &plan.dir,
        users[0].1,
        "lawyer",
        &["--lawyer", LAWYER_ID, "--name", "赖志明", "--lang", "zh"],
        users[0].2,
    );
    add_user(
        &server,
        &plan.dir,
        users[1].1,
        "supervisor",
        &["--name", "王班长", "--lang", "zh"],
        users[1].2,
    );
    add_user(
        &server,
        &plan.dir,
        users[2].1,
        "admin",
        &["--name", "Admin", "--lang", "en"],
        users[2].2,
    );

    let phone = lawyer_phone(&server, &plan, LAWYER_ID, PHONE_PASSWORD, true);
    eprintln!("[console] phone registered after {:.1?}", t0.elapsed());

    let artifacts = artifacts_dir();
    let mut script = Script::start(&server, &artifacts, &users);
    let ready = script.wait_line("E2E READY_FOR_CALL", READY_TIMEOUT);
    assert!(
        ready,
        "the browser script did not get the lawyer ready within {READY_TIMEOUT:?}:\n{}\n---- server log ----\n{}",
        script.output.join("\n"),
        server.log_tail(40)
    );

    // The lawyer answers about 25 s after the IVR (welcome 20.5 s, "connecting" 4 s); the
    // caller stays on for 34 s after the keys, so they talk for about 10 s.
    let outcome = Sipp::new("ivr_caller.xml")
        .args(&["-key", "caller", CALLER, "-d", "34000"])
        .timeout(Duration::from_secs(50))
        .run(&server);
    let passed = script.finish(SCRIPT_TIMEOUT + Duration::from_secs(20));
    let shots: Vec<&String> = script
        .output
        .iter()
        .filter(|l| l.starts_with("E2E screenshot "))
        .collect();
    eprintln!(
        "[console] {} screenshot(s) in {}",
        shots.len(),
        artifacts.display()
    );
    assert!(
        passed,
        "the browser script failed (screenshots, and FAILED-<step>.png, in {}):\n{}\n---- linphonec ----\n{}---- sipp ----\n{}\n---- server log ----\n{}",
        artifacts.display(),
        script
            .output
            .iter()
            .filter(|l| l.contains("FAIL") || l.contains("step"))
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
        phone.output_tail(20),
        outcome.report(),
        server.log_tail(60)
    );
    outcome.assert_all_ok(1);
    for shot in [
        "01-login",
        "02-desk-ready",
        "03-screen-pop",
        "04-ticket-saved",
        "05-wallboard",
        "06-review-playing",
        "07-qa-scored",
        "08-stats",
        "09-admin-roster",
        "10-tablet-desk-en",
        "11-tablet-wallboard",
    ] {
        let path = artifacts.join(format!("{shot}.png"));
        let len = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(len > 1000, "screenshot {} missing or empty", path.display());
    }
    eprintln!("[console] done in {:.1?}", t0.elapsed());
}
