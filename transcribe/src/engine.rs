//! whisper.cpp through whisper-rs: one loaded model shared by the workers (each transcription
//! makes its own state, so workers run side by side on one copy of the weights).

use std::path::Path;
use std::sync::Once;

use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

use crate::TranscribeError;

/// What whisper said about a stretch of audio; times in ms from the buffer's start.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSegment {
    /// Start (ms).
    pub start_ms: i64,
    /// End (ms).
    pub end_ms: i64,
    /// The text, trimmed.
    pub text: String,
    /// whisper's probability that there was no speech at all.
    pub no_speech: f32,
}

/// The result of one whisper run.
#[derive(Debug, Clone, PartialEq)]
pub struct Recognised {
    /// Segments in order.
    pub segments: Vec<RawSegment>,
    /// The language used (`en`, `zh`, ...).
    pub language: Option<String>,
}

/// A loaded ggml model.
pub struct Engine {
    ctx: WhisperContext,
    threads: usize,
}

/// Nudges the multilingual model towards simplified characters and punctuation.
const ZH_PROMPT: &str = "以下是普通话的句子，使用简体中文。";

/// The prompt's clauses, which whisper sometimes repeats as if they had been said.
const ZH_PROMPT_CLAUSES: [&str; 2] = ["以下是普通话的句子", "使用简体中文"];

/// `text` without any echo of [`ZH_PROMPT`] (whole or by clause) and the punctuation it left.
fn strip_prompt(text: &str) -> String {
    let mut t = text.replace(ZH_PROMPT, "");
    for clause in ZH_PROMPT_CLAUSES {
        t = t.replace(clause, "");
    }
    if t.len() == text.len() {
        return t;
    }
    let trimmed = t.trim_matches(|c: char| c.is_whitespace() || "，。,.、".contains(c));
    let mut out = trimmed.to_owned();
    while out.contains("，，") || out.contains("。。") || out.contains("，。") {
        out = out
            .replace("，，", "，")
            .replace("。。", "。")
            .replace("，。", "。");
    }
    if !out.is_empty() && text.ends_with('。') && !out.ends_with(['。', '?', '？', '!', '！']) {
        out.push('。');
    }
    out
}

impl Engine {
    /// Loads a ggml model (f16 or quantised). `threads` per transcription (1 by default: the
    /// hotline runs N workers with one thread each rather than one worker with N threads).
    pub fn load(model: &Path, threads: usize) -> Result<Engine, TranscribeError> {
        static QUIET: Once = Once::new();
        // whisper.cpp prints to stderr; route it through whisper-rs's hooks (silent).
        QUIET.call_once(whisper_rs::install_logging_hooks);
        if !model.is_file() {
            return Err(TranscribeError::BadModel(format!(
                "{}: no such model file (run `hotline model fetch`)",
                model.display()
            )));
        }
        let path = model
            .to_str()
            .ok_or_else(|| TranscribeError::BadModel("model path is not UTF-8".into()))?;
        let ctx = WhisperContext::new_with_params(path, WhisperContextParameters::default())
            .map_err(|e| TranscribeError::BadModel(format!("{}: {e}", model.display())))?;
        Ok(Engine {
            ctx,
            threads: threads.max(1),
        })
    }

    /// Whether the model knows languages other than English.
    pub fn is_multilingual(&self) -> bool {
        self.ctx.is_multilingual()
    }

    /// Transcribes 16 kHz mono audio. `language` `None` (or on an English-only model,
    /// anything) lets the model decide; `zh` gets a simplified-Chinese prompt.
    pub fn recognise(
        &self,
        samples: &[f32],
        language: Option<&str>,
    ) -> Result<Recognised, TranscribeError> {
        if samples.is_empty() {
            return Ok(Recognised {
                segments: Vec::new(),
                language: language.map(str::to_owned),
            });
        }
        let err = |e: whisper_rs::WhisperError| TranscribeError::Whisper(e.to_string());
        let mut state = self.ctx.create_state().map_err(err)?;
        let lang = if self.is_multilingual() {
            language.unwrap_or("auto")
        } else {
            "en"
        };
        let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
        params.set_n_threads(self.threads as i32);
        params.set_language(Some(lang));
        params.set_print_special(false);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_timestamps(false);
        params.set_suppress_blank(true);
        params.set_suppress_nst(true);
        params.set_no_speech_thold(0.6);
        if lang == "zh" {
            params.set_initial_prompt(ZH_PROMPT);
        }
        state.full(params, samples).map_err(err)?;
        let language = whisper_rs::get_lang_str(state.full_lang_id_from_state()).map(str::to_owned);
        let mut segments = Vec::new();
        for s in state.as_iter() {
            let text = strip_prompt(s.to_str_lossy().map_err(err)?.trim());
            if text.is_empty() {
                continue;
            }
            segments.push(RawSegment {
                start_ms: s.start_timestamp() * 10,
                end_ms: s.end_timestamp() * 10,
                text,
                no_speech: s.no_speech_probability(),
            });
        }
        Ok(Recognised { segments, language })
    }
}

#[cfg(test)]
mod tests {
    use super::strip_prompt;

    #[test]
    fn echoes_of_the_prompt_are_removed() {
        assert_eq!(strip_prompt("你好"), "你好");
        assert_eq!(strip_prompt("以下是普通话的句子，使用简体中文。"), "");
        assert_eq!(
            strip_prompt("你把我的老板?，使用简体中文。"),
            "你把我的老板?"
        );
        assert_eq!(strip_prompt("以下是普通话的句子，我想咨询。"), "我想咨询。");
    }
}
