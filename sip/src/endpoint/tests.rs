//! The endpoint driven through whole call flows with fake time: a scripted caller on one side,
//! assertions on every message the endpoint sends.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;
use crate::message::{Method, SipHeaders};

const CALLER: &str = "127.0.0.1:5061";

fn endpoint() -> Endpoint {
    Endpoint::new(EndpointConfig {
        advertised: "127.0.0.1:5060".parse().unwrap(),
        timers: Timers::default(),
        user_agent: "hotline-test".into(),
    })
}

fn invite(branch: &str, extra: &str) -> String {
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n";
    format!(
        "INVITE sip:12348@127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP {CALLER};branch={branch}\r\n\
From: <sip:07971234567@127.0.0.1>;tag=caller\r\n\
To: <sip:12348@127.0.0.1>\r\n\
Call-ID: call-1\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:07971234567@{CALLER}>\r\n\
{extra}Content-Type: application/sdp\r\n\
Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
}

fn in_dialog(method: &str, branch: &str, seq: u32, to_tag: &str) -> String {
    format!(
        "{method} sip:hotline@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP {CALLER};branch={branch}\r\n\
From: <sip:07971234567@127.0.0.1>;tag=caller\r\n\
To: <sip:12348@127.0.0.1>;tag={to_tag}\r\n\
Call-ID: call-1\r\n\
CSeq: {seq} {method}\r\n\
Content-Length: 0\r\n\r\n"
    )
}

fn feed(ep: &mut Endpoint, text: &str, now: Instant) {
    let src: SocketAddr = CALLER.parse().unwrap();
    ep.handle_message(text.as_bytes(), Transport::Udp, src, now);
}

fn sent(ep: &mut Endpoint) -> Vec<Message> {
    std::iter::from_fn(|| ep.poll_transmit())
        .map(|t| {
            assert_eq!(t.dest, CALLER.parse().unwrap());
            parse_message(&t.bytes).unwrap()
        })
        .collect()
}

fn statuses(msgs: &[Message]) -> Vec<u16> {
    msgs.iter()
        .filter_map(|m| match m {
            Message::Response(r) => Some(r.status),
            Message::Request(_) => None,
        })
        .collect()
}

fn incoming(ep: &mut Endpoint) -> CallHandle {
    match ep.poll_event() {
        Some(Event::IncomingCall { call, .. }) => call,
        other => panic!("expected IncomingCall, got {other:?}"),
    }
}

fn to_tag(msgs: &[Message]) -> String {
    msgs.iter()
        .find_map(|m| match m {
            Message::Response(r) if r.status == 200 => r.header_to().ok()?.tag().map(str::to_owned),
            _ => None,
        })
        .expect("a 200 with a To tag")
}

/// Runs the endpoint's timers up to `until`, returning everything it sent.
fn run_until(ep: &mut Endpoint, until: Instant) -> Vec<(Instant, Message)> {
    let mut out = Vec::new();
    while let Some(wake) = ep.poll_timeout().filter(|w| *w <= until) {
        ep.handle_timeout(wake);
        out.extend(sent(ep).into_iter().map(|m| (wake, m)));
    }
    out
}

#[test]
fn answered_call_retransmits_200_until_ack_then_bye_ends_it() {
    let t0 = Instant::now();
    let mut ep = endpoint();
    feed(&mut ep, &invite("z9hG4bK-1", ""), t0);
    assert_eq!(statuses(&sent(&mut ep)), vec![100]);
    let call = incoming(&mut ep);
    ep.answer(call, b"v=0\r\n".to_vec(), t0);
    let first = sent(&mut ep);
    assert_eq!(statuses(&first), vec![200]);
    let tag = to_tag(&first);

    // 200 lost twice: resent at T1 and 2*T1 later.
    let resent = run_until(&mut ep, t0 + Duration::from_millis(1600));
    let times: Vec<_> = resent.iter().map(|(t, _)| (*t - t0).as_millis()).collect();
    assert_eq!(times, vec![500, 1500]);

    feed(
        &mut ep,
        &in_dialog("ACK", "z9hG4bK-ack", 1, &tag),
        t0 + Duration::from_millis(1700),
    );
    assert_eq!(ep.poll_event(), Some(Event::CallConfirmed { call }));
    assert!(
        run_until(&mut ep, t0 + Duration::from_secs(10)).is_empty(),
        "ACK stops the 200"
    );

    feed(
        &mut ep,
        &in_dialog("BYE", "z9hG4bK-bye", 2, &tag),
        t0 + Duration::from_secs(11),
    );
    assert_eq!(statuses(&sent(&mut ep)), vec![200]);
    assert_eq!(
        ep.poll_event(),
        Some(Event::CallEnded {
            call,
            reason: EndReason::RemoteHangup
        })
    );
    assert!(ep.is_idle());
}

#[test]
fn retransmitted_invite_is_absorbed() {
    let t0 = Instant::now();
    let mut ep = endpoint();
    feed(&mut ep, &invite("z9hG4bK-r", ""), t0);
    feed(
        &mut ep,
        &invite("z9hG4bK-r", ""),
        t0 + Duration::from_millis(500),
    );
    assert_eq!(
        statuses(&sent(&mut ep)),
        vec![100, 100],
        "retransmission gets the 100 again"
    );
    incoming(&mut ep);
    assert!(ep.poll_event().is_none(), "only one call offered");
    assert_eq!(ep.active_calls(), 1);
}

#[test]
fn cancel_before_answer_gets_487() {
    let t0 = Instant::now();
    let mut ep = endpoint();
    feed(&mut ep, &invite("z9hG4bK-c", ""), t0);
    let call = incoming(&mut ep);
    ep.ring(call, 180, t0);
    sent(&mut ep);
    let cancel = invite("z9hG4bK-c", "")
        .replace("INVITE sip", "CANCEL sip")
        .replace("1 INVITE", "1 CANCEL");
    feed(&mut ep, &cancel, t0 + Duration::from_secs(1));
    assert_eq!(statuses(&sent(&mut ep)), vec![200, 487]);
    assert_eq!(
        ep.poll_event(),
        Some(Event::CallEnded {
            call,
            reason: EndReason::Cancelled
        })
    );
    // The caller's ACK for the 487 ends the INVITE transaction (Timer I).
    let ack = invite("z9hG4bK-c", "")
        .replace("INVITE sip", "ACK sip")
        .replace("1 INVITE", "1 ACK");
    feed(&mut ep, &ack, t0 + Duration::from_secs(1));
    assert!(
        run_until(&mut ep, t0 + Duration::from_secs(60)).is_empty(),
        "no 487 retransmission after ACK"
    );
    assert!(ep.server.is_empty());
}

#[test]
fn cancel_that_loses_the_race_with_200_only_gets_its_own_200() {
    let t0 = Instant::now();
    let mut ep = endpoint();
    feed(&mut ep, &invite("z9hG4bK-race", ""), t0);
    let call = incoming(&mut ep);
    ep.answer(call, b"v=0\r\n".to_vec(), t0);
    sent(&mut ep);
    let cancel = invite("z9hG4bK-race", "")
        .replace("INVITE sip", "CANCEL sip")
        .replace("1 INVITE", "1 CANCEL");
    feed(&mut ep, &cancel, t0 + Duration::from_millis(10));
    assert_eq!(statuses(&sent(&mut ep)), vec![200]);
    assert!(ep.poll_event().is_none(), "the answered call goes on");
    assert_eq!(ep.active_calls(), 1);
}

#[test]
fn no_ack_within_64_t1_hangs_up_with_bye() {
    let t0 = Instant::now();
    let mut ep = endpoint();
    feed(&mut ep, &invite("z9hG4bK-n", ""), t0);
    let call = incoming(&mut ep);
    ep.answer(call, b"v=0\r\n".to_vec(), t0);
    sent(&mut ep);
    let out = run_until(&mut ep, t0 + Duration::from_secs(33));
    let times: Vec<_> = out
        .iter()
        .filter(|(_, m)| matches!(m, Message::Response(_)))
        .map(|(t, _)| (*t - t0).as_millis())
        .collect();
    assert_eq!(
        &times[..4],
        &[500, 1500, 3500, 7500],
        "T1 doubling capped at T2"
    );
    assert!(
        out.iter()
            .any(|(_, m)| matches!(m, Message::Request(r) if r.method == Method::Bye))
    );
    assert_eq!(
        ep.poll_event(),
        Some(Event::CallEnded {
            call,
            reason: EndReason::NoAck
        })
    );
}

#[test]
fn local_hangup_sends_bye_in_dialog() {
    let t0 = Instant::now();
    let mut ep = endpoint();
    feed(&mut ep, &invite("z9hG4bK-h", ""), t0);
    let call = incoming(&mut ep);
    ep.answer(call, b"v=0\r\n".to_vec(), t0);
    let tag = to_tag(&sent(&mut ep));
    feed(&mut ep, &in_dialog("ACK", "z9hG4bK-a", 1, &tag), t0);
    ep.hangup(call, t0);
    let msgs = sent(&mut ep);
    let Some(Message::Request(bye)) = msgs.first() else {
        panic!("{msgs:?}")
    };
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(bye.uri.to_string(), format!("sip:07971234567@{CALLER}"));
    assert_eq!(bye.header_from().unwrap().tag(), Some(tag.as_str()));
    assert!(!ep.is_idle(), "BYE transaction still running");
    let ok = bye.response(200, None);
    ep.handle_message(&ok.to_bytes(), Transport::Udp, CALLER.parse().unwrap(), t0);
    run_until(&mut ep, t0 + Duration::from_secs(6));
    assert!(ep.is_idle());
}

#[test]
fn reinvite_for_hold_is_offered_and_answered() {
    let t0 = Instant::now();
    let mut ep = endpoint();
    feed(&mut ep, &invite("z9hG4bK-1", ""), t0);
    let call = incoming(&mut ep);
    ep.answer(call, b"v=0\r\n".to_vec(), t0);
    let tag = to_tag(&sent(&mut ep));
    feed(&mut ep, &in_dialog("ACK", "z9hG4bK-a", 1, &tag), t0);
    ep.poll_event();
    feed(&mut ep, &in_dialog("INVITE", "z9hG4bK-re", 2, &tag), t0);
    assert!(matches!(ep.poll_event(), Some(Event::Reoffer { .. })));
    ep.answer(call, b"v=0\r\n".to_vec(), t0);
    assert_eq!(statuses(&sent(&mut ep)), vec![100, 200]);
    feed(&mut ep, &in_dialog("ACK", "z9hG4bK-a2", 2, &tag), t0);
    assert!(run_until(&mut ep, t0 + Duration::from_secs(5)).is_empty());
}

#[test]
fn uas_rules_of_8_2() {
    let t0 = Instant::now();
    let mut ep = endpoint();
    let unknown = in_dialog("FOOBAR", "z9hG4bK-u", 1, "x").replace(";tag=x", "");
    feed(&mut ep, &unknown, t0);
    let msgs = sent(&mut ep);
    assert_eq!(statuses(&msgs), vec![501]);
    let Message::Response(r) = &msgs[0] else {
        panic!()
    };
    assert_eq!(
        r.headers.get_all("Allow").collect::<Vec<_>>().join(", "),
        ALLOW
    );

    feed(
        &mut ep,
        &in_dialog("SUBSCRIBE", "z9hG4bK-s", 1, "x").replace(";tag=x", ""),
        t0,
    );
    assert_eq!(statuses(&sent(&mut ep)), vec![405]);

    feed(
        &mut ep,
        &in_dialog("BYE", "z9hG4bK-b", 1, "nosuchdialog"),
        t0,
    );
    assert_eq!(statuses(&sent(&mut ep)), vec![481]);

    feed(
        &mut ep,
        &invite("z9hG4bK-req", "Require: 100rel, foo\r\n"),
        t0,
    );
    let msgs = sent(&mut ep);
    assert_eq!(statuses(&msgs), vec![420]);
    let Message::Response(r) = &msgs[0] else {
        panic!()
    };
    assert_eq!(
        r.headers.get_all("Unsupported").collect::<Vec<_>>(),
        ["100rel", "foo"]
    );

    feed(
        &mut ep,
        &invite("z9hG4bK-ct", "").replace("application/sdp", "text/plain"),
        t0,
    );
    assert_eq!(statuses(&sent(&mut ep)), vec![415]);

    let broken =
        invite("z9hG4bK-bad", "").replace("INVITE sip:12348@127.0.0.1", "INVITE sip:@@bad@");
    feed(&mut ep, &broken, t0);
    assert_eq!(statuses(&sent(&mut ep)), vec![400]);

    feed(
        &mut ep,
        &in_dialog("OPTIONS", "z9hG4bK-o", 1, "x").replace(";tag=x", ""),
        t0,
    );
    assert_eq!(statuses(&sent(&mut ep)), vec![200]);
    assert_eq!(ep.active_calls(), 0);
}

#[test]
fn comma_joined_via_response_keeps_both_and_honours_rport() {
    let t0 = Instant::now();
    let mut ep = endpoint();
    let text = in_dialog("OPTIONS", "z9hG4bK-o", 1, "x")
        .replace(";tag=x", "")
        .replace(
            &format!("Via: SIP/2.0/UDP {CALLER};branch=z9hG4bK-o"),
            "Via: SIP/2.0/UDP [::1]:7000;branch=z9hG4bK-o;rport, SIP/2.0/UDP 10.1.1.1;branch=z9hG4bK-p",
        );
    feed(&mut ep, &text, t0);
    let msgs = sent(&mut ep); // sent() asserts the destination is the source (rport)
    let Message::Response(r) = &msgs[0] else {
        panic!()
    };
    let vias = r.vias().unwrap();
    assert_eq!(vias.len(), 2);
    assert_eq!(vias[0].params.value("received"), Some("127.0.0.1"));
    assert_eq!(vias[0].params.value("rport"), Some("5061"));
}
