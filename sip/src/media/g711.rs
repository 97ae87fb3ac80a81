//! G.711 μ-law and A-law, the audio of nearly every call the hotline gets: PCMU (static RTP
//! payload type 0) and PCMA (type 8), RFC 3551 §4.5.14 and Table 4.
//!
//! Decoding is one lookup in a 256-entry table built at compile time (the media path decodes
//! 8 000 samples a second for each of up to 1 000 calls); encoding is a few integer operations.
//! Both are bit-exact with the ITU-T reference algorithm of G.711 as published in the ITU-T
//! Software Tool Library (G.191, `g711.c`): linear samples are 16-bit, of which A-law uses the
//! 13 and μ-law the 14 most significant bits, negative values being folded with the one's
//! complement (−1 gets the magnitude of 0). The tests check every one of the 65 536 inputs and the 256
//! codes of both laws against a port of that reference.
//!
//! [`transcode`] bridges a PCMU caller to a PCMA phone (or back) with one table lookup per byte.

/// The two G.711 companding laws, as negotiated in SDP.
///
/// It exists so that the media path can carry "which law" as one small value, chosen once per
/// call from the negotiated payload type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum G711 {
    /// μ-law, RTP/AVP "PCMU" (North America, Japan; many SIP phones' first choice).
    Ulaw,
    /// A-law, RTP/AVP "PCMA" (the PSTN in China and Europe).
    Alaw,
}

impl G711 {
    /// The static RTP payload type (RFC 3551 §6, Table 4): 0 for PCMU, 8 for PCMA. Used when
    /// writing SDP offers and RTP headers.
    pub const fn payload_type(self) -> u8 {
        match self {
            G711::Ulaw => 0,
            G711::Alaw => 8,
        }
    }

    /// The law of a static payload type (RFC 3551 Table 4), `None` for any other type. Used to
    /// pick the decoder for an incoming RTP packet.
    pub const fn from_payload_type(payload_type: u8) -> Option<G711> {
        match payload_type {
            0 => Some(G711::Ulaw),
            8 => Some(G711::Alaw),
            _ => None,
        }
    }

    /// Encodes one sample with this law ([`ulaw_encode`] or [`alaw_encode`]).
    pub const fn encode(self, sample: i16) -> u8 {
        match self {
            G711::Ulaw => ulaw_encode(sample),
            G711::Alaw => alaw_encode(sample),
        }
    }

    /// Decodes one code with this law ([`ulaw_decode`] or [`alaw_decode`]).
    pub const fn decode(self, code: u8) -> i16 {
        match self {
            G711::Ulaw => ulaw_decode(code),
            G711::Alaw => alaw_decode(code),
        }
    }
}

/// Number of significant bits of `v` (0 for 0).
const fn bit_len(v: u32) -> u32 {
    u32::BITS - v.leading_zeros()
}

/// Encodes a 16-bit linear sample as μ-law (G.711 Table 2), bit-exact with the ITU-T reference
/// `ulaw_compress`. Exists for the audio the hotline sends: prompts and the bridged lawyer.
pub const fn ulaw_encode(sample: i16) -> u8 {
    // One's complement magnitude, 14 bits, plus the μ-law bias of 33 (in 14-bit units).
    let negative = sample < 0;
    let magnitude = if negative { !sample } else { sample } as u32;
    let mut biased = (magnitude >> 2) + 33;
    if biased > 0x1FFF {
        biased = 0x1FFF;
    }
    let exponent = bit_len(biased >> 6); // 0..=7
    let mantissa = (biased >> (exponent + 1)) & 0x0F;
    let code = ((exponent << 4) | mantissa) as u8;
    // Transmitted μ-law codes are inverted; the sign bit is 1 for positive values.
    code ^ if negative { 0x7F } else { 0xFF }
}

/// Encodes a 16-bit linear sample as A-law (G.711 Table 1), bit-exact with the ITU-T reference
/// `alaw_compress`. Exists for the audio the hotline sends to PCMA callers.
pub const fn alaw_encode(sample: i16) -> u8 {
    let negative = sample < 0;
    let magnitude = (if negative { !sample } else { sample } as u32) >> 4; // 0..2048
    let code = if magnitude > 15 {
        let exponent = bit_len(magnitude) - 4; // 1..=7
        let mantissa = (magnitude >> (exponent - 1)) & 0x0F;
        (exponent << 4) | mantissa
    } else {
        magnitude
    } as u8;
    // Sign bit 1 for positive values, then the even bits are inverted (G.711 §2).
    (code | if negative { 0x00 } else { 0x80 }) ^ 0x55
}

/// μ-law reconstruction value of `code` (G.711 Table 2, decoder output, 16-bit scale).
const fn ulaw_expand(code: u8) -> i16 {
    let c = !code;
    let exponent = (c >> 4) & 0x07;
    let mantissa = (c & 0x0F) as i32;
    // Biased value with the leading one and half a step, then the bias (33 << 2) removed.
    let biased = ((mantissa << 3) + 0x84) << exponent;
    let value = (biased - 0x84) as i16;
    if c & 0x80 != 0 { -value } else { value }
}

/// A-law reconstruction value of `code` (G.711 Table 1, decoder output, 16-bit scale).
const fn alaw_expand(code: u8) -> i16 {
    let c = code ^ 0x55;
    let exponent = ((c >> 4) & 0x07) as u32;
    let mantissa = (c & 0x0F) as i32;
    let value = match exponent {
        0 => (mantissa << 4) + 8,
        e => ((mantissa << 4) + 0x108) << (e - 1),
    } as i16;
    if c & 0x80 != 0 { value } else { -value }
}

const fn decode_table(law: G711) -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        table[code] = match law {
            G711::Ulaw => ulaw_expand(code as u8),
            G711::Alaw => alaw_expand(code as u8),
        };
        code += 1;
    }
    table
}

const ULAW_DECODE: [i16; 256] = decode_table(G711::Ulaw);
const ALAW_DECODE: [i16; 256] = decode_table(G711::Alaw);

/// Decodes a μ-law code to a 16-bit linear sample (one table lookup). Exists for the audio the
/// hotline receives: recording, transcription and in-band DTMF detection.
pub const fn ulaw_decode(code: u8) -> i16 {
    ULAW_DECODE[code as usize]
}

/// Decodes an A-law code to a 16-bit linear sample (one table lookup).
pub const fn alaw_decode(code: u8) -> i16 {
    ALAW_DECODE[code as usize]
}

/// Encodes `pcm` with `codec` and **appends** the codes to `out` (one byte per sample: a 20 ms
/// frame of 160 samples gives a 160-byte RTP payload, RFC 3551 §4.5.14). Appending lets the
/// caller reuse one buffer, or write after an RTP header already in it.
pub fn encode_frame(codec: G711, pcm: &[i16], out: &mut Vec<u8>) {
    match codec {
        G711::Ulaw => out.extend(pcm.iter().map(|&s| ulaw_encode(s))),
        G711::Alaw => out.extend(pcm.iter().map(|&s| alaw_encode(s))),
    }
}

/// Decodes an RTP payload of `codec` and **appends** the samples to `out`.
pub fn decode_frame(codec: G711, payload: &[u8], out: &mut Vec<i16>) {
    let table = match codec {
        G711::Ulaw => &ULAW_DECODE,
        G711::Alaw => &ALAW_DECODE,
    };
    out.extend(payload.iter().map(|&c| table[c as usize]));
}

/// `to.encode(from.decode(code))` for every code: exactly what going through linear PCM gives.
const fn transcode_table(from: G711, to: G711) -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut code = 0;
    while code < 256 {
        table[code] = to.encode(from.decode(code as u8));
        code += 1;
    }
    table
}

const ULAW_TO_ALAW: [u8; 256] = transcode_table(G711::Ulaw, G711::Alaw);
const ALAW_TO_ULAW: [u8; 256] = transcode_table(G711::Alaw, G711::Ulaw);

/// Converts a payload from one law to the other and **appends** it to `out`, one table lookup
/// per byte; with `from == to` it copies. Exists to bridge a PCMU caller to a PCMA lawyer's
/// phone (or back) without a linear round trip per sample.
///
/// The result is exactly `to.encode(from.decode(code))` for every code, so a call sounds the
/// same whether it is bridged through this table or through linear PCM (as a mixer does). It
/// does not claim to reproduce the μ/A conversion tables of G.711 itself, which differ for
/// some codes.
pub fn transcode(from: G711, to: G711, payload: &[u8], out: &mut Vec<u8>) {
    let table = match (from, to) {
        (G711::Ulaw, G711::Alaw) => &ULAW_TO_ALAW,
        (G711::Alaw, G711::Ulaw) => &ALAW_TO_ULAW,
        _ => {
            out.extend_from_slice(payload);
            return;
        }
    };
    out.extend(payload.iter().map(|&c| table[c as usize]));
}

#[cfg(test)]
mod tests {
    use super::*;

    // Literal ports of the ITU-T reference (G.191 STL g711.c), kept independent of the code
    // above on purpose: loops instead of leading_zeros, another form of the expansion.
    fn ref_alaw_compress(x: i16) -> u8 {
        let mut ix: i16 = if x < 0 { (!x) >> 4 } else { x >> 4 };
        if ix > 15 {
            let mut iexp = 1;
            while ix > 16 + 15 {
                ix >>= 1;
                iexp += 1;
            }
            ix -= 16;
            ix += iexp << 4;
        }
        if x >= 0 {
            ix |= 0x0080;
        }
        (ix ^ 0x0055) as u8
    }

    fn ref_alaw_expand(code: u8) -> i16 {
        let ix = (i16::from(code) ^ 0x0055) & 0x007F;
        let iexp = ix >> 4;
        let mut mant = ix & 0x000F;
        if iexp > 0 {
            mant += 16;
        }
        mant = (mant << 4) + 0x0008;
        if iexp > 1 {
            mant <<= iexp - 1;
        }
        if code > 127 { mant } else { -mant }
    }

    fn ref_ulaw_compress(x: i16) -> u8 {
        let mut absno: i16 = if x < 0 {
            ((!x) >> 2) + 33
        } else {
            (x >> 2) + 33
        };
        if absno > 0x1FFF {
            absno = 0x1FFF;
        }
        let mut i = absno >> 6;
        let mut segno = 1;
        while i != 0 {
            segno += 1;
            i >>= 1;
        }
        let high_nibble = 0x0008 - segno;
        let low_nibble = 0x000F - ((absno >> segno) & 0x000F);
        let mut log = (high_nibble << 4) | low_nibble;
        if x >= 0 {
            log |= 0x0080;
        }
        log as u8
    }

    fn ref_ulaw_expand(code: u8) -> i16 {
        let sign: i32 = if code < 0x80 { -1 } else { 1 };
        let mantissa = !i32::from(code);
        let exponent = (mantissa >> 4) & 0x0007;
        let segment = exponent + 1;
        let mantissa = mantissa & 0x000F;
        let step = 4 << segment;
        (sign * ((0x0080 << exponent) + step * mantissa + step / 2 - 4 * 33)) as i16
    }

    #[test]
    fn encode_every_i16_matches_the_reference() {
        for x in i16::MIN..=i16::MAX {
            assert_eq!(ulaw_encode(x), ref_ulaw_compress(x), "μ-law {x}");
            assert_eq!(alaw_encode(x), ref_alaw_compress(x), "A-law {x}");
        }
    }

    #[test]
    fn decode_every_code_matches_the_reference() {
        for code in 0..=255u8 {
            assert_eq!(
                ulaw_decode(code),
                ref_ulaw_expand(code),
                "μ-law {code:#04x}"
            );
            assert_eq!(
                alaw_decode(code),
                ref_alaw_expand(code),
                "A-law {code:#04x}"
            );
        }
    }

    #[test]
    fn every_code_round_trips() {
        for code in 0..=255u8 {
            // μ-law has two zeros, +0 (0xFF) and −0 (0x7F); 0 encodes as +0.
            let expected = if code == 0x7F { 0xFF } else { code };
            assert_eq!(
                ulaw_encode(ulaw_decode(code)),
                expected,
                "μ-law {code:#04x}"
            );
            assert_eq!(alaw_encode(alaw_decode(code)), code, "A-law {code:#04x}");
        }
    }

    #[test]
    fn encoding_is_monotonic_and_close() {
        for law in [G711::Ulaw, G711::Alaw] {
            let mut previous = i32::MIN;
            for x in i16::MIN..=i16::MAX {
                let y = i32::from(law.decode(law.encode(x)));
                assert!(y >= previous, "{law:?} not monotonic at {x}");
                previous = y;
                // Half the largest step (1024 at 16-bit scale), more where the top code clips.
                let limit = if i32::from(x).abs() > 32_000 {
                    700
                } else {
                    512
                };
                assert!(
                    (y - i32::from(x)).abs() <= limit,
                    "{law:?} error at {x}: {y}"
                );
            }
        }
    }

    #[test]
    fn known_values() {
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(ulaw_encode(-1), 0x7F);
        assert_eq!(alaw_encode(-1), 0x55);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(ulaw_decode(0x7F), 0);
        assert_eq!(ulaw_decode(0x80), 32_124);
        assert_eq!(ulaw_decode(0x00), -32_124);
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xAA), 32_256);
        assert_eq!(alaw_decode(0x2A), -32_256);
        // The digital milliwatt of G.711 (Tables 5 and 6): a 1 kHz sine at 0 dBm0.
        let dmw_u = [0x1E, 0x0B, 0x0B, 0x1E, 0x9E, 0x8B, 0x8B, 0x9E].map(ulaw_decode);
        assert_eq!(
            dmw_u,
            [-8828, -20860, -20860, -8828, 8828, 20860, 20860, 8828]
        );
        let dmw_a = [0x34, 0x21, 0x21, 0x34, 0xB4, 0xA1, 0xA1, 0xB4].map(alaw_decode);
        assert_eq!(
            dmw_a,
            [-8960, -20992, -20992, -8960, 8960, 20992, 20992, 8960]
        );
    }

    #[test]
    fn payload_types() {
        assert_eq!(G711::Ulaw.payload_type(), 0);
        assert_eq!(G711::Alaw.payload_type(), 8);
        for pt in 0..=127u8 {
            let law = G711::from_payload_type(pt);
            assert_eq!(law.map(G711::payload_type).unwrap_or(pt), pt);
            assert_eq!(law.is_some(), pt == 0 || pt == 8);
        }
    }

    #[test]
    fn frames_round_trip() {
        let pcm: Vec<i16> = (0..160)
            .map(|i| ((i * 409) % 65_536 - 32_768) as i16)
            .collect();
        for law in [G711::Ulaw, G711::Alaw] {
            let mut payload = vec![0xAB]; // appended after what is there
            encode_frame(law, &pcm, &mut payload);
            assert_eq!(payload.len(), 161);
            assert_eq!(payload[0], 0xAB);
            let mut decoded = Vec::new();
            decode_frame(law, &payload[1..], &mut decoded);
            let expected: Vec<i16> = pcm.iter().map(|&s| law.decode(law.encode(s))).collect();
            assert_eq!(decoded, expected);
        }
    }

    #[test]
    fn transcode_is_encode_of_decode() {
        let all: Vec<u8> = (0..=255).collect();
        for (from, to) in [(G711::Ulaw, G711::Alaw), (G711::Alaw, G711::Ulaw)] {
            let mut out = Vec::new();
            transcode(from, to, &all, &mut out);
            assert_eq!(out.len(), 256);
            for (&code, &t) in all.iter().zip(&out) {
                let x = i32::from(from.decode(code));
                assert_eq!(t, to.encode(from.decode(code)), "{from:?} {code:#04x}");
                // decode(t) is one of the two target levels around x (G.711's decision values
                // are not all midpoints, so not always the nearest one).
                let y = i32::from(to.decode(t));
                let levels = (0..=255u8).map(|c| i32::from(to.decode(c)));
                let below = levels.clone().filter(|&l| l <= x).max().unwrap_or(i32::MIN);
                let above = levels.filter(|&l| l >= x).min().unwrap_or(i32::MAX);
                assert!(y == below || y == above, "{from:?} {code:#04x} -> {t:#04x}");
                // The sign survives, except that μ-law's −0 (0x7F) decodes to plain 0.
                if !(from == G711::Ulaw && code == 0x7F) {
                    assert_eq!(t & 0x80, code & 0x80, "{from:?} {code:#04x} sign");
                }
            }
            // Same law: a copy.
            let mut same = Vec::new();
            transcode(from, from, &all, &mut same);
            assert_eq!(same, all);
        }
        // There and back again moves a value at most one quantization step.
        for law in [G711::Ulaw, G711::Alaw] {
            let other = if law == G711::Ulaw {
                G711::Alaw
            } else {
                G711::Ulaw
            };
            let mut levels: Vec<i16> = (0..=255u8).map(|c| law.decode(c)).collect();
            levels.sort_unstable();
            levels.dedup();
            let rank = |v: i16| levels.binary_search(&v).unwrap() as i32;
            for code in 0..=255u8 {
                let (mut there, mut back) = (Vec::new(), Vec::new());
                transcode(law, other, &[code], &mut there);
                transcode(other, law, &there, &mut back);
                let moved = rank(law.decode(back[0])) - rank(law.decode(code));
                assert!(moved.abs() <= 1, "{law:?} {code:#04x} moved {moved} steps");
            }
        }
    }
}
