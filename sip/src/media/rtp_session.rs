//! One call leg's RTP endpoint (RFC 3550), sans-IO: the driver feeds `(bytes, source, now)` and
//! sends what the `build_*` methods return to [`RtpSession::send_destination`].
//!
//! Responsibilities: symmetric RTP / latching for callers behind NAT (RFC 4961), validation of
//! incoming packets, receive statistics for RTCP (RFC 3550 A.1, A.3, A.8), and outgoing
//! sequence/timestamp continuity for audio (RFC 3550 §5.1, RFC 3551 §4.1) and telephone-events
//! (RFC 4733). Payloads are opaque bytes; decoding G.711 or DTMF events happens elsewhere.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rtp_rs::{RtpPacketBuildError, RtpPacketBuilder, RtpReader, RtpReaderError, Seq};
use thiserror::Error;
use tracing::debug;

use super::jitter::ReceptionStats;
use super::rtcp::{RtcpError, RtcpPacket, RtcpState, SenderInfo, random_u32};

/// RFC 4733 §2.5.1.4: the final packet of an event is sent three times.
const EVENT_END_COPIES: usize = 3;
const RTP_HEADER_LEN: usize = 12;

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

    /// Builds one audio packet: `samples` is the packet's duration in clock ticks (160 for
    /// 20 ms at 8 kHz), by which the timestamp advances (RFC 3550 §5.1). The marker is also set
    /// automatically on the first packet and after [`Self::advance_silence`] (RFC 3551 §4.1).
    pub fn build_audio(
        &mut self,
        payload: &[u8],
        samples: u32,
        marker: bool,
    ) -> Result<Vec<u8>, RtpError> {
        let mut buf = vec![0; RTP_HEADER_LEN + payload.len()];
        let n = self.build_audio_into(payload, samples, marker, &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    /// [`Self::build_audio`] into a caller-owned buffer (no allocation); returns the length.
    pub fn build_audio_into(
        &mut self,
        payload: &[u8],
        samples: u32,
        marker: bool,
        out: &mut [u8],
    ) -> Result<usize, RtpError> {
        let pt = self.payload_type.ok_or(RtpError::NotNegotiated)?;
        let marker = marker || self.talkspurt_start;
        let n = self.write(pt, self.timestamp, marker, payload, out)?;
        self.talkspurt_start = false;
        self.timestamp = self.timestamp.wrapping_add(samples);
        Ok(n)
    }

    /// Accounts for time in which we sent nothing (hold, suppressed silence): the timestamp
    /// must keep tracking the sampling clock (RFC 3550 §5.1), and the next audio packet starts
    /// a talkspurt (marker set, RFC 3551 §4.1).
    pub fn advance_silence(&mut self, samples: u32) {
        self.timestamp = self.timestamp.wrapping_add(samples);
        self.talkspurt_start = true;
    }

    /// Builds RFC 4733 telephone-event packets for forwarding DTMF to the bridged leg.
    /// `new_event` starts an event at the current media timestamp; every packet of the event
    /// carries that timestamp and the first one the marker (§2.2); `duration` is in clock
    /// ticks since the start (§2.3). With `end`, the final packet is returned three
    /// times with fresh sequence numbers (§2.5.1.4) and the audio timestamp moves past the
    /// event. The caller may space the copies at its packet interval.
    pub fn build_telephone_event(
        &mut self,
        event: u8,
        end: bool,
        duration: u16,
        volume: u8,
        new_event: bool,
    ) -> Result<Vec<Vec<u8>>, RtpError> {
        let pt = self.event_pt.ok_or(RtpError::NoTelephoneEvent)?;
        let (timestamp, mut marker) = match self.event_timestamp {
            Some(ts) if !new_event => (ts, false),
            _ => (self.timestamp, true),
        };
        self.event_timestamp = Some(timestamp);
        let [d0, d1] = duration.to_be_bytes();
        let payload = [event, u8::from(end) << 7 | (volume & 0x3f), d0, d1];
        let copies = if end { EVENT_END_COPIES } else { 1 };
        let mut packets = Vec::with_capacity(copies);
        for _ in 0..copies {
            let mut buf = [0u8; RTP_HEADER_LEN + 4];
            let n = self.write(pt, timestamp, marker, &payload, &mut buf)?;
            packets.push(buf[..n].to_vec());
            marker = false;
        }
        if end {
            self.event_timestamp = None;
            let elapsed = self.timestamp.wrapping_sub(timestamp);
            if u32::from(duration) > elapsed {
                self.timestamp = timestamp.wrapping_add(u32::from(duration));
            }
        }
        Ok(packets)
    }

    fn write(
        &mut self,
        pt: u8,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize, RtpError> {
        let builder = RtpPacketBuilder::new()
            .payload_type(pt)
            .ssrc(self.ssrc)
            .sequence(Seq::from(self.seq))
            .timestamp(timestamp)
            .marked(marker)
            .payload(payload);
        let n = builder.build_into(out).map_err(|e| match e {
            RtpPacketBuildError::BufferTooSmall => RtpError::BufferTooSmall {
                needed: builder.target_length(),
            },
            // No extension is ever set, so only the payload type can be rejected.
            _ => RtpError::InvalidPayloadType(pt),
        })?;
        self.seq = self.seq.wrapping_add(1);
        self.sent_since_report = true;
        self.counters.packets_sent = self.counters.packets_sent.wrapping_add(1);
        self.counters.octets_sent = self.counters.octets_sent.wrapping_add(payload.len() as u32);
        Ok(n)
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
mod tests {
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
        let ntp =
            super::super::rtcp::ntp_timestamp(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
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
}
