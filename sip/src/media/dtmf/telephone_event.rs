//! RFC 4733 telephone-events: the payload block and the receiver that turns a stream of event
//! packets into key presses, each reported once.

use super::Digit;

/// One RFC 4733 event payload block (§2.3):
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// |     event     |E|R| volume    |          duration             |
/// ```
///
/// It exists to give the receiver (and logs) the parsed fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code (§3.2 for DTMF: 0-15).
    pub event: u8,
    /// E bit: this packet reports the end of the event (§2.3.2; sent 3 times, §2.5.1.4).
    pub end: bool,
    /// Power of the tone, 0 to 63 meaning 0 to −63 dBm0 (§2.3.4).
    pub volume: u8,
    /// Duration so far, in RTP timestamp units, from the event's timestamp (§2.3.5).
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses the first 4-byte block of a payload; `None` if shorter. Later blocks (several
    /// events in one packet, §2.5.1.5) are ignored: phones send one event per packet.
    pub fn parse(payload: &[u8]) -> Option<TelephoneEvent> {
        let block: [u8; 4] = payload.get(..4)?.try_into().ok()?;
        Some(TelephoneEvent {
            event: block[0],
            end: block[1] & 0x80 != 0,
            volume: block[1] & 0x3F,
            duration: u16::from_be_bytes([block[2], block[3]]),
        })
    }
}

/// How long the receiver remembers an event after its last packet. A late duplicate within
/// this time is dropped; after it, the same timestamp counts as a new event (which lets senders
/// that never advance the timestamp still work, for presses at least this far apart).
const EVENT_MEMORY_MS: u64 = 1_000;

/// Recent events remembered at once. Presses come at most ~10 a second.
const EVENT_SLOTS: usize = 8;

#[derive(Debug, Clone, Copy)]
struct SeenEvent {
    timestamp: u32,
    event: u8,
    ended: bool,
    last_packet_ms: u64,
}

/// Turns the RFC 4733 telephone-event packets of one RTP stream into key presses, each once.
///
/// Feed it every packet of the negotiated telephone-event payload type. An event is identified
/// by its RTP timestamp, the start of the event (§2.2.1), together with its code. Decisions:
///
/// - A digit is reported at the **first** packet seen of a new event, whichever it is: with or
///   without the marker bit (§2.2.2 sets it on the first packet, but it may be lost or
///   missing), an update, or one of the end packets (§2.5.1.4: the last is sent 3 times) when
///   the start was lost. So nothing waits for the end, and an event whose end packets are all
///   lost is still reported exactly once.
/// - Later packets of the same event (updates, the repeated end packets, late reordered ones
///   within 1 s of the event's last packet) report nothing.
/// - A key held longer than the 16-bit duration allows (about 8 s at 8 kHz) goes on in a new
///   segment with a new timestamp and no marker (§2.5.1.3); that is recognised as the same
///   press: same code, previous segment not ended, timestamp advanced by about 0xFFFF.
/// - Timestamps are only compared for equality or with wrapping arithmetic, so the 32-bit
///   wraparound needs no special case.
/// - Event codes above 15 (not DTMF) and payloads shorter than 4 bytes are ignored.
///
/// Call [`reset`](Self::reset) when the stream restarts (new SSRC).
#[derive(Debug, Clone, Default)]
pub struct TelephoneEventReceiver {
    seen: [Option<SeenEvent>; EVENT_SLOTS],
    /// Slot of the event that started last, for the long-event rule.
    latest: Option<usize>,
}

impl TelephoneEventReceiver {
    /// A receiver that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets every event, for a new RTP stream (SSRC) whose timestamps start elsewhere.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Takes one telephone-event packet: its RTP timestamp and marker bit, its payload, and the
    /// local time in milliseconds (any monotonic clock). Returns the key once per event.
    pub fn push(
        &mut self,
        rtp_timestamp: u32,
        marker: bool,
        payload: &[u8],
        now_ms: u64,
    ) -> Option<Digit> {
        let packet = TelephoneEvent::parse(payload)?;
        let digit = Digit::from_event_code(packet.event)?;

        for slot in &mut self.seen {
            if slot.is_some_and(|s| now_ms.saturating_sub(s.last_packet_ms) > EVENT_MEMORY_MS) {
                *slot = None;
            }
        }
        if let Some(same) = self
            .seen
            .iter_mut()
            .flatten()
            .find(|s| s.timestamp == rtp_timestamp && s.event == packet.event)
        {
            same.last_packet_ms = same.last_packet_ms.max(now_ms);
            same.ended |= packet.end;
            return None;
        }

        let continuation = !marker
            && self
                .latest
                .and_then(|i| self.seen[i])
                .is_some_and(|previous| {
                    let advance = rtp_timestamp.wrapping_sub(previous.timestamp);
                    previous.event == packet.event
                        && !previous.ended
                        && (0xFF00..=0x1_0100).contains(&advance)
                });

        let slot = self.free_slot();
        self.seen[slot] = Some(SeenEvent {
            timestamp: rtp_timestamp,
            event: packet.event,
            ended: packet.end,
            last_packet_ms: now_ms,
        });
        self.latest = Some(slot);
        (!continuation).then_some(digit)
    }

    /// An empty slot, or the one whose last packet is oldest.
    fn free_slot(&self) -> usize {
        if let Some(empty) = self.seen.iter().position(Option::is_none) {
            return empty;
        }
        (0..EVENT_SLOTS)
            .min_by_key(|&i| self.seen[i].map_or(0, |s| s.last_packet_ms))
            .unwrap_or(0)
    }
}
