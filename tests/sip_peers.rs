//! End-to-end SIP tests: the real `hotline serve` against real SIPp
//! scenarios (tests/sipp/*.xml), on 127.0.0.1 only. Each test starts its
//! own server on its own ports, so they run in parallel.
//!
//! Needs `sipp` (Debian package sip-tester); `bash scripts/test.sh`
//! installs it. On failure a test prints SIPp's counters, its error log,
//! the last SIP messages it traced, and the tail of the server log; the
//! data dir (with every log) is kept and its path printed.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{Server, ServerOptions, Sipp, StoreView, parse_trace};

// ------------------------------------------------------------ calls

/// 200 calls at 50 calls/s over UDP, none may fail, and none is lost in the store: each
/// call's CDR is complete and each caller (`caller1`..`caller200`) has exactly one ticket.
#[test]
fn basic_calls_udp_200_at_50_per_second() {
    let server = Server::start(ServerOptions::named("basic-udp"));
    Sipp::new("uac_basic.xml")
        .calls(200)
        .rate(50)
        .limit(200)
        .run(&server)
        .assert_all_ok(200);
    let store = StoreView::open(&server.data_dir);
    // The last calls are filed just after their BYE was answered.
    let deadline = Instant::now() + Duration::from_secs(10);
    let calls = loop {
        let calls = store.all_calls();
        if calls.iter().all(|c| c.ended_at.is_some()) || Instant::now() > deadline {
            break calls;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(calls.len(), 200, "calls in the store");
    let open: Vec<_> = calls.iter().filter(|c| c.ended_at.is_none()).collect();
    assert!(open.is_empty(), "calls never ended in the store: {open:#?}");
    for n in 1..=200 {
        let caller = format!("caller{n}");
        let ticket = store.only_ticket_of(&caller);
        assert_eq!(store.calls_of(&ticket).len(), 1, "{ticket:?}");
    }
}

/// 20 calls over TCP (one connection, SIPp -t t1).
#[test]
fn basic_calls_tcp() {
    let server = Server::start(ServerOptions::named("basic-tcp"));
    Sipp::new("uac_basic.xml")
        .tcp()
        .calls(20)
        .rate(10)
        .limit(20)
        .run(&server)
        .assert_all_ok(20);
}

/// The caller hangs up while it rings: CANCEL -> 200, INVITE -> 487, ACK.
#[test]
fn cancel_while_ringing_gets_487() {
    let server = Server::start(ServerOptions::named("cancel").answer_delay_ms(3000));
    Sipp::new("uac_cancel.xml")
        .calls(3)
        .rate(10)
        .limit(3)
        .run(&server)
        .assert_all_ok(3);
}

/// The same INVITE twice (same branch, CSeq): one dialog, one 200.
/// -nr: see the scenario's header.
#[test]
fn retransmitted_invite_makes_one_dialog() {
    let server = Server::start(ServerOptions::named("retrans-invite").answer_delay_ms(1000));
    Sipp::new("uac_retransmit.xml")
        .calls(3)
        .rate(10)
        .limit(3)
        .arg("-nr")
        .run(&server)
        .assert_all_ok(3);
}

/// No ACK for the 200: the server retransmits the same 200 after T1 and
/// again after 2*T1 (500 ms, then 1 s later). -nr: see the scenario.
#[test]
fn unacknowledged_200_is_retransmitted() {
    let server = Server::start(ServerOptions::named("retrans-200"));
    let outcome = Sipp::new("uac_retransmit_200.xml")
        .calls(2)
        .rate(10)
        .limit(2)
        .arg("-nr")
        .run(&server);
    outcome.assert_all_ok(2);

    // The intervals between the copies of the 200, per call.
    let trace = parse_trace(&outcome.messages());
    let mut per_call: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for m in trace.iter().filter(|m| {
        !m.sent && m.status() == Some(200) && m.cseq().is_some_and(|c| c.ends_with("INVITE"))
    }) {
        per_call
            .entry(m.call_id().unwrap_or_default())
            .or_default()
            .push(m.at);
    }
    assert_eq!(
        per_call.len(),
        2,
        "200s of 2 calls expected in the trace: {per_call:?}"
    );
    for (call, times) in &per_call {
        assert!(
            times.len() >= 3,
            "call {call}: {} copies of the 200, expected 3",
            times.len()
        );
        // (wall-clock seconds since midnight: wrap at midnight)
        let first = (times[1] - times[0]).rem_euclid(86_400.0);
        let second = (times[2] - times[1]).rem_euclid(86_400.0);
        assert!(
            (0.35..=0.9).contains(&first) && (0.8..=1.6).contains(&second),
            "call {call}: 200 retransmitted after {first:.3} s then {second:.3} s; expected about 0.5 s then 1 s (T1, 2*T1)\n{}",
            outcome.report()
        );
    }
}

/// SIGTERM during a call: the server sends BYE, then exits 0.
#[test]
fn sigterm_hangs_up_calls_and_exits_0() {
    let mut server = Server::start(ServerOptions::named("sigterm"));
    let mut sipp = Sipp::new("uac_server_bye.xml")
        .calls(1)
        .limit(1)
        .timeout(Duration::from_secs(40))
        .spawn(&server);
    // The call is up once SIPp has sent its ACK.
    assert!(
        sipp.wait_for_message("ACK sip:", Duration::from_secs(15)),
        "the call was not established within 15 s; SIPp messages so far:\n{}\nserver log:\n{}",
        sipp.messages_so_far(),
        server.log_tail(60)
    );
    let (status, took) = server.stop_within(Duration::from_secs(10));
    eprintln!("hotline serve exited {status} {took:.1?} after SIGTERM");
    let outcome = sipp.wait();
    outcome.assert_all_ok(1);
    assert!(
        status.success(),
        "hotline serve exited with {status} after SIGTERM (expected 0); server log:\n{}",
        server.log_tail(60)
    );
}

// ------------------------------------------------------------ register

const LAWYER: &str = "lawyer1";
const LAWYER_PASSWORD: &str = "Zh4ng-s3cret";

#[test]
fn register_with_right_password_gets_200() {
    let server = Server::start(ServerOptions::named("register-ok").phone(LAWYER, LAWYER_PASSWORD));
    Sipp::new("register_ok.xml")
        .service(LAWYER)
        .args(&["-au", LAWYER, "-ap", LAWYER_PASSWORD])
        .run(&server)
        .assert_all_ok(1);
}

#[test]
fn register_with_wrong_password_gets_403() {
    let server =
        Server::start(ServerOptions::named("register-wrong").phone(LAWYER, LAWYER_PASSWORD));
    Sipp::new("register_wrong.xml")
        .service(LAWYER)
        .args(&["-au", LAWYER, "-ap", "not-the-password"])
        .run(&server)
        .assert_all_ok(1);
}

// ------------------------------------------------------------ parsing
// Each of these ends with a plain OPTIONS that must get 200.

fn one_call(name: &str, scenario: &str) {
    let server = Server::start(ServerOptions::named(name));
    Sipp::new(scenario)
        .calls(1)
        .limit(1)
        .timeout(Duration::from_secs(30))
        .run(&server)
        .assert_all_ok(1);
}

#[test]
fn compact_header_names() {
    one_call("compact", "malformed_compact.xml");
}

#[test]
fn folded_header_lines() {
    one_call("folded", "malformed_folded.xml");
}

#[test]
fn tel_uris_in_from_and_to() {
    one_call("tel-uri", "malformed_tel_uri.xml");
}

#[test]
fn ipv6_via() {
    one_call("ipv6-via", "malformed_ipv6_via.xml");
}

#[test]
fn comma_joined_via_is_echoed_in_order() {
    one_call("multi-via", "malformed_multi_via.xml");
}

#[test]
fn unknown_method_gets_501() {
    one_call("unknown-method", "malformed_unknown_method.xml");
}

#[test]
fn broken_request_uri_gets_400() {
    one_call("bad-ruri", "malformed_bad_ruri.xml");
}
