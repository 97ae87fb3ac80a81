//! The 12348 IVR end to end on 127.0.0.1: SIPp is the caller, `linphonec` phones (Debian
//! package linphone-cli) registered with digest credentials are the lawyers, and the real
//! `hotline` binary runs the shipped dialplan (`dialplans/`) between them.
//!
//! Duty rosters depend on the time of day, so no test depends on the wall clock: each copies
//! the shipped dialplan into a fresh directory, rewrites `roster.toml` (the shipped lawyers,
//! but only the shifts the test needs, every day 00:00-24:00, no dated exceptions) and
//! `hours.toml` (open around the clock with no holidays, or closed all week), and starts the
//! server with `--dialplans DIR`. The phone accounts are the lawyers' SIP usernames read from
//! that `roster.toml`.
//!
//! The caller dials from a Shicheng landline (`079757...`: the county refinement of Ganzhou's
//! area code 0797 in `regions.toml`) and presses 1 (Mandarin) about 1 s after the answer and
//! 1 (legal consultation) 1.5 s later, RFC 4733 keys typed ahead while the 20 s welcome plays.
//!
//! * [`shicheng_caller_reaches_the_shicheng_duty_lawyer`]: the county's duty lawyer's phone
//!   rings and answers; the caller talks and hangs up.
//! * [`an_unanswered_lawyer_is_marked_not_ready_and_the_next_one_is_rung`]: the longest-idle
//!   lawyer's phone rings out (`ring_timeout` lowered to 5 s), that lawyer becomes not-ready
//!   and the other duty lawyer of the county gets the call.
//! * [`nobody_on_duty_in_the_county_overflows_to_the_city`]: the county lawyer's phone is
//!   registered but off duty; the call overflows to Ganzhou and the city lawyer answers.
//! * [`after_hours_the_caller_leaves_a_message`]: closed all week; the caller speaks a message
//!   (a 400 Hz tone) and presses #; the message WAV holds the tone.
//! * [`the_survey_answer_is_recorded_after_the_lawyer_hangs_up`]: the lawyer hangs up
//!   (`terminate` on linphonec), the caller presses 3 and the survey answer is in the events
//!   and in the call summary; the store has a return-visit task for it.
//! * [`a_ticket_filed_before_the_ring_survives_kill_9_and_a_repeat_call_joins_it`] kills
//!   the server while the lawyer's phone rings; the ticket is already in the store, the
//!   restart marks the call cut off, and the caller's next call joins the same ticket.
//!
//! After a call the tests also read the server's SQLite store: exactly one ticket per caller,
//! with the category, region, lawyer and recording the IVR found.
//! The server logs every IVR decision as `ivr call_id=... event={json}` and a last
//! `call summary summary={json}`; each test prints the call's path (its `ivr` events) and
//! checks the events that matter in order.

mod common;

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use common::{
    Linphone, Open, Server, ServerOptions, Sipp, SippOutcome, StoreView, TestDialplan, goertzel,
    parse_trace,
};
use hotline_cases::{Category, LawyerStatus, TaskKind, TicketStatus};
use serde_json::{Value, json};

/// A Shicheng County landline: `079757` pins the county (`0797` alone is Ganzhou city).
const SHICHENG_CALLER: &str = "07975712345";
const PASSWORD: &str = "a long test password for a lawyer's phone";
/// The tone the caller leaves as a message (`tests/media/caller-400hz.ulaw`, 3 s).
const MESSAGE_HZ: f64 = 400.0;
const MESSAGE_TONE_SECS: f64 = 3.0;

// ---------------------------------------------------------------- the dialplan

// ---------------------------------------------------------------- phones

/// Starts `lawyer`'s phone with the test password (see [`common::lawyer_phone`]).
fn lawyer_phone(server: &Server, plan: &TestDialplan, lawyer: &str, answers: bool) -> Linphone {
    common::lawyer_phone(server, plan, lawyer, PASSWORD, answers)
}

/// Whether linphonec was offered a call from `caller` (the server passes the caller's number
/// on in the From of the lawyer's leg).
fn phone_was_called_by(phone: &Linphone, caller: &str) -> bool {
    phone
        .output()
        .lines()
        .any(|l| l.contains("incoming call") && l.contains(&format!("sip:{caller}@")))
}

// ---------------------------------------------------------------- the server's log

/// One `ivr` line of the server log.
#[derive(Clone, Debug)]
struct IvrLine {
    /// The log line's time, seconds since midnight UTC.
    at: f64,
    /// The SIP Call-ID of the caller's call, empty for lawyer events that belong to no call.
    call_id: String,
    event: Value,
    /// The event's JSON as logged (fields in the server's order).
    raw: String,
}

/// Seconds since midnight of a log line starting with an RFC 3339 time
/// (`2026-11-25T13:00:35.326123Z ...`).
fn log_time(line: &str) -> Option<f64> {
    let time = line.split_whitespace().next()?.split('T').nth(1)?;
    let time = time.trim_end_matches('Z');
    let mut hms = time.split(':');
    let h: f64 = hms.next()?.parse().ok()?;
    let m: f64 = hms.next()?.parse().ok()?;
    let s: f64 = hms.next()?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + s)
}

/// The JSON object that follows `key=` in a log line, parsed and as written.
fn json_field<'a>(line: &'a str, key: &str) -> Option<(Value, &'a str)> {
    let at = line.find(&format!("{key}={{"))? + key.len() + 1;
    let rest = &line[at..];
    let mut values = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
    let value = values.next()?.ok()?;
    Some((value, &rest[..values.byte_offset()]))
}

/// A plain `key=value` field of a log line.
fn plain_field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(&format!(" {key}="))? + key.len() + 2;
    line[at..].split_whitespace().next()
}

/// Every IVR event the server logged, in order.
fn ivr_events(server: &Server) -> Vec<IvrLine> {
    server
        .log()
        .lines()
        .filter(|l| l.contains(" ivr ") || l.contains(" ivr:") || l.ends_with(" ivr"))
        .filter_map(|l| {
            let (event, raw) = json_field(l, "event")?;
            Some(IvrLine {
                at: log_time(l).unwrap_or(0.0),
                call_id: plain_field(l, "call_id")
                    .unwrap_or("")
                    .trim_matches('"')
                    .to_string(),
                event,
                raw: raw.to_string(),
            })
        })
        .collect()
}

/// The call's path: its events from the answer on, in order.
fn call_path(server: &Server, call_id: &str) -> Vec<IvrLine> {
    ivr_events(server)
        .into_iter()
        .filter(|e| e.call_id == call_id)
        .collect()
}

/// The `call summary` the server logged for the call.
fn call_summary(server: &Server, call_id: &str) -> Value {
    server
        .log()
        .lines()
        .filter(|l| l.contains("call summary"))
        .filter_map(|l| json_field(l, "summary").map(|(v, _)| v))
        .find(|s| s["call_id"] == call_id)
        .unwrap_or_else(|| panic!("no call summary for {call_id}\n{}", server.log_tail(40)))
}

/// Prints the path as `+seconds event-json` lines from the first event.
fn print_path(case: &str, path: &[IvrLine]) -> String {
    let t0 = path.first().map(|e| e.at).unwrap_or(0.0);
    let mut out = format!("[{case}] call path ({} events):\n", path.len());
    for e in path {
        out.push_str(&format!("  +{:6.2}s {}\n", e.at - t0, e.raw));
    }
    eprint!("{out}");
    out
}

/// Whether `event` has every field of `pattern` (objects compared field by field).
fn matches(event: &Value, pattern: &Value) -> bool {
    match (event, pattern) {
        (Value::Object(e), Value::Object(p)) => p
            .iter()
            .all(|(k, v)| e.get(k).is_some_and(|ev| matches(ev, v))),
        _ => event == pattern,
    }
}

/// Asserts that `expected` occur in `path` in this order (other events may come between).
#[track_caller]
fn assert_in_order(path: &[IvrLine], expected: &[Value], printed: &str, server: &Server) {
    let mut rest = path.iter();
    for want in expected {
        if !rest.any(|e| matches(&e.event, want)) {
            panic!(
                "the call's path lacks {want} (in this order: {})\n{printed}---- server log ----\n{}",
                expected
                    .iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                server.log_tail(60)
            );
        }
    }
}

fn count(path: &[IvrLine], pattern: &Value) -> usize {
    path.iter().filter(|e| matches(&e.event, pattern)).count()
}

/// The Call-ID of the caller's INVITE in SIPp's trace.
fn caller_call_id(outcome: &SippOutcome) -> String {
    parse_trace(&outcome.messages())
        .iter()
        .find(|m| m.sent && m.first_line.starts_with("INVITE "))
        .and_then(|m| m.call_id())
        .expect("the caller's INVITE in SIPp's trace")
}

/// Waits until the call has ended in the server (its summary is logged).
fn wait_call_over(server: &Server) {
    assert!(
        server.wait_for_log("call summary", 1, Duration::from_secs(10)),
        "the call did not end in the server\n{}",
        server.log_tail(40)
    );
}

/// SIPp running `scenario` (`ivr_*.xml`) as a caller from `number`; `pause` is the scenario's
/// `<pause/>` (`-d`): how long it stays on the line after its menu keys.
fn caller(number: &str, scenario: &str, pause: Duration) -> Sipp {
    Sipp::new(scenario)
        .args(&["-key", "caller", number])
        .args(&["-d", &pause.as_millis().to_string()])
        .timeout(Duration::from_secs(45))
}

// ---------------------------------------------------------------- audio

/// Seconds of the first channel of a WAV in which `hz` is present (per 100 ms block), and
/// the WAV's length in seconds.
fn tone_secs(path: &Path, hz: f64) -> (f64, f64) {
    let mut reader = hound::WavReader::open(path)
        .unwrap_or_else(|e| panic!("{} is not a WAV file: {e}", path.display()));
    let spec = reader.spec();
    let channels = spec.channels as usize;
    let first: Vec<f64> = reader
        .samples::<i16>()
        .map_while(Result::ok)
        .step_by(channels)
        .map(f64::from)
        .collect();
    let rate = spec.sample_rate;
    let present = first
        .chunks_exact(rate as usize / 10)
        .filter(|b| goertzel(b, hz, rate) > 4000.0)
        .count();
    (present as f64 / 10.0, first.len() as f64 / f64::from(rate))
}

// ---------------------------------------------------------------- the cases

#[test]
fn shicheng_caller_reaches_the_shicheng_duty_lawyer() {
    let t0 = Instant::now();
    let plan = TestDialplan::write(
        "duty",
        &[("lai-zhiming", "shicheng")],
        Open::AroundTheClock,
        None,
        None,
    );
    let user = plan.sip_user("lai-zhiming");
    let mut opts = ServerOptions::named("ivr-duty").phone(&user, PASSWORD);
    opts.extra_args = plan.args();
    let server = Server::start(opts);
    let mut phone = lawyer_phone(&server, &plan, "lai-zhiming", true);
    eprintln!("[duty] lawyer signed in after {:.1?}", t0.elapsed());

    // welcome 20.5 s, "connecting" 4 s: the lawyer answers about 25 s after the answer; the
    // caller hangs up 30.5 s after it.
    let outcome = caller(SHICHENG_CALLER, "ivr_caller.xml", Duration::from_secs(28)).run(&server);
    outcome.assert_all_ok(1);
    wait_call_over(&server);
    let call_id = caller_call_id(&outcome);
    let path = call_path(&server, &call_id);
    let printed = print_path("duty", &path);
    assert_in_order(
        &path,
        &[
            json!({"event": "call_answered", "caller": SHICHENG_CALLER}),
            json!({"event": "region_resolved", "region": "shicheng", "how": "number"}),
            json!({"event": "menu_choice", "node": "language", "key": "1"}),
            json!({"event": "language_chosen", "language": "zh"}),
            json!({"event": "menu_choice", "node": "service", "key": "1"}),
            json!({"event": "variable_set", "name": "category", "value": "consultation"}),
            json!({"event": "ringing", "lawyer": "lai-zhiming"}),
            json!({"event": "connected", "lawyer": "lai-zhiming"}),
            json!({"event": "talk_ended", "by": "caller"}),
            json!({"event": "call_ended", "disposition": "answered"}),
        ],
        &printed,
        &server,
    );
    assert_eq!(count(&path, &json!({"event": "ringing"})), 1, "{printed}");
    assert_eq!(count(&path, &json!({"event": "overflow"})), 0, "{printed}");
    let summary = call_summary(&server, &call_id);
    eprintln!("[duty] call summary: {summary}");
    assert!(
        matches(
            &summary,
            &json!({"caller": SHICHENG_CALLER, "region": "shicheng", "lawyer": "lai-zhiming",
                    "category": "consultation", "disposition": "answered", "language": "zh"})
        ),
        "{summary}"
    );
    // The lawyer's phone saw the call, from the caller's number, and its end.
    assert!(
        phone_was_called_by(&phone, SHICHENG_CALLER),
        "linphonec was not called by {SHICHENG_CALLER}\n{}",
        phone.output_tail(40)
    );
    assert!(
        phone.wait_output(" ended (", 1, Duration::from_secs(5)),
        "the lawyer's phone still has the call after the caller hung up\n{}",
        phone.output_tail(40)
    );
    // Exactly one ticket, filed before the phone rang, with what the IVR learnt and the
    // call's recording.
    let store = StoreView::open(&server.data_dir);
    let ticket = store.only_ticket_of(SHICHENG_CALLER);
    eprintln!("[duty] ticket: {ticket:?}");
    assert_eq!(ticket.category, Category::Consultation, "{ticket:?}");
    assert_eq!(ticket.region.as_deref(), Some("shicheng"), "{ticket:?}");
    assert_eq!(
        ticket.lawyer_id.as_deref(),
        Some("lai-zhiming"),
        "{ticket:?}"
    );
    assert_eq!(ticket.status, TicketStatus::Open, "{ticket:?}");
    assert!(
        server.log().contains("call filed before ringing"),
        "the ticket was not written before the lawyer's phone rang\n{}",
        server.log_tail(40)
    );
    let calls = store.calls_of(&ticket);
    assert_eq!(calls.len(), 1, "{calls:#?}");
    let call = &calls[0];
    assert_eq!(call.id, call_id);
    assert_eq!(call.disposition.as_deref(), Some("answered"), "{call:?}");
    assert!(
        call.answered_at.is_some() && call.ended_at.is_some(),
        "{call:?}"
    );
    let recording = PathBuf::from(call.recording_path.as_deref().expect("a recording path"));
    assert!(
        recording.is_file() && recording.starts_with(&server.data_dir),
        "{recording:?}"
    );
    assert!(
        store.tasks_of(&ticket).is_empty(),
        "no follow-up was asked for"
    );
    // The roster is mirrored into the store, so the ticket's lawyer has a name there.
    let lawyer = store
        .lawyers()
        .into_iter()
        .find(|l| l.id == "lai-zhiming")
        .expect("the roster's lawyers are in the store");
    assert_eq!(
        lawyer.sip_user.as_deref(),
        Some(user.as_str()),
        "{lawyer:?}"
    );
    assert_eq!(lawyer.regions, vec!["shicheng".to_owned()], "{lawyer:?}");
    assert_eq!(lawyer.status, LawyerStatus::Active, "{lawyer:?}");
    eprintln!("[duty] done in {:.1?}", t0.elapsed());
}

#[test]
fn an_unanswered_lawyer_is_marked_not_ready_and_the_next_one_is_rung() {
    let t0 = Instant::now();
    let plan = TestDialplan::write(
        "rona",
        &[("lai-zhiming", "shicheng"), ("wen-xiaohong", "shicheng")],
        Open::AroundTheClock,
        Some(5),
        None,
    );
    let (first, second) = (plan.sip_user("lai-zhiming"), plan.sip_user("wen-xiaohong"));
    let mut opts = ServerOptions::named("ivr-rona")
        .phone(&first, PASSWORD)
        .phone(&second, PASSWORD);
    opts.extra_args = plan.args();
    let server = Server::start(opts);
    // lai-zhiming signs in first, so is idle longest and rung first; the phone rings but
    // nobody picks it up.
    let mut unattended = lawyer_phone(&server, &plan, "lai-zhiming", false);
    thread::sleep(Duration::from_millis(1100));
    let mut answering = lawyer_phone(&server, &plan, "wen-xiaohong", true);
    eprintln!("[rona] lawyers signed in after {:.1?}", t0.elapsed());

    // The first phone rings from about 24.5 s to 29.5 s (ring_timeout 5), the second answers
    // at once; the caller hangs up 35.5 s after the answer.
    let outcome = caller(SHICHENG_CALLER, "ivr_caller.xml", Duration::from_secs(33)).run(&server);
    outcome.assert_all_ok(1);
    wait_call_over(&server);
    let call_id = caller_call_id(&outcome);
    let path = call_path(&server, &call_id);
    let printed = print_path("rona", &path);
    assert_in_order(
        &path,
        &[
            json!({"event": "region_resolved", "region": "shicheng"}),
            json!({"event": "menu_choice", "node": "service", "key": "1"}),
            json!({"event": "ringing", "lawyer": "lai-zhiming"}),
            json!({"event": "ring_failed", "lawyer": "lai-zhiming", "outcome": "no_answer"}),
            json!({"event": "lawyer_state_changed", "lawyer": "lai-zhiming",
                   "state": {"state": "not_ready", "reason": "no_answer"}}),
            json!({"event": "ringing", "lawyer": "wen-xiaohong"}),
            json!({"event": "connected", "lawyer": "wen-xiaohong"}),
            json!({"event": "talk_ended", "by": "caller"}),
            json!({"event": "call_ended", "disposition": "answered"}),
        ],
        &printed,
        &server,
    );
    assert_eq!(count(&path, &json!({"event": "ringing"})), 2, "{printed}");
    // The ring lasted the dialplan's ring_timeout.
    let at = |p: &Value| path.iter().find(|e| matches(&e.event, p)).map(|e| e.at);
    let rang = at(&json!({"event": "ring_failed"})).unwrap()
        - at(&json!({"event": "ringing", "lawyer": "lai-zhiming"})).unwrap();
    assert!(
        (4.5..7.0).contains(&rang),
        "lai-zhiming's phone rang {rang:.1} s, ring_timeout is 5 s\n{printed}"
    );
    // ... and lai-zhiming stays not-ready after the call (nobody pressed "ready").
    let last_state = ivr_events(&server)
        .into_iter()
        .rfind(|e| {
            matches(
                &e.event,
                &json!({"event": "lawyer_state_changed", "lawyer": "lai-zhiming"}),
            )
        })
        .expect("lai-zhiming's state changes");
    assert_eq!(last_state.event["state"]["state"], "not_ready", "{printed}");
    let summary = call_summary(&server, &call_id);
    eprintln!("[rona] call summary: {summary}");
    assert!(
        matches(
            &summary,
            &json!({"region": "shicheng", "lawyer": "wen-xiaohong", "disposition": "answered"})
        ),
        "{summary}"
    );
    // Both phones were offered the call; the first one's ended unanswered.
    assert!(
        phone_was_called_by(&unattended, SHICHENG_CALLER),
        "the unattended phone was not called\n{}",
        unattended.output_tail(40)
    );
    assert!(
        unattended.wait_output(" ended (", 1, Duration::from_secs(5)),
        "the unanswered ring did not end on the phone\n{}",
        unattended.output_tail(40)
    );
    assert!(
        phone_was_called_by(&answering, SHICHENG_CALLER),
        "the second lawyer's phone was not called\n{}",
        answering.output_tail(40)
    );
    assert!(
        answering.wait_output(" ended (", 1, Duration::from_secs(5)),
        "{}",
        answering.output_tail(40)
    );
    eprintln!("[rona] done in {:.1?}", t0.elapsed());
}

#[test]
fn nobody_on_duty_in_the_county_overflows_to_the_city() {
    let t0 = Instant::now();
    // Only the city lawyer has a shift; the county lawyer's phone is up but off duty.
    let plan = TestDialplan::write(
        "overflow",
        &[("zeng-guoping", "ganzhou")],
        Open::AroundTheClock,
        None,
        None,
    );
    let (county, city) = (plan.sip_user("lai-zhiming"), plan.sip_user("zeng-guoping"));
    let mut opts = ServerOptions::named("ivr-overflow")
        .phone(&county, PASSWORD)
        .phone(&city, PASSWORD);
    opts.extra_args = plan.args();
    let server = Server::start(opts);
    let off_duty = lawyer_phone(&server, &plan, "lai-zhiming", true);
    let mut city_phone = lawyer_phone(&server, &plan, "zeng-guoping", true);
    eprintln!("[overflow] lawyers signed in after {:.1?}", t0.elapsed());

    let outcome = caller(SHICHENG_CALLER, "ivr_caller.xml", Duration::from_secs(28)).run(&server);
    outcome.assert_all_ok(1);
    wait_call_over(&server);
    let call_id = caller_call_id(&outcome);
    let path = call_path(&server, &call_id);
    let printed = print_path("overflow", &path);
    assert_in_order(
        &path,
        &[
            json!({"event": "region_resolved", "region": "shicheng", "how": "number"}),
            json!({"event": "menu_choice", "node": "service", "key": "1"}),
            json!({"event": "overflow", "from": "shicheng", "to": "ganzhou"}),
            json!({"event": "ringing", "lawyer": "zeng-guoping"}),
            json!({"event": "connected", "lawyer": "zeng-guoping"}),
            json!({"event": "talk_ended", "by": "caller"}),
            json!({"event": "call_ended", "disposition": "answered"}),
        ],
        &printed,
        &server,
    );
    assert_eq!(count(&path, &json!({"event": "ringing"})), 1, "{printed}");
    assert_eq!(
        count(&path, &json!({"event": "overflow", "to": "jiangxi"})),
        0,
        "{printed}"
    );
    let summary = call_summary(&server, &call_id);
    eprintln!("[overflow] call summary: {summary}");
    assert!(
        matches(
            &summary,
            &json!({"region": "shicheng", "lawyer": "zeng-guoping", "disposition": "answered"})
        ),
        "{summary}"
    );
    assert!(
        phone_was_called_by(&city_phone, SHICHENG_CALLER),
        "the city lawyer's phone was not called\n{}",
        city_phone.output_tail(40)
    );
    assert!(
        city_phone.wait_output(" ended (", 1, Duration::from_secs(5)),
        "{}",
        city_phone.output_tail(40)
    );
    assert!(
        !off_duty.output().contains("incoming call"),
        "the off-duty county lawyer's phone rang\n{}",
        off_duty.output_tail(40)
    );
    eprintln!("[overflow] done in {:.1?}", t0.elapsed());
}

#[test]
fn after_hours_the_caller_leaves_a_message() {
    let t0 = Instant::now();
    // Closed all week, nobody on duty. The prompts are cut to 2 s (the shipped welcome and
    // after-hours prompts take 42 s before the message could start).
    let plan = TestDialplan::write("closed", &[], Open::Never, None, Some(2.0));
    let mut opts = ServerOptions::named("ivr-closed");
    opts.extra_args = plan.args();
    let server = Server::start(opts);

    // welcome 2 s (1 typed ahead), after-hours 2 s: recording from about 4 s; the caller
    // speaks from 6 s to 9 s and presses # at 9.2 s.
    let outcome = caller(SHICHENG_CALLER, "ivr_voicemail.xml", Duration::from_secs(5))
        .file("tests/media/caller-400hz.ulaw")
        .run(&server);
    outcome.assert_all_ok(1);
    wait_call_over(&server);
    let call_id = caller_call_id(&outcome);
    let path = call_path(&server, &call_id);
    let printed = print_path("after-hours", &path);
    assert_in_order(
        &path,
        &[
            json!({"event": "call_answered", "caller": SHICHENG_CALLER}),
            json!({"event": "region_resolved", "region": "shicheng"}),
            json!({"event": "menu_choice", "node": "language", "key": "1"}),
            json!({"event": "hours_closed"}),
            json!({"event": "voicemail_left"}),
            json!({"event": "callback_requested"}),
            json!({"event": "call_ended", "disposition": "after_hours"}),
        ],
        &printed,
        &server,
    );
    assert_eq!(count(&path, &json!({"event": "ringing"})), 0, "{printed}");
    let left = path
        .iter()
        .find(|e| e.event["event"] == "voicemail_left")
        .unwrap();
    let message = PathBuf::from(left.event["path"].as_str().expect("the message's path"));
    assert!(
        message.starts_with(&server.data_dir) && message.is_file(),
        "the message {} is not a file in the data dir\n{printed}",
        message.display()
    );
    let (tone, secs) = tone_secs(&message, MESSAGE_HZ);
    eprintln!(
        "[after-hours] message {}: {secs:.1} s, the caller's 400 Hz for {tone:.1} s",
        message.display()
    );
    assert!(
        (MESSAGE_TONE_SECS - 0.4..=MESSAGE_TONE_SECS + 0.2).contains(&tone),
        "the message holds {tone} s of the caller's {MESSAGE_TONE_SECS} s tone"
    );
    let logged_secs = left.event["secs"].as_f64().unwrap_or(-1.0);
    assert!(
        (logged_secs - secs).abs() <= 1.0,
        "voicemail_left says {logged_secs} s, the WAV holds {secs:.1} s"
    );
    let summary = call_summary(&server, &call_id);
    eprintln!("[after-hours] call summary: {summary}");
    assert!(
        matches(
            &summary,
            &json!({"region": "shicheng", "disposition": "after_hours", "callback": true,
                    "message": message.display().to_string()})
        ),
        "{summary}"
    );
    assert!(summary["lawyer"].is_null(), "{summary}");
    eprintln!("[after-hours] done in {:.1?}", t0.elapsed());
}

#[test]
fn the_survey_answer_is_recorded_after_the_lawyer_hangs_up() {
    let t0 = Instant::now();
    let plan = TestDialplan::write(
        "survey",
        &[("lai-zhiming", "shicheng")],
        Open::AroundTheClock,
        None,
        None,
    );
    let unsatisfied = plan.survey_value("3");
    let user = plan.sip_user("lai-zhiming");
    let mut opts = ServerOptions::named("ivr-survey").phone(&user, PASSWORD);
    opts.extra_args = plan.args();
    let server = Server::start(opts);
    let mut phone = lawyer_phone(&server, &plan, "lai-zhiming", true);
    eprintln!("[survey] lawyer signed in after {:.1?}", t0.elapsed());

    // The caller presses 3 every 2 s from 26.5 s on; those pressed while talking go to the
    // lawyer, the first one after the lawyer hung up answers the survey.
    let run = caller(SHICHENG_CALLER, "ivr_survey.xml", Duration::from_secs(24)).spawn(&server);
    assert!(
        server.wait_for_log(r#""event":"connected""#, 1, Duration::from_secs(35)),
        "the lawyer was not connected\n{}",
        server.log_tail(40)
    );
    thread::sleep(Duration::from_secs(2));
    phone.command("terminate");
    let outcome = run.wait();
    outcome.assert_all_ok(1);
    wait_call_over(&server);
    let call_id = caller_call_id(&outcome);
    let path = call_path(&server, &call_id);
    let printed = print_path("survey", &path);
    assert_in_order(
        &path,
        &[
            json!({"event": "ringing", "lawyer": "lai-zhiming"}),
            json!({"event": "connected", "lawyer": "lai-zhiming"}),
            json!({"event": "talk_ended", "by": "lawyer"}),
            json!({"event": "survey_answer", "value": unsatisfied}),
            json!({"event": "variable_set", "name": "satisfaction", "value": unsatisfied}),
            json!({"event": "call_ended", "disposition": "answered"}),
        ],
        &printed,
        &server,
    );
    assert_eq!(
        count(&path, &json!({"event": "survey_answer"})),
        1,
        "{printed}"
    );
    let summary = call_summary(&server, &call_id);
    eprintln!("[survey] call summary: {summary}");
    assert!(
        matches(
            &summary,
            &json!({"lawyer": "lai-zhiming", "disposition": "answered", "survey": unsatisfied,
                    "vars": {"satisfaction": unsatisfied, "category": "consultation"}})
        ),
        "{summary}"
    );
    // "Unsatisfied" makes a return-visit task for the supervisors, due within the hour.
    let store = StoreView::open(&server.data_dir);
    let ticket = store.only_ticket_of(SHICHENG_CALLER);
    let tasks = store.tasks_of(&ticket);
    eprintln!("[survey] ticket {} tasks: {tasks:?}", ticket.number);
    assert_eq!(tasks.len(), 1, "{tasks:#?}");
    let visit = &tasks[0];
    assert_eq!(visit.kind, TaskKind::ReturnVisit, "{visit:?}");
    assert_eq!(
        visit.call_id.as_deref(),
        Some(call_id.as_str()),
        "{visit:?}"
    );
    assert!(
        visit.due_at > visit.created_at && visit.due_at <= visit.created_at + 3_600_000,
        "{visit:?}"
    );
    eprintln!("[survey] done in {:.1?}", t0.elapsed());
}

#[test]
fn a_ticket_filed_before_the_ring_survives_kill_9_and_a_repeat_call_joins_it() {
    let t0 = Instant::now();
    let plan = TestDialplan::write(
        "crash",
        &[("lai-zhiming", "shicheng")],
        Open::AroundTheClock,
        None,
        Some(3.0),
    );
    let user = plan.sip_user("lai-zhiming");
    let mut opts = ServerOptions::named("ivr-crash").phone(&user, PASSWORD);
    opts.extra_args = plan.args();
    let mut server = Server::start(opts);
    let mut phone = lawyer_phone(&server, &plan, "lai-zhiming", false);

    // The lawyer's phone rings and is not answered; the server is killed while it rings.
    let run = caller(SHICHENG_CALLER, "ivr_caller.xml", Duration::from_secs(30)).spawn(&server);
    assert!(
        phone.wait_output("incoming call", 1, Duration::from_secs(30)),
        "the lawyer's phone did not ring\n{}\n{}",
        phone.output_tail(30),
        server.log_tail(30)
    );
    server.kill9();
    drop(run);
    eprintln!("[crash] killed while ringing after {:.1?}", t0.elapsed());

    let first_call = {
        let store = StoreView::open(&server.data_dir);
        let ticket = store.only_ticket_of(SHICHENG_CALLER);
        assert_eq!(ticket.category, Category::Consultation, "{ticket:?}");
        assert_eq!(ticket.region.as_deref(), Some("shicheng"), "{ticket:?}");
        let calls = store.calls_of(&ticket);
        assert_eq!(calls.len(), 1, "{calls:#?}");
        assert!(calls[0].ended_at.is_none(), "{:?}", calls[0]);
        calls[0].id.clone()
    };

    // The restart marks the call cut off, ends its CDR and asks for a callback.
    let dir = server.data_dir.clone();
    let mut opts = ServerOptions::named("ivr-crash").data_dir(&dir);
    opts.extra_args = plan.args();
    let restarted = Server::start(opts);
    assert!(
        restarted.wait_for_log(
            "calls cut off by the last stop are marked and filed",
            1,
            Duration::from_secs(10)
        ),
        "{}",
        restarted.log_tail(20)
    );
    {
        let store = StoreView::open(&dir);
        let ticket = store.only_ticket_of(SHICHENG_CALLER);
        let calls = store.calls_of(&ticket);
        assert_eq!(calls.len(), 1, "{calls:#?}");
        let call = &calls[0];
        assert_eq!(call.id, first_call);
        assert!(call.cut_off && call.ended_at.is_some(), "{call:?}");
        assert_eq!(call.disposition.as_deref(), Some("cut_off"), "{call:?}");
        let tasks = store.tasks_of(&ticket);
        assert!(
            tasks
                .iter()
                .any(|t| t.kind == TaskKind::Callback && t.reason == "cut_off"),
            "{tasks:#?}"
        );
    }

    // The caller rings again: the new call joins the open ticket instead of a second one.
    let outcome = caller(SHICHENG_CALLER, "ivr_caller.xml", Duration::from_secs(6)).run(&restarted);
    outcome.assert_all_ok(1);
    wait_call_over(&restarted);
    let second_call = caller_call_id(&outcome);
    let store = StoreView::open(&dir);
    let ticket = store.only_ticket_of(SHICHENG_CALLER);
    let ids: Vec<String> = store.calls_of(&ticket).into_iter().map(|c| c.id).collect();
    assert_eq!(
        ids,
        vec![first_call, second_call],
        "calls of {}",
        ticket.number
    );
    drop(phone);
    eprintln!("[crash] done in {:.1?}", t0.elapsed());
}
