//! Loading and converting WAV files, broken files, synthesised prompts, playback and the cache.

use std::fs;

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
