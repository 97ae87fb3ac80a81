//! IVR prompts: WAV files turned once into 8 kHz mono PCM and shared by every call.
//!
//! The media path speaks G.711 at 8 kHz in 20 ms frames, while the recorded prompts come
//! from studios and text-to-speech tools at whatever rate and format they like. Converting
//! at load time (with a proper anti-aliasing filter) keeps the per-call work to a memcpy.

mod cache;
mod decode;
mod playback;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use decode::decode;

pub use cache::PromptCache;
pub use playback::Playback;

/// Sample rate of every prompt, because the RTP media path is narrowband G.711.
pub const SAMPLE_RATE_HZ: u32 = 8000;

/// Samples in one 20 ms RTP frame at 8 kHz, the unit [`Playback`] hands out.
pub const FRAME_SAMPLES: usize = 160;

/// Why a prompt file could not be turned into a [`Prompt`]. It names the file so that a
/// dialplan reload can report exactly which prompt is broken.
#[derive(Debug, thiserror::Error)]
#[error("prompt {}: {kind}", .path.display())]
pub struct PromptError {
    /// The prompt file (canonicalised when loaded through [`PromptCache`]).
    pub path: PathBuf,
    /// What is wrong with it.
    pub kind: PromptErrorKind,
}

/// What is wrong with a prompt file, so callers can tell a missing file from a broken one.
#[derive(Debug, thiserror::Error)]
pub enum PromptErrorKind {
    /// The file could not be opened or its path resolved.
    #[error("cannot open: {0}")]
    Open(#[source] io::Error),
    /// Not a WAV file hound can decode (garbage, bad header, unknown encoding).
    #[error("not a readable WAV file: {0}")]
    Format(#[source] hound::Error),
    /// The header announces more samples than the file holds (an interrupted copy).
    #[error("truncated: header announces {expected} samples, file holds {found}")]
    Truncated {
        /// Samples (all channels) the header announces.
        expected: u64,
        /// Samples (all channels) that could be read.
        found: u64,
    },
    /// Sample rate, channel count or bit depth out of range, or the resampler refused.
    #[error("not supported: {0}")]
    Unsupported(String),
}

/// An audio clip ready to send: 8 kHz mono 16-bit PCM behind an `Arc`, so thousands of calls
/// playing the same greeting share one buffer and cloning costs one atomic increment.
#[derive(Clone)]
pub struct Prompt {
    samples: Arc<[i16]>,
}

impl fmt::Debug for Prompt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prompt")
            .field("samples", &self.samples.len())
            .field("duration", &self.duration())
            .finish()
    }
}

impl Prompt {
    /// Loads a WAV file of any format hound reads (8/16/24/32-bit integer or 32-bit float,
    /// any channel count, any sample rate from 1 kHz to 384 kHz), downmixes it to mono by
    /// averaging the channels and resamples it to 8 kHz with an FFT resampler that filters
    /// out everything above 4 kHz. Levels are kept as recorded (nothing is normalised).
    pub fn load(path: impl AsRef<Path>) -> Result<Prompt, PromptError> {
        let path = path.as_ref();
        let mono = decode(path).map_err(|kind| PromptError {
            path: path.to_path_buf(),
            kind,
        })?;
        if mono.is_empty() {
            tracing::warn!(path = %path.display(), "prompt file holds no audio");
        }
        Ok(Prompt::from_samples_8k(
            mono.into_iter().map(float_to_i16).collect(),
        ))
    }

    /// Wraps samples that are already 8 kHz mono, e.g. synthesised or decoded from RTP.
    pub fn from_samples_8k(samples: Vec<i16>) -> Prompt {
        Prompt {
            samples: samples.into(),
        }
    }

    /// A stretch of silence, for pauses between queued prompts.
    pub fn silence(ms: u32) -> Prompt {
        Prompt::from_samples_8k(vec![0; samples_for_ms(ms)])
    }

    /// A sine tone at `level_dbfs` (0 = full scale), for beeps and as hold-music fallback when
    /// the music file is missing. The first and last 4 ms are faded so the tone does not click;
    /// frequencies at or above 4 kHz cannot be represented at 8 kHz and alias.
    pub fn tone(freq_hz: f64, ms: u32, level_dbfs: f64) -> Prompt {
        let n = samples_for_ms(ms);
        let amplitude = (32767.0 * 10f64.powf(level_dbfs / 20.0)).min(32767.0);
        let ramp = (SAMPLE_RATE_HZ as usize / 250).min(n / 2); // 4 ms
        let step = 2.0 * std::f64::consts::PI * freq_hz / f64::from(SAMPLE_RATE_HZ);
        let samples = (0..n)
            .map(|i| {
                let gain = (i.min(n - 1 - i) as f64 / ramp as f64).min(1.0);
                (amplitude * gain * (step * i as f64).sin()).round() as i16
            })
            .collect();
        Prompt::from_samples_8k(samples)
    }

    /// Playing time, for timeouts such as "wait for a digit after the menu has been read".
    pub fn duration(&self) -> Duration {
        Duration::from_micros(self.samples.len() as u64 * 1_000_000 / u64::from(SAMPLE_RATE_HZ))
    }

    /// The 8 kHz mono samples, for encoders and tests.
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// True when both prompts share one sample buffer, so callers and tests can check that
    /// the cache really hands out one copy.
    pub fn ptr_eq(a: &Prompt, b: &Prompt) -> bool {
        Arc::ptr_eq(&a.samples, &b.samples)
    }
}

fn samples_for_ms(ms: u32) -> usize {
    ms as usize * SAMPLE_RATE_HZ as usize / 1000
}

fn float_to_i16(v: f32) -> i16 {
    // `as` saturates and maps NaN to 0.
    (v * 32768.0).round() as i16
}

#[cfg(test)]
mod tests;
