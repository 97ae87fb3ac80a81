//! Latching, send continuity, telephone-events and RTCP between two sessions.

use rtp_rs::{RtpPacketBuilder, Seq};

use super::*;
use std::sync::LazyLock;
use std::time::UNIX_EPOCH;

static T0: LazyLock<Instant> = LazyLock::new(Instant::now);

fn at(ms: u64) -> Instant {
    *T0 + Duration::from_millis(ms)
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn pkt(pt: u8, ssrc: u32, seq: u16) -> Vec<u8> {
    let b = RtpPacketBuilder::new().payload_type(pt).ssrc(ssrc);
    let b = b.sequence(Seq::from(seq)).timestamp(u32::from(seq) * 160);
    b.payload(&[0xd5; 160]).build().unwrap()
}

/// Feeds a packet at `ms`; `Ok` if delivered (audio or event).
fn feed(s: &mut RtpSession, p: &[u8], from: &str, ms: u64) -> Result<(), IgnoreReason> {
    match s.handle_packet(p, addr(from), at(ms)) {
        Received::Ignored(reason) => Err(reason),
        _ => Ok(()),
    }
}

/// `(payload type, marker, seq, timestamp)` of a built packet.
fn read(p: &[u8]) -> (u8, bool, u16, u32) {
    let r = RtpReader::new(p).unwrap();
    let seq = r.sequence_number().into();
    (r.payload_type(), r.mark(), seq, r.timestamp())
}

fn session(sdp: &str) -> RtpSession {
    let mut s = RtpSession::new(Some(0xabc), 8000, RtpConfig::default());
    s.set_remote(Some(addr(sdp)), 0, Some(101)).unwrap();
    s
}

#[test]
fn latching_ignoring_and_relatching() {
    let (nat, third, rebound) = ("127.0.0.1:5555", "127.0.0.1:7777", "127.0.0.1:6666");
    let (sdp, sdp2) = ("10.0.0.1:4000", "192.0.2.7:7000");
    let mut s = session(sdp);
    assert_eq!(s.send_destination(), Some(addr(sdp)));
    // Invalid packets never latch.
    let short = IgnoreReason::Malformed(HeaderError::TooShort(5));
    assert_eq!(feed(&mut s, &[0x80; 5], nat, 0), Err(short));
    let mut v1 = pkt(0, 1, 1);
    v1[0] = 0x40;
    let v1_err = IgnoreReason::Malformed(HeaderError::Version(1));
    assert_eq!(feed(&mut s, &v1, nat, 0), Err(v1_err));
    let pt18 = IgnoreReason::UnknownPayloadType(18);
    assert_eq!(feed(&mut s, &pkt(18, 1, 1), nat, 0), Err(pt18));
    assert_eq!(s.latched(), None);
    assert_eq!(s.counters().ignored_invalid, 3);
    // The first valid packet latches.
    for seq in 1..=5 {
        assert_eq!(
            feed(&mut s, &pkt(0, 1, seq), nat, 20 * u64::from(seq)),
            Ok(())
        );
    }
    assert_eq!(s.send_destination(), Some(addr(nat)));
    assert_eq!(s.rtcp_destination(), Some(addr("127.0.0.1:5556")));
    // A third address is ignored, even sending 3 packets while the latched one is active.
    let foreign = Err(IgnoreReason::ForeignSource(addr(third)));
    for seq in 0..3 {
        assert_eq!(feed(&mut s, &pkt(0, 9, seq), third, 110), foreign);
    }
    assert_eq!(feed(&mut s, &pkt(0, 1, 6), nat, 120), Ok(()));
    assert_eq!(s.counters().ignored_foreign, 3);
    // NAT rebinding: silent for 2 s, then 3 packets with one SSRC from a new address.
    assert!(feed(&mut s, &pkt(0, 2, 7), rebound, 2120).is_err());
    assert!(feed(&mut s, &pkt(0, 2, 8), rebound, 2120).is_err());
    assert_eq!(feed(&mut s, &pkt(0, 2, 9), rebound, 2120), Ok(()));
    assert_eq!(s.send_destination(), Some(addr(rebound)));
    assert_eq!(s.counters().relatches, 1);
    assert_eq!(s.receive_stats().map(ReceptionStats::ssrc), Some(2));
    assert!(
        feed(&mut s, &pkt(0, 1, 7), nat, 2121).is_err(),
        "old one now foreign"
    );
    // Re-INVITE with a new address resets latching.
    s.set_remote(Some(addr(sdp2)), 8, Some(101)).unwrap();
    assert_eq!(s.latched(), None);
    assert_eq!(s.send_destination(), Some(addr(sdp2)));
    assert_eq!(feed(&mut s, &pkt(8, 3, 1), third, 2200), Ok(()));
    assert_eq!(s.send_destination(), Some(addr(third)));
    // The SDP address itself is always trusted.
    assert_eq!(feed(&mut s, &pkt(8, 3, 2), sdp2, 2220), Ok(()));
    assert_eq!(s.send_destination(), Some(addr(sdp2)));
    // Hold: no destination.
    s.set_remote(None, 8, Some(101)).unwrap();
    assert_eq!((s.send_destination(), s.rtcp_destination()), (None, None));
    let invalid = Err(RtpError::InvalidPayloadType(128));
    assert_eq!(s.set_remote(None, 128, None), invalid);
}

#[test]
fn send_continuity_wraparound_pt_change_and_silence() {
    let mut s = session("127.0.0.1:4000");
    (s.seq, s.timestamp) = (65_000, u32::MAX - 50_000);
    let mut prev: Option<(u16, u32)> = None;
    for i in 0..1000u32 {
        let p = s.build_audio(&[i as u8; 160], 160, false).unwrap();
        let (pt, marker, seq, ts) = read(&p);
        assert_eq!(
            (pt, marker, p.len()),
            (0, i == 0, 172),
            "marker: first only"
        );
        assert_eq!(RtpReader::new(&p).unwrap().ssrc(), 0xabc);
        if let Some((p_seq, p_ts)) = prev {
            assert_eq!(seq, p_seq.wrapping_add(1));
            assert_eq!(ts, p_ts.wrapping_add(160));
        }
        prev = Some((seq, ts));
    }
    let (seq, ts) = prev.unwrap();
    assert!(seq < 65_000 && ts < 200_000, "both wrapped");
    // Re-INVITE switches PCMU -> PCMA: sequence and timestamp keep running.
    s.set_remote(Some(addr("127.0.0.1:4000")), 8, None).unwrap();
    let p = s.build_audio(&[0xd5; 160], 160, false).unwrap();
    let expected = (8, false, seq.wrapping_add(1), ts.wrapping_add(160));
    assert_eq!(read(&p), expected);
    // One second on hold: the timestamp still advances, and a talkspurt begins.
    s.advance_silence(8000);
    let mut buf = [0u8; 200];
    let n = s.build_audio_into(&[1; 160], 160, false, &mut buf).unwrap();
    let expected = (8, true, seq.wrapping_add(2), ts.wrapping_add(8320));
    assert_eq!(read(&buf[..n]), expected);
    let res = s.build_audio_into(&[0; 160], 160, false, &mut buf[..100]);
    assert_eq!(res, Err(RtpError::BufferTooSmall { needed: 172 }));
    assert_eq!(s.counters().packets_sent, 1002);
    let mut fresh = RtpSession::new(None, 8000, RtpConfig::default());
    let res = fresh.build_audio(&[0; 160], 160, false);
    assert_eq!(res, Err(RtpError::NotNegotiated));
}

#[test]
fn telephone_events_per_rfc4733() {
    let mut s = session("127.0.0.1:4000");
    (s.seq, s.timestamp) = (10, 1000);
    s.build_audio(&[0; 160], 160, false).unwrap();
    let mut packets = s.build_telephone_event(5, false, 160, 10, true).unwrap();
    packets.extend(s.build_telephone_event(5, false, 320, 10, false).unwrap());
    let end = s.build_telephone_event(5, true, 480, 10, false).unwrap();
    assert_eq!(end.len(), 3);
    packets.extend(end);
    let mut rx = session("127.0.0.1:5000");
    for (i, p) in packets.iter().enumerate() {
        let (seq, marker) = (11 + i as u16, i == 0);
        assert_eq!(
            read(p),
            (101, marker, seq, 1160),
            "one timestamp, marker first"
        );
        let (e_bit, duration) = if i < 2 {
            (0, 160 * (seq - 10))
        } else {
            (0x80, 480)
        };
        let [d0, d1] = duration.to_be_bytes();
        let payload = &[5, e_bit | 10, d0, d1][..];
        let (ssrc, payload_type, timestamp) = (0xabc, 101, 1160);
        let event = MediaPacket {
            ssrc,
            payload_type,
            seq,
            timestamp,
            marker,
            payload,
        };
        let got = rx.handle_packet(p, addr("127.0.0.1:4000"), at(0));
        assert_eq!(got, Received::TelephoneEvent(event));
    }
    // Audio resumes after the event's duration.
    let p = s.build_audio(&[0; 160], 160, false).unwrap();
    assert_eq!(read(&p).3, 1160 + 480);
    s.set_remote(Some(addr("127.0.0.1:4000")), 0, None).unwrap();
    let res = s.build_telephone_event(1, false, 0, 0, true);
    assert_eq!(res, Err(RtpError::NoTelephoneEvent));
}

#[test]
fn garbage_never_panics() {
    let mut s = session("127.0.0.1:4000");
    let mut x: u64 = 1;
    let mut next = move || {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (x >> 33) as usize
    };
    for i in 0..20_000 {
        // Valid packets of both payload types with random flags (P, X, CC), bytes, length.
        let mut p = pkt(if i % 2 == 0 { 0 } else { 101 }, 5, i as u16);
        p[0] = 0x80 | (next() as u8 & 0x3f);
        for _ in 0..next() % 3 {
            let at = next() % p.len();
            p[at] = next() as u8;
        }
        p.truncate(next() % (p.len() + 1));
        let _ = s.handle_packet(&p, addr("127.0.0.1:9"), at(i));
    }
}

#[test]
fn rtcp_reports_between_two_sessions() {
    let (a_addr, b_addr) = ("127.0.0.1:4000", "127.0.0.1:5000");
    let ntp = super::super::rtcp::ntp_timestamp(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let mut a = session(b_addr);
    let mut b = RtpSession::new(Some(0xb), 8000, RtpConfig::default());
    b.set_remote(Some(addr(a_addr)), 0, None).unwrap();
    for i in 0..10 {
        let p = a.build_audio(&[0; 160], 160, false).unwrap();
        feed(&mut b, &p, a_addr, 20 * i).unwrap();
    }
    let p = b.build_audio(&[0; 160], 160, false).unwrap();
    feed(&mut a, &p, b_addr, 0).unwrap();
    // a sent RTP: an SR with its counts; b learns LSR and the RTCP source.
    let sr = a.rtcp_report(at(200), ntp, "a");
    let parsed = b.handle_rtcp(&sr, addr("127.0.0.1:4001"), at(210)).unwrap();
    let RtcpPacket::SenderReport {
        ssrc: 0xabc, info, ..
    } = &parsed[0]
    else {
        panic!("{parsed:?}")
    };
    assert_eq!((info.packet_count, info.octet_count), (10, 1600));
    assert_eq!(b.rtcp_destination(), Some(addr("127.0.0.1:4001")));
    b.rtcp_report(at(210), ntp, "b"); // an SR: b sent one packet
    // One second later b has sent nothing: an RR echoing a's SR with DLSR = 1 s.
    let rr = b.rtcp_report(at(1210), ntp, "b");
    let parsed = super::super::rtcp::parse_compound(&rr).unwrap();
    let RtcpPacket::ReceiverReport { ssrc: 0xb, reports } = &parsed[0] else {
        panic!("{parsed:?}")
    };
    let r = reports[0];
    assert_eq!((r.ssrc, r.last_sr), (0xabc, (ntp >> 16) as u32));
    assert_eq!(r.delay_since_last_sr, 65536);
    let highest = u32::from(a.seq.wrapping_sub(1));
    assert_eq!((r.extended_highest_seq, r.cumulative_lost), (highest, 0));
    // Round trip = arrival - SR send time - DLSR = 1260 - 200 - 1000 ms.
    a.handle_rtcp(&rr, addr(b_addr), at(1260)).unwrap();
    let rtt = a.rtcp().remote_report().unwrap().round_trip;
    assert_eq!(rtt, Some(Duration::from_millis(60)));
    assert!(!a.rtcp().remote_sent_bye());
    let bye = b.rtcp_bye(at(2000), ntp, "b", "bye");
    a.handle_rtcp(&bye, addr(b_addr), at(2000)).unwrap();
    assert!(a.rtcp().remote_sent_bye());
    let garbage = a.handle_rtcp(&[0x80, 200, 0xff, 0xff], addr(b_addr), at(0));
    assert!(garbage.is_err());
}
