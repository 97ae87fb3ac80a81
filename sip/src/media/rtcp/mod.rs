//! Minimal RTCP (RFC 3550 §6): just enough to be a well-behaved RTP peer on a phone call.
//!
//! We build compound packets of SR or RR followed by SDES CNAME (RFC 3550 §6.1), append a BYE on
//! hangup (§6.6), and parse SR/RR/SDES/BYE from the peer so the session can fill LSR/DLSR and
//! log the peer's view of our stream (loss, jitter, round trip, §6.4.1). Everything else (APP,
//! feedback, XR) is skipped by its length field. Pure functions over bytes: no sockets, no
//! clocks; the wall clock needed for SR NTP timestamps is passed in by the caller.

mod build;
mod parse;

use std::collections::VecDeque;
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use thiserror::Error;
use tracing::debug;

use super::jitter::ReceptionStats;

pub use build::{build_bye, build_report};
pub use parse::parse_compound;

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
mod tests;
