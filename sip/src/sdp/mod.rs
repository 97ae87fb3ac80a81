//! SDP (RFC 8866, formerly RFC 4566) for audio sessions, and the offer/answer
//! model (RFC 3264) as the hotline uses it: G.711 (PCMU/PCMA, RFC 3551) plus
//! RFC 4733 telephone-event, no SRTP, one active audio stream per call.
//!
//! The parser is lenient where real phones are sloppy (LF-only line endings,
//! blank, unknown or unused lines, attributes that miss their grammar, which
//! are kept verbatim) and strict where the body is useless (no `v=`/`o=`,
//! broken `o=`/`c=`/`m=` lines). Errors carry a line number and a fixed
//! reason, never text from the body, so they are safe to log.

mod display;
mod offer_answer;
mod parse;

use std::net::IpAddr;

use thiserror::Error;

pub use offer_answer::{Codec, LocalMedia, Negotiated, accept_answer, answer, offer};

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
    /// The address RTP for `media` goes to: its own `c=`, else the session's.
    pub fn media_address(&self, media: &MediaDescription) -> Option<IpAddr> {
        media.connection.or(self.connection)
    }
}

#[cfg(test)]
mod tests;
