//! Stereo call recording (left = caller, right = lawyer/IVR) that stays playable if the
//! process dies mid-call.
//!
//! Every call to the hotline is recorded and supervisors review the recordings, so a
//! crash must not turn an hour of advice into an unplayable file. The WAV header is written
//! at creation and its two size fields are rewritten after every data flush (every 500 ms of
//! audio), always *after* the data reached the kernel, so at any instant the header
//! describes audio that is really in the file. A `kill -9` loses at most the last 500 ms
//! still in user space; an OS crash or power cut can leave sizes wrong, which [`repair`]
//! fixes in the start-up sweep ([`repair_dir`]).
//!
//! All I/O is blocking but short (two `pwrite`s per 500 ms, into the page cache); only
//! [`Recorder::finish`] waits for the disk (`fsync`).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

const SAMPLE_RATE: u32 = 8000;
const CHANNELS: u16 = 2;
const BLOCK_ALIGN: u16 = CHANNELS * 2;
const FRAME_SAMPLES: usize = 160;
const HEADER_LEN: u64 = 44;
/// Bytes buffered before data and header go to the file: 500 ms of stereo audio.
const FLUSH_BYTES: usize = SAMPLE_RATE as usize / 2 * BLOCK_ALIGN as usize;
/// Largest data chunk a RIFF file can describe (about 37 hours at this rate).
const MAX_DATA_BYTES: u64 = (u32::MAX as u64 - 36) / BLOCK_ALIGN as u64 * BLOCK_ALIGN as u64;

/// Why a recording could not be written or repaired, naming the file. Recording failures
/// must never drop a call: the caller logs the error and carries on without the recorder.
#[derive(Debug, thiserror::Error)]
#[error("recording {}: {kind}", .path.display())]
pub struct RecorderError {
    /// The recording file.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: RecorderErrorKind,
}

/// What went wrong with a recording, so callers can tell a full disk from a damaged file.
#[derive(Debug, thiserror::Error)]
pub enum RecorderErrorKind {
    /// The file could not be created (exists already, directory missing, disk full...).
    #[error("cannot create: {0}")]
    Create(#[source] io::Error),
    /// Writing audio or the header failed (disk full, I/O error). The recorder has stopped;
    /// the file stays valid with the audio written before the failure.
    #[error("cannot write: {0}")]
    Write(#[source] io::Error),
    /// The recording reached the 4 GiB limit of the WAV format and was stopped.
    #[error("reached the WAV size limit")]
    TooLong,
    /// The recorder stopped at an earlier error; nothing more is written.
    #[error("stopped after an earlier error")]
    Stopped,
    /// Reading or rewriting the file during [`repair`] failed.
    #[error("cannot repair: {0}")]
    Repair(#[source] io::Error),
    /// The file does not start with a plain 44-byte PCM header, so its sizes cannot be fixed
    /// safely; it is left untouched.
    #[error("not repairable: {0}")]
    NotRepairable(&'static str),
}

/// What a finished recording is, for the case record and the supervisors' list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingInfo {
    /// Where the recording is.
    pub path: PathBuf,
    /// Playing time in milliseconds.
    pub duration_ms: u64,
    /// File size in bytes, header included.
    pub bytes: u64,
}

/// Writes one call as an 8 kHz 16-bit stereo WAV file (left = caller, right = lawyer/IVR),
/// playable at every moment even if the process is killed.
///
/// Error policy: [`push`](Recorder::push) returns the first I/O error; from then on the
/// recorder writes nothing and every call returns [`RecorderErrorKind::Stopped`]. The caller
/// should log the first error and drop the recorder. The file keeps the audio written
/// before the failure and a header that matches it.
///
/// Dropping a recorder without [`finish`](Recorder::finish) still writes the buffered audio
/// and the header (no `fsync`).
pub struct Recorder {
    path: PathBuf,
    /// `None` once finished or failed.
    file: Option<File>,
    /// Interleaved little-endian samples not yet written; capacity fixed at `FLUSH_BYTES`.
    buf: Vec<u8>,
    /// Data bytes in the file and described by its header.
    data_on_disk: u64,
}

impl Recorder {
    /// Creates the file (mode 0640, refusing to overwrite an existing recording) and writes
    /// a header for zero data bytes at once, so even an empty recording is valid.
    pub fn create(path: impl AsRef<Path>) -> Result<Recorder, RecorderError> {
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o640)
            .open(&path);
        let mut recorder = Recorder {
            path,
            file: None,
            buf: Vec::new(),
            data_on_disk: 0,
        };
        let file = file.map_err(|e| recorder.error(RecorderErrorKind::Create(e)))?;
        if let Err(e) = file.write_all_at(&wav_header(0), 0) {
            drop(file);
            let _ = fs::remove_file(&recorder.path); // we created it, but it has no header
            return Err(recorder.error(RecorderErrorKind::Create(e)));
        }
        recorder.file = Some(file);
        recorder.buf.reserve_exact(FLUSH_BYTES);
        Ok(recorder)
    }

    /// Appends one frame of each side (normally 20 ms = 160 samples). A side whose packet
    /// did not arrive is `None` and recorded as silence, and a shorter slice is padded with
    /// silence to the longer one, so the channels stay time-aligned. With both sides `None`
    /// one 20 ms frame of silence is written, keeping the recording in step with the call.
    pub fn push(
        &mut self,
        caller: Option<&[i16]>,
        other: Option<&[i16]>,
    ) -> Result<(), RecorderError> {
        if self.file.is_none() {
            return Err(self.error(RecorderErrorKind::Stopped));
        }
        let (left, right) = (caller.unwrap_or(&[]), other.unwrap_or(&[]));
        let frames = if caller.is_none() && other.is_none() {
            FRAME_SAMPLES
        } else {
            left.len().max(right.len())
        };
        let mut done = 0;
        while done < frames {
            let n = (frames - done).min((FLUSH_BYTES - self.buf.len()) / BLOCK_ALIGN as usize);
            let start = self.buf.len();
            self.buf.resize(start + n * BLOCK_ALIGN as usize, 0); // within capacity
            let out = self.buf[start..].chunks_exact_mut(BLOCK_ALIGN as usize);
            for (i, out) in (done..).zip(out) {
                out[..2].copy_from_slice(&left.get(i).copied().unwrap_or(0).to_le_bytes());
                out[2..].copy_from_slice(&right.get(i).copied().unwrap_or(0).to_le_bytes());
            }
            done += n;
            if self.buf.len() == FLUSH_BYTES {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// Writes what is buffered, updates the header and `fsync`s, so the recording is complete
    /// on disk before the call is closed in the case record. Blocks on the disk: in async code
    /// call it from a blocking task.
    pub fn finish(mut self) -> Result<RecordingInfo, RecorderError> {
        self.flush()?;
        let file = self
            .file
            .take()
            .ok_or_else(|| self.error(RecorderErrorKind::Stopped))?;
        let synced = file.sync_all();
        synced.map_err(|e| self.error(RecorderErrorKind::Write(e)))?;
        Ok(RecordingInfo {
            path: std::mem::take(&mut self.path),
            duration_ms: self.duration_ms(),
            bytes: HEADER_LEN + self.data_on_disk,
        })
    }

    /// Where this recording is written, for logs and the case record.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Milliseconds recorded so far (buffered audio included), for call-detail records.
    pub fn duration_ms(&self) -> u64 {
        let bytes = self.data_on_disk + self.buf.len() as u64;
        bytes / u64::from(BLOCK_ALIGN) * 1000 / u64::from(SAMPLE_RATE)
    }

    fn error(&self, kind: RecorderErrorKind) -> RecorderError {
        RecorderError {
            path: self.path.clone(),
            kind,
        }
    }

    /// Writes the buffer after the data on disk, then the header that covers it. On failure
    /// the recorder stops; the header still describes only data that was written.
    fn flush(&mut self) -> Result<(), RecorderError> {
        let Some(file) = &self.file else {
            return Err(self.error(RecorderErrorKind::Stopped));
        };
        if self.buf.is_empty() {
            return Ok(());
        }
        let total = self.data_on_disk + self.buf.len() as u64;
        let result = if total > MAX_DATA_BYTES {
            Err(RecorderErrorKind::TooLong)
        } else {
            file.write_all_at(&self.buf, HEADER_LEN + self.data_on_disk)
                .and_then(|()| file.write_all_at(&wav_header(total as u32), 0))
                .map_err(RecorderErrorKind::Write)
        };
        self.buf.clear();
        match result {
            Ok(()) => self.data_on_disk = total,
            Err(kind) => {
                self.file = None;
                return Err(self.error(kind));
            }
        }
        Ok(())
    }
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("path", &self.path)
            .field("duration_ms", &self.duration_ms())
            .field("stopped", &self.file.is_none())
            .finish()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if self.file.is_some()
            && let Err(e) = self.flush()
        {
            tracing::warn!(error = %e, "recording dropped without finish lost its last audio");
        }
    }
}

/// The canonical 44-byte header for `data_bytes` of 8 kHz 16-bit stereo PCM.
fn wav_header(data_bytes: u32) -> [u8; 44] {
    let mut h = [0u8; 44];
    let mut put = |at: usize, bytes: &[u8]| h[at..at + bytes.len()].copy_from_slice(bytes);
    put(0, b"RIFF");
    put(4, &(data_bytes + 36).to_le_bytes());
    put(8, b"WAVEfmt ");
    put(16, &16u32.to_le_bytes());
    put(20, &1u16.to_le_bytes()); // PCM
    put(22, &CHANNELS.to_le_bytes());
    put(24, &SAMPLE_RATE.to_le_bytes());
    put(28, &(SAMPLE_RATE * u32::from(BLOCK_ALIGN)).to_le_bytes());
    put(32, &BLOCK_ALIGN.to_le_bytes());
    put(34, &16u16.to_le_bytes());
    put(36, b"data");
    put(40, &data_bytes.to_le_bytes());
    h
}

/// What [`repair`] or [`repair_dir`] found, so the start-up sweep can log what it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepairOutcome {
    /// The header already matched the file; nothing was touched.
    Intact,
    /// The size fields were rewritten from the file length (and a trailing partial sample
    /// frame cut off).
    Repaired {
        /// Data bytes the old header claimed.
        claimed_bytes: u32,
        /// Data bytes the header describes now.
        data_bytes: u32,
        /// Bytes cut from the end because they did not form a whole sample frame.
        trimmed_bytes: u64,
    },
    /// Only from [`repair_dir`] (where [`repair`] would return an error): the file could not
    /// be repaired and was left as it is.
    Unrepairable {
        /// The error, as text.
        reason: String,
    },
}

/// Fixes the header of a recording left behind by a crash: sets the RIFF and data sizes from
/// the file length, cutting off a trailing partial sample frame. Accepts any file with the
/// canonical 44-byte PCM header (any rate or channel count); leaves a correct file untouched.
/// Must not be run on a recording that is still being written.
pub fn repair(path: impl AsRef<Path>) -> Result<RepairOutcome, RecorderError> {
    let path = path.as_ref();
    repair_file(path).map_err(|kind| RecorderError {
        path: path.to_path_buf(),
        kind,
    })
}

fn repair_file(path: &Path) -> Result<RepairOutcome, RecorderErrorKind> {
    use RecorderErrorKind::{NotRepairable, Repair};
    // Check through a read-only handle first, so intact (possibly read-only) files are fine.
    let file = File::open(path).map_err(Repair)?;
    let len = file.metadata().map_err(Repair)?.len();
    if len < HEADER_LEN {
        return Err(NotRepairable("shorter than a WAV header"));
    }
    let mut h = [0u8; 44];
    file.read_exact_at(&mut h, 0).map_err(Repair)?;
    let u32_at = |at: usize| u32::from_le_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
    if &h[0..4] != b"RIFF" || &h[8..16] != b"WAVEfmt " || u32_at(16) != 16 || &h[36..40] != b"data"
    {
        return Err(NotRepairable("no canonical 44-byte PCM WAV header"));
    }
    let block_align = u64::from(u16::from_le_bytes([h[32], h[33]])).max(1);
    let on_disk = len - HEADER_LEN;
    let limit = (u64::from(u32::MAX) - 36) / block_align * block_align;
    // Past the 4 GiB limit nothing is cut; the header just covers what it can.
    let trimmed_bytes = if on_disk > limit {
        0
    } else {
        on_disk % block_align
    };
    let data_bytes = (on_disk - trimmed_bytes).min(limit) as u32;
    let claimed_bytes = u32_at(40);
    if claimed_bytes == data_bytes && u32_at(4) == data_bytes + 36 && trimmed_bytes == 0 {
        return Ok(RepairOutcome::Intact);
    }
    drop(file);
    let file = OpenOptions::new().write(true).open(path).map_err(Repair)?;
    if trimmed_bytes > 0 {
        file.set_len(len - trimmed_bytes).map_err(Repair)?;
    }
    file.write_all_at(&(data_bytes + 36).to_le_bytes(), 4)
        .and_then(|()| file.write_all_at(&data_bytes.to_le_bytes(), 40))
        .and_then(|()| file.sync_all())
        .map_err(Repair)?;
    Ok(RepairOutcome::Repaired {
        claimed_bytes,
        data_bytes,
        trimmed_bytes,
    })
}

/// Start-up sweep: runs [`repair`] on every `*.wav` file under `dir` (recursively, not
/// following symlinks) and returns those that needed repair or could not be repaired; intact
/// files are left out. Problems are also logged. Run it before any call is recorded.
pub fn repair_dir(dir: impl AsRef<Path>) -> Vec<(PathBuf, RepairOutcome)> {
    let mut results = Vec::new();
    let mut pending = vec![dir.as_ref().to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                if e.kind() != io::ErrorKind::NotFound {
                    tracing::warn!(dir = %dir.display(), error = %e, "cannot scan recordings");
                }
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                pending.push(path);
                continue;
            }
            let is_wav = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
            if !kind.is_file() || !is_wav {
                continue;
            }
            let outcome = match repair(&path) {
                Ok(RepairOutcome::Intact) => continue,
                Ok(outcome) => {
                    tracing::info!(path = %path.display(), ?outcome, "repaired recording");
                    outcome
                }
                Err(e) => {
                    tracing::warn!(error = %e, "recording left unrepaired");
                    RepairOutcome::Unrepairable {
                        reason: e.to_string(),
                    }
                }
            };
            results.push((path, outcome));
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::RecorderErrorKind::{Create, NotRepairable, Stopped, Write};
    use super::*;
    use std::f64::consts::PI;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn temp_dir(name: &str) -> PathBuf {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let unique = format!("hotline-recorder-{}-{name}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(unique);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn tone(freq: f64, frame: usize) -> [i16; FRAME_SAMPLES] {
        std::array::from_fn(|i| {
            let t = (frame * FRAME_SAMPLES + i) as f64 / f64::from(SAMPLE_RATE);
            (8000.0 * (2.0 * PI * freq * t).sin()).round() as i16
        })
    }

    /// Relative power of `freq` in `s` (Goertzel).
    fn goertzel(s: &[i16], freq: f64) -> f64 {
        let k = 2.0 * (2.0 * PI * freq / f64::from(SAMPLE_RATE)).cos();
        let (mut s1, mut s2) = (0.0, 0.0);
        for &x in s {
            (s1, s2) = (f64::from(x) + k * s1 - s2, s1);
        }
        (s1 * s1 + s2 * s2 - k * s1 * s2) / (s.len() as f64).powi(2)
    }

    /// Reads a recording with hound, checking the format, and splits the channels.
    fn read_back(path: &Path) -> (Vec<i16>, Vec<i16>) {
        let mut r = hound::WavReader::open(path).unwrap();
        let spec = r.spec();
        let format = (spec.channels, spec.sample_rate, spec.bits_per_sample);
        assert_eq!(format, (2, 8000, 16));
        assert_eq!(spec.sample_format, hound::SampleFormat::Int);
        let all: Vec<i16> = r.samples::<i16>().map(Result::unwrap).collect();
        let left = all.iter().step_by(2).copied().collect();
        (left, all.iter().skip(1).step_by(2).copied().collect())
    }

    fn push_tones(rec: &mut Recorder, frames: std::ops::Range<usize>) {
        for f in frames {
            rec.push(Some(&tone(440.0, f)), Some(&tone(1000.0, f)))
                .unwrap();
        }
    }

    #[test]
    fn records_each_side_on_its_own_channel() {
        let path = temp_dir("tones").join("call.wav");
        let mut rec = Recorder::create(&path).unwrap();
        push_tones(&mut rec, 0..150);
        assert_eq!(rec.duration_ms(), 3000);
        let info = rec.finish().unwrap();
        let bytes = 44 + 3 * 8000 * 4;
        assert_eq!(
            info,
            RecordingInfo {
                path: path.clone(),
                duration_ms: 3000,
                bytes
            }
        );
        assert_eq!(fs::metadata(&path).unwrap().len(), bytes);
        let (left, right) = read_back(&path);
        assert_eq!((left.len(), right.len()), (24000, 24000));
        assert!(goertzel(&left, 440.0) > 1000.0 * goertzel(&left, 1000.0));
        assert!(goertzel(&right, 1000.0) > 1000.0 * goertzel(&right, 440.0));
        assert_eq!(left[160..320], tone(440.0, 1));
        let again = Recorder::create(&path).unwrap_err(); // never overwrite a recording
        assert!(matches!(again.kind, Create(_)));
    }

    #[test]
    fn missing_and_short_sides_are_silence_and_stay_aligned() {
        let path = temp_dir("gaps").join("call.wav");
        let mut rec = Recorder::create(&path).unwrap();
        for f in 0..100 {
            let caller = (f % 3 != 0).then(|| tone(440.0, f));
            let other = tone(1000.0, f);
            rec.push(caller.as_ref().map(|c| &c[..]), Some(&other))
                .unwrap();
        }
        rec.push(None, None).unwrap(); // no packet from either side: 20 ms of silence
        rec.push(Some(&[5; 80]), Some(&[9; FRAME_SAMPLES])).unwrap();
        rec.push(Some(&[]), Some(&[])).unwrap(); // nothing
        drop(rec); // without finish: Drop still writes buffer and header
        let (left, right) = read_back(&path);
        assert_eq!(left.len(), 102 * FRAME_SAMPLES);
        for f in 0..100 {
            let frame = f * FRAME_SAMPLES..(f + 1) * FRAME_SAMPLES;
            assert_eq!(
                right[frame.clone()],
                tone(1000.0, f),
                "right shifted at {f}"
            );
            let want = if f % 3 == 0 {
                [0; FRAME_SAMPLES]
            } else {
                tone(440.0, f)
            };
            assert_eq!(left[frame], want, "left wrong at frame {f}");
        }
        assert!(left[16000..16160].iter().all(|&s| s == 0));
        assert!(right[16000..16160].iter().all(|&s| s == 0));
        assert_eq!(left[16160..16320], [[5i16; 80], [0; 80]].concat()[..]);
        assert!(right[16160..].iter().all(|&s| s == 9));
    }

    #[test]
    fn killed_recorder_leaves_playable_file() {
        let path = temp_dir("crash").join("call.wav");
        let mut rec = Recorder::create(&path).unwrap();
        assert_eq!(hound::WavReader::open(&path).unwrap().len(), 0);
        for f in 0..125 {
            push_tones(&mut rec, f..f + 1);
            // The header never claims more than the file holds.
            let claimed = hound::WavReader::open(&path).unwrap().len();
            assert!(44 + u64::from(claimed) * 2 <= fs::metadata(&path).unwrap().len());
        }
        std::mem::forget(rec); // like kill -9: no finish, no Drop
        let (left, _) = read_back(&path);
        assert!(left.len() >= 12000, "only {} samples survived", left.len());
        assert_eq!(left[..160], tone(440.0, 0));
    }

    fn finished_recording(name: &str, frames: usize) -> PathBuf {
        let path = temp_dir(name).join("call.wav");
        let mut rec = Recorder::create(&path).unwrap();
        push_tones(&mut rec, 0..frames);
        rec.finish().unwrap();
        path
    }

    #[test]
    fn repair_restores_sizes_from_file_length() {
        let path = finished_recording("repair", 150);
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all_at(&wav_header(0), 0).unwrap();
        assert_eq!(hound::WavReader::open(&path).unwrap().len(), 0);
        let (claimed_bytes, data_bytes) = (0, 96000);
        let want = RepairOutcome::Repaired {
            claimed_bytes,
            data_bytes,
            trimmed_bytes: 0,
        };
        assert_eq!(repair(&path).unwrap(), want);
        let (left, _) = read_back(&path);
        assert_eq!(left.len(), 24000);
        assert_eq!(left[23840..], tone(440.0, 149));

        // A good file is left byte for byte as it was.
        let before = fs::read(&path).unwrap();
        assert_eq!(repair(&path).unwrap(), RepairOutcome::Intact);
        assert_eq!(fs::read(&path).unwrap(), before);

        // A trailing half sample frame (odd byte count) is cut off.
        file.write_all_at(&[1, 2, 3], 44 + 96000).unwrap();
        let (claimed_bytes, data_bytes) = (96000, 96000);
        let want = RepairOutcome::Repaired {
            claimed_bytes,
            data_bytes,
            trimmed_bytes: 3,
        };
        assert_eq!(repair(&path).unwrap(), want);
        assert_eq!(fs::metadata(&path).unwrap().len(), 44 + 96000);
        assert_eq!(read_back(&path).0.len(), 24000);
    }

    #[test]
    fn repair_dir_reports_only_files_needing_it() {
        let good = finished_recording("sweep", 5);
        let dir = good.parent().unwrap().to_path_buf();
        fs::create_dir(dir.join("2026-11-25")).unwrap();
        let broken = dir.join("2026-11-25").join("broken.WAV");
        let mut bytes = fs::read(&good).unwrap();
        bytes[40..44].copy_from_slice(&[0; 4]);
        bytes.push(0);
        fs::write(&broken, &bytes).unwrap();
        fs::write(dir.join("garbage.wav"), [b'x'; 100]).unwrap();
        fs::write(dir.join("short.wav"), b"RIFF").unwrap();
        fs::write(dir.join("notes.txt"), b"ignored").unwrap();

        let mut found = repair_dir(&dir);
        found.sort_by(|a, b| a.0.cmp(&b.0));
        let names: Vec<_> = found.iter().map(|(p, _)| p.file_name().unwrap()).collect();
        assert_eq!(names, ["broken.WAV", "garbage.wav", "short.wav"]);
        assert!(matches!(
            found[0].1,
            RepairOutcome::Repaired {
                trimmed_bytes: 1,
                ..
            }
        ));
        assert!(matches!(found[1].1, RepairOutcome::Unrepairable { .. }));
        assert_eq!(read_back(&broken).0.len(), 800);
        let err = repair(dir.join("garbage.wav")).unwrap_err();
        assert!(matches!(err.kind, NotRepairable(_)));
        assert!(repair_dir(dir.join("missing")).is_empty());
    }

    #[test]
    fn write_errors_stop_the_recorder() {
        // /dev/full accepts opens but fails every write with ENOSPC, like a full disk.
        let Ok(file) = OpenOptions::new().write(true).open("/dev/full") else {
            return;
        };
        let (path, buf) = (PathBuf::from("/dev/full"), Vec::with_capacity(FLUSH_BYTES));
        let mut rec = Recorder {
            path,
            file: Some(file),
            buf,
            data_on_disk: 0,
        };
        let frame = tone(440.0, 0);
        let first = (0..100).find_map(|_| rec.push(Some(&frame), None).err());
        assert!(
            matches!(first.as_ref().map(|e| &e.kind), Some(Write(_))),
            "{first:?}"
        );
        assert!(matches!(
            rec.push(Some(&frame), None).unwrap_err().kind,
            Stopped
        ));
        assert!(matches!(rec.finish().unwrap_err().kind, Stopped));
        let nowhere = temp_dir("nodir").join("missing").join("x.wav");
        assert!(matches!(
            Recorder::create(nowhere).unwrap_err().kind,
            Create(_)
        ));
    }
}
