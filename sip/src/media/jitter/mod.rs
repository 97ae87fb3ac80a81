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

mod reception_stats;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub use reception_stats::ReceptionStats;

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

#[cfg(test)]
mod tests;
