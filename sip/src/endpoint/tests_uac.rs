//! Outgoing calls (to a lawyer's phone) driven with fake time and a scripted phone.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;
use crate::message::{Method, NameAddr, SipHeaders, Uri};

const PHONE: &str = "127.0.0.1:5072";

fn endpoint() -> Endpoint {
    Endpoint::new(EndpointConfig {
        advertised: "127.0.0.1:5060".parse().unwrap(),
        timers: Timers::default(),
        user_agent: "hotline-test".into(),
    })
}

fn place(ep: &mut Endpoint, now: Instant) -> (CallHandle, Request) {
    let call = ep.invite(
        OutgoingCall {
            target: Uri::parse(&format!("sip:lawyer1@{PHONE}")).unwrap(),
            dest: PHONE.parse().unwrap(),
            transport: Transport::Udp,
            from: NameAddr::parse("<sip:07971234567@hotline>").unwrap(),
            to: NameAddr::parse("<sip:lawyer1@hotline>").unwrap(),
            sdp: b"v=0\r\n".to_vec(),
        },
        now,
    );
    let msgs = sent(ep);
    let Some(Message::Request(invite)) = msgs.into_iter().next() else {
        panic!("no INVITE")
    };
    assert_eq!(invite.method, Method::Invite);
    (call, invite)
}

fn sent(ep: &mut Endpoint) -> Vec<Message> {
    std::iter::from_fn(|| ep.poll_transmit())
        .map(|t| {
            assert_eq!(t.dest, PHONE.parse::<SocketAddr>().unwrap());
            parse_message(&t.bytes).unwrap()
        })
        .collect()
}

fn reply(ep: &mut Endpoint, req: &Request, status: u16, now: Instant) {
    let mut resp = req.response(status, Some("phone"));
    if (200..300).contains(&status) {
        resp.headers
            .push("Contact", format!("<sip:lawyer1@{PHONE}>"));
    }
    ep.handle_message(
        &resp.to_bytes(),
        Transport::Udp,
        PHONE.parse().unwrap(),
        now,
    );
}

fn methods(msgs: &[Message]) -> Vec<Method> {
    msgs.iter()
        .filter_map(|m| match m {
            Message::Request(r) => Some(r.method.clone()),
            Message::Response(_) => None,
        })
        .collect()
}

#[test]
fn ringing_then_answer_sends_ack_and_confirms() {
    let t0 = Instant::now();
    let mut ep = endpoint();
    let (call, invite) = place(&mut ep, t0);
    reply(&mut ep, &invite, 180, t0);
    assert_eq!(ep.poll_event(), Some(Event::Progress { call, status: 180 }));
    reply(&mut ep, &invite, 200, t0);
    assert!(matches!(ep.poll_event(), Some(Event::Answered { call: c, .. }) if c == call));
    let msgs = sent(&mut ep);
    let Some(Message::Request(ack)) = msgs.first() else {
        panic!()
    };
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.cseq().unwrap().seq, invite.cseq().unwrap().seq);
    assert_ne!(
        ack.top_via().unwrap().branch(),
        invite.top_via().unwrap().branch(),
        "2xx ACK is a new transaction"
    );
    // A retransmitted 200 (our ACK was lost) gets the same ACK again, not a second call.
    reply(&mut ep, &invite, 200, t0 + Duration::from_millis(500));
    assert_eq!(methods(&sent(&mut ep)), vec![Method::Ack]);
    assert!(ep.poll_event().is_none());
    // The lawyer hangs up.
    let bye = format!(
        "BYE sip:hotline@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {PHONE};branch=z9hG4bK-lb\r\n\
From: <sip:lawyer1@hotline>;tag=phone\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: 5 BYE\r\nContent-Length: 0\r\n\r\n",
        invite.headers.get("From").unwrap(),
        invite.call_id().unwrap()
    );
    ep.handle_message(
        bye.as_bytes(),
        Transport::Udp,
        PHONE.parse().unwrap(),
        t0 + Duration::from_secs(1),
    );
    assert_eq!(
        ep.poll_event(),
        Some(Event::CallEnded {
            call,
            reason: EndReason::RemoteHangup
        })
    );
}

#[test]
fn hangup_while_ringing_cancels_and_487_is_acked_by_the_transaction() {
    let t0 = Instant::now();
    let mut ep = endpoint();
    let (call, invite) = place(&mut ep, t0);
    reply(&mut ep, &invite, 180, t0);
    ep.poll_event();
    ep.hangup(call, t0);
    let msgs = sent(&mut ep);
    let Some(Message::Request(cancel)) = msgs.first() else {
        panic!()
    };
    assert_eq!(cancel.method, Method::Cancel);
    assert_eq!(
        cancel.top_via().unwrap().branch(),
        invite.top_via().unwrap().branch(),
        "§9.1 same branch"
    );
    assert_eq!(
        ep.poll_event(),
        Some(Event::CallEnded {
            call,
            reason: EndReason::LocalHangup
        })
    );
    reply(&mut ep, cancel, 200, t0);
    reply(&mut ep, &invite, 487, t0);
    assert_eq!(methods(&sent(&mut ep)), vec![Method::Ack]);
}

#[test]
fn cancel_waits_for_a_provisional_and_a_racing_200_is_acked_and_hung_up() {
    let t0 = Instant::now();
    let mut ep = endpoint();
    let (call, invite) = place(&mut ep, t0);
    ep.hangup(call, t0);
    assert!(
        sent(&mut ep).is_empty(),
        "no CANCEL before a provisional (§9.1)"
    );
    reply(&mut ep, &invite, 100, t0);
    reply(&mut ep, &invite, 180, t0);
    assert_eq!(methods(&sent(&mut ep)), vec![Method::Cancel]);
    // The phone answered before it saw the CANCEL.
    reply(&mut ep, &invite, 200, t0);
    assert_eq!(methods(&sent(&mut ep)), vec![Method::Ack, Method::Bye]);
    assert_eq!(
        ep.poll_event(),
        Some(Event::CallEnded {
            call,
            reason: EndReason::LocalHangup
        })
    );
    assert!(
        ep.poll_event().is_none(),
        "no Answered for a call we hung up"
    );
}

#[test]
fn unanswered_invite_times_out_with_408_after_retransmissions() {
    let t0 = Instant::now();
    let mut ep = endpoint();
    let (call, _invite) = place(&mut ep, t0);
    let mut resends = 0;
    while let Some(wake) = ep
        .poll_timeout()
        .filter(|w| *w <= t0 + Duration::from_secs(40))
    {
        ep.handle_timeout(wake);
        resends += sent(&mut ep).len();
    }
    assert_eq!(resends, 6, "Timer A: 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s");
    assert_eq!(
        ep.poll_event(),
        Some(Event::CallEnded {
            call,
            reason: EndReason::Failed(408)
        })
    );
}

#[test]
fn busy_phone_fails_the_call() {
    let t0 = Instant::now();
    let mut ep = endpoint();
    let (call, invite) = place(&mut ep, t0);
    reply(&mut ep, &invite, 486, t0);
    assert_eq!(methods(&sent(&mut ep)), vec![Method::Ack]);
    assert_eq!(
        ep.poll_event(),
        Some(Event::CallEnded {
            call,
            reason: EndReason::Failed(486)
        })
    );
}
