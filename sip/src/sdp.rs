//! SDP (RFC 8866, formerly RFC 4566) for audio sessions, and the offer/answer
//! model (RFC 3264) as the hotline uses it: G.711 (PCMU/PCMA, RFC 3551) plus
//! RFC 4733 telephone-event, no SRTP, one active audio stream per call.
//!
//! The parser is lenient where real phones are sloppy (LF-only line endings,
//! blank, unknown or unused lines, attributes that miss their grammar, which
//! are kept verbatim) and strict where the body is useless (no `v=`/`o=`,
//! broken `o=`/`c=`/`m=` lines). Errors carry a line number and a fixed
//! reason, never text from the body, so they are safe to log.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use thiserror::Error;

/// Why an SDP body could not be parsed. Reasons are static strings so that
/// logging an error never echoes (possibly hostile or private) body text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SdpError {
    /// A line violates the RFC 8866 §9 grammar in a way we cannot work around.
    #[error("SDP line {line}: {reason}")]
    Malformed {
        /// 1-based line number, counting every line of the body.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A line RFC 8866 §5 makes mandatory (`v=`, `o=`) is absent.
    #[error("SDP has no {0} line")]
    MissingLine(&'static str),
}

/// Why offer/answer negotiation failed. From [`answer`] every variant means
/// "488 Not Acceptable Here" (RFC 3261 §13.3.1.3); from [`accept_answer`] the
/// call cannot carry audio and should be torn down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum NegotiationError {
    /// No audio m-line with a non-zero port (RFC 3264 §5.1, §8.2).
    #[error("no active audio stream")]
    NoAudio,
    /// Audio is only offered over a profile we cannot do, e.g. RTP/SAVP (no SRTP).
    #[error("audio offered only over an unsupported transport profile")]
    UnsupportedProfile,
    /// None of the peer's payload formats is a codec we support (RFC 3264 §6.1).
    #[error("no common codec")]
    NoCommonCodec,
    /// The chosen m-line has no `c=` at media or session level (RFC 8866 §5.7).
    #[error("audio stream has no connection address")]
    NoConnectionAddress,
    /// The answer's m-lines do not line up with our offer's (RFC 3264 §6).
    #[error("answer does not match the offer's media lines")]
    AnswerMismatch,
    /// The peer set our audio stream's port to 0 in its answer (RFC 3264 §6).
    #[error("peer rejected the audio stream")]
    Rejected,
}

/// The `o=` line (RFC 8866 §5.2): identifies a session and its version, which
/// must grow with every changed description (RFC 3264 §8).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// Originator's login, or `-`.
    pub username: String,
    /// Numeric session id, stable for the session's lifetime.
    pub session_id: u64,
    /// Incremented whenever the description changes.
    pub session_version: u64,
    /// Unicast address or FQDN; written as `IP6` when it contains `:`.
    pub address: String,
}

/// Media direction attributes (RFC 8866 §6.7, RFC 3264 §5.1): who sends RTP,
/// from the point of view of the description's author.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Both send (the default when no attribute is present).
    #[default]
    SendRecv,
    /// The author only sends (e.g. a phone putting us on hold).
    SendOnly,
    /// The author only receives.
    RecvOnly,
    /// Nobody sends media.
    Inactive,
}

impl Direction {
    const ALL: [Self; 4] = [
        Self::SendRecv,
        Self::SendOnly,
        Self::RecvOnly,
        Self::Inactive,
    ];

    /// The direction an answer carries for an offer with `self` (RFC 3264
    /// §6.1): sendonly becomes recvonly and vice versa.
    pub fn mirror(self) -> Self {
        Self::from_flags(self.receives(), self.sends())
    }
    /// Whether the author of the description sends RTP.
    pub fn sends(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }
    /// Whether the author of the description receives RTP.
    pub fn receives(self) -> bool {
        matches!(self, Self::SendRecv | Self::RecvOnly)
    }
    /// The attribute name as written in SDP.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }
    fn from_flags(send: bool, recv: bool) -> Self {
        match (send, recv) {
            (true, true) => Self::SendRecv,
            (true, false) => Self::SendOnly,
            (false, true) => Self::RecvOnly,
            (false, false) => Self::Inactive,
        }
    }
    fn from_attr(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(name))
    }
}

/// An `a=rtpmap` attribute (RFC 8866 §6.6): binds an RTP payload type to an
/// encoding, which is how dynamic types such as telephone-event get meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// RTP payload type (0-127).
    pub payload_type: u8,
    /// Encoding name as written; compare case-insensitively (RFC 8866 §6.6).
    pub encoding: String,
    /// RTP clock rate in Hz.
    pub clock_rate: u32,
    /// Audio channel count, when stated.
    pub channels: Option<u8>,
}

/// One `m=` section (RFC 8866 §5.14) with the attributes the hotline uses
/// parsed out; everything else is kept in `attributes` so nothing is lost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MediaDescription {
    /// Media type: "audio", "video", ...
    pub kind: String,
    /// Transport port; 0 means the stream is rejected/disabled (RFC 3264 §5.1).
    /// A `/<number of ports>` suffix is accepted and dropped.
    pub port: u16,
    /// Transport profile, e.g. "RTP/AVP".
    pub proto: String,
    /// Media formats (RTP payload type numbers for RTP), in preference order.
    pub formats: Vec<String>,
    /// Media-level `c=`, overriding the session-level one.
    pub connection: Option<IpAddr>,
    /// Effective direction: media attribute, else session attribute, else sendrecv.
    pub direction: Direction,
    /// `a=rtpmap` lines in body order.
    pub rtpmaps: Vec<RtpMap>,
    /// `a=fmtp:<pt> <params>` lines (RFC 8866 §6.15).
    pub fmtps: Vec<(u8, String)>,
    /// `a=ptime` in ms: the packet duration the author wants to receive (RFC 8866 §6.4).
    pub ptime: Option<u32>,
    /// `a=rtcp` port (RFC 3605); an address after it is dropped.
    pub rtcp_port: Option<u16>,
    /// All other attributes as (name, value) in body order.
    pub attributes: Vec<(String, Option<String>)>,
}

/// Static audio payload types (RFC 3551 §6, Table 4), all 8000 Hz, which a
/// description may use without an rtpmap.
const STATIC_PAYLOAD_TYPES: [(u8, &str); 7] = [
    (0, "PCMU"),
    (3, "GSM"),
    (4, "G723"),
    (8, "PCMA"),
    (9, "G722"),
    (13, "CN"),
    (18, "G729"),
];

/// Parses an RTP payload type number (0-127).
fn payload_type(s: &str) -> Option<u8> {
    s.parse().ok().filter(|pt| *pt < 128)
}

impl MediaDescription {
    /// The formats that are RTP payload type numbers, in the author's order.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats.iter().filter_map(|f| payload_type(f))
    }

    /// What payload type `pt` means here: its rtpmap, else the RFC 3551 static
    /// assignment (so `m=audio 6000 RTP/AVP 0` alone means PCMU/8000).
    pub fn rtpmap(&self, pt: u8) -> Option<RtpMap> {
        let explicit = self.rtpmaps.iter().find(|m| m.payload_type == pt);
        explicit.cloned().or_else(|| {
            let (_, name) = STATIC_PAYLOAD_TYPES.iter().find(|s| s.0 == pt)?;
            let encoding = name.to_string();
            Some(RtpMap {
                payload_type: pt,
                encoding,
                clock_rate: 8000,
                channels: None,
            })
        })
    }

    /// First listed payload type with this encoding (case-insensitive) and rate.
    pub fn find_payload_type(&self, encoding: &str, clock_rate: u32) -> Option<u8> {
        self.payload_types().find(|&pt| {
            let map = self.rtpmap(pt);
            map.is_some_and(|m| {
                m.encoding.eq_ignore_ascii_case(encoding) && m.clock_rate == clock_rate
            })
        })
    }

    /// The `a=fmtp` parameters for `pt`, if any.
    pub fn fmtp(&self, pt: u8) -> Option<&str> {
        let found = self.fmtps.iter().find(|(p, _)| *p == pt);
        found.map(|(_, f)| f.as_str())
    }

    /// Stores one `a=` line; values that miss a known attribute's grammar are
    /// kept verbatim as generic attributes rather than failing the call.
    fn apply_attribute(&mut self, name: &str, value: Option<&str>) {
        if let (None, Some(d)) = (value, Direction::from_attr(name)) {
            self.direction = d;
            return;
        }
        let parsed = value.and_then(|v| match name.to_ascii_lowercase().as_str() {
            "rtpmap" => parse_rtpmap(v).map(|m| self.rtpmaps.push(m)),
            "fmtp" => {
                let (pt, params) = v.split_once(' ').unwrap_or((v, ""));
                let entry = (payload_type(pt)?, params.trim_start().to_string());
                self.fmtps.push(entry);
                Some(())
            }
            "ptime" => v.parse().ok().map(|p| self.ptime = Some(p)),
            "rtcp" => {
                let port = v.split(' ').next()?.parse().ok();
                port.map(|p| self.rtcp_port = Some(p))
            }
            _ => None,
        });
        if parsed.is_none() {
            let value = value.map(str::to_string);
            self.attributes.push((name.into(), value));
        }
    }
}

/// A parsed session description (RFC 8866 §5): the body of an INVITE, 183 or
/// 200 that says where and how to send RTP. `t=` is accepted but not kept:
/// SIP sessions are unbounded and always written as `t=0 0` (RFC 3264 §5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionDescription {
    /// The `o=` line.
    pub origin: Origin,
    /// The `s=` line (`-` when absent).
    pub session_name: String,
    /// Session-level `c=`, the default for media without their own.
    pub connection: Option<IpAddr>,
    /// Session-level direction attribute, inherited by all media (RFC 8866 §6.7).
    pub direction: Option<Direction>,
    /// Other session-level attributes as (name, value) in body order.
    pub attributes: Vec<(String, Option<String>)>,
    /// The `m=` sections in order; order matters for offer/answer (RFC 3264 §6).
    pub media: Vec<MediaDescription>,
}

impl SessionDescription {
    /// Parses an SDP body. Accepts CRLF or bare LF, and skips blank lines and
    /// line types we do not use (`i= u= e= p= b= t= r= z= k=`, unknown letters).
    pub fn parse(text: &str) -> Result<Self, SdpError> {
        let mut sd = Self {
            session_name: "-".into(),
            ..Self::default()
        };
        let (mut seen_v, mut seen_o, mut seen_s) = (false, false, false);
        for (idx, line) in text.split('\n').map(str::trim_end).enumerate() {
            let bad = |reason| SdpError::Malformed {
                line: idx + 1,
                reason,
            };
            let (kind, value) = match line.split_once('=') {
                _ if line.is_empty() => continue,
                Some((k, v)) if k.len() == 1 && k.as_bytes()[0].is_ascii_alphabetic() => (k, v),
                _ => return Err(bad("line is not of the form <letter>=<value>")),
            };
            match (kind, seen_v) {
                ("v", false) if value == "0" => seen_v = true,
                ("v", false) => return Err(bad("unsupported SDP version (v= must be 0)")),
                (_, false) => return Err(bad("SDP must begin with a v= line")),
                ("v", _) => return Err(bad("duplicate v= line")),
                ("o", _) if !seen_o => {
                    let reason = "o= needs: username sess-id sess-version IN IP4|IP6 address";
                    sd.origin = parse_origin(value).ok_or_else(|| bad(reason))?;
                    seen_o = true;
                }
                ("s", _) if !seen_s && sd.media.is_empty() => {
                    sd.session_name = value.into();
                    seen_s = true;
                }
                ("c", _) => {
                    let reason = "c= needs: IN IP4|IP6 <IP address>";
                    let addr = parse_connection(value).ok_or_else(|| bad(reason))?;
                    let slot = match sd.media.last_mut() {
                        Some(m) => &mut m.connection,
                        None => &mut sd.connection,
                    };
                    slot.get_or_insert(addr);
                }
                ("m", _) => {
                    let mut m = parse_media_line(value).map_err(bad)?;
                    m.direction = sd.direction.unwrap_or_default();
                    sd.media.push(m);
                }
                ("a", _) => {
                    let (name, val) = match value.split_once(':') {
                        Some((n, v)) => (n, Some(v)),
                        None => (value, None),
                    };
                    match (sd.media.last_mut(), val, Direction::from_attr(name)) {
                        (Some(m), ..) => m.apply_attribute(name, val),
                        (None, None, Some(d)) => sd.direction = Some(d),
                        (None, ..) => sd.attributes.push((name.into(), val.map(str::to_string))),
                    }
                }
                _ => {}
            }
        }
        match (seen_v, seen_o) {
            (false, _) => Err(SdpError::MissingLine("v=")),
            (_, false) => Err(SdpError::MissingLine("o=")),
            _ => Ok(sd),
        }
    }

    /// The address RTP for `media` goes to: its own `c=`, else the session's.
    pub fn media_address(&self, media: &MediaDescription) -> Option<IpAddr> {
        media.connection.or(self.connection)
    }
}

fn parse_origin(value: &str) -> Option<Origin> {
    match value.split_whitespace().collect::<Vec<_>>()[..] {
        [user, id, version, "IN", _, addr] => Some(Origin {
            username: user.into(),
            session_id: id.parse().ok()?,
            session_version: version.parse().ok()?,
            address: addr.into(),
        }),
        _ => None,
    }
}

/// `IN IP4 <addr>[/ttl[/count]]`; a multicast suffix is dropped.
fn parse_connection(value: &str) -> Option<IpAddr> {
    match value.split_whitespace().collect::<Vec<_>>()[..] {
        ["IN", "IP4" | "IP6", addr] => addr.split('/').next()?.parse().ok(),
        _ => None,
    }
}

fn parse_media_line(value: &str) -> Result<MediaDescription, &'static str> {
    let mut it = value.split_whitespace();
    let (Some(kind), Some(port), Some(proto)) = (it.next(), it.next(), it.next()) else {
        return Err("m= needs: media port proto format...");
    };
    let formats: Vec<String> = it.map(str::to_string).collect();
    if formats.is_empty() {
        return Err("m= line lists no formats");
    }
    let port = port.split_once('/').map_or(port, |(p, _)| p).parse();
    let port = port.map_err(|_| "m= port is not a number between 0 and 65535")?;
    let (kind, proto) = (kind.into(), proto.into());
    Ok(MediaDescription {
        kind,
        port,
        proto,
        formats,
        ..Default::default()
    })
}

fn parse_rtpmap(value: &str) -> Option<RtpMap> {
    let (pt, rest) = value.split_once(' ')?;
    let mut parts = rest.trim().split('/');
    let (encoding, rate) = (parts.next()?.to_string(), parts.next()?.parse().ok()?);
    let channels = parts.next().map(str::parse).transpose().ok()?;
    let map = RtpMap {
        payload_type: payload_type(pt)?,
        encoding,
        clock_rate: rate,
        channels,
    };
    (!map.encoding.is_empty() && parts.next().is_none()).then_some(map)
}

fn addr_type(ip: &IpAddr) -> &'static str {
    if ip.is_ipv6() { "IP6" } else { "IP4" }
}

fn write_attrs(f: &mut fmt::Formatter<'_>, attrs: &[(String, Option<String>)]) -> fmt::Result {
    for (name, value) in attrs {
        match value {
            Some(v) => write!(f, "a={name}:{v}\r\n")?,
            None => write!(f, "a={name}\r\n")?,
        }
    }
    Ok(())
}

/// Serialises in RFC 8866 §5 order with CRLF line endings.
impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Origin {
            username,
            session_id,
            session_version,
            address,
        } = &self.origin;
        let o_type = if address.contains(':') { "IP6" } else { "IP4" };
        let o = format!("{username} {session_id} {session_version} IN {o_type} {address}");
        write!(f, "v=0\r\no={o}\r\ns={}\r\n", self.session_name)?;
        if let Some(c) = &self.connection {
            write!(f, "c=IN {} {c}\r\n", addr_type(c))?;
        }
        f.write_str("t=0 0\r\n")?;
        write_attrs(f, &self.attributes)?;
        if let Some(d) = self.direction {
            write!(f, "a={}\r\n", d.as_str())?;
        }
        for m in &self.media {
            let formats = m.formats.join(" ");
            write!(f, "m={} {} {} {formats}\r\n", m.kind, m.port, m.proto)?;
            if let Some(c) = &m.connection {
                write!(f, "c=IN {} {c}\r\n", addr_type(c))?;
            }
            for r in &m.rtpmaps {
                let ch = r.channels.map(|c| format!("/{c}")).unwrap_or_default();
                let (pt, rate) = (r.payload_type, r.clock_rate);
                write!(f, "a=rtpmap:{pt} {}/{rate}{ch}\r\n", r.encoding)?;
            }
            for (pt, params) in &m.fmtps {
                let sep = if params.is_empty() { "" } else { " " };
                write!(f, "a=fmtp:{pt}{sep}{params}\r\n")?;
            }
            if let Some(p) = m.ptime {
                write!(f, "a=ptime:{p}\r\n")?;
            }
            if let Some(p) = m.rtcp_port {
                write!(f, "a=rtcp:{p}\r\n")?;
            }
            write_attrs(f, &m.attributes)?;
            write!(f, "a={}\r\n", m.direction.as_str())?;
        }
        Ok(())
    }
}

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

#[cfg(test)]
mod tests {
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
        let head =
            "v=0\r\no=- 777 1 IN IP4 203.0.113.1\r\ns=-\r\nc=IN IP4 203.0.113.1\r\nt=0 0\r\n";
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
        let want =
            "m=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n";
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
        let want =
            "m=audio 30000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=ptime:20\r\na=sendrecv\r\n";
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
}
