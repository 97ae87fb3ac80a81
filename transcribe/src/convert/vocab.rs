//! The tokenizer part of a ggml file: CTranslate2's `vocabulary.txt` holds GPT-2 byte-level
//! BPE tokens (bytes mapped to printable characters, `Ġ` for a space); ggml wants the raw
//! bytes of every regular token, up to (not including) `<|endoftext|>`.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use crate::TranscribeError;

/// The token list of a model.
pub struct Vocabulary {
    tokens: Vec<String>,
}

/// GPT-2's `bytes_to_unicode`, inverted: printable character → byte.
fn unicode_to_byte() -> HashMap<char, u8> {
    let mut bs: Vec<u32> = (b'!' as u32..=b'~' as u32)
        .chain(0xA1..=0xAC)
        .chain(0xAE..=0xFF)
        .collect();
    let mut cs = bs.clone();
    let mut n = 0;
    for b in 0..256u32 {
        if !bs.contains(&b) {
            bs.push(b);
            cs.push(256 + n);
            n += 1;
        }
    }
    bs.into_iter()
        .zip(cs)
        .map(|(b, c)| (char::from_u32(c).expect("valid char"), b as u8))
        .collect()
}

impl Vocabulary {
    /// Reads one token per line.
    pub fn read(path: &Path) -> Result<Vocabulary, TranscribeError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| TranscribeError::BadModel(format!("{}: {e}", path.display())))?;
        let tokens: Vec<String> = text
            .strip_suffix('\n')
            .unwrap_or(&text)
            .split('\n')
            .map(str::to_owned)
            .collect();
        Ok(Vocabulary { tokens })
    }

    /// Number of tokens (the model's n_vocab).
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Writes `count` then each regular token's bytes (`i32 len`, bytes).
    pub fn write_ggml(&self, w: &mut impl Write) -> Result<(), TranscribeError> {
        let eot = self
            .tokens
            .iter()
            .position(|t| t == "<|endoftext|>")
            .ok_or_else(|| {
                TranscribeError::BadModel("vocabulary.txt has no <|endoftext|>".into())
            })?;
        let count = eot;
        let map = unicode_to_byte();
        w.write_all(&(count as i32).to_le_bytes())?;
        for t in &self.tokens[..count] {
            let bytes = t
                .chars()
                .map(|c| map.get(&c).copied())
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(|| {
                    TranscribeError::BadModel(format!("token {t:?} is not byte-level BPE"))
                })?;
            w.write_all(&(bytes.len() as i32).to_le_bytes())?;
            w.write_all(&bytes)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_tokens_decode_to_raw_bytes() {
        let v = Vocabulary {
            tokens: vec![
                "Ġthe".into(),
                "Ċ".into(),
                "ä½ł".into(),
                "<|endoftext|>".into(),
                "x".into(),
            ],
        };
        let mut out = Vec::new();
        v.write_ggml(&mut out).unwrap();
        let mut expect = 3i32.to_le_bytes().to_vec();
        for t in [&b" the"[..], b"\n", "你".as_bytes()] {
            expect.extend((t.len() as i32).to_le_bytes());
            expect.extend(t);
        }
        assert_eq!(out, expect);
    }

    #[test]
    fn vocabulary_without_end_of_text_is_refused() {
        let v = Vocabulary {
            tokens: vec!["a".into()],
        };
        assert!(v.write_ggml(&mut Vec::new()).is_err());
    }
}
