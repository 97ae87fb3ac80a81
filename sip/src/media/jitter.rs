//! The receive side of the media path: a small fixed-delay jitter/reorder buffer for received
//! audio (one RTP packet per 20 ms pop), and RFC 3550's receive statistics.
//!
//! RTP over UDP arrives late, out of order, duplicated or not at all (RFC 3550 §2.1, §5.1:
//! the sequence number exists so receivers can restore order and detect loss). The recording
//! and the in-band DTMF detector need one frame per media tick in order, so this buffer holds
//! packets for a fixed playout delay, hands them out by sequence number and reports gaps as
//! [`Pop::Missing`] for the caller to fill with silence. Sans-IO: time is passed in.
//!
//! [`ReceptionStats`] implements RFC 3550 A.1 (extended sequence numbers), A.3 (loss) and A.8
//! (interarrival jitter): the RTP session updates it for every accepted packet and RTCP turns
//! it into report blocks.
//!
//! Sequence numbers are extended to 64 bits relative to the highest one seen (the idea of
//! RFC 3550 A.1) and compared as integers: `rtp_rs::Seq`'s ordering is not transitive and
//! would corrupt a sorted map. The buffer assumes the sender's packet duration equals the pop
//! interval (20 ms ptime, as negotiated for G.711 on the hotline).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::rtcp::ReportBlock;

/// RFC 3550 A.1: a forward jump of this many packets or more is treated as a restart.
const MAX_DROPOUT: u16 = 3000;
/// RFC 3550 A.1: packets this far behind the highest are old duplicates or reordered.
const MAX_MISORDER: u16 = 100;

/// Tuning for [`JitterBuffer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JitterConfig {
    /// How long the first packet of a stream is held before playout starts: the reorder and
    /// jitter budget (40-60 ms suits a phone call).
    pub playout_delay: Duration,
    /// Most packets held at once; the oldest are dropped beyond it (bounded memory, and bounded
    /// latency when the sender's clock runs fast).
    pub capacity: usize,
    /// A sequence jump (either way) of more than this many packets means the stream restarted.
    pub max_seq_jump: u16,
    /// A timestamp jump of more than this many clock ticks also resets (10 s at 8 kHz).
    pub max_timestamp_jump: u32,
    /// Consecutive pops with nothing buffered that still report [`Pop::Missing`] before the
    /// buffer goes idle, returns [`Pop::Empty`] and re-buffers on the next packet.
    pub rebuffer_after: u32,
}

impl Default for JitterConfig {
    fn default() -> Self {
        JitterConfig {
            playout_delay: Duration::from_millis(60),
            capacity: 50,
            max_seq_jump: 100,
            max_timestamp_jump: 80_000,
            rebuffer_after: 5,
        }
    }
}

/// One audio frame in playout order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// RTP sequence number.
    pub seq: u16,
    /// RTP timestamp.
    pub timestamp: u32,
    /// Codec payload, undecoded.
    pub payload: Vec<u8>,
}

/// Result of one [`JitterBuffer::pop`], called once per media tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pop {
    /// The next frame in sequence.
    Frame(Frame),
    /// The packet for this tick was lost or is too late: insert silence or repeat.
    Missing {
        /// The sequence number that was expected.
        seq: u16,
    },
    /// Nothing to play (not started, still buffering, or the stream stopped).
    Empty,
}

/// What [`JitterBuffer::push`] did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Push {
    /// Stored for playout.
    Queued,
    /// Stored, after discarding everything buffered (SSRC change or big jump).
    Reset,
    /// Already buffered: dropped.
    Duplicate,
    /// Its playout time has passed: dropped.
    Late,
}

/// Counters for call-quality logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JitterStats {
    /// Frames played.
    pub played: u64,
    /// Ticks reported as missing.
    pub missing: u64,
    /// Duplicates dropped.
    pub duplicates: u64,
    /// Late packets dropped.
    pub late: u64,
    /// Packets dropped because the buffer was full.
    pub overflow: u64,
    /// Resets (SSRC change, big jump).
    pub resets: u64,
    /// Times playout ran dry and re-buffered.
    pub underruns: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Buffering { until: Instant },
    Playing,
}

/// The buffer: packets keyed by extended sequence number, at most `capacity` of them, all in
/// the window `[next, next + capacity)`.
#[derive(Debug)]
pub struct JitterBuffer {
    config: JitterConfig,
    slots: BTreeMap<u64, (u32, Vec<u8>)>,
    ssrc: Option<u32>,
    /// Highest extended sequence number pushed, with its timestamp.
    highest: Option<(u64, u32)>,
    /// Next extended sequence number to play.
    next: u64,
    /// Everything below has been played or skipped.
    floor: Option<u64>,
    state: State,
    empty_pops: u32,
    stats: JitterStats,
}

impl JitterBuffer {
    /// An empty buffer.
    pub fn new(config: JitterConfig) -> Self {
        JitterBuffer {
            config,
            slots: BTreeMap::new(),
            ssrc: None,
            highest: None,
            next: 0,
            floor: None,
            state: State::Idle,
            empty_pops: 0,
            stats: JitterStats::default(),
        }
    }

    /// Packets currently held.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no packet is held.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Counters since creation.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Drops everything and waits for a new stream (also done automatically on SSRC change or
    /// a big jump; call it on re-INVITE if the stream is known to restart).
    pub fn reset(&mut self) {
        self.slots.clear();
        self.ssrc = None;
        self.highest = None;
        self.floor = None;
        self.state = State::Idle;
        self.empty_pops = 0;
    }

    /// Extends a 16-bit sequence number to the 64-bit value nearest the highest seen.
    fn extend(&self, seq: u16) -> u64 {
        match self.highest {
            // Start far from zero so extended values never underflow.
            None => (1 << 32) + u64::from(seq),
            Some((h, _)) => h.wrapping_add_signed(i64::from(seq.wrapping_sub(h as u16) as i16)),
        }
    }

    /// Stores one received audio packet (from [`super::rtp_session::Received::Audio`]).
    pub fn push(
        &mut self,
        ssrc: u32,
        seq: u16,
        timestamp: u32,
        payload: &[u8],
        now: Instant,
    ) -> Push {
        let mut reset = self.ssrc.is_some_and(|s| s != ssrc);
        if let Some((h, h_ts)) = self.highest {
            let ext = self.extend(seq);
            let ts_jump = (timestamp.wrapping_sub(h_ts) as i32).unsigned_abs();
            reset |= ext.abs_diff(h) > u64::from(self.config.max_seq_jump)
                || ts_jump > self.config.max_timestamp_jump;
        }
        if reset {
            self.reset();
            self.stats.resets += 1;
        }
        self.ssrc = Some(ssrc);
        let ext = self.extend(seq);
        if self.floor.is_some_and(|f| ext < f) {
            self.stats.late += 1;
            return Push::Late;
        }
        match self.state {
            State::Idle => {
                self.state = State::Buffering {
                    until: now + self.config.playout_delay,
                };
                self.next = ext;
            }
            // Reordered before playout started (e.g. 3-2-1): play from the lowest.
            State::Buffering { .. } if ext < self.next => {
                let top = self.highest.map_or(ext, |(h, _)| h);
                if top.saturating_sub(ext) >= self.config.capacity as u64 {
                    self.stats.late += 1;
                    return Push::Late;
                }
                self.next = ext;
            }
            State::Buffering { .. } | State::Playing => {}
        }
        if self.slots.contains_key(&ext) {
            self.stats.duplicates += 1;
            return Push::Duplicate;
        }
        let capacity = self.config.capacity.max(1) as u64;
        if ext >= self.next + capacity {
            // Full: slide the window, dropping the oldest.
            let new_next = ext + 1 - capacity;
            let kept = self.slots.split_off(&new_next);
            self.stats.overflow += self.slots.len() as u64;
            self.slots = kept;
            self.next = new_next;
            if self.state == State::Playing {
                self.floor = Some(new_next);
            }
        }
        self.slots.insert(ext, (timestamp, payload.to_vec()));
        if self.highest.is_none_or(|(h, _)| ext > h) {
            self.highest = Some((ext, timestamp));
        }
        if reset { Push::Reset } else { Push::Queued }
    }

    /// Takes the frame for this media tick (call every 20 ms).
    pub fn pop(&mut self, now: Instant) -> Pop {
        match self.state {
            State::Idle => return Pop::Empty,
            State::Buffering { until } if now < until => return Pop::Empty,
            State::Buffering { .. } => self.state = State::Playing,
            State::Playing => {}
        }
        if self.slots.is_empty() {
            self.empty_pops += 1;
            if self.empty_pops > self.config.rebuffer_after {
                // The stream stopped (hold, DTX): forget the ticks we reported missing since the
                // last frame, so a sender that resumes where it left off is not "late".
                self.floor = Some(self.next - u64::from(self.empty_pops - 1));
                self.empty_pops = 0;
                self.state = State::Idle;
                self.stats.underruns += 1;
                return Pop::Empty;
            }
        } else {
            self.empty_pops = 0;
        }
        let ext = self.next;
        self.next += 1;
        self.floor = Some(self.next);
        match self.slots.remove(&ext) {
            Some((timestamp, payload)) => {
                self.stats.played += 1;
                Pop::Frame(Frame {
                    seq: ext as u16,
                    timestamp,
                    payload,
                })
            }
            None => {
                self.stats.missing += 1;
                Pop::Missing { seq: ext as u16 }
            }
        }
    }
}

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
    jitter16: u32,
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

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn buffer() -> JitterBuffer {
        JitterBuffer::new(JitterConfig::default())
    }

    fn push(jb: &mut JitterBuffer, seq: u16, now: Instant) -> Push {
        jb.push(1, seq, u32::from(seq) * 160, &seq.to_be_bytes(), now)
    }

    /// Pops `n` ticks 20 ms apart from `start`, rendering frames as their seq, gaps as `None`.
    fn drain(jb: &mut JitterBuffer, start: Instant, n: u32) -> Vec<Option<u16>> {
        (0..n)
            .filter_map(|i| match jb.pop(start + 20 * MS * i) {
                Pop::Frame(f) => {
                    assert_eq!(f.payload, f.seq.to_be_bytes());
                    Some(Some(f.seq))
                }
                Pop::Missing { .. } => Some(None),
                Pop::Empty => None,
            })
            .collect()
    }

    #[test]
    fn in_order_after_playout_delay() {
        let t0 = Instant::now();
        let mut jb = buffer();
        assert_eq!(jb.pop(t0), Pop::Empty);
        for (i, seq) in (10..14).enumerate() {
            assert_eq!(push(&mut jb, seq, t0 + 20 * MS * i as u32), Push::Queued);
        }
        assert_eq!(jb.pop(t0 + 59 * MS), Pop::Empty, "still buffering");
        assert_eq!(
            drain(&mut jb, t0 + 60 * MS, 4),
            [Some(10), Some(11), Some(12), Some(13)]
        );
    }

    #[test]
    fn reordered_within_delay() {
        let t0 = Instant::now();
        let mut jb = buffer();
        for (i, seq) in [3, 2, 1].into_iter().enumerate() {
            push(&mut jb, seq, t0 + 10 * MS * i as u32);
        }
        assert_eq!(drain(&mut jb, t0 + 60 * MS, 3), [Some(1), Some(2), Some(3)]);
        // Reordering during playout: 5 before 4.
        push(&mut jb, 5, t0 + 100 * MS);
        push(&mut jb, 4, t0 + 101 * MS);
        assert_eq!(drain(&mut jb, t0 + 120 * MS, 2), [Some(4), Some(5)]);
    }

    #[test]
    fn duplicate_late_and_gap() {
        let t0 = Instant::now();
        let mut jb = buffer();
        assert_eq!(push(&mut jb, 1, t0), Push::Queued);
        assert_eq!(push(&mut jb, 1, t0), Push::Duplicate);
        push(&mut jb, 2, t0);
        push(&mut jb, 4, t0);
        push(&mut jb, 5, t0);
        assert_eq!(drain(&mut jb, t0 + 60 * MS, 2), [Some(1), Some(2)]);
        assert_eq!(push(&mut jb, 1, t0 + 100 * MS), Push::Late);
        assert_eq!(drain(&mut jb, t0 + 100 * MS, 3), [None, Some(4), Some(5)]);
        assert_eq!(push(&mut jb, 3, t0 + 160 * MS), Push::Late);
        let s = jb.stats();
        assert_eq!((s.played, s.missing, s.duplicates, s.late), (4, 1, 1, 2));
    }

    #[test]
    fn sequence_wraparound() {
        let t0 = Instant::now();
        let mut jb = buffer();
        for seq in [65533u16, 65534, 0, 65535, 1, 2] {
            let ts = (u32::MAX - 320).wrapping_add(u32::from(seq.wrapping_sub(65533)) * 160);
            assert_eq!(jb.push(1, seq, ts, &seq.to_be_bytes(), t0), Push::Queued);
        }
        let played = drain(&mut jb, t0 + 60 * MS, 6);
        assert_eq!(played, [65533, 65534, 65535, 0, 1, 2].map(Some));
        assert_eq!(jb.stats().resets, 0);
    }

    #[test]
    fn ssrc_change_and_big_jumps_reset() {
        let t0 = Instant::now();
        let mut jb = buffer();
        push(&mut jb, 100, t0);
        push(&mut jb, 101, t0);
        assert_eq!(jb.push(2, 7000, 0, &[1], t0 + 10 * MS), Push::Reset);
        assert_eq!(jb.len(), 1);
        // The new stream re-buffers from its own arrival.
        assert_eq!(jb.pop(t0 + 60 * MS), Pop::Empty);
        assert!(matches!(
            jb.pop(t0 + 70 * MS),
            Pop::Frame(Frame { seq: 7000, .. })
        ));
        assert_eq!(
            jb.push(2, 7201, 160, &[1], t0 + 80 * MS),
            Push::Reset,
            "seq jump"
        );
        assert_eq!(
            jb.push(2, 7202, 900_000, &[1], t0 + 90 * MS),
            Push::Reset,
            "timestamp jump"
        );
        assert_eq!(jb.push(2, 7203, 900_160, &[1], t0 + 90 * MS), Push::Queued);
        assert_eq!(jb.stats().resets, 3);
    }

    #[test]
    fn underrun_goes_idle_then_rebuffers() {
        let t0 = Instant::now();
        let mut jb = buffer();
        push(&mut jb, 1, t0);
        assert_eq!(
            drain(&mut jb, t0 + 60 * MS, 7),
            [Some(1), None, None, None, None, None]
        );
        assert_eq!(jb.stats().underruns, 1);
        // Stream resumes (DTX): a fresh playout delay, no stale "late" drops.
        let t1 = t0 + Duration::from_secs(1);
        assert_eq!(push(&mut jb, 1, t1), Push::Late);
        assert_eq!(push(&mut jb, 2, t1), Push::Queued);
        assert_eq!(jb.pop(t1), Pop::Empty);
        assert_eq!(drain(&mut jb, t1 + 60 * MS, 1), [Some(2)]);
    }

    #[test]
    fn bounded_under_flood() {
        let t0 = Instant::now();
        let mut jb = buffer();
        let mut x: u32 = 12345;
        for i in 0..100_000u32 {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let seq = if i % 3 == 0 {
                (x >> 16) as u16
            } else {
                i as u16
            };
            jb.push(x % 2, seq, x, &[0; 160], t0 + MS * (i / 10));
            assert!(jb.len() <= 50);
            if i % 7 == 0 {
                jb.pop(t0 + MS * (i / 10));
            }
        }
        // A steady flood without pops slides the window instead of growing.
        let mut jb = buffer();
        for seq in 0..1000u16 {
            jb.push(1, seq, u32::from(seq) * 160, &[0; 160], t0);
        }
        assert_eq!(jb.len(), 50);
        assert_eq!(jb.stats().overflow, 950);
        assert!(matches!(
            jb.pop(t0 + 60 * MS),
            Pop::Frame(Frame { seq: 950, .. })
        ));
    }

    #[test]
    fn reception_loss_fraction_duplicates_and_jumps() {
        let t0 = Instant::now();
        let mut s = ReceptionStats::new(7, 8000, 1);
        for seq in [1, 2, 3, 5, 4, 7] {
            assert!(s.record(seq, Some(u32::from(seq) * 160), 160, t0));
        }
        assert_eq!((s.packets(), s.cumulative_lost()), (6, 1));
        assert_eq!(s.extended_highest_seq(), 7);
        let b = s.report_block(0, 0);
        // 1 lost of 7 expected: 256 / 7.
        assert_eq!((b.ssrc, b.fraction_lost, b.cumulative_lost), (7, 36, 1));
        for seq in [8, 9, 10, 10] {
            assert!(s.record(seq, None, 160, t0));
        }
        // This interval: 3 expected, 4 received (a duplicate): nothing lost.
        let b = s.report_block(0, 0);
        assert_eq!((b.fraction_lost, b.cumulative_lost), (0, 0));
        assert_eq!(b.extended_highest_seq, 10);
        // A jump past MAX_DROPOUT is dropped once, then accepted as a restart (A.1).
        assert!(!s.record(20_000, None, 160, t0));
        assert!(s.record(20_001, None, 160, t0));
        assert_eq!((s.packets(), s.octets()), (1, 1760));
        assert_eq!(s.extended_highest_seq(), 20_001);
    }

    #[test]
    fn reception_wraparound_and_jitter_by_hand() {
        let t0 = Instant::now();
        let mut s = ReceptionStats::new(7, 8000, 65_534);
        // Arrivals at 0, 20, 45, 60 ms = 0, 160, 360, 480 ticks; transit 0, 0, 40, 0.
        // J*16: 0, 0 + 0 - 0 = 0, 0 + 40 - 0 = 40, 40 + 40 - ((40 + 8) >> 4) = 77.
        let arrivals = [(65_534u16, 0u64), (65_535, 20), (0, 45), (1, 60)];
        for (i, (seq, ms)) in arrivals.into_iter().enumerate() {
            let at = t0 + Duration::from_millis(ms);
            assert!(s.record(seq, Some(160 * i as u32), 160, at));
        }
        assert_eq!((s.jitter16, s.jitter()), (77, 4));
        assert_eq!((s.extended_highest_seq(), s.cumulative_lost()), (65_537, 0));
    }
}
