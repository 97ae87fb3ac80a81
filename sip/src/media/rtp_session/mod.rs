//! One call leg's RTP endpoint (RFC 3550), sans-IO: the driver feeds `(bytes, source, now)` and
//! sends what the `build_*` methods return to [`RtpSession::send_destination`].
//!
//! Responsibilities: symmetric RTP / latching for callers behind NAT (RFC 4961), validation of
//! incoming packets, receive statistics for RTCP (RFC 3550 A.1, A.3, A.8), and outgoing
//! sequence/timestamp continuity for audio (RFC 3550 §5.1, RFC 3551 §4.1) and telephone-events
//! (RFC 4733). Payloads are opaque bytes; decoding G.711 or DTMF events happens elsewhere.

mod send;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtp_rs::{RtpReader, RtpReaderError};
use thiserror::Error;
use tracing::debug;

use super::jitter::ReceptionStats;
use super::rtcp::{RtcpError, RtcpPacket, RtcpState, SenderInfo, random_u32};

/// Knobs for latching; the defaults follow common SBC practice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpConfig {
    /// Latch onto the source address of received RTP (symmetric RTP, RFC 4961). When false we
    /// always send to the SDP address and accept packets from anywhere.
    pub symmetric: bool,
    /// How long the latched source must be silent before another source may take over.
    pub relatch_after_silence: Duration,
    /// Consecutive valid packets (same SSRC, same address) a new source must send to take over.
    pub relatch_packets: u32,
}

impl Default for RtpConfig {
    fn default() -> Self {
        RtpConfig {
            symmetric: true,
            relatch_after_silence: Duration::from_secs(2),
            relatch_packets: 3,
        }
    }
}

/// A malformed RTP header: our `Display`able mirror of `rtp_rs::RtpReaderError`, which has no
/// `Display`/`Error` impl.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum HeaderError {
    /// Fewer than the 12 bytes of a fixed header (RFC 3550 §5.1).
    #[error("RTP packet too short ({0} bytes)")]
    TooShort(usize),
    /// Version other than 2.
    #[error("unsupported RTP version {0}")]
    Version(u8),
    /// CSRC list or header extension (of this many header bytes) runs past the packet's end.
    #[error("RTP header of {0} bytes is longer than the packet")]
    Truncated(usize),
    /// Padding length of 0 or longer than the packet (RFC 3550 §5.1, P bit).
    #[error("invalid RTP padding length {0}")]
    Padding(u8),
}

impl From<RtpReaderError> for HeaderError {
    fn from(e: RtpReaderError) -> Self {
        match e {
            RtpReaderError::BufferTooShort(n) => HeaderError::TooShort(n),
            RtpReaderError::UnsupportedVersion(v) => HeaderError::Version(v),
            RtpReaderError::HeadersTruncated { header_len, .. } => Self::Truncated(header_len),
            RtpReaderError::PaddingLengthInvalid(p) => HeaderError::Padding(p),
        }
    }
}

/// Why an incoming packet was not delivered; counted and logged, never an error for the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoreReason {
    /// Not a valid RTP header.
    Malformed(HeaderError),
    /// No SDP negotiation yet, so no payload type is known.
    NotNegotiated,
    /// Payload type is neither the negotiated codec nor telephone-event (RFC 3551 §6).
    UnknownPayloadType(u8),
    /// Empty audio payload, or a telephone-event shorter than 4 bytes (RFC 4733 §2.3).
    BadPayload,
    /// From an address other than the latched one (RFC 4961); may count towards re-latching.
    ForeignSource(SocketAddr),
    /// Sequence jump beyond RFC 3550 A.1's limits; accepted if the next packet follows it.
    SequenceJump(u16),
}

/// An accepted RTP packet's fields; the payload borrows the input datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaPacket<'a> {
    /// Sender's SSRC (the jitter buffer resets when it changes).
    pub ssrc: u32,
    /// Payload type, so the decoder can follow a PCMU/PCMA switch.
    pub payload_type: u8,
    /// RTP sequence number.
    pub seq: u16,
    /// RTP timestamp (for an event: the event's start, RFC 4733 §2.2).
    pub timestamp: u32,
    /// Marker: talkspurt start (RFC 3551 §4.1) or an event's first packet (RFC 4733 §2.2).
    pub marker: bool,
    /// Payload bytes, undecoded.
    pub payload: &'a [u8],
}

/// What [`RtpSession::handle_packet`] made of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received<'a> {
    /// Codec audio, for the jitter buffer.
    Audio(MediaPacket<'a>),
    /// RFC 4733 telephone-event, passed undecoded to the DTMF decoder.
    TelephoneEvent(MediaPacket<'a>),
    /// Dropped; counted in [`SessionCounters`].
    Ignored(IgnoreReason),
}

/// Errors building outgoing packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtpError {
    /// Payload types are 7 bits (RFC 3550 §5.1).
    #[error("payload type {0} is not a 7-bit RTP payload type")]
    InvalidPayloadType(u8),
    /// `set_remote` has not been called yet.
    #[error("no payload type negotiated yet")]
    NotNegotiated,
    /// The SDP had no `telephone-event/8000` payload type (RFC 4733 is negotiated, not assumed).
    #[error("telephone-event was not negotiated")]
    NoTelephoneEvent,
    /// Caller-provided buffer too small.
    #[error("output buffer too small: {needed} bytes needed")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
    },
}

/// Counters for operations and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionCounters {
    /// RTP packets sent (audio and events).
    pub packets_sent: u32,
    /// Payload octets sent.
    pub octets_sent: u32,
    /// Packets ignored because they came from a non-latched address.
    pub ignored_foreign: u64,
    /// Packets ignored for any other reason.
    pub ignored_invalid: u64,
    /// Times the latched address changed after the first latch.
    pub relatches: u32,
}

/// One call leg's RTP endpoint. See the module docs; create with [`RtpSession::new`], configure
/// from SDP with [`RtpSession::set_remote`].
#[derive(Debug)]
pub struct RtpSession {
    config: RtpConfig,
    clock_rate: u32,
    ssrc: u32,
    // Negotiated media.
    advertised: Option<SocketAddr>,
    payload_type: Option<u8>,
    event_pt: Option<u8>,
    // Latching.
    /// Latched source and when it last sent.
    latch: Option<(SocketAddr, Instant)>,
    /// A new source trying to take over: address, SSRC, consecutive packets.
    candidate: Option<(SocketAddr, u32, u32)>,
    // Sending.
    seq: u16,
    timestamp: u32,
    talkspurt_start: bool,
    event_timestamp: Option<u32>,
    sent_since_report: bool,
    // Receiving.
    stats: Option<ReceptionStats>,
    rtcp: RtcpState,
    counters: SessionCounters,
}

impl RtpSession {
    /// A new leg with our SSRC (random if `None`, RFC 3550 §8.1) and random initial sequence
    /// number and timestamp (§5.1). `clock_rate` is 8000 for G.711 and telephone-event.
    pub fn new(local_ssrc: Option<u32>, clock_rate: u32, config: RtpConfig) -> Self {
        RtpSession {
            config,
            clock_rate,
            ssrc: local_ssrc.unwrap_or_else(random_u32),
            advertised: None,
            payload_type: None,
            event_pt: None,
            latch: None,
            candidate: None,
            seq: random_u32() as u16,
            timestamp: random_u32(),
            talkspurt_start: true,
            event_timestamp: None,
            sent_since_report: false,
            stats: None,
            rtcp: RtcpState::default(),
            counters: SessionCounters::default(),
        }
    }

    /// Applies an SDP offer/answer (and any re-INVITE): the peer's advertised address (`None`
    /// for hold / no address), audio payload type and telephone-event payload type. A changed
    /// address resets latching; a changed payload type keeps our sequence and timestamp running
    /// (packets still arriving with the old payload type are ignored from then on).
    pub fn set_remote(
        &mut self,
        advertised: Option<SocketAddr>,
        payload_type: u8,
        telephone_event_pt: Option<u8>,
    ) -> Result<(), RtpError> {
        for pt in std::iter::once(payload_type).chain(telephone_event_pt) {
            if pt > 127 {
                return Err(RtpError::InvalidPayloadType(pt));
            }
        }
        if advertised != self.advertised {
            debug!(?advertised, previous = ?self.advertised, "RTP remote changed, latch reset");
            self.latch = None;
            self.candidate = None;
            self.rtcp.reset_source();
        }
        self.advertised = advertised;
        self.payload_type = Some(payload_type);
        self.event_pt = telephone_event_pt.filter(|&pt| pt != payload_type);
        Ok(())
    }

    /// Where to send RTP: the latched source if any, else the SDP address; `None` on hold.
    pub fn send_destination(&self) -> Option<SocketAddr> {
        let advertised = self.advertised?;
        Some(self.latch.map_or(advertised, |(addr, _)| addr))
    }

    /// Where to send RTCP: the address RTCP came from, else the RTP destination's port + 1
    /// (RFC 3550 §11).
    pub fn rtcp_destination(&self) -> Option<SocketAddr> {
        let mut rtp = self.send_destination()?;
        rtp.set_port(rtp.port().wrapping_add(1));
        let latched = self.rtcp.source().filter(|_| self.config.symmetric);
        Some(latched.unwrap_or(rtp))
    }

    /// Our SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// The latched remote address, if any packet has been accepted.
    pub fn latched(&self) -> Option<SocketAddr> {
        self.latch.map(|(addr, _)| addr)
    }

    /// Counters for logs and metrics.
    pub fn counters(&self) -> SessionCounters {
        self.counters
    }

    /// Receive statistics of the current remote SSRC.
    pub fn receive_stats(&self) -> Option<&ReceptionStats> {
        self.stats.as_ref()
    }

    /// RTCP state: the peer's latest report about our stream (loss, jitter, round trip) and
    /// whether it sent BYE.
    pub fn rtcp(&self) -> &RtcpState {
        &self.rtcp
    }

    /// Handles one received datagram: validates it, applies latching, updates statistics and
    /// classifies it. Never panics on garbage.
    pub fn handle_packet<'a>(
        &mut self,
        bytes: &'a [u8],
        source: SocketAddr,
        now: Instant,
    ) -> Received<'a> {
        let rtp = match RtpReader::new(bytes) {
            Ok(rtp) => rtp,
            Err(e) => return self.invalid(IgnoreReason::Malformed(e.into())),
        };
        let Some(audio_pt) = self.payload_type else {
            return self.invalid(IgnoreReason::NotNegotiated);
        };
        let pt = rtp.payload_type();
        let is_event = self.event_pt == Some(pt);
        if pt != audio_pt && !is_event {
            return self.invalid(IgnoreReason::UnknownPayloadType(pt));
        }
        let payload = rtp.payload();
        if payload.is_empty() || (is_event && payload.len() < 4) {
            return self.invalid(IgnoreReason::BadPayload);
        }
        let (ssrc, timestamp) = (rtp.ssrc(), rtp.timestamp());
        let seq = u16::from(rtp.sequence_number());
        if !self.accept_source(source, ssrc, now) {
            return Received::Ignored(IgnoreReason::ForeignSource(source));
        }
        let stats = match &mut self.stats {
            Some(s) if s.ssrc() == ssrc => s,
            slot => slot.insert(ReceptionStats::new(ssrc, self.clock_rate, seq)),
        };
        // Event packets repeat the event's start timestamp: excluded from jitter.
        if !stats.record(seq, (!is_event).then_some(timestamp), payload.len(), now) {
            return self.invalid(IgnoreReason::SequenceJump(seq));
        }
        let (marker, payload_type) = (rtp.mark(), pt);
        let packet = MediaPacket {
            ssrc,
            payload_type,
            seq,
            timestamp,
            marker,
            payload,
        };
        if is_event {
            Received::TelephoneEvent(packet)
        } else {
            Received::Audio(packet)
        }
    }

    fn invalid(&mut self, reason: IgnoreReason) -> Received<'static> {
        self.counters.ignored_invalid += 1;
        Received::Ignored(reason)
    }

    /// Latching rules: first valid packet latches; the SDP address itself is always trusted;
    /// another source takes over only after the latched one has been silent long enough and
    /// the newcomer sent `relatch_packets` consecutive packets with one SSRC.
    fn accept_source(&mut self, source: SocketAddr, ssrc: u32, now: Instant) -> bool {
        if !self.config.symmetric || source.port() == 0 {
            // Nothing can be sent back to port 0 (raw-socket senders such as SIPp's pcap
            // player): use the media, keep the destination.
            return true;
        }
        let Some((latched, last_seen)) = self.latch.as_mut() else {
            debug!(%source, "RTP latched");
            self.latch = Some((source, now));
            return true;
        };
        if *latched == source {
            *last_seen = now;
            self.candidate = None;
            return true;
        }
        let (latched, silent) = (*latched, now.saturating_duration_since(*last_seen));
        let count = match &mut self.candidate {
            Some((addr, c_ssrc, count)) if *addr == source && *c_ssrc == ssrc => {
                *count += 1;
                *count
            }
            slot => slot.insert((source, ssrc, 1)).2,
        };
        let takeover =
            silent >= self.config.relatch_after_silence && count >= self.config.relatch_packets;
        if takeover || Some(source) == self.advertised {
            debug!(%source, previous = %latched, ?silent, "RTP re-latched");
            self.latch = Some((source, now));
            self.candidate = None;
            self.counters.relatches += 1;
            return true;
        }
        self.counters.ignored_foreign += 1;
        let n = self.counters.ignored_foreign;
        if n.is_power_of_two() {
            debug!(%source, %latched, ignored = n, "RTP from unlatched source");
        }
        false
    }

    /// Handles an incoming RTCP datagram (see [`RtcpState::handle`]); returns the parsed
    /// packets for logging.
    pub fn handle_rtcp(
        &mut self,
        bytes: &[u8],
        source: SocketAddr,
        now: Instant,
    ) -> Result<Vec<RtcpPacket>, RtcpError> {
        let remote = self.stats.as_ref().map(ReceptionStats::ssrc);
        self.rtcp.handle(bytes, source, now, self.ssrc, remote)
    }

    /// Builds this interval's compound RTCP packet (RFC 3550 §6.4): SR if we sent RTP since the
    /// last report, else RR, with a report block about the peer's stream, then SDES CNAME
    /// (§6.1). `ntp` is the caller's wall clock ([`super::rtcp::ntp_timestamp`]); the SR's RTP
    /// timestamp is the next one we would send.
    pub fn rtcp_report(&mut self, now: Instant, ntp: u64, cname: &str) -> Vec<u8> {
        self.build_rtcp(now, ntp, cname, None)
    }

    /// The last report with an RTCP BYE appended, sent on hangup (RFC 3550 §6.6); an empty
    /// `reason` is left out.
    pub fn rtcp_bye(&mut self, now: Instant, ntp: u64, cname: &str, reason: &str) -> Vec<u8> {
        self.build_rtcp(now, ntp, cname, Some(reason))
    }

    fn build_rtcp(&mut self, now: Instant, ntp: u64, cname: &str, bye: Option<&str>) -> Vec<u8> {
        let sender = self.sent_since_report.then_some(SenderInfo {
            ntp_timestamp: ntp,
            rtp_timestamp: self.timestamp,
            packet_count: self.counters.packets_sent,
            octet_count: self.counters.octets_sent,
        });
        self.sent_since_report = false;
        let stats = self.stats.as_mut();
        self.rtcp.build(now, self.ssrc, sender, stats, cname, bye)
    }
}

#[cfg(test)]
mod tests;
