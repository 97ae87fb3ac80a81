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

mod merger;
mod sip_info;
mod telephone_event;

use std::fmt;

pub use super::tone_detector::ToneDetector;
pub use merger::{DEFAULT_MERGE_WINDOW_MS, DtmfMerger};
pub use sip_info::parse_info;
pub use telephone_event::{TelephoneEvent, TelephoneEventReceiver};

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

#[cfg(test)]
mod tests;
