//! Transcription end to end: a real call (SIPp on 127.0.0.1 speaking G.711 A-law made with
//! espeak-ng and sox) to the real `hotline serve` with the shipped dialplan; the recording is
//! queued, a worker transcribes it with the real whisper model that `hotline model fetch`
//! converted (`HOTLINE_TEST_MODEL_DIR`, set by scripts/test.sh), and the test reads the
//! transcript, the alert and the ticket back from the server's store.
//!
//! * [`english_caller_is_transcribed_with_risk_alert_and_silence_stays_empty`]: tiny.en; the
//!   caller's words are in the caller's channel only, the threat ("kill") puts the call's
//!   ticket on red alert with an open alert for supervisors, and a second call where the
//!   caller says nothing gets no invented caller text. No lawyer answers these calls, so the
//!   hotline side (the IVR's prompts) is not transcribed at all.
//! * [`caller_and_lawyer_are_transcribed_each_in_their_own_channel_without_the_ivr`][]: the
//!   English-speaking duty lawyer's phone (linphonec, at the province the call climbs to)
//!   answers and speaks, the caller speaks after it; each one's
//!   words are in their own channel and the IVR's prompts before the lawyer are not.
//! * [`mandarin_caller_is_transcribed_in_simplified_characters`]: base; the call's language
//!   comes from the IVR (key 1, Mandarin) and the text is in simplified characters.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Open, Server, ServerOptions, Sipp, TestDialplan, lawyer_phone, unique_dir};
use hotline_cases::{Speaker, Store, Transcript, TranscriptionStatus};

/// The models `hotline model fetch` made for the tests. Missing models fail the test: a
/// transcription test that passes without a model would prove nothing.
fn models() -> PathBuf {
    std::env::var_os("HOTLINE_TEST_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("HOTLINE_TEST_MODEL_DIR is not set: run `bash scripts/test.sh` (it fetches and converts the models), or set it to a directory made by `hotline model fetch --dir DIR --model base --model tiny.en`"))
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `text` spoken by espeak-ng `voice`, as the 8 kHz A-law a phone sends (`speech.alaw`, the
/// name the scenarios stream). `None` text: 6 s of silence.
fn speech(dir: &Path, voice: &str, text: Option<&str>) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let out = dir.join("speech.alaw");
    let Some(text) = text else {
        run(Command::new("sox")
            .args(["-n", "-r", "8000", "-c", "1", "-t", "al"])
            .arg(&out)
            .args(["trim", "0", "6"]));
        return out;
    };
    let raw = dir.join("speech-raw.wav");
    run(Command::new("espeak-ng")
        .args(["-v", voice, "-s", "140", "-w"])
        .arg(&raw)
        .arg(text));
    run(Command::new("sox")
        .arg(&raw)
        .args(["-r", "8000", "-c", "1", "-t", "al"])
        .arg(&out)
        .args(["sinc", "300-3400", "pad", "0.3", "0.5"]));
    out
}

/// A server on the shipped dialplan with every prompt cut to 2 s (so the caller's key reaches
/// the language menu within the call) and nobody on duty; the dialplan copy lives as long as
/// the server (dropped after it).
fn server(name: &str, model: &Path) -> (Server, TestDialplan) {
    let plan = TestDialplan::write(name, &[], Open::AroundTheClock, None, Some(2.0));
    let mut opts = server_options(name, model);
    opts.extra_args.extend(plan.args());
    (Server::start(opts), plan)
}

/// The IVR took the caller's language key: the filed call and its IVR path say `language`.
async fn assert_language_chosen(store: &Store, call_id: &str, language: &str) {
    let call = store
        .call(call_id)
        .await
        .unwrap()
        .expect("the call is filed");
    assert_eq!(call.language.as_deref(), Some(language), "{call:?}");
    let chosen = format!(r#"{{"event":"language_chosen","language":"{language}"}}"#);
    assert!(
        call.ivr_path.as_deref().unwrap_or("").contains(&chosen),
        "no {chosen} in {:?}",
        call.ivr_path
    );
}

fn server_options(name: &str, model: &Path) -> ServerOptions {
    let mut opts = ServerOptions::named(name);
    opts.extra_args = vec![
        "--model".into(),
        model.display().to_string(),
        "--transcribe-workers".into(),
        "1".into(),
    ];
    opts
}

/// A call from `caller` that presses the language key of `scenario`, streams `speech` and
/// stays `secs` on the line.
fn call(server: &Server, scenario: &str, caller: &str, speech: &Path, secs: u64) {
    Sipp::new(scenario)
        .file(speech.to_str().unwrap())
        .args(&["-key", "caller", caller])
        .args(&["-d", &(secs * 1000).to_string()])
        .timeout(Duration::from_secs(secs + 60))
        .run(server)
        .assert_all_ok(1);
}

async fn store_of(server: &Server) -> Store {
    Store::open(&format!(
        "sqlite://{}/hotline.db",
        server.data_dir.display()
    ))
    .await
    .unwrap()
}

/// The call from `caller` and its transcript once the worker is done with it.
async fn transcript(store: &Store, server: &Server, caller: &str) -> (String, Transcript) {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let calls = store.calls_arrived_between(0, i64::MAX).await.unwrap();
        if let Some(c) = calls.iter().find(|c| c.caller == caller)
            && let Some(t) = store.transcript_of_call(&c.id).await.unwrap()
            && matches!(
                t.status,
                TranscriptionStatus::Done | TranscriptionStatus::Failed
            )
        {
            assert_eq!(
                t.status,
                TranscriptionStatus::Done,
                "{t:?}\n{}",
                server.log_tail(30)
            );
            return (c.id.clone(), t);
        }
        assert!(
            Instant::now() < deadline,
            "no transcript for {caller}:\n{}",
            server.log_tail(40)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn said(t: &Transcript, who: Speaker) -> String {
    t.segments
        .iter()
        .filter(|s| s.speaker == who)
        .map(|s| s.text.to_lowercase())
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn english_caller_is_transcribed_with_risk_alert_and_silence_stays_empty() {
    let models = models();
    let (server, _plan) = server("transcribe-en", &models.join("ggml-tiny.en.bin"));
    let dir = unique_dir("transcribe-en-speech");
    let words = speech(
        &dir.join("words"),
        "en-us",
        Some(
            "Hello. My employer has not paid my salary for three months. I am so angry, I will kill him.",
        ),
    );
    let quiet = speech(&dir.join("quiet"), "en-us", None);
    call(
        &server,
        "transcribe_caller_en.xml",
        "13800000001",
        &words,
        12,
    );
    call(
        &server,
        "transcribe_caller_en.xml",
        "13800000002",
        &quiet,
        8,
    );

    let store = store_of(&server).await;
    let (call_id, t) = transcript(&store, &server, "13800000001").await;
    eprintln!("transcript: {:#?}", t.segments);
    assert_language_chosen(&store, &call_id, "en").await;
    assert_eq!(t.language.as_deref(), Some("en"));
    let caller = said(&t, Speaker::Caller);
    assert!(
        caller.contains("salary") && caller.contains("employer"),
        "caller said: {caller:?}"
    );
    assert!(
        !said(&t, Speaker::Lawyer).contains("salary"),
        "the caller's words in the lawyer's channel"
    );
    assert!(
        t.segments
            .windows(2)
            .all(|w| w[0].start_ms <= w[1].start_ms),
        "not in time order"
    );

    // No lawyer answered: the hotline side held only the IVR's prompts, which are left out.
    assert_eq!(
        said(&t, Speaker::Lawyer),
        "",
        "the IVR transcribed as the lawyer"
    );

    // "kill" from the caller: an open alert for supervisors and the ticket on red alert.
    let alerts = store.open_transcript_alerts(0).await.unwrap();
    assert!(
        alerts
            .iter()
            .all(|a| a.call_id != call_id || a.speaker == Speaker::Caller),
        "{alerts:?}"
    );
    let alert = alerts
        .iter()
        .find(|a| a.call_id == call_id && a.keyword == "kill" && a.speaker == Speaker::Caller)
        .unwrap_or_else(|| panic!("no alert for the caller's threat: {alerts:?}"));
    let ticket_id = alert
        .ticket_id
        .clone()
        .expect("the alert names the call's ticket");
    assert!(store.ticket(&ticket_id).await.unwrap().unwrap().red_alert);

    // The caller who said nothing: nothing invented in the caller's channel, no alert.
    let (quiet_call, t) = transcript(&store, &server, "13800000002").await;
    assert_eq!(
        said(&t, Speaker::Caller),
        "",
        "invented text on silence: {t:?}"
    );
    let alerts = store.open_transcript_alerts(0).await.unwrap();
    assert!(
        !alerts.iter().any(|a| a.call_id == quiet_call),
        "{alerts:?}"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mandarin_caller_is_transcribed_in_simplified_characters() {
    let models = models();
    let (server, _plan) = server("transcribe-zh", &models.join("ggml-base.bin"));
    let dir = unique_dir("transcribe-zh-speech");
    let words = speech(
        &dir,
        "cmn-latn-pinyin",
        Some("ni3 hao3. wo3 de5 lao3 ban3 san1 ge4 yue4 mei2 you3 fa1 gong1 zi1."),
    );
    call(
        &server,
        "transcribe_caller_zh.xml",
        "13800000003",
        &words,
        10,
    );

    let store = store_of(&server).await;
    let (call_id, t) = transcript(&store, &server, "13800000003").await;
    eprintln!("transcript: {:#?}", t.segments);
    assert_language_chosen(&store, &call_id, "zh").await;
    assert_eq!(
        t.language.as_deref(),
        Some("zh"),
        "the IVR's language choice"
    );
    // No lawyer answered: the IVR's Mandarin prompts (which base could transcribe) are left out.
    assert_eq!(
        said(&t, Speaker::Lawyer),
        "",
        "the IVR transcribed as the lawyer"
    );
    // base hears espeak's Mandarin only roughly ("你把我的老爬下一个月没有发动字" for "你好，
    // 我的老板三个月没有发工资", or "你把我的老爬牙哥每又发动之"): one of the key words must be
    // there, in Chinese (asking for two fails on base's weaker runs).
    let caller = said(&t, Speaker::Caller);
    let key_words = ["你好", "我的", "个月", "没有", "工资", "老板"];
    assert!(
        key_words.iter().any(|w| caller.contains(w)),
        "caller said: {caller:?}"
    );
    assert!(
        caller
            .chars()
            .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
            .count()
            >= 6,
        "{caller:?}"
    );
    let traditional = ['個', '發', '資', '闆', '沒', '們', '這', '說'];
    assert!(
        !caller.chars().any(|c| traditional.contains(&c)),
        "traditional characters: {caller:?}"
    );
    store.close().await;
}

/// A Shicheng County (Ganzhou, Jiangxi) landline.
const SHICHENG_CALLER: &str = "07975712345";
const PASSWORD: &str = "a long test password for a lawyer's phone";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_and_lawyer_are_transcribed_each_in_their_own_channel_without_the_ivr() {
    let models = models();
    let plan = TestDialplan::write(
        "transcribe-lawyer",
        // the English-speaking lawyer on duty for the province: the call climbs to her
        &[("liu-fang", "jiangxi")],
        Open::AroundTheClock,
        None,
        // prompts cut to 3.5 s: the Mandarin welcome is cut, "Connecting you to the duty
        // lawyer. Please hold." (3.3 s) is whole; the lawyer answers about 8 s in
        Some(3.5),
    );
    let mut opts = server_options("transcribe-lawyer", &models.join("ggml-tiny.en.bin"))
        .phone(&plan.sip_user("liu-fang"), PASSWORD);
    opts.extra_args.extend(plan.args());
    let server = Server::start(opts);
    let dir = unique_dir("transcribe-lawyer-speech");
    // The lawyer's phone plays this into the call from the moment it answers.
    let lawyer_words = dir.join("lawyer.wav");
    let raw = dir.join("lawyer-raw.wav");
    run(Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "140", "-w"])
        .arg(&raw)
        .arg("Good morning. This is the legal aid office. Please tell me about your problem."));
    run(Command::new("sox")
        .arg(&raw)
        .args(["-r", "8000", "-c", "1", "-b", "16"])
        .arg(&lawyer_words)
        .args(["sinc", "300-3400", "pad", "0.5", "0"]));
    let mut phone = lawyer_phone(&server, &plan, "liu-fang", PASSWORD, true);
    phone.command(&format!("play {}", lawyer_words.display()));
    let caller_words = speech(
        &dir.join("caller"),
        "en-us",
        Some("My employer has not paid my salary for three months."),
    );
    call(
        &server,
        "transcribe_caller_lawyer_en.xml",
        SHICHENG_CALLER,
        &caller_words,
        8,
    );

    let store = store_of(&server).await;
    let (call_id, t) = transcript(&store, &server, SHICHENG_CALLER).await;
    eprintln!("transcript: {:#?}", t.segments);
    let call = store
        .call(&call_id)
        .await
        .unwrap()
        .expect("the call is filed");
    assert_eq!(call.lawyer_id.as_deref(), Some("liu-fang"), "{call:?}");
    let path: Vec<serde_json::Value> =
        serde_json::from_str(call.ivr_path.as_deref().expect("the IVR path")).unwrap();
    let at = |event: &str| {
        path.iter()
            .find(|e| e["event"]["event"] == event)
            .and_then(|e| e["at"].as_i64())
            .unwrap_or_else(|| panic!("no {event} in {path:?}"))
    };
    let connected_ms = at("connected") - at("call_answered");

    let lawyer = said(&t, Speaker::Lawyer);
    let caller = said(&t, Speaker::Caller);
    assert!(
        lawyer.contains("problem") && lawyer.contains("morning"),
        "lawyer said: {lawyer:?}"
    );
    assert!(
        caller.contains("salary") && caller.contains("employer"),
        "caller said: {caller:?}"
    );
    assert!(!lawyer.contains("salary") && !caller.contains("problem"));
    // Before the lawyer the hotline side carried the IVR: the start of the Mandarin welcome
    // and "Connecting you to the duty lawyer. Please hold." None of it is the lawyer's.
    assert!(
        !lawyer.contains("connecting") && !lawyer.contains("hold"),
        "IVR prompts in the lawyer's words: {lawyer:?}"
    );
    assert!(connected_ms > 5_000, "the lawyer answered after the IVR");
    for s in t.segments.iter().filter(|s| s.speaker == Speaker::Lawyer) {
        assert!(
            s.start_ms >= connected_ms,
            "lawyer text before the lawyer answered at {connected_ms} ms: {s:?}"
        );
    }
    store.close().await;
    drop(phone);
}
