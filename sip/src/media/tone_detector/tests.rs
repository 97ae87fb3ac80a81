//! Keys in noise and through G.711, Q.24 timing, twist, level and frequency limits, and speech
//! that must not be taken for keys.

use super::*;
use crate::media::g711::{G711, ulaw_decode};

const MS: usize = 8; // samples per millisecond
/// Noise 20 dB below the two tones of −20 dBm0 each (−17 dBm0 together).
const NOISE_DBM0: f32 = -37.0;
const ALL_KEYS: &str = "123A456B789C*0#D";

/// Deterministic noise (xorshift64* and Box-Muller), so that the tests never flake.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 + 0.5) / (1 << 24) as f32
    }

    fn gaussian(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * PI * v).cos()
    }
}

fn amplitude(dbm0: f32) -> f32 {
    DBM0_PEAK * 10f32.powf(dbm0 / 20.0)
}

/// A test signal, built in f32 so that parts add up before rounding.
#[derive(Default)]
struct Signal(Vec<f32>);

impl Signal {
    fn samples(mut self, n: usize) -> Self {
        self.0.resize(self.0.len() + n, 0.0);
        self
    }

    fn silence(self, ms: usize) -> Self {
        self.samples(ms * MS)
    }

    /// Sines of (Hz, dBm0) for `ms`.
    fn tones(mut self, tones: &[(f32, f32)], ms: usize) -> Self {
        let phase = self.0.len() as f32 * 0.37; // some phase, different each time
        for n in 0..ms * MS {
            let t = n as f32 / SAMPLE_RATE;
            let x = tones
                .iter()
                .map(|&(hz, dbm0)| amplitude(dbm0) * (2.0 * PI * hz * t + phase).sin());
            self.0.push(x.sum());
        }
        self
    }

    /// A key's tones at their own levels, both frequencies scaled by `1 + shift`.
    fn key(self, key: char, row_dbm0: f32, col_dbm0: f32, ms: usize, shift: f32) -> Self {
        let (r, c) = position(key);
        let row = (ROWS_HZ[r] * (1.0 + shift), row_dbm0);
        self.tones(&[row, (COLS_HZ[c] * (1.0 + shift), col_dbm0)], ms)
    }

    /// A key at −20 dBm0 per tone.
    fn press(self, key: char, ms: usize) -> Self {
        self.key(key, -20.0, -20.0, ms, 0.0)
    }

    /// Adds white noise band-limited to 300-3400 Hz (a 101-tap windowed-sinc band-pass).
    fn noise(mut self, dbm0: f32, seed: u64) -> Self {
        let taps: Vec<f32> = (0..101)
            .map(|n| {
                let m = n as f32 - 50.0;
                let lowpass = |hz: f32| {
                    let w = 2.0 * hz / SAMPLE_RATE;
                    if m == 0.0 {
                        w
                    } else {
                        (PI * w * m).sin() / (PI * m)
                    }
                };
                let hamming = 0.54 - 0.46 * (2.0 * PI * n as f32 / 100.0).cos();
                (lowpass(3400.0) - lowpass(300.0)) * hamming
            })
            .collect();
        let mut rng = Rng(seed | 1);
        let white: Vec<f32> = (0..self.0.len() + taps.len())
            .map(|_| rng.gaussian())
            .collect();
        let band: Vec<f32> = (0..self.0.len())
            .map(|i| taps.iter().zip(&white[i..]).map(|(h, x)| h * x).sum())
            .collect();
        let rms = (band.iter().map(|x| x * x).sum::<f32>() / band.len() as f32).sqrt();
        let gain = amplitude(dbm0) / 2f32.sqrt() / rms;
        for (x, n) in self.0.iter_mut().zip(band) {
            *x += n * gain;
        }
        self
    }

    fn pcm(&self) -> Vec<i16> {
        self.0.iter().map(|&x| to_i16(x)).collect()
    }

    /// The signal as it arrives: through a G.711 encoder and decoder.
    fn through(&self, law: G711) -> Vec<i16> {
        self.0
            .iter()
            .map(|&x| law.decode(law.encode(to_i16(x))))
            .collect()
    }
}

fn position(key: char) -> (usize, usize) {
    (0..16)
        .map(|i| (i / 4, i % 4))
        .find(|&(r, c)| KEYPAD[r][c] == key)
        .expect("a DTMF key")
}

fn detect(pcm: &[i16], chunk: usize) -> String {
    let mut detector = ToneDetector::new();
    pcm.chunks(chunk)
        .flat_map(|c| detector.push(c))
        .map(Digit::as_char)
        .collect()
}

fn to_i16(x: f32) -> i16 {
    x.round().clamp(-32768.0, 32767.0) as i16
}

fn speech(ulaw: &[u8], gain_db: f32) -> Vec<i16> {
    let gain = 10f32.powf(gain_db / 20.0);
    ulaw.iter()
        .map(|&c| to_i16(f32::from(ulaw_decode(c)) * gain))
        .collect()
}

#[test]
fn every_key_at_minus_20_dbm0_in_noise_is_detected_once() {
    for (i, key) in ALL_KEYS.chars().enumerate() {
        let signal = Signal::default().silence(100).press(key, 100).silence(100);
        let signal = signal.noise(NOISE_DBM0, i as u64 + 1);
        for law in [G711::Ulaw, G711::Alaw] {
            let keys = detect(&signal.through(law), 160);
            assert_eq!(keys, key.to_string(), "{key} {law:?}");
        }
    }
    let mut signal = Signal::default();
    for key in ALL_KEYS.chars() {
        signal = signal.press(key, 50).silence(50);
    }
    let signal = signal.noise(NOISE_DBM0, 99);
    assert_eq!(detect(&signal.through(G711::Alaw), 160), ALL_KEYS);
}

#[test]
fn q24_timing_40_ms_accepted_20_ms_rejected_at_every_alignment() {
    for offset in 0..HOP {
        for (ms, expected) in [(40, "5"), (20, "")] {
            let signal = Signal::default().silence(20).samples(offset).press('5', ms);
            let signal = signal.silence(60).noise(NOISE_DBM0, offset as u64 + 7);
            let keys = detect(&signal.pcm(), 160);
            assert_eq!(keys, expected, "{ms} ms, offset {offset}");
        }
    }
}

#[test]
fn a_pause_separates_presses_and_a_short_break_does_not() {
    for offset in [0, 13, 26, 39] {
        let twice = |gap_ms| {
            let signal = Signal::default().silence(20).samples(offset).press('7', 60);
            let signal = signal.silence(gap_ms).press('7', 60).silence(60);
            detect(&signal.noise(NOISE_DBM0, 3).pcm(), 160)
        };
        assert_eq!(twice(50), "77", "50 ms pause, offset {offset}");
        assert_eq!(twice(40), "77", "40 ms pause, offset {offset}");
        assert_eq!(twice(10), "7", "10 ms break, offset {offset}");
    }
    // Another key straight after one: no pause needed.
    let signal = Signal::default().press('1', 60).press('9', 60).silence(30);
    assert_eq!(detect(&signal.pcm(), 160), "19");
}

#[test]
fn twist_limits() {
    let cases = [
        (-16.0, -23.0, "8"), // normal twist 7 dB
        (-16.0, -25.0, ""),  // normal twist 9 dB
        (-22.0, -19.0, "8"), // reverse twist 3 dB
        (-22.0, -17.0, ""),  // reverse twist 5 dB
    ];
    for (row, col, expected) in cases {
        let signal = Signal::default().key('8', row, col, 80, 0.0).silence(40);
        let keys = detect(&signal.pcm(), 160);
        assert_eq!(keys, expected, "row {row}, column {col} dBm0");
    }
}

#[test]
fn level_limits() {
    let cases = [
        (0.0, "D"),
        (-10.0, "D"),
        (-26.0, "D"),
        (-33.0, ""),
        (-45.0, ""),
    ];
    for (dbm0, expected) in cases {
        let signal = Signal::default().key('D', dbm0, dbm0, 80, 0.0).silence(40);
        assert_eq!(detect(&signal.pcm(), 160), expected, "{dbm0} dBm0");
    }
}

#[test]
fn frequency_tolerance() {
    let cases = [
        (-0.035, false),
        (-0.015, true),
        (0.015, true),
        (0.035, false),
    ];
    for (shift, accepted) in cases {
        for key in ALL_KEYS.chars() {
            let signal = Signal::default().key(key, -20.0, -20.0, 60, shift);
            let pcm = signal.silence(40).noise(NOISE_DBM0, 5).pcm();
            let expected = if accepted {
                key.to_string()
            } else {
                String::new()
            };
            assert_eq!(detect(&pcm, 160), expected, "{key} off by {shift}");
        }
    }
}

#[test]
fn single_tones_and_wrong_pairs_are_rejected() {
    for hz in ROWS_HZ.iter().chain(&COLS_HZ) {
        let signal = Signal::default().tones(&[(*hz, -10.0)], 200);
        assert_eq!(detect(&signal.pcm(), 160), "", "{hz} Hz");
    }
    let pairs = [
        [697.0, 852.0],
        [1209.0, 1477.0],
        [697.0, 2000.0],
        [400.0, 1336.0],
    ];
    for [a, b] in pairs {
        let signal = Signal::default().tones(&[(a, -15.0), (b, -15.0)], 200);
        assert_eq!(detect(&signal.pcm(), 160), "", "{a} + {b} Hz");
    }
    let three = [(770.0, -15.0), (941.0, -15.0), (1336.0, -15.0)];
    assert_eq!(detect(&Signal::default().tones(&three, 200).pcm(), 160), "");
}

#[test]
fn silence_and_noise_are_nothing() {
    assert_eq!(detect(&[0; 8000], 160), "");
    for (dbm0, seed) in [(-10.0, 1), (-20.0, 2), (-40.0, 3)] {
        let signal = Signal::default().silence(3000).noise(dbm0, seed);
        assert_eq!(detect(&signal.pcm(), 160), "", "noise at {dbm0} dBm0");
    }
}

#[test]
fn chunk_size_does_not_matter() {
    let mut signal = Signal::default();
    for key in "0852#".chars() {
        signal = signal.press(key, 45).silence(45);
    }
    let pcm = signal.noise(NOISE_DBM0, 11).pcm();
    for chunk in [1, 7, 51, 102, 160, 4000, pcm.len()] {
        assert_eq!(detect(&pcm, chunk), "0852#", "chunks of {chunk}");
    }
    let mut detector = ToneDetector::new();
    assert!(detector.push(&[]).is_empty());
    detector.push(&pcm[..200]);
    detector.reset();
    assert_eq!(detector.push(&pcm).len(), 5);
}

/// The committed speech files (made by scripts/make-dtmf-testdata.sh), at every alignment
/// of the windows and at two levels. The English file holds the stretch of a synthetic
/// voice nearest to a `*` found: without the steadiness checks it gives one.
#[test]
fn speech_is_not_taken_for_keys() {
    let files: [(&str, &[u8]); 3] = [
        ("en", include_bytes!("../../../testdata/speech-en.ulaw")),
        ("cmn", include_bytes!("../../../testdata/speech-cmn.ulaw")),
        (
            "ast-en",
            include_bytes!("../../../testdata/speech-asterisk-en.ulaw"),
        ),
    ];
    for (name, ulaw) in files {
        assert!(ulaw.len() >= 8000 * 4, "{name}: too short");
        let loud = speech(ulaw, 0.0);
        for skip in 0..HOP {
            assert_eq!(detect(&loud[skip..], 160), "", "{name}, {skip} samples in");
        }
        assert_eq!(detect(&speech(ulaw, -12.0), 160), "", "{name} at -12 dB");
    }
}

#[test]
fn keys_pressed_while_talking_are_still_detected() {
    let talk = speech(include_bytes!("../../../testdata/speech-en.ulaw"), -10.0);
    let keys = Signal::default()
        .silence(1000)
        .key('4', -10.0, -10.0, 80, 0.0);
    let keys = keys.silence(2000).pcm();
    let mixed: Vec<i16> = keys
        .iter()
        .zip(&talk)
        .map(|(&k, &t)| k.saturating_add(t))
        .collect();
    assert_eq!(detect(&mixed, 160), "4");
}

#[test]
fn levels_are_what_their_comments_say() {
    let db = |ratio: f32| 10.0 * ratio.log10();
    let dbm0 = |power: f32| db(power / (DBM0_PEAK * DBM0_PEAK / 2.0));
    // G.711's digital milliwatt (Table 5) is a 0 dBm0 sine.
    let dmw = [0x1E, 0x0B, 0x0B, 0x1E, 0x9E, 0x8B, 0x8B, 0x9E].map(ulaw_decode);
    let dmw_power = dmw.iter().map(|&x| f32::from(x).powi(2)).sum::<f32>() / 8.0;
    assert!(dbm0(dmw_power).abs() < 0.05, "{}", dbm0(dmw_power));
    assert!((dbm0(MIN_TONE_POWER) + 30.0).abs() < 0.01);
    let ratios = [
        (NORMAL_TWIST, 8.0),
        (REVERSE_TWIST, 4.0),
        (GROUP_MARGIN, 8.0),
    ];
    let ratios = ratios
        .into_iter()
        .chain([(HARMONIC_MARGIN, 10.0), (MAX_LEVEL_STEP, 2.0)]);
    for (ratio, expected) in ratios {
        assert!((db(ratio) - expected).abs() < 0.01, "{ratio}");
    }
}
