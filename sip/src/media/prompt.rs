//! IVR prompts: WAV files turned once into 8 kHz mono PCM and shared by every call.
//!
//! The media path speaks G.711 at 8 kHz in 20 ms frames, while the recorded prompts come
//! from studios and text-to-speech tools at whatever rate and format they like. Converting
//! at load time (with a proper anti-aliasing filter) keeps the per-call work to a memcpy.

use std::collections::HashMap;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler, WindowFunction};

/// Sample rate of every prompt, because the RTP media path is narrowband G.711.
pub const SAMPLE_RATE_HZ: u32 = 8000;

/// Samples in one 20 ms RTP frame at 8 kHz, the unit [`Playback`] hands out.
pub const FRAME_SAMPLES: usize = 160;

/// Lowest and highest input sample rates accepted; a garbage header must not make the
/// resampler allocate gigabytes.
const MIN_INPUT_RATE: u32 = 1000;
const MAX_INPUT_RATE: u32 = 384_000;

/// Output frames per FFT block of the resampler: large enough to put the anti-aliasing
/// cutoff close to 4 kHz, small enough to keep loading fast.
const RESAMPLER_BLOCK_OUT: usize = 512;

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

/// Reads, downmixes and resamples a WAV file to 8 kHz mono f32 in [-1, 1).
fn decode(path: &Path) -> Result<Vec<f32>, PromptErrorKind> {
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

/// Loads each prompt file once and hands out shared copies, so reloading a dialplan that names
/// the same hundred prompts costs a `stat` per prompt, not a decode and resample.
///
/// Entries are keyed by canonical path. A file whose modification time or size changed since
/// it was loaded is loaded again on the next [`get`](PromptCache::get), so a replaced recording
/// is picked up without an explicit [`invalidate`](PromptCache::invalidate).
#[derive(Debug, Default)]
pub struct PromptCache {
    entries: Mutex<HashMap<PathBuf, (Prompt, FileStamp)>>,
}

/// Modification time and size when loaded; `None` if the file could not be stat'ed.
type FileStamp = Option<(Option<SystemTime>, u64)>;

fn stamp_of(path: &Path) -> FileStamp {
    fs::metadata(path)
        .ok()
        .map(|m| (m.modified().ok(), m.len()))
}

impl PromptCache {
    /// An empty cache; one per process is enough.
    pub fn new() -> PromptCache {
        PromptCache::default()
    }

    /// Returns the prompt for `path`, loading it on first use (or after it changed on disk).
    /// Every caller gets the same shared buffer. Errors are not cached: a fixed file loads on
    /// the next call.
    pub fn get(&self, path: impl AsRef<Path>) -> Result<Prompt, PromptError> {
        let path = path.as_ref();
        let key = fs::canonicalize(path).map_err(|e| PromptError {
            path: path.to_path_buf(),
            kind: PromptErrorKind::Open(e),
        })?;
        let stamp = stamp_of(&key);
        if let Some((prompt, loaded)) = self.lock().get(&key)
            && *loaded == stamp
        {
            return Ok(prompt.clone());
        }
        // Decode outside the lock so one slow file does not stall every other lookup.
        let prompt = Prompt::load(&key)?;
        let mut entries = self.lock();
        if let Some((winner, loaded)) = entries.get(&key)
            && *loaded == stamp
        {
            return Ok(winner.clone()); // another thread loaded it meanwhile: share its copy
        }
        entries.insert(key, (prompt.clone(), stamp));
        Ok(prompt)
    }

    /// Forgets `path` so the next `get` reads it again; returns whether it was cached.
    /// Works for deleted files too (matched by their absolute path).
    pub fn invalidate(&self, path: impl AsRef<Path>) -> bool {
        let path = path.as_ref();
        let mut entries = self.lock();
        let mut removed = false;
        if let Ok(key) = fs::canonicalize(path) {
            removed |= entries.remove(&key).is_some();
        }
        if let Ok(key) = std::path::absolute(path) {
            removed |= entries.remove(&key).is_some();
        }
        removed
    }

    /// Forgets every prompt, e.g. when the prompt directory was replaced wholesale.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<PathBuf, (Prompt, FileStamp)>> {
        // The map stays consistent even if a holder panicked, so poisoning is ignored.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Plays queued prompts to one call, 20 ms at a time, as the RTP sender needs them;
/// stoppable mid-prompt for barge-in and optionally looping for hold music.
#[derive(Debug, Clone)]
pub struct Playback {
    prompts: Vec<Prompt>,
    index: usize,
    offset: usize,
    looping: bool,
    stopped: bool,
    played: u64,
}

impl Playback {
    /// Plays `prompts` back to back without gaps (e.g. "your case number is" + digits).
    pub fn new(prompts: Vec<Prompt>) -> Playback {
        let mut playback = Playback {
            prompts,
            index: 0,
            offset: 0,
            looping: false,
            stopped: false,
            played: 0,
        };
        playback.skip_exhausted();
        playback
    }

    /// Repeats `prompt` until [`stop`](Playback::stop), for hold music. An empty prompt has
    /// nothing to repeat and is finished at once.
    pub fn looping(prompt: Prompt) -> Playback {
        Playback::looping_all(vec![prompt])
    }

    /// Repeats `prompts` in order until [`stop`](Playback::stop), e.g. music alternating with
    /// "all lawyers are busy, please hold". Finished at once if they are all empty.
    pub fn looping_all(prompts: Vec<Prompt>) -> Playback {
        let mut playback = Playback::new(prompts);
        playback.looping = !playback.is_finished();
        playback
    }

    /// Fills `frame` with the next 20 ms. Returns true if it holds audio (the last partial
    /// frame is padded with silence); returns false, with `frame` silent, once finished.
    pub fn next_frame(&mut self, frame: &mut [i16; FRAME_SAMPLES]) -> bool {
        let mut filled = 0;
        while filled < FRAME_SAMPLES && !self.is_finished() {
            let samples = self.prompts[self.index].samples();
            let n = (samples.len() - self.offset).min(FRAME_SAMPLES - filled);
            frame[filled..filled + n].copy_from_slice(&samples[self.offset..self.offset + n]);
            filled += n;
            self.offset += n;
            self.skip_exhausted();
        }
        frame[filled..].fill(0);
        self.played += filled as u64;
        filled > 0
    }

    /// True when nothing is left to play (or playback was stopped).
    pub fn is_finished(&self) -> bool {
        self.stopped || self.index >= self.prompts.len()
    }

    /// Stops playback at once, for barge-in: the caller pressed a digit mid-prompt.
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    /// Milliseconds of audio handed out so far (across prompts and loops), e.g. to log how
    /// far into a menu the caller barged in.
    pub fn position_ms(&self) -> u64 {
        self.played * 1000 / u64::from(SAMPLE_RATE_HZ)
    }

    /// Moves past finished and empty prompts, wrapping around when looping.
    fn skip_exhausted(&mut self) {
        while self.index < self.prompts.len()
            && self.offset >= self.prompts[self.index].samples.len()
        {
            self.index += 1;
            self.offset = 0;
            if self.index == self.prompts.len() && self.looping {
                self.index = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hound::SampleFormat::{Float, Int};
    use std::f64::consts::PI;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn temp_dir(name: &str) -> PathBuf {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let unique = format!("hotline-prompt-{}-{name}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(unique);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Writes `secs` of a `freq` sine at half scale on channel 0 (other channels silent).
    fn write_wav(path: &Path, format: (u32, u16, u16), float: bool, secs: f64, freq: f64) {
        let (sample_rate, channels, bits_per_sample) = format;
        let sample_format = if float { Float } else { Int };
        let spec = hound::WavSpec {
            channels,
            sample_rate,
            bits_per_sample,
            sample_format,
        };
        let full_scale = (1i64 << (bits_per_sample - 1)) as f64;
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..(secs * f64::from(sample_rate)) as usize {
            let v = 0.5 * (2.0 * PI * freq * i as f64 / f64::from(sample_rate)).sin();
            for ch in 0..channels {
                let v = if ch == 0 { v } else { 0.0 };
                let written = match float {
                    true => w.write_sample(v as f32),
                    false => w.write_sample((v * full_scale) as i32),
                };
                written.unwrap();
            }
        }
        w.finalize().unwrap();
    }

    fn load_tone(format: (u32, u16, u16), float: bool, secs: f64, freq: f64) -> Prompt {
        let path = temp_dir("tone").join("p.wav");
        write_wav(&path, format, float, secs, freq);
        Prompt::load(&path).unwrap()
    }

    /// RMS relative to a half-scale sine, in dB.
    fn level_db(s: &[i16]) -> f64 {
        let rms = (s.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / s.len() as f64).sqrt();
        20.0 * (rms.max(1e-3) / (16384.0 / 2f64.sqrt())).log10()
    }

    fn zero_crossings(s: &[i16]) -> usize {
        s.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count()
    }

    #[test]
    fn converts_formats_keeping_duration_and_level() {
        for (format, float, secs) in [
            ((48000, 2, 32), true, 1.5),
            ((16000, 1, 8), false, 1.0),
            ((44100, 1, 24), false, 2.3),
            ((22050, 2, 32), false, 0.7),
        ] {
            let p = load_tone(format, float, secs, 440.0);
            let (got, want) = (p.samples().len() as f64, secs * 8000.0);
            let error = (got - want).abs();
            assert!(error <= FRAME_SAMPLES as f64, "{format:?}: {got} vs {want}");
            // The tone is on channel 0 only, so a stereo downmix halves it (-6 dB).
            let want_db = if format.1 == 2 { -6.02 } else { 0.0 };
            let db = level_db(&p.samples()[800..p.samples().len() - 800]);
            assert!((db - want_db).abs() < 0.3, "{format:?}: level {db:.2} dB");
        }
    }

    #[test]
    fn resampling_keeps_frequency_and_filters_aliases() {
        let p = load_tone((48000, 1, 16), false, 2.0, 1000.0);
        let zc = zero_crossings(&p.samples()[4000..12000]); // one second
        assert!((1995..=2005).contains(&zc), "1 kHz became {zc} crossings/s");
        // 6 kHz would fold to 2 kHz at 8 kHz without an anti-aliasing filter.
        let p = load_tone((48000, 1, 16), false, 2.0, 6000.0);
        let db = level_db(&p.samples()[800..p.samples().len() - 800]);
        assert!(db < -60.0, "6 kHz attenuated only {db:.1} dB");
    }

    #[test]
    fn broken_files_are_errors_naming_the_file() {
        let dir = temp_dir("broken");
        write_wav(&dir.join("good.wav"), (16000, 1, 16), false, 1.0, 440.0);
        let bytes = fs::read(dir.join("good.wav")).unwrap();
        let noise: Vec<u8> = (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect();
        fs::write(dir.join("truncated.wav"), &bytes[..bytes.len() / 2 + 1]).unwrap();
        fs::write(dir.join("header.wav"), &bytes[..30]).unwrap();
        fs::write(dir.join("garbage.wav"), noise).unwrap();
        fs::write(dir.join("empty.wav"), b"").unwrap();
        write_wav(&dir.join("slow.wav"), (500, 1, 16), false, 0.1, 100.0);
        for (name, kind) in [
            ("truncated.wav", "Truncated"),
            ("header.wav", "Format"),
            ("garbage.wav", "Format"),
            ("empty.wav", "Format"),
            ("slow.wav", "Unsupported"),
            ("missing.wav", "Open"),
        ] {
            let err = Prompt::load(dir.join(name)).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
            assert!(format!("{:?}", err.kind).starts_with(kind), "{err}");
        }
    }

    #[test]
    fn synthesised_prompts() {
        assert_eq!(Prompt::silence(250).samples(), &[0i16; 2000][..]);
        let t = Prompt::tone(1000.0, 1000, -10.0);
        assert_eq!(t.duration(), Duration::from_secs(1));
        let peak = t.samples().iter().map(|v| v.unsigned_abs()).max().unwrap();
        assert!((10300..=10370).contains(&peak), "peak {peak}");
        assert!((1998..=2000).contains(&zero_crossings(t.samples())));
        assert!(Prompt::tone(425.0, 0, 0.0).samples().is_empty());
        assert_eq!(Prompt::tone(425.0, 1, 6.0).samples().len(), 8);
    }

    fn numbered(n: usize, start: i16) -> Prompt {
        Prompt::from_samples_8k((0..n).map(|i| start + i as i16).collect())
    }

    #[test]
    fn playback_frames_pad_and_finish() {
        let prompts = vec![numbered(100, 1), Prompt::silence(0), numbered(300, 101)];
        let mut pb = Playback::new(prompts);
        let mut frame = [7i16; FRAME_SAMPLES];
        assert!(pb.next_frame(&mut frame));
        assert_eq!(frame[99..101], [100, 101]); // seamless across prompts
        assert!(pb.next_frame(&mut frame));
        assert_eq!(frame[0], 161);
        assert!(pb.next_frame(&mut frame));
        assert_eq!(frame[79], 400);
        assert!(frame[80..].iter().all(|&s| s == 0));
        assert!(pb.is_finished());
        assert_eq!(pb.position_ms(), 50);
        frame = [7; FRAME_SAMPLES];
        assert!(!pb.next_frame(&mut frame));
        assert_eq!(frame, [0; FRAME_SAMPLES]);
        assert!(Playback::new(vec![]).is_finished());
    }

    #[test]
    fn playback_stop_and_loop() {
        let mut frame = [0i16; FRAME_SAMPLES];
        let mut pb = Playback::new(vec![Prompt::silence(1000)]);
        assert!(pb.next_frame(&mut frame));
        pb.stop();
        assert!(pb.is_finished() && !pb.next_frame(&mut frame));
        assert_eq!(pb.position_ms(), 20);

        let mut hold = Playback::looping(numbered(100, 0));
        for i in 0..50 {
            assert!(hold.next_frame(&mut frame));
            let first = (i * 160 % 100) as i16;
            assert_eq!([frame[0], frame[159]], [first, (first + 59) % 100]);
        }
        assert_eq!(hold.position_ms(), 1000);
        assert!(!hold.is_finished());
        hold.stop();
        assert!(!hold.next_frame(&mut frame));
        assert!(Playback::looping(Prompt::silence(0)).is_finished());
        let tracks = vec![numbered(100, 0), Prompt::silence(0), numbered(10, 500)];
        let mut two = Playback::looping_all(tracks);
        (0..3).for_each(|_| assert!(two.next_frame(&mut frame)));
        // The third frame starts at sample 320 = 320 % 110 = 100: the last track, then wrap.
        let want: Vec<i16> = (500..510).chain(0..2).collect();
        assert_eq!(frame[..12], want[..]);
    }

    #[test]
    fn loads_8k_unchanged_and_cache_shares_one_copy() {
        let dir = temp_dir("cache");
        let path = dir.join("greeting.wav");
        write_wav(&path, (8000, 1, 16), false, 0.5, 440.0);
        let cache = PromptCache::new();
        let a = cache.get(&path).unwrap();
        // 8 kHz mono 16-bit is taken over sample for sample.
        let mut reader = hound::WavReader::open(&path).unwrap();
        let written: Vec<i16> = reader.samples().map(Result::unwrap).collect();
        assert_eq!(a.samples(), &written[..]);
        assert_eq!(a.duration(), Duration::from_millis(500));
        let b = cache.get(dir.join(".").join("greeting.wav")).unwrap();
        assert!(Prompt::ptr_eq(&a, &b));
        assert!(cache.invalidate(&path) && !cache.invalidate(&path));
        let c = cache.get(&path).unwrap();
        assert!(!Prompt::ptr_eq(&a, &c));
        assert!(Prompt::ptr_eq(&c, &cache.get(&path).unwrap()));
        // A replaced file (different size) is picked up without invalidate.
        write_wav(&path, (8000, 1, 16), false, 1.0, 440.0);
        let d = cache.get(&path).unwrap();
        assert_eq!(d.samples().len(), 8000);
        cache.clear();
        assert!(!Prompt::ptr_eq(&d, &cache.get(&path).unwrap()));
        fs::remove_file(&path).unwrap();
        assert!(cache.invalidate(&path));
        let err = cache.get(&path).unwrap_err();
        assert!(matches!(err.kind, PromptErrorKind::Open(_)));
    }
}
