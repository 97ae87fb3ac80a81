//! Recordings in, whisper's input out: a stereo call recording is split into its two voices
//! (left = caller, right = the hotline side) and each is brought to 16 kHz mono f32, the only
//! format whisper.cpp takes.

use std::path::Path;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler, WindowFunction};

use crate::TranscribeError;

/// whisper.cpp's sample rate.
pub const WHISPER_RATE: u32 = 16_000;

/// One recording as 16 kHz channels.
#[derive(Debug, Clone)]
pub struct Channels {
    /// One `Vec` per channel of the file (1 for mono, 2 for a call recording).
    pub channels: Vec<Vec<f32>>,
    /// Seconds of audio.
    pub duration_secs: f64,
}

/// Reads a WAV (16-bit or float, any rate, mono or stereo) into 16 kHz f32 channels.
pub fn read_wav_16k(path: &Path) -> Result<Channels, TranscribeError> {
    let bad = |e: hound::Error| TranscribeError::Audio(format!("{}: {e}", path.display()));
    let mut reader = hound::WavReader::open(path).map_err(bad)?;
    let spec = reader.spec();
    let n = spec.channels as usize;
    if n == 0 || n > 2 {
        return Err(TranscribeError::Audio(format!(
            "{}: {n} channels (expected mono or stereo)",
            path.display()
        )));
    }
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(bad)?
        }
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(bad)?,
    };
    let frames = samples.len() / n;
    let mut channels = Vec::with_capacity(n);
    for c in 0..n {
        let mono: Vec<f32> = samples.iter().skip(c).step_by(n).copied().collect();
        channels.push(resample(&mono, spec.sample_rate, WHISPER_RATE)?);
    }
    Ok(Channels {
        channels,
        duration_secs: frames as f64 / spec.sample_rate as f64,
    })
}

/// Resamples a whole clip with rubato's synchronous FFT resampler (anti-aliasing filter, own
/// delay trimmed so timestamps line up with the recording).
pub fn resample(input: &[f32], rate_in: u32, rate_out: u32) -> Result<Vec<f32>, TranscribeError> {
    if input.is_empty() || rate_in == rate_out {
        return Ok(input.to_vec());
    }
    let err = |e: String| TranscribeError::Audio(format!("resampling: {e}"));
    let chunk_in = 1024usize;
    let mut resampler = Fft::<f32>::new_custom(
        rate_in as usize,
        rate_out as usize,
        chunk_in,
        1,
        1,
        WindowFunction::BlackmanHarris2,
        FixedSync::Input,
    )
    .map_err(|e| err(e.to_string()))?;
    let adapter = InterleavedSlice::new(input, 1, input.len()).map_err(|e| err(e.to_string()))?;
    let output = resampler
        .process_all(&adapter, input.len(), None)
        .map_err(|e| err(e.to_string()))?;
    Ok(output.take_data())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_khz_stereo_becomes_two_16k_channels_in_time() {
        let dir = std::env::temp_dir().join(format!("hotline-audio-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("call.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        // left: 1 s silence then 1 s of 440 Hz; right: silence
        for i in 0..16_000 {
            let l = if i >= 8000 {
                (f32::sin(i as f32 * 440.0 * std::f32::consts::TAU / 8000.0) * 10_000.0) as i16
            } else {
                0
            };
            w.write_sample(l).unwrap();
            w.write_sample(0i16).unwrap();
        }
        w.finalize().unwrap();
        let c = read_wav_16k(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(c.channels.len(), 2);
        assert!((c.duration_secs - 2.0).abs() < 1e-9);
        let left = &c.channels[0];
        assert!((left.len() as i64 - 32_000).abs() <= 32, "{}", left.len());
        let energy = |s: &[f32]| s.iter().map(|v| v * v).sum::<f32>() / s.len() as f32;
        // the tone starts at 1 s, not shifted by the resampler's delay
        assert!(energy(&left[1_000..15_000]) < 1e-6);
        assert!(energy(&left[17_000..31_000]) > 0.01);
        assert!(energy(&c.channels[1]) < 1e-9);
    }

    #[test]
    fn not_a_wav_is_a_clear_error() {
        let err = read_wav_16k(Path::new("/nonexistent/x.wav")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/x.wav"), "{err}");
    }
}
