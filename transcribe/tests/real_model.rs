//! The converter's output loaded by whisper.cpp and used on real (synthetic) speech. Needs the
//! CTranslate2 files and ggml models `hotline model fetch` keeps in `HOTLINE_TEST_MODEL_DIR`
//! (scripts/test.sh fetches them and sets it), plus espeak-ng and sox.

use std::path::{Path, PathBuf};
use std::process::Command;

use hotline_transcribe::{Engine, QualityRules, Speaker, Transcriber, convert_ct2_to_ggml};

/// The models `hotline model fetch` made for the tests. Missing models fail the test: a
/// transcription test that passes without a model would prove nothing.
fn model_dir() -> PathBuf {
    std::env::var_os("HOTLINE_TEST_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("HOTLINE_TEST_MODEL_DIR is not set: run `bash scripts/test.sh` (it fetches and converts the models), or set it to a directory made by `hotline model fetch --dir DIR --model base --model tiny.en`"))
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hotline-transcribe-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Telephone-quality speech (300-3400 Hz, 8 kHz mono 16-bit) from espeak-ng.
fn speech(dir: &Path, name: &str, voice: &str, text: &str) -> PathBuf {
    let raw = dir.join(format!("{name}-raw.wav"));
    let out = dir.join(format!("{name}.wav"));
    run(Command::new("espeak-ng")
        .args(["-v", voice, "-s", "150", "-w"])
        .arg(&raw)
        .arg(text));
    run(Command::new("sox")
        .arg(&raw)
        .args(["-r", "8000", "-c", "1", "-b", "16"])
        .arg(&out)
        .args(["sinc", "300-3400", "pad", "1", "1"]));
    out
}

/// A stereo call recording: `left` as the caller, `right` as the hotline side (either may be
/// `None` for silence), as long as the longer one.
fn stereo(dir: &Path, left: Option<&Path>, right: Option<&Path>) -> PathBuf {
    let silence = dir.join("silence.wav");
    run(Command::new("sox")
        .args(["-n", "-r", "8000", "-c", "1", "-b", "16"])
        .arg(&silence)
        .args(["trim", "0", "4"]));
    let out = dir.join("call.wav");
    run(Command::new("sox")
        .arg("-M")
        .arg(left.unwrap_or(&silence))
        .arg(right.unwrap_or(&silence))
        .arg(&out));
    out
}

#[test]
fn converted_tiny_en_transcribes_the_caller_and_stays_silent_on_silence() {
    let models = model_dir();
    let dir = tmp("tiny");
    let ggml = dir.join("ggml-tiny.en.bin");
    convert_ct2_to_ggml(&models.join("ct2-tiny.en"), &ggml).unwrap();
    let t = Transcriber::new(Engine::load(&ggml, 1).unwrap(), QualityRules::default());

    let caller = speech(
        &dir,
        "caller",
        "en-us",
        "Hello, my employer has not paid my salary for three months.",
    );
    let lawyer = speech(
        &dir,
        "lawyer",
        "en-us",
        "Good morning. How can I help you today?",
    );
    let call = stereo(&dir, Some(&caller), Some(&lawyer));
    let tr = t.transcribe_file(&call, Some("en")).unwrap();
    let said = |who: Speaker| {
        tr.utterances
            .iter()
            .filter(|u| u.speaker == who)
            .map(|u| u.text.to_lowercase())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (c, l) = (said(Speaker::Caller), said(Speaker::Lawyer));
    assert!(
        c.contains("salary") && c.contains("employer"),
        "caller: {c:?} / {tr:?}"
    );
    assert!(l.contains("morning") && l.contains("help"), "lawyer: {l:?}");
    assert!(
        !c.contains("morning") && !l.contains("salary"),
        "channels mixed: {tr:?}"
    );
    assert!(
        tr.utterances
            .windows(2)
            .all(|w| w[0].start_ms <= w[1].start_ms)
    );
    assert!(tr.risks.is_empty());

    let quiet = stereo(&dir, None, None);
    let tr = t.transcribe_file(&quiet, Some("en")).unwrap();
    assert!(tr.utterances.is_empty(), "invented text on silence: {tr:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn quantised_models_load_and_transcribe() {
    use hotline_transcribe::quantize::{Quantization, quantize_ggml};
    let models = model_dir();
    let dir = tmp("quant");
    let f16 = models.join("ggml-tiny.en.bin");
    let caller = speech(
        &dir,
        "caller",
        "en-us",
        "My employer has not paid my salary.",
    );
    let call = stereo(&dir, Some(&caller), None);
    for (q, max_share) in [(Quantization::Q8_0, 0.60), (Quantization::Q5_1, 0.45)] {
        let out = dir.join(format!("tiny-{q}.bin"));
        let bytes = quantize_ggml(&f16, &out, q).unwrap();
        let share = bytes as f64 / std::fs::metadata(&f16).unwrap().len() as f64;
        assert!(share < max_share, "{q}: {share:.2} of f16");
        let t = Transcriber::new(Engine::load(&out, 1).unwrap(), QualityRules::default());
        let tr = t.transcribe_file(&call, Some("en")).unwrap();
        let text: String = tr
            .utterances
            .iter()
            .map(|u| u.text.to_lowercase())
            .collect();
        eprintln!("{q}: {text}");
        assert!(text.contains("employer"), "{q}: {text:?}");
    }
    // An f16 model is required as input; a bad input leaves nothing behind.
    let bad = dir.join("bad.bin");
    std::fs::write(&bad, b"not a model").unwrap();
    assert!(quantize_ggml(&bad, &dir.join("x.bin"), Quantization::Q8_0).is_err());
    assert!(!dir.join("x.bin").exists() && !dir.join("x.partial").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
