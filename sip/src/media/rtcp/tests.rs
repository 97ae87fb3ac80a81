//! Round trips through the builders and the parser, garbage, NTP time and report intervals.

use super::*;

const BLOCK: ReportBlock = ReportBlock {
    ssrc: 0x1122_3344,
    fraction_lost: 36,
    cumulative_lost: -3,
    extended_highest_seq: 0x0001_0005,
    jitter: 42,
    last_sr: 0xdead_beef,
    delay_since_last_sr: 65536,
};
const INFO: SenderInfo = SenderInfo {
    ntp_timestamp: 0xe000_0001_8000_0000,
    rtp_timestamp: 123_456,
    packet_count: 50,
    octet_count: 8000,
};

fn rr(ssrc: u32, reports: Vec<ReportBlock>) -> RtcpPacket {
    RtcpPacket::ReceiverReport { ssrc, reports }
}

fn sdes(ssrc: u32, cname: &str) -> RtcpPacket {
    RtcpPacket::SourceDescription(vec![(ssrc, Some(cname.to_owned()))])
}

#[test]
fn sr_with_sdes_round_trips() {
    let bytes = build_report(7, Some(&INFO), &[BLOCK], "call-42@hotline");
    assert_eq!(bytes.len() % 4, 0);
    let sr = RtcpPacket::SenderReport {
        ssrc: 7,
        info: INFO,
        reports: vec![BLOCK],
    };
    assert_eq!(
        parse_compound(&bytes),
        Ok(vec![sr, sdes(7, "call-42@hotline")])
    );
    assert_eq!(INFO.ntp_middle(), 0x0001_8000);
}

#[test]
fn rr_and_bye_round_trip() {
    let bytes = build_bye(9, None, &[], "abc", "hangup");
    let bye = RtcpPacket::Goodbye {
        sources: vec![9],
        reason: Some("hangup".into()),
    };
    assert_eq!(
        parse_compound(&bytes),
        Ok(vec![rr(9, vec![]), sdes(9, "abc"), bye])
    );
    // CNAME length a multiple of 4 needs a whole word of null padding.
    let bytes = build_report(9, None, &[BLOCK], "abcd");
    assert_eq!(
        parse_compound(&bytes),
        Ok(vec![rr(9, vec![BLOCK]), sdes(9, "abcd")])
    );
    let mut b = BLOCK;
    b.cumulative_lost = 10_000_000;
    let parsed = parse_compound(&build_report(1, None, &[b], "x")).unwrap();
    b.cumulative_lost = 0x7f_ffff; // clamped to 24 bits
    assert_eq!(parsed[0], rr(1, vec![b]));
}

#[test]
fn unknown_types_are_skipped_and_bad_lengths_rejected() {
    // APP packet (PT 204) with 8 bytes of body, followed by an RR.
    let mut bytes = vec![0x80, 204, 0, 2, 1, 2, 3, 4, b'n', b'a', b'm', b'e'];
    bytes.extend(build_report(5, None, &[], "c"));
    let parsed = parse_compound(&bytes).unwrap();
    assert_eq!(parsed[..2], [RtcpPacket::Other(204), rr(5, vec![])]);
    let too_long = RtcpError::Length {
        declared: 40,
        remaining: 8,
    };
    assert_eq!(
        parse_compound(&[0x80, 201, 0, 9, 0, 0, 0, 1]),
        Err(too_long)
    );
    assert_eq!(
        parse_compound(&[0x40, 201, 0, 0]),
        Err(RtcpError::Version(1))
    );
    // An RR claiming one block but carrying none.
    let no_block = Err(RtcpError::Malformed(201));
    assert_eq!(parse_compound(&[0x81, 201, 0, 1, 0, 0, 0, 1]), no_block);
    assert_eq!(parse_compound(&[]), Err(RtcpError::Truncated(0)));
}

#[test]
fn garbage_never_panics() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (x >> 33) as usize
    };
    let valid = build_bye(1, Some(&INFO), &[BLOCK, BLOCK], "cname", "bye");
    for i in 0..20_000 {
        let mut bytes: Vec<u8> = (0..next() % 160).map(|_| next() as u8).collect();
        if i % 2 == 1 {
            // Mutate a valid packet so parsing gets deep before failing.
            bytes = valid.clone();
            for _ in 0..1 + next() % 4 {
                let at = next() % bytes.len();
                bytes[at] = next() as u8;
            }
            bytes[0] = 0x80 | (bytes[0] & 0x3f); // keep version 2
            bytes.truncate(next() % (bytes.len() + 1));
        }
        let _ = parse_compound(&bytes);
    }
}

#[test]
fn ntp_conversion() {
    let t = UNIX_EPOCH + Duration::from_millis(1500);
    assert_eq!(ntp_timestamp(t), (NTP_UNIX_OFFSET + 1) << 32 | 0x8000_0000);
}

#[test]
fn interval_is_randomized_within_bounds() {
    let base = Duration::from_secs(5);
    assert_eq!(randomized(base, 0), Duration::from_millis(2500));
    let max = randomized(base, u32::MAX);
    assert!(max > Duration::from_millis(7499) && max < Duration::from_millis(7500));
    let now = Instant::now();
    let next = next_report_at(now) - now;
    assert!(next >= Duration::from_millis(2500) && next < Duration::from_millis(7500));
    assert_eq!(generate_cname().len(), 24);
}
