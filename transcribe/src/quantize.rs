//! Quantising a ggml f16 whisper model to q8_0 or q5_1 with ggml's own quantiser (through
//! whisper-rs-sys, so the blocks are exactly what whisper.cpp expects): about half / a third
//! of the size and faster on small CPUs, with little loss. Streaming like the converter: one
//! tensor in memory at a time. The same tensors as whisper.cpp's `quantize` tool are
//! quantised: every 2-D weight except the positional embeddings.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use crate::TranscribeError;
use crate::convert::f16_to_f32;

/// The quantisations offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantization {
    /// 8-bit blocks: near-lossless, ~53 % of f16.
    Q8_0,
    /// 5-bit blocks with offset: ~39 % of f16.
    Q5_1,
}

impl std::str::FromStr for Quantization {
    type Err = TranscribeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "q8_0" => Ok(Quantization::Q8_0),
            "q5_1" => Ok(Quantization::Q5_1),
            _ => Err(TranscribeError::BadModel(format!(
                "unknown quantization {s:?} (q8_0, q5_1)"
            ))),
        }
    }
}

impl std::fmt::Display for Quantization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Quantization::Q8_0 => "q8_0",
            Quantization::Q5_1 => "q5_1",
        })
    }
}

impl Quantization {
    fn ggml_type(self) -> u32 {
        match self {
            Quantization::Q8_0 => whisper_rs_sys::ggml_type_GGML_TYPE_Q8_0,
            Quantization::Q5_1 => whisper_rs_sys::ggml_type_GGML_TYPE_Q5_1,
        }
    }
    fn ftype(self) -> u32 {
        let f = match self {
            Quantization::Q8_0 => whisper_rs_sys::ggml_ftype_GGML_FTYPE_MOSTLY_Q8_0,
            Quantization::Q5_1 => whisper_rs_sys::ggml_ftype_GGML_FTYPE_MOSTLY_Q5_1,
        };
        f as u32 + whisper_rs_sys::GGML_QNT_VERSION * whisper_rs_sys::GGML_QNT_VERSION_FACTOR
    }
}

fn i32_of(r: &mut impl Read) -> Result<i32, TranscribeError> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(i32::from_le_bytes(b))
}

fn copy_n(r: &mut impl Read, w: &mut impl Write, n: u64) -> Result<(), TranscribeError> {
    let copied = std::io::copy(&mut r.take(n), w)?;
    if copied != n {
        return Err(TranscribeError::BadModel("truncated ggml file".into()));
    }
    Ok(())
}

/// Writes `out`, a quantised copy of the f16 ggml model `input`. Returns the bytes written.
pub fn quantize_ggml(input: &Path, out: &Path, q: Quantization) -> Result<u64, TranscribeError> {
    let mut r = BufReader::new(
        File::open(input).map_err(|e| TranscribeError::Io(format!("{}: {e}", input.display())))?,
    );
    let partial = out.with_extension("partial");
    let mut w = BufWriter::new(File::create(&partial)?);
    let result = quantize_stream(&mut r, &mut w, q).and_then(|()| {
        w.flush()?;
        Ok(())
    });
    drop(w);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, out)?;
    Ok(std::fs::metadata(out)?.len())
}

fn quantize_stream(
    r: &mut impl Read,
    w: &mut impl Write,
    q: Quantization,
) -> Result<(), TranscribeError> {
    if i32_of(r)? as u32 != 0x6767_6d6c {
        return Err(TranscribeError::BadModel("not a ggml file".into()));
    }
    w.write_all(&0x6767_6d6cu32.to_le_bytes())?;
    let mut hp = [0i32; 11];
    for h in &mut hp {
        *h = i32_of(r)?;
    }
    if hp[10] != 1 {
        return Err(TranscribeError::BadModel(format!(
            "ftype {}: only f16 models can be quantised",
            hp[10]
        )));
    }
    hp[10] = q.ftype() as i32;
    for h in hp {
        w.write_all(&h.to_le_bytes())?;
    }
    let (rows, cols) = (i32_of(r)?, i32_of(r)?);
    w.write_all(&rows.to_le_bytes())?;
    w.write_all(&cols.to_le_bytes())?;
    let mel_bytes = u64::try_from(rows)
        .ok()
        .zip(u64::try_from(cols).ok())
        .map(|(r, c)| r * c * 4)
        .ok_or_else(|| TranscribeError::BadModel(format!("mel table {rows} x {cols}")))?;
    copy_n(r, w, mel_bytes)?;
    let n_tokens = i32_of(r)?;
    w.write_all(&n_tokens.to_le_bytes())?;
    for _ in 0..n_tokens {
        let len = i32_of(r)?;
        w.write_all(&len.to_le_bytes())?;
        let len = u64::try_from(len)
            .map_err(|_| TranscribeError::BadModel(format!("a token of {len} bytes")))?;
        copy_n(r, w, len)?;
    }
    loop {
        let mut first = [0u8; 4];
        match r.read(&mut first)? {
            0 => return Ok(()),
            4 => {}
            n => r.read_exact(&mut first[n..])?,
        }
        let n_dims = i32::from_le_bytes(first);
        let (name_len, ttype) = (i32_of(r)?, i32_of(r)?);
        // a corrupt header must be an error, not a huge allocation or an index out of range
        let (Some(name_len_usize), true, true) = (
            usize::try_from(name_len)
                .ok()
                .filter(|n| (1..=1024).contains(n)),
            (1..=4).contains(&n_dims),
            matches!(ttype, 0 | 1),
        ) else {
            return Err(TranscribeError::BadModel(format!(
                "tensor header: {n_dims} dims, {name_len}-byte name, type {ttype}"
            )));
        };
        let dims = (0..n_dims)
            .map(|_| i32_of(r))
            .collect::<Result<Vec<_>, _>>()?;
        let mut name = vec![0u8; name_len_usize];
        r.read_exact(&mut name)?;
        let name_str = String::from_utf8_lossy(&name).into_owned();
        let bytes = dims
            .iter()
            .try_fold(if ttype == 1 { 2usize } else { 4 }, |n, &d| {
                usize::try_from(d)
                    .ok()
                    .filter(|&d| d > 0)
                    .and_then(|d| n.checked_mul(d))
            })
            .ok_or_else(|| TranscribeError::BadModel(format!("{name_str}: shape {dims:?}")))?;
        // read_to_end grows as data arrives, so a shape larger than the file fails as truncated
        let mut data = Vec::new();
        r.take(bytes as u64).read_to_end(&mut data)?;
        if data.len() != bytes {
            return Err(TranscribeError::BadModel(format!(
                "{name_str}: truncated ggml file"
            )));
        }
        let quantise =
            n_dims == 2 && !name_str.contains("positional_embedding") && dims[0] % 32 == 0;
        let (out_type, out_data) = if quantise {
            let src: Vec<f32> = if ttype == 1 {
                data.chunks_exact(2)
                    .map(|h| f16_to_f32(u16::from_le_bytes([h[0], h[1]])))
                    .collect()
            } else {
                data.chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect()
            };
            let t = q.ggml_type();
            // SAFETY: `dst` holds `ggml_row_size(t, ne0) * ne1` bytes, what ggml writes for
            // `ne1` rows of `ne0` values read from `src` (which holds ne0 * ne1 floats).
            let out = unsafe {
                let row = whisper_rs_sys::ggml_row_size(t, dims[0] as i64);
                let mut dst = vec![0u8; row * dims[1] as usize];
                let n = whisper_rs_sys::ggml_quantize_chunk(
                    t,
                    src.as_ptr(),
                    dst.as_mut_ptr().cast(),
                    0,
                    dims[1] as i64,
                    dims[0] as i64,
                    std::ptr::null(),
                );
                dst.truncate(n);
                dst
            };
            (t as i32, out)
        } else {
            (ttype, data)
        };
        w.write_all(&n_dims.to_le_bytes())?;
        w.write_all(&name_len.to_le_bytes())?;
        w.write_all(&out_type.to_le_bytes())?;
        for d in dims {
            w.write_all(&d.to_le_bytes())?;
        }
        w.write_all(&name)?;
        w.write_all(&out_data)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ggml f16 file's header (no mel table, no tokens) followed by `tensor`.
    fn ggml_with(tensor: &[i32]) -> Vec<u8> {
        let mut words = vec![0x6767_6d6c_i32];
        words.extend_from_slice(&[0; 10]);
        words.extend_from_slice(&[1, 0, 0, 0]); // ftype f16, mel 0 x 0, 0 tokens
        words.extend_from_slice(tensor);
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    #[test]
    fn corrupt_tensor_headers_are_errors_not_panics() {
        for (tensor, want) in [
            (&[2, -1, 1][..], "tensor header"),
            (&[9, 1, 1][..], "tensor header"),
            (&[2, 1, 7][..], "tensor header"),
            (&[2, 1, 1, -4, 4, i32::from_le_bytes(*b"abcd")][..], "shape"),
            (
                &[2, 1, 1, 1 << 30, 1 << 30, i32::from_le_bytes(*b"abcd")][..],
                "truncated",
            ),
        ] {
            let mut out = Vec::new();
            let err = quantize_stream(&mut &ggml_with(tensor)[..], &mut out, Quantization::Q8_0)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{tensor:?}: {err}");
        }
        let mut bad_mel = ggml_with(&[]);
        bad_mel[48..52].copy_from_slice(&(-1i32).to_le_bytes());
        let err = quantize_stream(&mut &bad_mel[..], &mut Vec::new(), Quantization::Q8_0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("mel table"), "{err}");
    }
}
