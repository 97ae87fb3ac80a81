//! Parsing and answering offers from real phones (SIPp, Linphone, net-sip), our own offers,
//! round trips through `Display`, and malformed input.

use super::*;
use NegotiationError as E;

const SIPP: &str = "v=0\no=user1 53655765 2353687637 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\n\
    t=0 0\nm=audio 6000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n";
const LINPHONE: &str = "v=0\r\no=alice 1559 2860 IN IP4 192.168.1.34\r\ns=Talk\r\n\
    c=IN IP4 192.168.1.34\r\nt=0 0\r\na=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt\r\n\
    m=audio 7078 RTP/AVP 96 97 98 0 8 101\r\na=rtpmap:96 opus/48000/2\r\n\
    a=fmtp:96 useinbandfec=1\r\na=rtpmap:97 speex/16000\r\na=fmtp:97 vbr=on\r\n\
    a=rtpmap:98 speex/8000\r\na=fmtp:98 vbr=on\r\na=rtpmap:101 telephone-event/8000\r\n\
    a=rtcp:7079\r\na=rtcp-fb:* trr-int 1000\r\na=rtcp-fb:* ccm tmmbr\r\n";
const NET_SIP: &str = "v=0\no=anonymous 1700000000 1700000000 IN IP4 10.0.0.5\ns=session\n\
    c=IN IP4 10.0.0.5\nt=0 0\nm=audio 2010 RTP/AVP 0 101\na=rtpmap:0 PCMU/8000\na=ptime:20\n\
    a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\n";
const IPV6: &str = "v=0\r\no=- 42 1 IN IP6 2001:db8::10\r\ns=-\r\nc=IN IP6 2001:db8::10\r\n\
    t=0 0\r\nm=audio 40000 RTP/AVP 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n\
    a=fmtp:101 0-16\r\na=sendrecv\r\n";
const VIDEO_AUDIO: &str = "v=0\no=bob 1 1 IN IP4 192.0.2.7\ns=-\nt=0 0\n\
    m=video 9000 RTP/AVP 99\nc=IN IP4 192.0.2.7\na=rtpmap:99 H264/90000\n\
    m=audio 9002 RTP/AVP 0 8\nc=IN IP4 192.0.2.8\n";

fn local() -> LocalMedia {
    LocalMedia {
        address: "203.0.113.1".parse().unwrap(),
        rtp_port: 30000,
        codecs: vec![Codec::Pcmu, Codec::Pcma],
        session_id: 777,
        session_version: 1,
    }
}
fn sdp(text: &str) -> SessionDescription {
    SessionDescription::parse(text).expect("parses")
}
fn answer_to(text: &str) -> Result<(SessionDescription, Negotiated), NegotiationError> {
    answer(&sdp(text), &local())
}
/// A negotiation result on one line: codec/pt te=pt remote direction ptime.
fn show(n: Negotiated) -> String {
    let te = n.telephone_event_pt.map_or("-".into(), |pt| pt.to_string());
    let remote = n.remote_rtp.map_or("-".into(), |a| a.to_string());
    let (dir, ptime) = (n.local_direction.as_str(), n.ptime);
    let codec = format!("{:?}/{}", n.codec, n.codec_pt);
    format!("{codec} te={te} {remote} {dir} {ptime:?}")
}
fn brief(offer: &str) -> String {
    show(answer_to(offer).unwrap().1)
}
/// The m-lines of our answer, after the fixed session header.
fn media_of(offer: &str) -> String {
    let text = answer_to(offer).unwrap().0.to_string();
    let head = "v=0\r\no=- 777 1 IN IP4 203.0.113.1\r\ns=-\r\nc=IN IP4 203.0.113.1\r\nt=0 0\r\n";
    text.strip_prefix(head).expect("session header").to_string()
}

#[test]
fn parses_sipp_default_offer() {
    let sd = sdp(SIPP);
    assert_eq!(sd.origin.username, "user1");
    assert_eq!(sd.origin.session_id, 53655765);
    assert_eq!(sd.origin.session_version, 2353687637);
    assert_eq!(sd.connection, "127.0.0.1".parse().ok());
    let m = &sd.media[0];
    assert_eq!((m.kind.as_str(), m.port), ("audio", 6000));
    assert_eq!((m.proto.as_str(), m.formats.len()), ("RTP/AVP", 1));
    assert_eq!(m.direction, Direction::SendRecv);
}

#[test]
fn answers_sipp_offer_with_pcmu_and_no_dtmf() {
    assert_eq!(brief(SIPP), "Pcmu/0 te=- 127.0.0.1:6000 sendrecv None");
    let want = "m=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n";
    assert_eq!(media_of(SIPP), want);
}

#[test]
fn linphone_offer_keeps_unknown_attributes_and_gets_pcmu_with_dtmf() {
    let sd = sdp(LINPHONE);
    let m = &sd.media[0];
    assert_eq!(m.rtpmaps.len(), 4);
    assert_eq!(m.rtpmap(96).unwrap().channels, Some(2));
    assert_eq!(m.rtpmap(0).unwrap().encoding, "PCMU");
    assert_eq!((m.fmtp(97), m.fmtp(0)), (Some("vbr=on"), None));
    assert_eq!(m.rtcp_port, Some(7079));
    assert_eq!(m.attributes.len(), 2);
    assert_eq!(m.attributes[0].1.as_deref(), Some("* trr-int 1000"));
    assert_eq!(sd.attributes[0].0, "rtcp-xr");
    let want = "Pcmu/0 te=101 192.168.1.34:7078 sendrecv None";
    assert_eq!(brief(LINPHONE), want);
    let want = "m=audio 30000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
        a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n";
    assert_eq!(media_of(LINPHONE), want);
}

#[test]
fn net_sip_offer_with_lf_endings_and_ptime() {
    let want = "Pcmu/0 te=101 10.0.0.5:2010 sendrecv Some(20)";
    assert_eq!(brief(NET_SIP), want);
}

#[test]
fn ipv6_offer_with_static_types_and_no_rtpmaps() {
    assert_eq!(sdp(IPV6).origin.address, "2001:db8::10");
    let want = "Pcma/8 te=101 [2001:db8::10]:40000 sendrecv None";
    assert_eq!(brief(IPV6), want);
    let me = LocalMedia {
        address: "::1".parse().unwrap(),
        ..local()
    };
    let text = answer(&sdp(IPV6), &me).unwrap().0.to_string();
    let want = "v=0\r\no=- 777 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\n";
    assert!(text.starts_with(want), "{text}");
}

#[test]
fn hold_offers_are_mirrored() {
    let sendonly = format!("{SIPP}a=sendonly\n");
    assert_eq!(brief(&sendonly), "Pcmu/0 te=- 127.0.0.1:6000 recvonly None");
    assert!(media_of(&sendonly).ends_with("a=recvonly\r\n"));
    let recvonly = SIPP.replace("t=0 0\n", "t=0 0\na=recvonly\n");
    assert_eq!(sdp(&recvonly).direction, Some(Direction::RecvOnly));
    assert_eq!(brief(&recvonly), "Pcmu/0 te=- 127.0.0.1:6000 sendonly None");
    let inactive = format!("{SIPP}a=inactive\n");
    assert_eq!(brief(&inactive), "Pcmu/0 te=- 127.0.0.1:6000 inactive None");
}

#[test]
fn old_style_hold_with_zero_address_has_no_remote() {
    let hold = SIPP.replace("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0");
    assert_eq!(brief(&hold), "Pcmu/0 te=- - sendrecv None");
}

#[test]
fn g729_only_offer_has_no_common_codec() {
    let g729 = SIPP.replace("0\na=rtpmap:0 PCMU/8000", "18\na=rtpmap:18 G729/8000");
    assert_eq!(answer_to(&g729).unwrap_err(), E::NoCommonCodec);
    let nothing = LocalMedia {
        codecs: vec![],
        ..local()
    };
    let err = answer(&sdp(SIPP), &nothing).unwrap_err();
    assert_eq!(err, E::NoCommonCodec);
}

#[test]
fn video_is_rejected_with_port_zero_in_same_position() {
    let want = "m=video 0 RTP/AVP 99\r\na=sendrecv\r\nm=audio 30000 RTP/AVP 0\r\n\
        a=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n";
    assert_eq!(media_of(VIDEO_AUDIO), want);
    let media_level_c = "Pcmu/0 te=- 192.0.2.8:9002 sendrecv None";
    assert_eq!(brief(VIDEO_AUDIO), media_level_c);
}

#[test]
fn telephone_event_keeps_offer_payload_type_and_needs_8000_hz() {
    let te96 = SIPP.replace("AVP 0\n", "AVP 0 96\na=rtpmap:96 telephone-event/8000\n");
    let want = "m=audio 30000 RTP/AVP 0 96\r\na=rtpmap:0 PCMU/8000\r\n\
        a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-16\r\na=ptime:20\r\na=sendrecv\r\n";
    assert_eq!(media_of(&te96), want);
    let multi = SIPP.replace(
        "AVP 0\n",
        "AVP 0 101 100\na=rtpmap:101 telephone-event/48000\na=rtpmap:100 Telephone-Event/8000\n",
    );
    assert_eq!(brief(&multi), "Pcmu/0 te=100 127.0.0.1:6000 sendrecv None");
}

#[test]
fn offerer_order_wins_and_encoding_names_are_case_insensitive() {
    let pcma_first = SIPP.replace("AVP 0\n", "AVP 8 0\n");
    let want = "Pcma/8 te=- 127.0.0.1:6000 sendrecv None";
    assert_eq!(brief(&pcma_first), want);
    let want = "m=audio 30000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=ptime:20\r\na=sendrecv\r\n";
    assert_eq!(media_of(&pcma_first), want);
    let dynamic = SIPP.replace("0\na=rtpmap:0 PCMU/8000", "97\na=rtpmap:97 pcma/8000");
    assert_eq!(brief(&dynamic), "Pcma/97 te=- 127.0.0.1:6000 sendrecv None");
}

#[test]
fn srtp_only_is_unsupported_but_a_plain_fallback_line_is_used() {
    let savp = SIPP.replace("RTP/AVP", "RTP/SAVP");
    assert_eq!(answer_to(&savp).unwrap_err(), E::UnsupportedProfile);
    let both = format!("{savp}m=audio 6002 RTP/AVP 8\n");
    assert_eq!(brief(&both), "Pcma/8 te=- 127.0.0.1:6002 sendrecv None");
    assert!(media_of(&both).starts_with("m=audio 0 RTP/SAVP 0\r\n"));
}

#[test]
fn missing_audio_or_address_is_an_error() {
    let video = "v=0\no=- 1 1 IN IP4 192.0.2.1\nc=IN IP4 192.0.2.1\nm=video 9000 RTP/AVP 99\n";
    assert_eq!(answer_to(video).unwrap_err(), E::NoAudio);
    let disabled = SIPP.replace("audio 6000", "audio 0");
    assert_eq!(answer_to(&disabled).unwrap_err(), E::NoAudio);
    let no_c = SIPP.replace("c=IN IP4 127.0.0.1\n", "");
    assert_eq!(answer_to(&no_c).unwrap_err(), E::NoConnectionAddress);
}

#[test]
fn own_offer_and_accepting_answers() {
    let ours = offer(&local());
    let want = "v=0\r\no=- 777 1 IN IP4 203.0.113.1\r\ns=-\r\nc=IN IP4 203.0.113.1\r\nt=0 0\r\n\
        m=audio 30000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
        a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n";
    assert_eq!(ours.to_string(), want);
    let reply = "v=0\no=lawyer 9 9 IN IP4 198.51.100.9\ns=-\nc=IN IP4 198.51.100.9\nt=0 0\n\
        m=audio 4000 RTP/AVP 8 101\na=rtpmap:101 telephone-event/8000\na=ptime:30\na=recvonly\n";
    let n = accept_answer(&ours, &sdp(reply)).unwrap();
    assert_eq!(show(n), "Pcma/8 te=101 198.51.100.9:4000 sendonly Some(30)");
    let bad = [
        (reply.replace("audio 4000", "audio 0"), E::Rejected),
        (format!("{reply}m=video 0 RTP/AVP 99\n"), E::AnswerMismatch),
        (
            reply.replace("RTP/AVP 8 101", "RTP/SAVP 8"),
            E::AnswerMismatch,
        ),
        (
            reply.replace("RTP/AVP 8 101", "RTP/AVP 18"),
            E::NoCommonCodec,
        ),
    ];
    for (text, err) in bad {
        assert_eq!(accept_answer(&ours, &sdp(&text)).unwrap_err(), err);
    }
    let n = answer(&ours, &local()).unwrap().1;
    assert_eq!(show(n), "Pcmu/0 te=101 203.0.113.1:30000 sendrecv Some(20)");
}

#[test]
fn round_trips_through_display_with_crlf() {
    let answered = answer_to(VIDEO_AUDIO).unwrap().0.to_string();
    let odd = "v=0\no=x 1 2 IN IP4 h.example\ns=\nc=IN IP4 224.2.1.1/127\nt=3 4\na=sendonly\n\
        m=audio 49170/2 RTP/AVP 0 x\na=fmtp:0\na=rtpmap:bogus\na=foo:\na=flag\n";
    for text in [SIPP, LINPHONE, NET_SIP, IPV6, VIDEO_AUDIO, odd, &answered] {
        let out = sdp(text).to_string();
        let crlf_only = !out.replace("\r\n", "").contains('\n');
        assert!(crlf_only, "bare LF in {out:?}");
        assert_eq!(sdp(&out), sdp(text), "{out}");
    }
    let odd = sdp(odd);
    let m = &odd.media[0];
    assert_eq!(odd.session_name, "");
    assert_eq!((m.port, m.direction), (49170, Direction::SendOnly));
    assert_eq!(m.attributes[0].0, "rtpmap", "bad rtpmap kept verbatim");
    assert_eq!(m.payload_types().collect::<Vec<_>>(), [0]);
}

#[test]
fn tolerates_blank_unknown_and_optional_lines() {
    let text = "\r\nv=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ni=info\r\nb=AS:64\r\nx=what\r\n\
        c=IN IP4 192.0.2.1\r\nm=audio 1234 RTP/AVP 0  \r\nb=TIAS:64000\r\na=ptime:abc\r\n\r\n";
    let sd = sdp(text);
    assert_eq!((sd.session_name.as_str(), sd.media[0].ptime), ("-", None));
    assert_eq!(sd.media[0].attributes[0].1.as_deref(), Some("abc"));
}

#[test]
fn malformed_input_reports_line_and_reason_without_echo() {
    let o = "v=0\no=secret 1 1 IN IP4 1.2.3.4\n";
    let cases = [
        ("o=- 1 1 IN IP4 1.2.3.4\nv=0\n".to_string(), 1, "v="),
        ("v=1\n".into(), 1, "version"),
        (format!("{o}m=audio\n"), 3, "m="),
        (format!("{o}s=-\nm=audio 70000 RTP/AVP 0\n"), 4, "port"),
        (format!("{o}m=audio 6x RTP/AVP 0\n"), 3, "port"),
        (format!("{o}m=audio 6000 RTP/AVP\n"), 3, "formats"),
        (format!("{o}\nc=IN IP4 secret.example\n"), 4, "c="),
        ("v=0\no=secret x 1 IN IP4 1.2.3.4\n".into(), 2, "o="),
        (format!("{o}secret garbage\r\n"), 3, "<letter>="),
        (format!("{o}v=0\n"), 3, "duplicate"),
    ];
    for (text, line, needle) in cases {
        let err = SessionDescription::parse(&text).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with(&format!("SDP line {line}: ")), "{msg}");
        assert!(msg.contains(needle) && !msg.contains("secret"), "{msg}");
    }
    let missing = |text| SessionDescription::parse(text).unwrap_err();
    assert_eq!(missing(""), SdpError::MissingLine("v="));
    assert_eq!(missing("v=0\ns=-\n"), SdpError::MissingLine("o="));
}
