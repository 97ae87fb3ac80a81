//! DTMF key presses, from the three ways a caller's phone sends them, merged into one stream in
//! which the IVR sees each press exactly once.
//!
//! - RFC 4733 telephone-events in RTP: [`TelephoneEventReceiver`] (§2.3 payload, §2.5.2
//!   receiver rules). The usual way for SIP phones and gateways.
//! - SIP INFO: [`parse_info`] for the de-facto `application/dtmf-relay` and `application/dtmf`
//!   bodies (no RFC defines them; RFC 6086 only defines the INFO framework).
//! - Tones in the audio itself: [`ToneDetector`] (in `tone_detector.rs`), for old phones and
//!   gateways that send neither.
//!
//! [`DtmfMerger`] takes the digits of all three and drops the second report of one press by
//! phones that use two ways at once.

use std::fmt;

pub use super::tone_detector::ToneDetector;

/// One DTMF key: `0`-`9`, `*`, `#` or `A`-`D` (the 16 keys of ITU-T Q.23, RFC 4733 §3.2).
///
/// It exists so that the three sources can only hand the IVR a valid key. The field is private:
/// make one with [`Digit::from_char`] or [`Digit::from_event_code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digit(char);

/// The keys in RFC 4733 event-code order (§3.2): code `n` is `KEYS[n]`.
const KEYS: [char; 16] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D',
];

impl Digit {
    /// The key for a character; `a`-`d` are accepted for `A`-`D`. `None` for anything else.
    pub fn from_char(c: char) -> Option<Digit> {
        let c = c.to_ascii_uppercase();
        KEYS.contains(&c).then_some(Digit(c))
    }

    /// The key for an RFC 4733 event code (§3.2: 0-9, 10 = `*`, 11 = `#`, 12-15 = `A`-`D`);
    /// `None` for codes above 15, which are not DTMF (flash, line tones, ...).
    pub fn from_event_code(code: u8) -> Option<Digit> {
        KEYS.get(usize::from(code)).map(|&c| Digit(c))
    }

    /// The key as a character: `0`-`9`, `*`, `#`, `A`-`D`.
    pub fn as_char(self) -> char {
        self.0
    }

    /// The RFC 4733 event code of the key (§3.2), 0-15.
    pub fn event_code(self) -> u8 {
        KEYS.iter().position(|&c| c == self.0).unwrap_or(0) as u8
    }
}

impl fmt::Display for Digit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a digit came from; [`DtmfMerger`] needs it to tell a second report of one press from
/// a new press.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// RFC 4733 telephone-event RTP packets ([`TelephoneEventReceiver`]).
    Rfc4733,
    /// A SIP INFO request ([`parse_info`]).
    SipInfo,
    /// Tones detected in the caller's audio ([`ToneDetector`]).
    InBand,
}

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

/// The key in a SIP INFO body, or `None` if the body is not a DTMF body or names no key.
///
/// Exists for phones that send keys as SIP INFO (RFC 6086 defines INFO, not these bodies; both
/// are de-facto formats). `content_type` is the Content-Type header value; parameters and case
/// are ignored.
///
/// - `application/dtmf-relay`: lines `Key=Value`; the `Signal` line names the key (keys in any
///   case, spaces around `=` and the value allowed, other lines such as `Duration=160` ignored).
///   `Signal=5`, `Signal= #`, `signal=a`.
/// - `application/dtmf`: the whole body is the key, `5` or `#`.
///
/// In both, the key is either the character or its RFC 4733 event code 0-15, so `10` means `*`
/// and `11` means `#`, as some phones send it.
pub fn parse_info(content_type: &str, body: &[u8]) -> Option<Digit> {
    let media_type = content_type.split(';').next()?.trim();
    let body = std::str::from_utf8(body).ok()?;
    if media_type.eq_ignore_ascii_case("application/dtmf-relay") {
        body.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case("signal")
                .then(|| parse_key(value))?
        })
    } else if media_type.eq_ignore_ascii_case("application/dtmf") {
        parse_key(body)
    } else {
        None
    }
}

/// A key written as its character or as its event code 0-15.
fn parse_key(text: &str) -> Option<Digit> {
    let text = text.trim();
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Digit::from_char(c),
        _ if text.len() <= 3 && text.bytes().all(|b| b.is_ascii_digit()) => {
            Digit::from_event_code(text.parse().ok()?)
        }
        _ => None,
    }
}

/// How long after a press's first report another source's report of the same key counts as the
/// same press: RFC 4733 packets, the in-band detector (about 40 ms slower) and SIP INFO (through
/// the signalling path) report one press within this of each other.
pub const DEFAULT_MERGE_WINDOW_MS: u64 = 150;

/// Presses remembered for matching at once.
const PRESS_SLOTS: usize = 8;

#[derive(Debug, Clone, Copy)]
struct Press {
    digit: Digit,
    first_ms: u64,
    /// Bit per [`Source`] that has reported this press.
    reported_by: u8,
}

fn source_bit(source: Source) -> u8 {
    match source {
        Source::Rfc4733 => 1,
        Source::SipInfo => 2,
        Source::InBand => 4,
    }
}

/// Merges the digits of the three sources of one call into one stream of presses.
///
/// Some phones send a press two ways (RFC 4733 and the tones left in the audio; SIP INFO and
/// RFC 4733). Rules:
///
/// - A digit from a source is a **duplicate** if another source reported the same key within
///   the window ([`DEFAULT_MERGE_WINDOW_MS`]) before and this source has not reported that
///   press yet; it is then matched to the oldest such press, so two quick presses reported by
///   two sources each still give two presses.
/// - The same key from the same source is always a new press: each source already reports a
///   press once.
/// - Once an RFC 4733 event has been seen on the call, the phone is known to send
///   telephone-events: [`inband_wanted`](Self::inband_wanted) turns false so the caller can
///   stop running the tone detector (saving CPU and the risk of speech being taken for a tone),
///   and later in-band digits are dropped, since they can only be duplicates or talk-off. SIP
///   INFO does not turn it off: INFO phones do not reliably keep tones out of the audio, and a
///   duplicate from them is merged anyway.
#[derive(Debug, Clone)]
pub struct DtmfMerger {
    window_ms: u64,
    presses: [Option<Press>; PRESS_SLOTS],
    telephone_events_seen: bool,
}

impl Default for DtmfMerger {
    fn default() -> Self {
        Self::new()
    }
}

impl DtmfMerger {
    /// A merger with the [`DEFAULT_MERGE_WINDOW_MS`] window.
    pub fn new() -> Self {
        Self::with_window_ms(DEFAULT_MERGE_WINDOW_MS)
    }

    /// A merger with another window, for networks where SIP INFO lags RTP further.
    pub fn with_window_ms(window_ms: u64) -> Self {
        DtmfMerger {
            window_ms,
            presses: [None; PRESS_SLOTS],
            telephone_events_seen: false,
        }
    }

    /// Takes a digit reported by `source` at `now_ms`; returns it if it is a new press, `None`
    /// if it is another report of a press already returned.
    pub fn push(&mut self, source: Source, digit: Digit, now_ms: u64) -> Option<Digit> {
        match source {
            Source::Rfc4733 => self.telephone_events_seen = true,
            Source::InBand if self.telephone_events_seen => return None,
            _ => {}
        }
        let bit = source_bit(source);
        let window = self.window_ms;
        let earlier = self
            .presses
            .iter_mut()
            .flatten()
            .filter(|p| {
                p.digit == digit
                    && p.reported_by & bit == 0
                    && now_ms.saturating_sub(p.first_ms) <= window
            })
            .min_by_key(|p| p.first_ms);
        if let Some(press) = earlier {
            press.reported_by |= bit;
            return None;
        }
        let slot = (0..PRESS_SLOTS)
            .min_by_key(|&i| self.presses[i].map_or(0, |p| p.first_ms.saturating_add(1)))
            .unwrap_or(0);
        self.presses[slot] = Some(Press {
            digit,
            first_ms: now_ms,
            reported_by: bit,
        });
        Some(digit)
    }

    /// Whether the caller should still run in-band detection for this call: true until the
    /// first RFC 4733 telephone-event, see the type's rules.
    pub fn inband_wanted(&self) -> bool {
        !self.telephone_events_seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digit(c: char) -> Digit {
        Digit::from_char(c).unwrap()
    }

    /// RTP packet of SIPp's dtmf_2833_1.pcap (PT 101, SSRC 0x0e05384e): (marker, timestamp,
    /// payload, capture time in ms from the first packet). Key 1, 10 packets 20 ms apart with
    /// durations 0, 320, ... 2240; the last one, with the E bit, sent 3 times.
    const SIPP_KEY_1: [(bool, u32, [u8; 4], u64); 10] = [
        (true, 13280, [0x01, 0x0a, 0x00, 0x00], 0),
        (false, 13280, [0x01, 0x0a, 0x01, 0x40], 20),
        (false, 13280, [0x01, 0x0a, 0x02, 0x80], 40),
        (false, 13280, [0x01, 0x0a, 0x03, 0xc0], 60),
        (false, 13280, [0x01, 0x0a, 0x05, 0x00], 80),
        (false, 13280, [0x01, 0x0a, 0x06, 0x40], 100),
        (false, 13280, [0x01, 0x0a, 0x07, 0x80], 120),
        (false, 13280, [0x01, 0x8a, 0x08, 0xc0], 140),
        (false, 13280, [0x01, 0x8a, 0x08, 0xc0], 140),
        (false, 13280, [0x01, 0x8a, 0x08, 0xc0], 140),
    ];
    /// The same from dtmf_2833_pound.pcap: key #, timestamp 92640.
    const SIPP_KEY_POUND: [(bool, u32, [u8; 4], u64); 10] = [
        (true, 92640, [0x0b, 0x0a, 0x00, 0x00], 0),
        (false, 92640, [0x0b, 0x0a, 0x01, 0x40], 20),
        (false, 92640, [0x0b, 0x0a, 0x02, 0x80], 40),
        (false, 92640, [0x0b, 0x0a, 0x03, 0xc0], 60),
        (false, 92640, [0x0b, 0x0a, 0x05, 0x00], 80),
        (false, 92640, [0x0b, 0x0a, 0x06, 0x40], 100),
        (false, 92640, [0x0b, 0x0a, 0x07, 0x80], 120),
        (false, 92640, [0x0b, 0x8a, 0x08, 0xc0], 140),
        (false, 92640, [0x0b, 0x8a, 0x08, 0xc0], 140),
        (false, 92640, [0x0b, 0x8a, 0x08, 0xc0], 140),
    ];

    /// SIPp's packets for any key, at another timestamp and start time.
    fn sipp(key: char, timestamp: u32, start_ms: u64) -> Vec<(bool, u32, [u8; 4], u64)> {
        let code = digit(key).event_code();
        SIPP_KEY_1
            .iter()
            .map(|&(m, _, p, t)| (m, timestamp, [code, p[1], p[2], p[3]], start_ms + t))
            .collect()
    }

    fn receive(rx: &mut TelephoneEventReceiver, packets: &[(bool, u32, [u8; 4], u64)]) -> String {
        let digits = packets
            .iter()
            .filter_map(|&(m, ts, p, t)| rx.push(ts, m, &p, t));
        digits.map(Digit::as_char).collect()
    }

    fn receive_new(packets: &[(bool, u32, [u8; 4], u64)]) -> String {
        receive(&mut TelephoneEventReceiver::new(), packets)
    }

    #[test]
    fn digits_and_event_codes() {
        for (code, c) in "0123456789*#ABCD".chars().enumerate() {
            let d = Digit::from_event_code(code as u8).unwrap();
            assert_eq!(
                (d.as_char(), d.event_code(), d.to_string()),
                (c, code as u8, c.into())
            );
            assert_eq!(Digit::from_char(c), Some(d));
            assert_eq!(Digit::from_char(c.to_ascii_lowercase()), Some(d));
        }
        assert_eq!(Digit::from_event_code(16), None);
        assert_eq!(Digit::from_char('E'), None);
        assert_eq!(Digit::from_char('e'), None);
    }

    #[test]
    fn parses_the_payload_fields() {
        let event = TelephoneEvent::parse(&[0x0b, 0xca, 0x08, 0xc0, 0xff]).unwrap();
        let expected = TelephoneEvent {
            event: 11,
            end: true,
            volume: 10,
            duration: 2240,
        };
        assert_eq!(event, expected); // the R bit (0x40) is ignored, the extra byte too
        assert_eq!(TelephoneEvent::parse(&[0x01, 0x3f, 0xff]), None);
    }

    #[test]
    fn sipp_pcaps_give_one_digit_each() {
        assert_eq!(receive_new(&SIPP_KEY_1), "1");
        assert_eq!(receive_new(&SIPP_KEY_POUND), "#");
        let mut rx = TelephoneEventReceiver::new();
        assert_eq!(rx.push(13280, true, &SIPP_KEY_1[0].2, 0), Some(digit('1')));
        let mut all = SIPP_KEY_1.to_vec();
        all.extend(sipp('#', 92640, 1000));
        assert_eq!(receive_new(&all), "1#");
    }

    #[test]
    fn missing_marker_and_lost_packets() {
        let no_marker: Vec<_> = SIPP_KEY_1
            .iter()
            .map(|&(_, ts, p, t)| (false, ts, p, t))
            .collect();
        assert_eq!(receive_new(&no_marker), "1");
        // The start lost: only the end packets arrive.
        assert_eq!(receive_new(&SIPP_KEY_1[7..]), "1");
        assert_eq!(receive_new(&SIPP_KEY_1[9..]), "1");
        // The end lost: reported at the first packet all the same, and the next key works.
        let mut packets = SIPP_KEY_1[..5].to_vec();
        packets.extend(sipp('2', 13280 + 2400, 200));
        assert_eq!(receive_new(&packets), "12");
        // Reordered: a late end packet after the next event started.
        let mut packets = SIPP_KEY_1[..7].to_vec();
        packets.extend(sipp('3', 20000, 150));
        packets.insert(9, SIPP_KEY_1[8]);
        assert_eq!(receive_new(&packets), "13");
    }

    #[test]
    fn the_same_key_twice_is_two_presses() {
        let mut packets = sipp('5', 1000, 0);
        packets.extend(sipp('5', 1000 + 4000, 500));
        assert_eq!(receive_new(&packets), "55");
        // Even with both end packets of the first duplicated late.
        packets.push((false, 1000, [5, 0x8a, 0x08, 0xc0], 520));
        assert_eq!(receive_new(&packets), "55");
    }

    #[test]
    fn timestamp_wraparound() {
        let mut packets = sipp('7', u32::MAX - 1000, 0);
        packets.extend(sipp('7', 2200, 300)); // after the wrap
        packets.extend(sipp('8', u32::MAX, 600));
        packets.extend(sipp('8', 0, 900));
        assert_eq!(receive_new(&packets), "7788");
    }

    #[test]
    fn a_timestamp_reused_after_a_second_is_a_new_event() {
        let mut packets = sipp('9', 500, 0);
        packets.extend(sipp('9', 500, 200)); // too soon: a duplicate
        packets.extend(sipp('9', 500, 2000)); // senders that never advance the timestamp
        assert_eq!(receive_new(&packets), "99");
    }

    #[test]
    fn a_key_held_past_the_longest_duration_is_one_press() {
        // §2.5.1.3: a segment reaches duration 0xFFFF, the next starts at timestamp + 0xFFFF
        // without the marker bit.
        let start = u32::MAX - 0x8000; // and across the wraparound
        let mut rx = TelephoneEventReceiver::new();
        assert_eq!(rx.push(start, true, &[4, 10, 0, 0], 0), Some(digit('4')));
        for t in (50..=8200).step_by(50) {
            let duration = (t * 8).min(0xFFFF) as u16;
            let [high, low] = duration.to_be_bytes();
            assert_eq!(rx.push(start, false, &[4, 10, high, low], t), None);
        }
        let next = start.wrapping_add(0xFFFF);
        assert_eq!(rx.push(next, false, &[4, 10, 0x01, 0x40], 8250), None);
        assert_eq!(rx.push(next, false, &[4, 0x8a, 0x02, 0x80], 8300), None);
        // A new press with its marker bit.
        assert_eq!(
            rx.push(next.wrapping_add(1000), true, &[4, 10, 0, 0], 8500),
            Some(digit('4'))
        );
    }

    #[test]
    fn garbage_does_not_panic() {
        let mut rx = TelephoneEventReceiver::new();
        for payload in [&[][..], &[1], &[1, 2], &[1, 2, 3]] {
            assert_eq!(rx.push(1, true, payload, 0), None);
        }
        // Not DTMF (16 is flash, RFC 4733 §3.2): ignored.
        assert_eq!(rx.push(2, true, &[16, 0x8a, 0, 160], 0), None);
        assert_eq!(rx.push(3, true, &[255, 255, 255, 255], 0), None);
        // Several events in one packet (§2.5.1.5): the first one counts.
        assert_eq!(
            rx.push(4, true, &[2, 10, 0, 160, 3, 10, 0, 160], 0),
            Some(digit('2'))
        );
        assert_eq!(rx.push(5, true, &[6; 1500], 0), Some(digit('6')));
        let mut x = 0x1234_5678u32;
        for i in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let bytes = x.to_be_bytes();
            let len = (x % 9) as usize;
            let payload: Vec<u8> = bytes.iter().cycle().take(len).copied().collect();
            let _ = rx.push(x.rotate_left(7), x & 1 == 0, &payload, i / 3);
        }
        rx.reset();
        assert_eq!(receive(&mut rx, &SIPP_KEY_1), "1");
    }

    #[test]
    fn info_bodies() {
        let relay = "application/dtmf-relay";
        let cases: [(&str, &[u8], Option<char>); 17] = [
            (relay, b"Signal=5\r\nDuration=160\r\n", Some('5')),
            (relay, b"Signal= #\r\nDuration= 250\r\n", Some('#')),
            (relay, b"signal=*\nduration=100", Some('*')),
            (relay, b"Duration=160\r\nSignal = a\r\n", Some('A')),
            (relay, b"Signal=10\r\nDuration=160", Some('*')),
            (relay, b"Signal=11\r\nDuration=160", Some('#')),
            (relay, b"SIGNAL=15", Some('D')),
            (relay, b"Signal=16\r\n", None),
            (relay, b"Signal=\r\n", None),
            (relay, b"Duration=160\r\n", None),
            (
                "Application/DTMF-Relay; charset=utf-8",
                b"Signal=0",
                Some('0'),
            ),
            ("application/dtmf", b"5", Some('5')),
            ("application/dtmf", b"#\r\n", Some('#')),
            ("application/dtmf", b" 11 ", Some('#')),
            ("application/dtmf", b"55", None),
            ("text/plain", b"Signal=5", None),
            (relay, b"Signal=\xff\xfe", None),
        ];
        for (content_type, body, expected) in cases {
            let got = parse_info(content_type, body).map(Digit::as_char);
            assert_eq!(
                got,
                expected,
                "{content_type}: {:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn merger_drops_a_press_reported_twice() {
        let mut m = DtmfMerger::new();
        assert_eq!(m.push(Source::Rfc4733, digit('5'), 1000), Some(digit('5')));
        assert_eq!(m.push(Source::SipInfo, digit('5'), 1060), None);
        // The same source again is a new press, however soon.
        assert_eq!(m.push(Source::Rfc4733, digit('5'), 1100), Some(digit('5')));
        assert_eq!(m.push(Source::SipInfo, digit('5'), 1180), None); // the second press
        // Outside the window: a new press.
        assert_eq!(m.push(Source::SipInfo, digit('5'), 1400), Some(digit('5')));
        // Another key is never a duplicate.
        assert_eq!(m.push(Source::Rfc4733, digit('6'), 1410), Some(digit('6')));

        // In-band first, RFC 4733 second (the detector can win when RTP is late).
        let mut m = DtmfMerger::new();
        assert_eq!(m.push(Source::InBand, digit('1'), 0), Some(digit('1')));
        assert_eq!(m.push(Source::Rfc4733, digit('1'), 30), None);
    }

    #[test]
    fn merger_matches_two_quick_presses_reported_twice() {
        // Keys 5 5 6 5 by RFC 4733, each reported again by SIP INFO 120 ms later.
        let mut m = DtmfMerger::new();
        let mut out = String::new();
        for (t, key) in [(0, '5'), (100, '5'), (200, '6'), (300, '5')] {
            out.extend(m.push(Source::Rfc4733, digit(key), t).map(Digit::as_char));
            out.extend(
                m.push(Source::SipInfo, digit(key), t + 120)
                    .map(Digit::as_char),
            );
        }
        assert_eq!(out, "5565");
    }

    #[test]
    fn inband_is_wanted_until_telephone_events_arrive() {
        let mut m = DtmfMerger::new();
        assert!(m.inband_wanted());
        assert_eq!(m.push(Source::InBand, digit('2'), 0), Some(digit('2')));
        assert_eq!(m.push(Source::SipInfo, digit('3'), 500), Some(digit('3')));
        assert!(
            m.inband_wanted(),
            "SIP INFO does not turn in-band detection off"
        );
        assert_eq!(m.push(Source::Rfc4733, digit('4'), 1000), Some(digit('4')));
        assert!(!m.inband_wanted());
        // From now on in-band digits are duplicates or talk-off.
        assert_eq!(m.push(Source::InBand, digit('4'), 1040), None);
        assert_eq!(m.push(Source::InBand, digit('7'), 3000), None);
        assert_eq!(m.push(Source::Rfc4733, digit('7'), 3010), Some(digit('7')));
    }

    #[test]
    fn merger_window_is_configurable() {
        let mut m = DtmfMerger::with_window_ms(400);
        assert_eq!(m.push(Source::Rfc4733, digit('#'), 0), Some(digit('#')));
        assert_eq!(m.push(Source::SipInfo, digit('#'), 350), None);
        assert_eq!(m.push(Source::SipInfo, digit('#'), 900), Some(digit('#')));
    }
}
