//! One stream of presses from the three sources, with second reports of a press dropped.

use super::{Digit, Source};

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
