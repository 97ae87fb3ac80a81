//! Offline transcription of call recordings with whisper.cpp: model conversion from the
//! CTranslate2 (faster-whisper) format, the audio pipeline (per-channel split, 8 → 16 kHz
//! resampling, voice-activity detection so whisper never sees silence or hold music), whisper
//! itself, and the quality checks on the text (risk keywords, PII redaction).

pub mod audio;
pub mod convert;
pub mod engine;
pub mod fetch;
pub mod hans;
pub mod pipeline;
pub mod quality;
pub mod quantize;
pub mod vad;

pub use convert::{Converted, convert_ct2_to_ggml};
pub use engine::Engine;
pub use pipeline::{CallTranscript, HotlineSide, RiskHit, Speaker, Transcriber, Utterance};
pub use quality::QualityRules;

/// Transcription failures.
#[derive(Debug, thiserror::Error)]
pub enum TranscribeError {
    /// A file could not be read or written.
    #[error("{0}")]
    Io(String),
    /// The model (CTranslate2 input or ggml file) is not what it should be.
    #[error("bad model: {0}")]
    BadModel(String),
    /// A recording could not be read or resampled.
    #[error("audio: {0}")]
    Audio(String),
    /// whisper.cpp failed.
    #[error("whisper: {0}")]
    Whisper(String),
    /// The quality rules file is wrong.
    #[error("quality rules: {0}")]
    Config(String),
    /// Fetching model packages failed.
    #[error("model fetch: {0}")]
    Fetch(String),
}

impl From<std::io::Error> for TranscribeError {
    fn from(e: std::io::Error) -> Self {
        TranscribeError::Io(e.to_string())
    }
}
