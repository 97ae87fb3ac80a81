//! Digits, RFC 4733 packets from SIPp's captures and worse, SIP INFO bodies and the merger.

use super::*;

fn digit(c: char) -> Digit {
    Digit::from_char(c).unwrap()
}

/// RTP packet of SIPp's dtmf_2833_1.pcap (PT 101, SSRC 0x0e05384e): (marker, timestamp,
/// payload, capture time in ms from the first packet). Key 1, 10 packets 20 ms apart with
/// durations 0, 320, ... 2240; the last one, with the E bit, sent 3 times.
const SIPP_KEY_1: [(bool, u32, [u8; 4], u64); 10] = [
    (true, 13280, [0x01, 0x0a, 0x00, 0x00], 0),
    (false, 13280, [0x01, 0x0a, 0x01, 0x40], 20),
    (false, 13280, [0x01, 0x0a, 0x02, 0x80], 40),
    (false, 13280, [0x01, 0x0a, 0x03, 0xc0], 60),
    (false, 13280, [0x01, 0x0a, 0x05, 0x00], 80),
    (false, 13280, [0x01, 0x0a, 0x06, 0x40], 100),
    (false, 13280, [0x01, 0x0a, 0x07, 0x80], 120),
    (false, 13280, [0x01, 0x8a, 0x08, 0xc0], 140),
    (false, 13280, [0x01, 0x8a, 0x08, 0xc0], 140),
    (false, 13280, [0x01, 0x8a, 0x08, 0xc0], 140),
];
/// The same from dtmf_2833_pound.pcap: key #, timestamp 92640.
const SIPP_KEY_POUND: [(bool, u32, [u8; 4], u64); 10] = [
    (true, 92640, [0x0b, 0x0a, 0x00, 0x00], 0),
    (false, 92640, [0x0b, 0x0a, 0x01, 0x40], 20),
    (false, 92640, [0x0b, 0x0a, 0x02, 0x80], 40),
    (false, 92640, [0x0b, 0x0a, 0x03, 0xc0], 60),
    (false, 92640, [0x0b, 0x0a, 0x05, 0x00], 80),
    (false, 92640, [0x0b, 0x0a, 0x06, 0x40], 100),
    (false, 92640, [0x0b, 0x0a, 0x07, 0x80], 120),
    (false, 92640, [0x0b, 0x8a, 0x08, 0xc0], 140),
    (false, 92640, [0x0b, 0x8a, 0x08, 0xc0], 140),
    (false, 92640, [0x0b, 0x8a, 0x08, 0xc0], 140),
];

/// SIPp's packets for any key, at another timestamp and start time.
fn sipp(key: char, timestamp: u32, start_ms: u64) -> Vec<(bool, u32, [u8; 4], u64)> {
    let code = digit(key).event_code();
    SIPP_KEY_1
        .iter()
        .map(|&(m, _, p, t)| (m, timestamp, [code, p[1], p[2], p[3]], start_ms + t))
        .collect()
}

fn receive(rx: &mut TelephoneEventReceiver, packets: &[(bool, u32, [u8; 4], u64)]) -> String {
    let digits = packets
        .iter()
        .filter_map(|&(m, ts, p, t)| rx.push(ts, m, &p, t));
    digits.map(Digit::as_char).collect()
}

fn receive_new(packets: &[(bool, u32, [u8; 4], u64)]) -> String {
    receive(&mut TelephoneEventReceiver::new(), packets)
}

#[test]
fn digits_and_event_codes() {
    for (code, c) in "0123456789*#ABCD".chars().enumerate() {
        let d = Digit::from_event_code(code as u8).unwrap();
        assert_eq!(
            (d.as_char(), d.event_code(), d.to_string()),
            (c, code as u8, c.into())
        );
        assert_eq!(Digit::from_char(c), Some(d));
        assert_eq!(Digit::from_char(c.to_ascii_lowercase()), Some(d));
    }
    assert_eq!(Digit::from_event_code(16), None);
    assert_eq!(Digit::from_char('E'), None);
    assert_eq!(Digit::from_char('e'), None);
}

#[test]
fn parses_the_payload_fields() {
    let event = TelephoneEvent::parse(&[0x0b, 0xca, 0x08, 0xc0, 0xff]).unwrap();
    let expected = TelephoneEvent {
        event: 11,
        end: true,
        volume: 10,
        duration: 2240,
    };
    assert_eq!(event, expected); // the R bit (0x40) is ignored, the extra byte too
    assert_eq!(TelephoneEvent::parse(&[0x01, 0x3f, 0xff]), None);
}

#[test]
fn sipp_pcaps_give_one_digit_each() {
    assert_eq!(receive_new(&SIPP_KEY_1), "1");
    assert_eq!(receive_new(&SIPP_KEY_POUND), "#");
    let mut rx = TelephoneEventReceiver::new();
    assert_eq!(rx.push(13280, true, &SIPP_KEY_1[0].2, 0), Some(digit('1')));
    let mut all = SIPP_KEY_1.to_vec();
    all.extend(sipp('#', 92640, 1000));
    assert_eq!(receive_new(&all), "1#");
}

#[test]
fn missing_marker_and_lost_packets() {
    let no_marker: Vec<_> = SIPP_KEY_1
        .iter()
        .map(|&(_, ts, p, t)| (false, ts, p, t))
        .collect();
    assert_eq!(receive_new(&no_marker), "1");
    // The start lost: only the end packets arrive.
    assert_eq!(receive_new(&SIPP_KEY_1[7..]), "1");
    assert_eq!(receive_new(&SIPP_KEY_1[9..]), "1");
    // The end lost: reported at the first packet all the same, and the next key works.
    let mut packets = SIPP_KEY_1[..5].to_vec();
    packets.extend(sipp('2', 13280 + 2400, 200));
    assert_eq!(receive_new(&packets), "12");
    // Reordered: a late end packet after the next event started.
    let mut packets = SIPP_KEY_1[..7].to_vec();
    packets.extend(sipp('3', 20000, 150));
    packets.insert(9, SIPP_KEY_1[8]);
    assert_eq!(receive_new(&packets), "13");
}

#[test]
fn the_same_key_twice_is_two_presses() {
    let mut packets = sipp('5', 1000, 0);
    packets.extend(sipp('5', 1000 + 4000, 500));
    assert_eq!(receive_new(&packets), "55");
    // Even with both end packets of the first duplicated late.
    packets.push((false, 1000, [5, 0x8a, 0x08, 0xc0], 520));
    assert_eq!(receive_new(&packets), "55");
}

#[test]
fn timestamp_wraparound() {
    let mut packets = sipp('7', u32::MAX - 1000, 0);
    packets.extend(sipp('7', 2200, 300)); // after the wrap
    packets.extend(sipp('8', u32::MAX, 600));
    packets.extend(sipp('8', 0, 900));
    assert_eq!(receive_new(&packets), "7788");
}

#[test]
fn a_timestamp_reused_after_a_second_is_a_new_event() {
    let mut packets = sipp('9', 500, 0);
    packets.extend(sipp('9', 500, 200)); // too soon: a duplicate
    packets.extend(sipp('9', 500, 2000)); // senders that never advance the timestamp
    assert_eq!(receive_new(&packets), "99");
}

#[test]
fn a_key_held_past_the_longest_duration_is_one_press() {
    // §2.5.1.3: a segment reaches duration 0xFFFF, the next starts at timestamp + 0xFFFF
    // without the marker bit.
    let start = u32::MAX - 0x8000; // and across the wraparound
    let mut rx = TelephoneEventReceiver::new();
    assert_eq!(rx.push(start, true, &[4, 10, 0, 0], 0), Some(digit('4')));
    for t in (50..=8200).step_by(50) {
        let duration = (t * 8).min(0xFFFF) as u16;
        let [high, low] = duration.to_be_bytes();
        assert_eq!(rx.push(start, false, &[4, 10, high, low], t), None);
    }
    let next = start.wrapping_add(0xFFFF);
    assert_eq!(rx.push(next, false, &[4, 10, 0x01, 0x40], 8250), None);
    assert_eq!(rx.push(next, false, &[4, 0x8a, 0x02, 0x80], 8300), None);
    // A new press with its marker bit.
    assert_eq!(
        rx.push(next.wrapping_add(1000), true, &[4, 10, 0, 0], 8500),
        Some(digit('4'))
    );
}

#[test]
fn garbage_does_not_panic() {
    let mut rx = TelephoneEventReceiver::new();
    for payload in [&[][..], &[1], &[1, 2], &[1, 2, 3]] {
        assert_eq!(rx.push(1, true, payload, 0), None);
    }
    // Not DTMF (16 is flash, RFC 4733 §3.2): ignored.
    assert_eq!(rx.push(2, true, &[16, 0x8a, 0, 160], 0), None);
    assert_eq!(rx.push(3, true, &[255, 255, 255, 255], 0), None);
    // Several events in one packet (§2.5.1.5): the first one counts.
    assert_eq!(
        rx.push(4, true, &[2, 10, 0, 160, 3, 10, 0, 160], 0),
        Some(digit('2'))
    );
    assert_eq!(rx.push(5, true, &[6; 1500], 0), Some(digit('6')));
    let mut x = 0x1234_5678u32;
    for i in 0..20_000u64 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let bytes = x.to_be_bytes();
        let len = (x % 9) as usize;
        let payload: Vec<u8> = bytes.iter().cycle().take(len).copied().collect();
        let _ = rx.push(x.rotate_left(7), x & 1 == 0, &payload, i / 3);
    }
    rx.reset();
    assert_eq!(receive(&mut rx, &SIPP_KEY_1), "1");
}

#[test]
fn info_bodies() {
    let relay = "application/dtmf-relay";
    let cases: [(&str, &[u8], Option<char>); 17] = [
        (relay, b"Signal=5\r\nDuration=160\r\n", Some('5')),
        (relay, b"Signal= #\r\nDuration= 250\r\n", Some('#')),
        (relay, b"signal=*\nduration=100", Some('*')),
        (relay, b"Duration=160\r\nSignal = a\r\n", Some('A')),
        (relay, b"Signal=10\r\nDuration=160", Some('*')),
        (relay, b"Signal=11\r\nDuration=160", Some('#')),
        (relay, b"SIGNAL=15", Some('D')),
        (relay, b"Signal=16\r\n", None),
        (relay, b"Signal=\r\n", None),
        (relay, b"Duration=160\r\n", None),
        (
            "Application/DTMF-Relay; charset=utf-8",
            b"Signal=0",
            Some('0'),
        ),
        ("application/dtmf", b"5", Some('5')),
        ("application/dtmf", b"#\r\n", Some('#')),
        ("application/dtmf", b" 11 ", Some('#')),
        ("application/dtmf", b"55", None),
        ("text/plain", b"Signal=5", None),
        (relay, b"Signal=\xff\xfe", None),
    ];
    for (content_type, body, expected) in cases {
        let got = parse_info(content_type, body).map(Digit::as_char);
        assert_eq!(
            got,
            expected,
            "{content_type}: {:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn merger_drops_a_press_reported_twice() {
    let mut m = DtmfMerger::new();
    assert_eq!(m.push(Source::Rfc4733, digit('5'), 1000), Some(digit('5')));
    assert_eq!(m.push(Source::SipInfo, digit('5'), 1060), None);
    // The same source again is a new press, however soon.
    assert_eq!(m.push(Source::Rfc4733, digit('5'), 1100), Some(digit('5')));
    assert_eq!(m.push(Source::SipInfo, digit('5'), 1180), None); // the second press
    // Outside the window: a new press.
    assert_eq!(m.push(Source::SipInfo, digit('5'), 1400), Some(digit('5')));
    // Another key is never a duplicate.
    assert_eq!(m.push(Source::Rfc4733, digit('6'), 1410), Some(digit('6')));

    // In-band first, RFC 4733 second (the detector can win when RTP is late).
    let mut m = DtmfMerger::new();
    assert_eq!(m.push(Source::InBand, digit('1'), 0), Some(digit('1')));
    assert_eq!(m.push(Source::Rfc4733, digit('1'), 30), None);
}

#[test]
fn merger_matches_two_quick_presses_reported_twice() {
    // Keys 5 5 6 5 by RFC 4733, each reported again by SIP INFO 120 ms later.
    let mut m = DtmfMerger::new();
    let mut out = String::new();
    for (t, key) in [(0, '5'), (100, '5'), (200, '6'), (300, '5')] {
        out.extend(m.push(Source::Rfc4733, digit(key), t).map(Digit::as_char));
        out.extend(
            m.push(Source::SipInfo, digit(key), t + 120)
                .map(Digit::as_char),
        );
    }
    assert_eq!(out, "5565");
}

#[test]
fn inband_is_wanted_until_telephone_events_arrive() {
    let mut m = DtmfMerger::new();
    assert!(m.inband_wanted());
    assert_eq!(m.push(Source::InBand, digit('2'), 0), Some(digit('2')));
    assert_eq!(m.push(Source::SipInfo, digit('3'), 500), Some(digit('3')));
    assert!(
        m.inband_wanted(),
        "SIP INFO does not turn in-band detection off"
    );
    assert_eq!(m.push(Source::Rfc4733, digit('4'), 1000), Some(digit('4')));
    assert!(!m.inband_wanted());
    // From now on in-band digits are duplicates or talk-off.
    assert_eq!(m.push(Source::InBand, digit('4'), 1040), None);
    assert_eq!(m.push(Source::InBand, digit('7'), 3000), None);
    assert_eq!(m.push(Source::Rfc4733, digit('7'), 3010), Some(digit('7')));
}

#[test]
fn merger_window_is_configurable() {
    let mut m = DtmfMerger::with_window_ms(400);
    assert_eq!(m.push(Source::Rfc4733, digit('#'), 0), Some(digit('#')));
    assert_eq!(m.push(Source::SipInfo, digit('#'), 350), None);
    assert_eq!(m.push(Source::SipInfo, digit('#'), 900), Some(digit('#')));
}
