//! Recordings written, read back with hound, killed mid-call, repaired and swept.

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
