//! The offer/answer model (RFC 3264) as the hotline uses it: G.711 plus telephone-event, one
//! active audio stream, answers that keep the offer's m-line count and order.

use std::net::{IpAddr, SocketAddr};

use super::{Direction, MediaDescription, NegotiationError, Origin, RtpMap, SessionDescription};

/// The codecs the hotline's media engine can encode and decode: G.711 only
/// (RFC 3551 §4.5.14), both 8000 Hz mono with static payload types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 µ-law, static payload type 0.
    Pcmu,
    /// G.711 A-law, static payload type 8.
    Pcma,
}

impl Codec {
    /// The RFC 3551 static payload type, used in our own offers.
    pub fn payload_type(self) -> u8 {
        if self == Self::Pcmu { 0 } else { 8 }
    }
    /// The rtpmap encoding name.
    pub fn encoding_name(self) -> &'static str {
        if self == Self::Pcmu { "PCMU" } else { "PCMA" }
    }
    /// Recognises a codec from an rtpmap (case-insensitive, 8000 Hz, mono).
    pub fn from_rtpmap(map: &RtpMap) -> Option<Self> {
        let mono_8k = map.clock_rate == 8000 && matches!(map.channels, None | Some(1));
        let mut codecs = [Self::Pcmu, Self::Pcma].into_iter();
        codecs.find(|c| mono_8k && map.encoding.eq_ignore_ascii_case(c.encoding_name()))
    }
}

/// What the server supports and where it receives RTP; input to [`offer`]
/// and [`answer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMedia {
    /// Address written into `o=` and `c=`.
    pub address: IpAddr,
    /// Our RTP receive port.
    pub rtp_port: u16,
    /// Supported codecs; this order is used in our offers.
    pub codecs: Vec<Codec>,
    /// `o=` session id.
    pub session_id: u64,
    /// `o=` session version; the caller bumps it for each new description.
    pub session_version: u64,
}

/// Result of negotiation: everything the RTP session needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// Codec to encode and expect.
    pub codec: Codec,
    /// The peer's payload type for `codec` (RFC 3264 §6.1: answers reuse the offer's).
    pub codec_pt: u8,
    /// The peer's payload type for telephone-event/8000 (RFC 4733 §7.1.1), or
    /// `None` when DTMF can only arrive in-band.
    pub telephone_event_pt: Option<u8>,
    /// Where to send RTP; `None` when the peer's port is 0 or its address is
    /// unspecified (`0.0.0.0`/`::`, old-style hold, RFC 3264 §8.4).
    pub remote_rtp: Option<SocketAddr>,
    /// Our direction: whether we may send and should expect to receive.
    pub local_direction: Direction,
    /// The peer's `a=ptime` (what it wants to receive); `None` means use 20 ms.
    pub ptime: Option<u32>,
}

/// Packet time we ask for and send, in ms.
const PTIME: u32 = 20;
/// Payload type we use for telephone-event in our own offers.
const TELEPHONE_EVENT_PT: u8 = 101;
/// Events we accept: DTMF 0-9 * # A-D and flash (RFC 4733 §3.2, §7.1.1).
const TELEPHONE_EVENTS: &str = "0-16";

/// An audio m-line that is not disabled (port 0, RFC 3264 §5.1).
fn active_audio(m: &MediaDescription) -> bool {
    m.kind.eq_ignore_ascii_case("audio") && m.port != 0
}

/// An active audio m-line over plain RTP. AVPF (RFC 4585) is accepted because
/// it interoperates with AVP when no feedback is sent; SAVP needs SRTP.
fn usable_audio(m: &MediaDescription) -> bool {
    let plain = m.proto.eq_ignore_ascii_case("RTP/AVP") || m.proto.eq_ignore_ascii_case("RTP/AVPF");
    plain && active_audio(m)
}

fn local_session(local: &LocalMedia) -> SessionDescription {
    let origin = Origin {
        username: "-".into(),
        session_id: local.session_id,
        session_version: local.session_version,
        address: local.address.to_string(),
    };
    let (session_name, connection) = ("-".into(), Some(local.address));
    SessionDescription {
        origin,
        session_name,
        connection,
        ..Default::default()
    }
}

fn audio_media(
    local: &LocalMedia,
    proto: &str,
    codecs: impl IntoIterator<Item = (u8, Codec)>,
    te: Option<u8>,
    direction: Direction,
) -> MediaDescription {
    let mut m = MediaDescription {
        kind: "audio".into(),
        port: local.rtp_port,
        proto: proto.into(),
        direction,
        ptime: Some(PTIME),
        ..Default::default()
    };
    let te = te.map(|pt| (pt, "telephone-event"));
    let named = codecs.into_iter().map(|(pt, c)| (pt, c.encoding_name()));
    for (pt, encoding) in named.chain(te) {
        m.formats.push(pt.to_string());
        m.rtpmaps.push(RtpMap {
            payload_type: pt,
            encoding: encoding.into(),
            clock_rate: 8000,
            channels: None,
        });
    }
    let te_fmtp = te.map(|(pt, _)| (pt, TELEPHONE_EVENTS.to_string()));
    m.fmtps.extend(te_fmtp);
    m
}

/// Picks the codec and telephone-event from the peer's m-line, in the peer's order.
fn negotiate(
    peer: &SessionDescription,
    m: &MediaDescription,
    supported: &[Codec],
    local_direction: Direction,
) -> Result<Negotiated, NegotiationError> {
    let common = m.payload_types().find_map(|pt| {
        let codec = Codec::from_rtpmap(&m.rtpmap(pt)?)?;
        supported.contains(&codec).then_some((pt, codec))
    });
    let (codec_pt, codec) = common.ok_or(NegotiationError::NoCommonCodec)?;
    let no_addr = NegotiationError::NoConnectionAddress;
    let addr = peer.media_address(m).ok_or(no_addr)?;
    let reachable = m.port != 0 && !addr.is_unspecified();
    Ok(Negotiated {
        codec,
        codec_pt,
        telephone_event_pt: m.find_payload_type("telephone-event", 8000),
        remote_rtp: reachable.then(|| SocketAddr::new(addr, m.port)),
        local_direction,
        ptime: m.ptime,
    })
}

/// Answers an incoming offer (RFC 3264 §6). Uses the first audio m-line over
/// RTP/AVP(F) with a non-zero port, picks the first of the offer's formats we
/// support (the offerer's preference, §6.1), echoes telephone-event with the
/// offer's payload type, mirrors the direction, and rejects (port 0) every
/// other m-line, keeping their count and order as §6 requires.
pub fn answer(
    offer: &SessionDescription,
    local: &LocalMedia,
) -> Result<(SessionDescription, Negotiated), NegotiationError> {
    let Some(idx) = offer.media.iter().position(usable_audio) else {
        return Err(match offer.media.iter().any(active_audio) {
            true => NegotiationError::UnsupportedProfile,
            false => NegotiationError::NoAudio,
        });
    };
    let om = &offer.media[idx];
    let neg = negotiate(offer, om, &local.codecs, om.direction.mirror())?;
    let codec = [(neg.codec_pt, neg.codec)];
    let (te, dir) = (neg.telephone_event_pt, neg.local_direction);
    let mut sd = local_session(local);
    for (i, m) in offer.media.iter().enumerate() {
        sd.media.push(if i == idx {
            audio_media(local, &m.proto, codec, te, dir)
        } else {
            MediaDescription {
                kind: m.kind.clone(),
                proto: m.proto.clone(),
                formats: m.formats.clone(),
                ..Default::default()
            }
        });
    }
    Ok((sd, neg))
}

/// Builds our own offer (for calls we place, e.g. to a lawyer's phone):
/// `local.codecs` in order with static payload types, telephone-event/8000
/// on PT 101 with events 0-16, ptime 20, sendrecv.
pub fn offer(local: &LocalMedia) -> SessionDescription {
    let codecs = local.codecs.iter().map(|&c| (c.payload_type(), c));
    let te = Some(TELEPHONE_EVENT_PT);
    let audio = audio_media(local, "RTP/AVP", codecs, te, Direction::SendRecv);
    let mut sd = local_session(local);
    sd.media.push(audio);
    sd
}

/// Applies the peer's answer to our offer (RFC 3264 §7): checks the m-lines
/// correspond, then takes codec, telephone-event PT, address and direction
/// from the answer's counterpart of our audio m-line.
pub fn accept_answer(
    our_offer: &SessionDescription,
    answer: &SessionDescription,
) -> Result<Negotiated, NegotiationError> {
    if answer.media.len() != our_offer.media.len() {
        return Err(NegotiationError::AnswerMismatch);
    }
    let Some(idx) = our_offer.media.iter().position(usable_audio) else {
        return Err(NegotiationError::NoAudio);
    };
    let (ours, theirs) = (&our_offer.media[idx], &answer.media[idx]);
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    if !same(&ours.kind, &theirs.kind) || !same(&ours.proto, &theirs.proto) {
        return Err(NegotiationError::AnswerMismatch);
    }
    if theirs.port == 0 {
        return Err(NegotiationError::Rejected);
    }
    let offered: Vec<Codec> = ours
        .payload_types()
        .filter_map(|pt| Codec::from_rtpmap(&ours.rtpmap(pt)?))
        .collect();
    let (we, they) = (ours.direction, theirs.direction.mirror());
    let dir = Direction::from_flags(we.sends() && they.sends(), we.receives() && they.receives());
    negotiate(answer, theirs, &offered, dir)
}
