//! RFC 3550 receive statistics of one remote SSRC (A.1, A.3, A.8), the source of our RTCP
//! report blocks.

use std::time::Instant;

use crate::media::rtcp::ReportBlock;

/// RFC 3550 A.1: a forward jump of this many packets or more is treated as a restart.
const MAX_DROPOUT: u16 = 3000;
/// RFC 3550 A.1: packets this far behind the highest are old duplicates or reordered.
const MAX_MISORDER: u16 = 100;

/// Reception statistics for one remote SSRC, from which our RTCP report blocks are made: RFC 3550
/// A.1 (extended highest sequence number, restart detection), A.3 (cumulative and interval
/// loss) and A.8 (interarrival jitter). There is no A.1 probation: the RTP session validates
/// and latches the source before packets get here.
#[derive(Debug, Clone, Default)]
pub struct ReceptionStats {
    ssrc: u32,
    clock_rate: u32,
    base_seq: u32,
    max_seq: u16,
    cycles: u32,
    bad_seq: Option<u16>,
    received: u32,
    expected_prior: u32,
    received_prior: u32,
    octets: u64,
    epoch: Option<Instant>,
    transit: Option<i32>,
    /// Jitter scaled by 16, as in A.8's integer version.
    pub(super) jitter16: u32,
}

impl ReceptionStats {
    /// Starts statistics for `ssrc` at its first sequence number (A.1 `init_seq`); the first
    /// packet is then counted by [`Self::record`] like any other.
    pub fn new(ssrc: u32, clock_rate: u32, first_seq: u16) -> Self {
        let (base_seq, max_seq) = (u32::from(first_seq), first_seq);
        ReceptionStats {
            ssrc,
            clock_rate,
            base_seq,
            max_seq,
            ..Default::default()
        }
    }

    /// Counts one packet (A.1 `update_seq`) and, given its `timestamp`, updates the jitter
    /// (A.8). Returns false for a packet that jumped beyond MAX_DROPOUT/MAX_MISORDER: it should
    /// be dropped, and if the next packet follows it the counters restart from there.
    pub fn record(
        &mut self,
        seq: u16,
        timestamp: Option<u32>,
        octets: usize,
        now: Instant,
    ) -> bool {
        let udelta = seq.wrapping_sub(self.max_seq);
        if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(1 << 16);
            }
            self.max_seq = seq;
        } else if u32::from(udelta) <= (1 << 16) - u32::from(MAX_MISORDER) {
            if self.bad_seq != Some(seq) {
                self.bad_seq = Some(seq.wrapping_add(1));
                return false;
            }
            // Two sequential packets after a jump: the sender restarted its sequence.
            let (octets, epoch, jitter16) = (self.octets, self.epoch, self.jitter16);
            *self = ReceptionStats {
                octets,
                epoch,
                jitter16,
                ..Self::new(self.ssrc, self.clock_rate, seq)
            };
        } // else: duplicate or reordered; counted as received, per A.1
        self.received = self.received.wrapping_add(1);
        self.octets += octets as u64;
        if let Some(timestamp) = timestamp {
            // A.8: arrival time in timestamp units; only differences matter.
            let epoch = *self.epoch.get_or_insert(now);
            let elapsed = now.saturating_duration_since(epoch).as_micros();
            let arrival = (elapsed * u128::from(self.clock_rate) / 1_000_000) as u32;
            let transit = arrival.wrapping_sub(timestamp) as i32;
            if let Some(prev) = self.transit.replace(transit) {
                let d = i64::from(transit.wrapping_sub(prev).unsigned_abs());
                let j = i64::from(self.jitter16);
                self.jitter16 = (j + d - ((j + 8) >> 4)).clamp(0, i64::from(u32::MAX)) as u32;
            }
        }
        true
    }

    /// The SSRC these statistics are about.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Packets received, duplicates included (A.3).
    pub fn packets(&self) -> u32 {
        self.received
    }

    /// Payload octets received.
    pub fn octets(&self) -> u64 {
        self.octets
    }

    /// Extended highest sequence number: cycles in the high 16 bits (A.1).
    pub fn extended_highest_seq(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    /// Expected minus received (A.3); negative when duplicates arrived.
    pub fn cumulative_lost(&self) -> i64 {
        let expected = self
            .extended_highest_seq()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1);
        i64::from(expected) - i64::from(self.received)
    }

    /// Interarrival jitter in timestamp units (A.8).
    pub fn jitter(&self) -> u32 {
        self.jitter16 >> 4
    }

    /// The report block for the next RTCP report; computes the fraction lost since the previous
    /// call (A.3) and advances its baseline. `last_sr`/`delay_since_last_sr` are LSR/DLSR.
    pub fn report_block(&mut self, last_sr: u32, delay_since_last_sr: u32) -> ReportBlock {
        let expected = self
            .extended_highest_seq()
            .wrapping_sub(self.base_seq)
            .wrapping_add(1);
        let expected_interval = expected.wrapping_sub(self.expected_prior);
        let received_interval = self.received.wrapping_sub(self.received_prior);
        (self.expected_prior, self.received_prior) = (expected, self.received);
        let lost_interval = i64::from(expected_interval) - i64::from(received_interval);
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / i64::from(expected_interval)).min(255) as u8
        };
        ReportBlock {
            ssrc: self.ssrc,
            fraction_lost,
            cumulative_lost: self.cumulative_lost().clamp(-0x80_0000, 0x7f_ffff) as i32,
            extended_highest_seq: self.extended_highest_seq(),
            jitter: self.jitter(),
            last_sr,
            delay_since_last_sr,
        }
    }
}
