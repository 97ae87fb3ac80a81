//! Turning a WAV file of any common format into 8 kHz mono samples: decoding, downmixing and
//! resampling with an anti-aliasing filter.

use std::fs::File;
use std::io::{self, BufReader};
use std::path::Path;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler, WindowFunction};

use super::{PromptErrorKind, SAMPLE_RATE_HZ};

/// Lowest and highest input sample rates accepted; a garbage header must not make the
/// resampler allocate gigabytes.
const MIN_INPUT_RATE: u32 = 1000;
const MAX_INPUT_RATE: u32 = 384_000;

/// Output frames per FFT block of the resampler: large enough to put the anti-aliasing
/// cutoff close to 4 kHz, small enough to keep loading fast.
const RESAMPLER_BLOCK_OUT: usize = 512;

/// Reads, downmixes and resamples a WAV file to 8 kHz mono f32 in [-1, 1).
pub(super) fn decode(path: &Path) -> Result<Vec<f32>, PromptErrorKind> {
    use PromptErrorKind::{Format, Open, Unsupported};
    let file = File::open(path).map_err(Open)?;
    let file_len = file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
    let mut reader = hound::WavReader::new(BufReader::new(file)).map_err(Format)?;
    let spec = reader.spec();
    if !(MIN_INPUT_RATE..=MAX_INPUT_RATE).contains(&spec.sample_rate) {
        return Err(Unsupported(format!(
            "sample rate {} Hz outside {MIN_INPUT_RATE}..={MAX_INPUT_RATE} Hz",
            spec.sample_rate
        )));
    }
    if spec.channels == 0 {
        return Err(Unsupported("zero channels".into()));
    }
    let mono = match spec.sample_format {
        hound::SampleFormat::Int if (1..=32).contains(&spec.bits_per_sample) => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            read_mono(&mut reader, file_len, |s: i32| s as f32 * scale)?
        }
        hound::SampleFormat::Float if spec.bits_per_sample == 32 => read_mono(
            &mut reader,
            file_len,
            |s: f32| if s.is_finite() { s } else { 0.0 },
        )?,
        format => {
            let bits = spec.bits_per_sample;
            return Err(Unsupported(format!("{bits}-bit {format:?} samples")));
        }
    };
    if spec.sample_rate == SAMPLE_RATE_HZ {
        return Ok(mono);
    }
    resample_to_8k(&mono, spec.sample_rate)
        .map_err(|e| Unsupported(format!("resampling {} Hz: {e}", spec.sample_rate)))
}

/// Reads all samples, converting each to f32 and averaging the channels.
fn read_mono<S: hound::Sample>(
    reader: &mut hound::WavReader<BufReader<File>>,
    file_len: u64,
    to_f32: impl Fn(S) -> f32,
) -> Result<Vec<f32>, PromptErrorKind> {
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    let expected = u64::from(reader.len());
    // Never trust the header for the allocation: cap it by what the file can hold.
    let bytes_per_sample = u64::from(spec.bits_per_sample.div_ceil(8).max(1));
    let frames_hint = expected.min(file_len / bytes_per_sample) / channels as u64;
    let mut mono = Vec::with_capacity(usize::try_from(frames_hint).unwrap_or(0));
    let (mut sum, mut in_frame, mut found) = (0.0f32, 0usize, 0u64);
    let truncated = |found| PromptErrorKind::Truncated { expected, found };
    for sample in reader.samples::<S>() {
        let sample = sample.map_err(|e| match e {
            // hound reports a short read as `Other` ("Failed to read enough bytes.").
            hound::Error::IoError(e) if e.kind() == io::ErrorKind::Other => truncated(found),
            hound::Error::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                truncated(found)
            }
            e => PromptErrorKind::Format(e),
        })?;
        found += 1;
        sum += to_f32(sample);
        in_frame += 1;
        if in_frame == channels {
            mono.push(sum / channels as f32);
            sum = 0.0;
            in_frame = 0;
        }
    }
    if found < expected {
        return Err(truncated(found));
    }
    Ok(mono)
}

/// Converts a whole clip to 8 kHz with rubato's synchronous FFT resampler, which applies an
/// anti-aliasing low-pass and trims its own delay so the output lines up with the input.
fn resample_to_8k(input: &[f32], rate_in: u32) -> Result<Vec<f32>, String> {
    if input.is_empty() {
        return Ok(Vec::new());
    }
    let rate_in = rate_in as usize;
    let out = SAMPLE_RATE_HZ as usize;
    // With FixedSync::Both the chunk size counts input frames; aim for ~512 output frames.
    let chunk_in = (RESAMPLER_BLOCK_OUT * rate_in).div_ceil(out);
    let mut resampler = Fft::<f32>::new_custom(
        rate_in,
        out,
        chunk_in,
        1,
        1,
        WindowFunction::BlackmanHarris2,
        FixedSync::Both,
    )
    .map_err(|e| e.to_string())?;
    let adapter = InterleavedSlice::new(input, 1, input.len()).map_err(|e| e.to_string())?;
    let output = resampler
        .process_all(&adapter, input.len(), None)
        .map_err(|e| e.to_string())?;
    Ok(output.take_data())
}
