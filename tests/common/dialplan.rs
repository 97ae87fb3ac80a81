//! A copy of the shipped dialplan for one end-to-end test, with the test's duty roster and
//! opening hours, so a test can ring a known lawyer at any time of day.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use super::{Linphone, Server, assert_dialplan_checks, copy_dir, unique_dir};

/// How long a lawyer's phone may take to register and be signed in.
const PHONE_WAIT: Duration = Duration::from_secs(20);

/// When the hotline is open in the test's `hours.toml`.
#[derive(Clone, Copy)]
pub enum Open {
    AroundTheClock,
    Never,
}

/// A copy of the shipped dialplan with the test's roster and hours. Removed when dropped,
/// unless the test is failing (or `HOTLINE_KEEP_TEST_DIRS` is set).
pub struct TestDialplan {
    /// The copy.
    pub dir: PathBuf,
}

impl TestDialplan {
    /// Copies `dialplans/`, keeps the roster's lawyers and gives `shifts` (lawyer id, region)
    /// every day 00:00-24:00; `ring_timeout` replaces the shipped one; `max_prompt_secs` cuts
    /// every longer prompt to that length. Checks the result with `hotline dialplan check`.
    pub fn write(
        name: &str,
        shifts: &[(&str, &str)],
        open: Open,
        ring_timeout: Option<u32>,
        max_prompt_secs: Option<f64>,
    ) -> TestDialplan {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("dialplans");
        let dir = unique_dir(&format!("ivr-dialplan-{name}"));
        copy_dir(&shipped, &dir);

        // roster.toml: everything before the first [[shift]] (the header and the lawyers),
        // then the test's shifts; the shipped shifts and exceptions are dropped.
        let roster = fs::read_to_string(dir.join("roster.toml")).expect("read roster.toml");
        let cut = line_start(&roster, "[[shift]]").expect("roster.toml has [[shift]]s");
        let mut roster = roster[..cut].to_string();
        roster.push_str("# ══ Test shifts: on duty around the clock ══\n");
        for (lawyer, region) in shifts {
            roster.push_str(&format!(
                "\n[[shift]]\nlawyer = \"{lawyer}\"\nregion = \"{region}\"\n\
                 days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"]\n\
                 from = \"00:00\"\nto = \"24:00\"\n"
            ));
        }
        fs::write(dir.join("roster.toml"), roster).expect("write roster.toml");

        // hours.toml: no holidays (weekly shifts do not apply on public holidays).
        let mut hours = String::from("# Test hours\ntime_zone = \"Asia/Shanghai\"\n");
        if let Open::AroundTheClock = open {
            hours.push_str(
                "\n[[open]]\ndays = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"]\n\
                 from = \"00:00\"\nto = \"24:00\"\n",
            );
        }
        fs::write(dir.join("hours.toml"), hours).expect("write hours.toml");

        if let Some(secs) = ring_timeout {
            let path = dir.join("12348.toml");
            let flow = fs::read_to_string(&path).expect("read 12348.toml");
            let start = line_start(&flow, "ring_timeout =").expect("12348.toml has ring_timeout");
            let end = start + flow[start..].find('\n').expect("a whole line");
            let flow = format!("{}ring_timeout = {secs}{}", &flow[..start], &flow[end..]);
            fs::write(&path, flow).expect("write 12348.toml");
        }
        if let Some(max) = max_prompt_secs {
            shorten_prompts(&dir.join("prompts"), max);
        }

        assert_dialplan_checks(&dir);
        TestDialplan { dir }
    }

    /// `--dialplans DIR`
    pub fn args(&self) -> Vec<String> {
        vec!["--dialplans".into(), self.dir.display().to_string()]
    }

    pub fn toml(&self, file: &str) -> toml::Table {
        let text = fs::read_to_string(self.dir.join(file)).expect("read a dialplan file");
        text.parse()
            .unwrap_or_else(|e| panic!("{file} is not TOML: {e}"))
    }

    /// The SIP username of `lawyer`'s phone, from roster.toml.
    pub fn sip_user(&self, lawyer: &str) -> String {
        self.toml("roster.toml")["lawyer"]
            .as_array()
            .expect("[[lawyer]]s")
            .iter()
            .find(|l| l["id"].as_str() == Some(lawyer))
            .and_then(|l| l["sip"].as_str())
            .unwrap_or_else(|| panic!("no lawyer {lawyer} in roster.toml"))
            .to_string()
    }

    /// The value the survey records for `key`, from 12348.toml.
    pub fn survey_value(&self, key: &str) -> String {
        self.toml("12348.toml")["node"]["survey"]["answer"]
            .as_array()
            .expect("[[node.survey.answer]]s")
            .iter()
            .find(|a| a["key"].as_str() == Some(key))
            .and_then(|a| a["value"].as_str())
            .unwrap_or_else(|| panic!("no survey answer for key {key}"))
            .to_string()
    }
}

impl Drop for TestDialplan {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!("---- test dialplan kept: {} ----", self.dir.display());
        } else if std::env::var_os("HOTLINE_KEEP_TEST_DIRS").is_none() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Byte offset of the first line of `text` that starts with `prefix`.
fn line_start(text: &str, prefix: &str) -> Option<usize> {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with(prefix) {
            return Some(at);
        }
        at += line.len();
    }
    None
}

/// Cuts every prompt WAV under `dir` longer than `max` seconds to its first `max` seconds.
fn shorten_prompts(dir: &Path, max: f64) {
    for entry in fs::read_dir(dir).expect("read prompts") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            shorten_prompts(&path, max);
            continue;
        }
        if path.extension().is_none_or(|e| e != "wav") {
            continue;
        }
        let mut reader = hound::WavReader::open(&path)
            .unwrap_or_else(|e| panic!("{} is not a WAV file: {e}", path.display()));
        let spec = reader.spec();
        let keep = (max * f64::from(spec.sample_rate)) as usize * spec.channels as usize;
        if (reader.len() as usize) <= keep {
            continue;
        }
        let samples: Vec<i16> = reader
            .samples::<i16>()
            .take(keep)
            .map(|s| s.expect("a sample"))
            .collect();
        drop(reader);
        let mut w = hound::WavWriter::create(&path, spec).expect("rewrite a prompt");
        for s in samples {
            w.write_sample(s).expect("write a sample");
        }
        w.finalize().expect("finish a prompt");
    }
}

/// Starts `lawyer`'s phone (linphonec registered as their SIP user), answering by itself
/// or not, and waits until the server has signed the lawyer in (it checks registrations
/// every second and logs the lawyer's state).
pub fn lawyer_phone(
    server: &Server,
    plan: &TestDialplan,
    lawyer: &str,
    password: &str,
    answers: bool,
) -> Linphone {
    let user = plan.sip_user(lawyer);
    let mut phone = Linphone::start(server, &user, password);
    phone.command("soundcard use files");
    if !answers {
        phone.command("autoanswer disable");
    }
    assert!(
        phone.wait_registered(PHONE_WAIT),
        "{lawyer}'s linphonec ({user}) did not register within {PHONE_WAIT:?}\n{}\n{}",
        phone.output_tail(40),
        server.log_tail(30)
    );
    let ready =
        format!(r#""event":"lawyer_state_changed","lawyer":"{lawyer}","state":{{"state":"ready""#);
    assert!(
        server.wait_for_log(&ready, 1, PHONE_WAIT),
        "the server did not sign {lawyer} in after {user} registered\n{}",
        server.log_tail(30)
    );
    phone
}
