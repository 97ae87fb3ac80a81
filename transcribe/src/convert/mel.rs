//! The mel filterbank whisper.cpp reads from the model file: librosa's
//! `filters.mel(sr, n_fft, n_mels)` (Slaney mel scale and norm), computed the way librosa
//! computes it (f64 maths, f32 storage, the norm applied to the f32 weights in f64) so the
//! result is bit-identical to librosa's table (the test pins librosa 0.11.0's 80- and 128-mel
//! tables by sha256), which is what OpenAI saved as `mel_filters.npz`.

/// Slaney's mel scale: linear below 1 kHz, logarithmic above.
const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;

fn log_step() -> f64 {
    6.4f64.ln() / 27.0
}

fn hz_to_mel(hz: f64) -> f64 {
    let min_log_mel = MIN_LOG_HZ / F_SP;
    if hz >= MIN_LOG_HZ {
        min_log_mel + (hz / MIN_LOG_HZ).ln() / log_step()
    } else {
        hz / F_SP
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    let min_log_mel = MIN_LOG_HZ / F_SP;
    if mel >= min_log_mel {
        MIN_LOG_HZ * (log_step() * (mel - min_log_mel)).exp()
    } else {
        F_SP * mel
    }
}

/// numpy's `linspace(start, stop, num)` (endpoint included, last value exactly `stop`).
fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    let step = (stop - start) / (num - 1) as f64;
    let mut v: Vec<f64> = (0..num).map(|i| i as f64 * step + start).collect();
    v[num - 1] = stop;
    v
}

/// `n_mels` rows of `n_fft / 2 + 1` weights, row-major.
pub fn mel_filters(sr: u32, n_fft: usize, n_mels: usize) -> Vec<f32> {
    let n_freqs = n_fft / 2 + 1;
    let val = 1.0 / (n_fft as f64 * (1.0 / sr as f64));
    let fft_freqs: Vec<f64> = (0..n_freqs).map(|i| i as f64 * val).collect();
    let mels = linspace(hz_to_mel(0.0), hz_to_mel(sr as f64 / 2.0), n_mels + 2);
    let mel_f: Vec<f64> = mels.iter().map(|&m| mel_to_hz(m)).collect();
    let fdiff: Vec<f64> = mel_f.windows(2).map(|w| w[1] - w[0]).collect();
    let mut weights = vec![0f32; n_mels * n_freqs];
    for i in 0..n_mels {
        let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
        for (j, &f) in fft_freqs.iter().enumerate() {
            let lower = -(mel_f[i] - f) / fdiff[i];
            let upper = (mel_f[i + 2] - f) / fdiff[i + 1];
            // numpy's minimum/maximum, including the sign of zero: the first weight of the
            // first filter is -0.0 in OpenAI's table.
            let m = if lower < upper { lower } else { upper };
            let w = if m < 0.0 { 0.0 } else { m } as f32;
            weights[i * n_freqs + j] = (w as f64 * enorm) as f32;
        }
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filterbank_has_whisper_shape_and_triangles() {
        let f = mel_filters(16_000, 400, 80);
        assert_eq!(f.len(), 80 * 201);
        // every filter is a non-empty triangle with positive area
        for row in f.chunks(201) {
            assert!(row.iter().all(|&w| w >= 0.0));
            assert!(row.iter().any(|&w| w > 0.0));
        }
        // the first filter peaks at its first FFT bins (0-40 Hz region)
        assert_eq!(f[0].to_bits(), (-0.0f32).to_bits());
        assert!(f[1] > 0.0);
    }

    /// sha256 of the f32 little-endian table, and a few weights, from librosa 0.11.0's
    /// `filters.mel(sr=16000, n_fft=400, n_mels=80 | 128)`: the whole table is bit-identical.
    #[test]
    fn filterbank_is_bit_identical_to_librosa() {
        use sha2::Digest;
        let sha = |f: &[f32]| {
            let bytes: Vec<u8> = f.iter().flat_map(|w| w.to_le_bytes()).collect();
            hex::encode(sha2::Sha256::digest(&bytes))
        };
        let f = mel_filters(16_000, 400, 80);
        for (i, j, bits) in [
            (0, 1, 0x3ccb_aca4u32),
            (1, 2, 0x3cbb_5d95),
            (79, 190, 0x3b12_47ab),
            (79, 200, 0),
        ] {
            assert_eq!(f[i * 201 + j].to_bits(), bits, "[{i}, {j}]");
        }
        assert_eq!(
            sha(&f),
            "4f2701b1d287d74a0dc9871026e9519d98cb76426615f2539b0d151a0ae4ec2e"
        );
        assert_eq!(
            sha(&mel_filters(16_000, 400, 128)),
            "2a5f9822897750e047c85dea37cc268d3be0ecfd23c28a5f10da129d99d05afe"
        );
    }

    #[test]
    fn mel_scale_round_trips() {
        for hz in [0.0, 440.0, 1000.0, 3999.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9);
        }
    }
}
