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
mod tests;
