//! Minimal RTCP (RFC 3550 §6): just enough to be a well-behaved RTP peer on a phone call.
//!
//! We build compound packets of SR or RR followed by SDES CNAME (RFC 3550 §6.1), append a BYE on
//! hangup (§6.6), and parse SR/RR/SDES/BYE from the peer so the session can fill LSR/DLSR and
//! log the peer's view of our stream (loss, jitter, round trip, §6.4.1). Everything else (APP,
//! feedback, XR) is skipped by its length field. Pure functions over bytes: no sockets, no
//! clocks; the wall clock needed for SR NTP timestamps is passed in by the caller.

use std::collections::VecDeque;
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use thiserror::Error;
use tracing::debug;

use super::jitter::ReceptionStats;

const VERSION: u8 = 2;
const PT_SR: u8 = 200;
const PT_RR: u8 = 201;
const PT_SDES: u8 = 202;
const PT_BYE: u8 = 203;
const SDES_CNAME: u8 = 1;
const REPORT_BLOCK_LEN: usize = 24;
/// Five bits of report count (RFC 3550 §6.4.1).
const MAX_BLOCKS: usize = 31;
/// Seconds from the NTP epoch (1900) to the Unix epoch (1970), RFC 868 / RFC 5905.
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// The sender-info section of an SR (RFC 3550 §6.4.1): tells the peer how much we sent and ties
/// our RTP clock to wall-clock time so it can compute round trip via LSR/DLSR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderInfo {
    /// 64-bit NTP timestamp (32.32 fixed point seconds since 1900), see [`ntp_timestamp`].
    pub ntp_timestamp: u64,
    /// RTP timestamp corresponding to `ntp_timestamp`, in the media clock (8000 Hz).
    pub rtp_timestamp: u32,
    /// Total RTP packets sent since the session started (wraps).
    pub packet_count: u32,
    /// Total payload octets sent (headers excluded, §6.4.1).
    pub octet_count: u32,
}

impl SenderInfo {
    /// The middle 32 bits of the NTP timestamp: the value a receiver echoes as LSR (§6.4.1).
    pub fn ntp_middle(&self) -> u32 {
        (self.ntp_timestamp >> 16) as u32
    }
}

/// One reception report block (RFC 3550 §6.4.1): the reporter's reception quality for one SSRC.
/// We send one about the caller's stream and read the peer's one about ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// SSRC of the source this block is about.
    pub ssrc: u32,
    /// Fraction lost since the previous report, as a fixed point number with the point at the
    /// left edge (lost * 256 / expected), §6.4.1 and A.3.
    pub fraction_lost: u8,
    /// Cumulative packets lost, a signed 24-bit value on the wire (duplicates can make it
    /// negative); clamped to the 24-bit range when built.
    pub cumulative_lost: i32,
    /// Extended highest sequence number received (cycles << 16 | max seq), A.1.
    pub extended_highest_seq: u32,
    /// Interarrival jitter in timestamp units (A.8).
    pub jitter: u32,
    /// LSR: middle 32 bits of the NTP timestamp of the last SR from this source, 0 if none.
    pub last_sr: u32,
    /// DLSR: delay since that SR was received, in units of 1/65536 s, 0 if none.
    pub delay_since_last_sr: u32,
}

/// One parsed RTCP packet of a compound packet (RFC 3550 §6.4-§6.6). Unknown types are kept as
/// [`RtcpPacket::Other`] so callers can log them without us failing the whole datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcpPacket {
    /// SR (PT 200, §6.4.1).
    SenderReport {
        /// SSRC of the sender.
        ssrc: u32,
        /// Its sender info, whose [`SenderInfo::ntp_middle`] becomes our LSR.
        info: SenderInfo,
        /// Its reception reports.
        reports: Vec<ReportBlock>,
    },
    /// RR (PT 201, §6.4.2).
    ReceiverReport {
        /// SSRC of the reporter.
        ssrc: u32,
        /// Its reception reports.
        reports: Vec<ReportBlock>,
    },
    /// SDES (PT 202, §6.5): `(ssrc, cname)` per chunk; items other than CNAME are skipped.
    SourceDescription(Vec<(u32, Option<String>)>),
    /// BYE (PT 203, §6.6).
    Goodbye {
        /// SSRCs that are leaving.
        sources: Vec<u32>,
        /// Optional reason text (lossily decoded UTF-8).
        reason: Option<String>,
    },
    /// Any other packet type (APP, RTPFB, PSFB, XR, ...) by its type byte, skipped by length.
    Other(u8),
}

/// Why an RTCP datagram was rejected. Per RFC 3550 A.2 a compound packet whose lengths don't add
/// up is discarded whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtcpError {
    /// Fewer than 4 bytes left where a packet header was expected.
    #[error("RTCP packet truncated: {0} bytes left for a 4-byte header")]
    Truncated(usize),
    /// Version field other than 2.
    #[error("unsupported RTCP version {0}")]
    Version(u8),
    /// Length field points past the end of the datagram.
    #[error("RTCP length {declared} exceeds the {remaining} bytes left")]
    Length {
        /// Bytes the header claims.
        declared: usize,
        /// Bytes actually left.
        remaining: usize,
    },
    /// Body too short for its report count, or bad padding.
    #[error("malformed RTCP packet of type {0}")]
    Malformed(u8),
}

/// Parses a compound RTCP packet (RFC 3550 §6.1). Never panics: every read is bounds-checked,
/// and a datagram whose lengths don't add up is rejected whole (A.2).
pub fn parse_compound(mut buf: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    if buf.is_empty() {
        return Err(RtcpError::Truncated(0));
    }
    let mut out = Vec::new();
    while !buf.is_empty() {
        let [b0, pt, l0, l1, ..] = *buf else {
            return Err(RtcpError::Truncated(buf.len()));
        };
        if b0 >> 6 != VERSION {
            return Err(RtcpError::Version(b0 >> 6));
        }
        let len = (usize::from(u16::from_be_bytes([l0, l1])) + 1) * 4;
        if len > buf.len() {
            return Err(RtcpError::Length {
                declared: len,
                remaining: buf.len(),
            });
        }
        let mut body = &buf[4..len];
        buf = &buf[len..];
        if b0 & 0x20 != 0 {
            let pad = usize::from(body.last().copied().unwrap_or(0));
            if pad == 0 || pad > body.len() {
                return Err(RtcpError::Malformed(pt));
            }
            body = &body[..body.len() - pad];
        }
        let count = usize::from(b0 & 0x1f);
        let packet = match pt {
            PT_SR => parse_sr(body, count),
            PT_RR => parse_rr(body, count),
            PT_SDES => parse_sdes(body, count),
            PT_BYE => parse_bye(body, count),
            _ => Some(RtcpPacket::Other(pt)),
        };
        out.push(packet.ok_or(RtcpError::Malformed(pt))?);
    }
    Ok(out)
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let bytes = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

fn parse_blocks(b: &[u8], count: usize) -> Option<Vec<ReportBlock>> {
    (0..count)
        .map(|i| {
            let at = i * REPORT_BLOCK_LEN;
            let lost = be32(b, at + 4)?;
            Some(ReportBlock {
                ssrc: be32(b, at)?,
                fraction_lost: (lost >> 24) as u8,
                // Sign-extend the 24-bit field.
                cumulative_lost: ((lost << 8) as i32) >> 8,
                extended_highest_seq: be32(b, at + 8)?,
                jitter: be32(b, at + 12)?,
                last_sr: be32(b, at + 16)?,
                delay_since_last_sr: be32(b, at + 20)?,
            })
        })
        .collect()
}

fn parse_sr(b: &[u8], count: usize) -> Option<RtcpPacket> {
    let info = SenderInfo {
        ntp_timestamp: u64::from(be32(b, 4)?) << 32 | u64::from(be32(b, 8)?),
        rtp_timestamp: be32(b, 12)?,
        packet_count: be32(b, 16)?,
        octet_count: be32(b, 20)?,
    };
    let reports = parse_blocks(b.get(24..)?, count)?;
    Some(RtcpPacket::SenderReport {
        ssrc: be32(b, 0)?,
        info,
        reports,
    })
}

fn parse_rr(b: &[u8], count: usize) -> Option<RtcpPacket> {
    let reports = parse_blocks(b.get(4..)?, count)?;
    Some(RtcpPacket::ReceiverReport {
        ssrc: be32(b, 0)?,
        reports,
    })
}

fn parse_sdes(b: &[u8], count: usize) -> Option<RtcpPacket> {
    let mut chunks = Vec::with_capacity(count.min(MAX_BLOCKS));
    let mut at = 0;
    for _ in 0..count {
        let ssrc = be32(b, at)?;
        at += 4;
        let mut cname = None;
        loop {
            let kind = *b.get(at)?;
            if kind == 0 {
                // End of item list: skip the null octet(s) to the next 32-bit boundary (§6.5).
                at = (at / 4 + 1) * 4;
                break;
            }
            let len = usize::from(*b.get(at + 1)?);
            let text = b.get(at + 2..at + 2 + len)?;
            if kind == SDES_CNAME {
                cname = Some(String::from_utf8_lossy(text).into_owned());
            }
            at += 2 + len;
        }
        chunks.push((ssrc, cname));
    }
    Some(RtcpPacket::SourceDescription(chunks))
}

fn parse_bye(b: &[u8], count: usize) -> Option<RtcpPacket> {
    let sources = (0..count)
        .map(|i| be32(b, i * 4))
        .collect::<Option<Vec<_>>>()?;
    let reason = match b.get(count * 4) {
        Some(&len) if len > 0 => {
            let start = count * 4 + 1;
            let text = b.get(start..start + usize::from(len))?;
            Some(String::from_utf8_lossy(text).into_owned())
        }
        _ => None,
    };
    Some(RtcpPacket::Goodbye { sources, reason })
}

/// Writes a packet header with a placeholder length; [`finish`] fills the length in.
fn begin(buf: &mut Vec<u8>, count: usize, pt: u8) -> usize {
    let start = buf.len();
    buf.extend_from_slice(&[VERSION << 6 | (count as u8 & 0x1f), pt, 0, 0]);
    start
}

/// Pads to 32 bits and sets the length field in 32-bit words minus one (§6.4.1).
fn finish(buf: &mut Vec<u8>, start: usize) {
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
    let words = ((buf.len() - start) / 4 - 1) as u16;
    buf[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
}

/// Longest prefix of `s` that fits in `max` bytes without splitting a UTF-8 character.
fn truncate(s: &str, max: usize) -> &[u8] {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s.as_bytes()[..end]
}

/// Builds the compound packet every report interval: SR if `sender` is given (we sent RTP since
/// the last report, §6.4) else RR, then SDES with our CNAME, which §6.1 requires in every
/// compound packet. At most 31 report blocks are encoded (5-bit count).
pub fn build_report(
    ssrc: u32,
    sender: Option<&SenderInfo>,
    blocks: &[ReportBlock],
    cname: &str,
) -> Vec<u8> {
    let blocks = &blocks[..blocks.len().min(MAX_BLOCKS)];
    let mut buf = Vec::with_capacity(28 + blocks.len() * REPORT_BLOCK_LEN + 12 + cname.len());
    let start = begin(
        &mut buf,
        blocks.len(),
        if sender.is_some() { PT_SR } else { PT_RR },
    );
    buf.extend_from_slice(&ssrc.to_be_bytes());
    if let Some(info) = sender {
        buf.extend_from_slice(&info.ntp_timestamp.to_be_bytes());
        for v in [info.rtp_timestamp, info.packet_count, info.octet_count] {
            buf.extend_from_slice(&v.to_be_bytes());
        }
    }
    for b in blocks {
        let lost = (b.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff) as u32) & 0x00ff_ffff;
        buf.extend_from_slice(&b.ssrc.to_be_bytes());
        buf.extend_from_slice(&(u32::from(b.fraction_lost) << 24 | lost).to_be_bytes());
        for v in [
            b.extended_highest_seq,
            b.jitter,
            b.last_sr,
            b.delay_since_last_sr,
        ] {
            buf.extend_from_slice(&v.to_be_bytes());
        }
    }
    finish(&mut buf, start);
    let start = begin(&mut buf, 1, PT_SDES);
    buf.extend_from_slice(&ssrc.to_be_bytes());
    let text = truncate(cname, 255);
    buf.extend_from_slice(&[SDES_CNAME, text.len() as u8]);
    buf.extend_from_slice(text);
    buf.push(0); // end of item list; finish() pads the rest of the word with nulls
    finish(&mut buf, start);
    buf
}

/// Builds the hangup packet: the usual report + SDES followed by BYE (RFC 3550 §6.6; a BYE
/// must still be part of a compound packet that starts with SR/RR, §6.1). An empty `reason` is
/// left out.
pub fn build_bye(
    ssrc: u32,
    sender: Option<&SenderInfo>,
    blocks: &[ReportBlock],
    cname: &str,
    reason: &str,
) -> Vec<u8> {
    let mut buf = build_report(ssrc, sender, blocks, cname);
    let start = begin(&mut buf, 1, PT_BYE);
    buf.extend_from_slice(&ssrc.to_be_bytes());
    if !reason.is_empty() {
        let text = truncate(reason, 255);
        buf.push(text.len() as u8);
        buf.extend_from_slice(text);
    }
    finish(&mut buf, start);
    buf
}

/// Converts a wall-clock time (read by the caller) to a 64-bit NTP timestamp for the SR
/// sender info (RFC 3550 §4). Times before 1970 map to the Unix epoch.
pub fn ntp_timestamp(time: SystemTime) -> u64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs().wrapping_add(NTP_UNIX_OFFSET);
    let frac = (u64::from(since.subsec_nanos()) << 32) / 1_000_000_000;
    secs << 32 | frac
}

/// A random 32-bit value for SSRCs, initial sequence numbers and timestamps (RFC 3550 §5.1,
/// §8.1) and report-interval jitter. Uses the OS generator; if that fails, falls back to std's
/// per-process randomly keyed hasher rather than panicking mid-call.
pub(crate) fn random_u32() -> u32 {
    getrandom::u32().unwrap_or_else(|_| RandomState::new().hash_one(Instant::now()) as u32)
}

/// A fresh random CNAME for one call leg, per RFC 7022 §4.2 (at least 96 random bits), so the
/// CNAME does not leak the server's host name or user names (RFC 3550 §6.5.1 privacy note).
pub fn generate_cname() -> String {
    (0..3).map(|_| format!("{:08x}", random_u32())).collect()
}

/// Base RTCP report interval: RFC 3550 §6.2's 5 s minimum, appropriate for a two-party call.
pub const REPORT_INTERVAL: Duration = Duration::from_secs(5);

/// When to send the next RTCP report after `now`: [`REPORT_INTERVAL`] times a random factor in
/// [0.5, 1.5) (RFC 3550 §6.3.1) so calls started together don't report in lockstep. Simplified
/// from §6.2/§6.3 for two parties: no bandwidth scaling, no reconsideration. The caller owns
/// the timer (sans-IO); use it for the first report too.
pub fn next_report_at(now: Instant) -> Instant {
    now + randomized(REPORT_INTERVAL, random_u32())
}

/// `base` times a factor uniform in [0.5, 1.5) derived from `r` (§6.3.1).
fn randomized(base: Duration, r: u32) -> Duration {
    base / 2 + base.mul_f64(f64::from(r) / (f64::from(u32::MAX) + 1.0))
}

/// RTCP bookkeeping of one RTP session: the last SR heard from the peer (our LSR/DLSR, §6.4.1),
/// the SRs we sent (to turn the peer's LSR/DLSR into a round trip), the peer's latest report
/// about our stream, its BYE, and where its RTCP comes from (symmetric RTCP behind NAT).
#[derive(Debug, Clone, Default)]
pub struct RtcpState {
    last_sr: Option<(u32, Instant)>,
    sent_srs: VecDeque<(u32, Instant)>,
    remote_report: Option<RemoteReport>,
    remote_bye: bool,
    source: Option<SocketAddr>,
}

/// The peer's latest report block about our stream (RFC 3550 §6.4), for call-quality logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteReport {
    /// The block: its fraction lost, cumulative lost and jitter describe our stream.
    pub block: ReportBlock,
    /// Round trip = arrival - LSR - DLSR (§6.4.1), if the peer echoed one of our recent SRs.
    pub round_trip: Option<Duration>,
    /// When it arrived.
    pub received_at: Instant,
}

impl RtcpState {
    /// Handles an RTCP datagram: records the SR of `remote_ssrc` (any SSRC while it is unknown)
    /// for LSR, its report block about `local_ssrc` with round trip, and its BYE. Returns the
    /// parsed packets for logging.
    pub fn handle(
        &mut self,
        bytes: &[u8],
        source: SocketAddr,
        now: Instant,
        local_ssrc: u32,
        remote_ssrc: Option<u32>,
    ) -> Result<Vec<RtcpPacket>, RtcpError> {
        let packets = parse_compound(bytes)?;
        let from_remote = |ssrc: u32| remote_ssrc.is_none_or(|r| r == ssrc);
        for packet in &packets {
            let (sender, reports) = match packet {
                RtcpPacket::SenderReport {
                    ssrc,
                    info,
                    reports,
                } => {
                    if from_remote(*ssrc) {
                        self.last_sr = Some((info.ntp_middle(), now));
                    }
                    (*ssrc, reports)
                }
                RtcpPacket::ReceiverReport { ssrc, reports } => (*ssrc, reports),
                RtcpPacket::Goodbye { sources, reason } => {
                    if remote_ssrc.is_some_and(|r| sources.contains(&r)) {
                        debug!(?reason, "RTCP BYE from remote");
                        self.remote_bye = true;
                    }
                    continue;
                }
                _ => continue,
            };
            if from_remote(sender) {
                self.source = Some(source);
            }
            for block in reports.iter().filter(|b| b.ssrc == local_ssrc) {
                let sent = self.sent_srs.iter().find(|(mid, _)| *mid == block.last_sr);
                let round_trip = sent.filter(|_| block.last_sr != 0).map(|&(_, sent)| {
                    let dlsr = u64::from(block.delay_since_last_sr) * 1_000_000 / 65536;
                    let since = now.saturating_duration_since(sent);
                    since.saturating_sub(Duration::from_micros(dlsr))
                });
                let (lost, jitter) = (block.cumulative_lost, block.jitter);
                debug!(
                    block.fraction_lost,
                    lost,
                    jitter,
                    ?round_trip,
                    "RTCP report on us"
                );
                let received_at = now;
                self.remote_report = Some(RemoteReport {
                    block: *block,
                    round_trip,
                    received_at,
                });
            }
        }
        Ok(packets)
    }

    /// Builds a compound report: SR when `sender` is given, else RR, with a block from `stats`
    /// carrying LSR/DLSR of the peer's last SR, then SDES; `bye: Some(reason)` appends a BYE.
    pub fn build(
        &mut self,
        now: Instant,
        local_ssrc: u32,
        sender: Option<SenderInfo>,
        stats: Option<&mut ReceptionStats>,
        cname: &str,
        bye: Option<&str>,
    ) -> Vec<u8> {
        if let Some(info) = &sender {
            if self.sent_srs.len() == 8 {
                self.sent_srs.pop_front();
            }
            self.sent_srs.push_back((info.ntp_middle(), now));
        }
        let (lsr, dlsr) = self.last_sr.map_or((0, 0), |(mid, at)| {
            let delay = now.saturating_duration_since(at).as_micros() * 65536 / 1_000_000;
            (mid, u32::try_from(delay).unwrap_or(u32::MAX))
        });
        let block = stats.map(|s| s.report_block(lsr, dlsr));
        match bye {
            Some(reason) => build_bye(local_ssrc, sender.as_ref(), block.as_slice(), cname, reason),
            None => build_report(local_ssrc, sender.as_ref(), block.as_slice(), cname),
        }
    }

    /// The peer's latest report about our stream.
    pub fn remote_report(&self) -> Option<RemoteReport> {
        self.remote_report
    }

    /// Whether the peer sent a BYE for its SSRC (RFC 3550 §6.6).
    pub fn remote_sent_bye(&self) -> bool {
        self.remote_bye
    }

    /// Where the peer's RTCP comes from, if any arrived.
    pub fn source(&self) -> Option<SocketAddr> {
        self.source
    }

    /// Forgets the RTCP source (re-INVITE to a new address).
    pub fn reset_source(&mut self) {
        self.source = None;
    }
}

#[cfg(test)]
mod tests {
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
}
