//! The whole transcription of one recording: split the stereo call into caller (left) and
//! hotline side (right), resample each to 16 kHz, keep only the stretches with a voice, run
//! whisper once per channel on those stretches joined together, map its timestamps back to
//! the recording, merge both channels into one dialogue, then mask PII and look for risk
//! keywords. The hotline side is the lawyer only while a lawyer is connected (see
//! [`HotlineSide`]): the IVR's prompts, hold music and survey are left out.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::TranscribeError;
use crate::audio::{self, WHISPER_RATE};
use crate::engine::Engine;
use crate::hans;
use crate::quality::QualityRules;
use crate::vad::{self, Region};

/// Whose voice: the channel a segment came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Speaker {
    /// Left channel: the person who called (also a mono file's only channel).
    Caller,
    /// Right channel: the hotline side (IVR prompts, then the lawyer).
    Lawyer,
}

impl Speaker {
    /// `caller` or `lawyer`, as the store and the console spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Speaker::Caller => "caller",
            Speaker::Lawyer => "lawyer",
        }
    }
}

/// When the hotline side (right channel) of a recording is a lawyer. The recorder starts at
/// the IVR's answer, so before a lawyer picks up that channel carries the IVR's own prompts
/// and hold music, and after the lawyer hangs up the survey. Transcribed, the prompts would be
/// put in the lawyer's mouth (and trip risk keywords on every call), music would come back as
/// whisper's inventions, and both would cost whisper time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HotlineSide {
    /// All of it (a recording whose call history is unknown, e.g. `hotline transcribe FILE`).
    #[default]
    AllLawyer,
    /// Only these spans, `(start, end)` in ms from the start of the recording; the rest of the
    /// channel is not transcribed. Empty: no lawyer was ever connected.
    LawyerDuring(Vec<(i64, i64)>),
}

impl HotlineSide {
    /// `regions` of the right channel restricted to the lawyer's spans.
    fn lawyer_regions(&self, regions: Vec<Region>, len: usize) -> Vec<Region> {
        match self {
            HotlineSide::AllLawyer => regions,
            HotlineSide::LawyerDuring(spans) => {
                let sample = |ms: i64| {
                    let samples = (ms.max(0) as u64).saturating_mul(WHISPER_RATE as u64) / 1000;
                    usize::try_from(samples).unwrap_or(usize::MAX).min(len)
                };
                let spans: Vec<Region> = spans
                    .iter()
                    .map(|&(s, e)| Region {
                        start: sample(s),
                        end: sample(e),
                    })
                    .collect();
                vad::keep_within(&regions, &spans)
            }
        }
    }
}

/// One utterance of the dialogue; times in ms from the start of the recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Utterance {
    /// Start (ms).
    pub start_ms: i64,
    /// End (ms).
    pub end_ms: i64,
    /// Who spoke.
    pub speaker: Speaker,
    /// What was said.
    pub text: String,
    /// The same with PII masked.
    pub redacted_text: String,
}

/// A risk keyword heard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskHit {
    /// The configured keyword.
    pub keyword: String,
    /// Who said it.
    pub speaker: Speaker,
    /// Where (ms).
    pub offset_ms: i64,
    /// The redacted utterance it was in.
    pub excerpt: String,
}

/// A recording's transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct CallTranscript {
    /// The dialogue in time order.
    pub utterances: Vec<Utterance>,
    /// The language whisper used.
    pub language: Option<String>,
    /// Risk keywords heard.
    pub risks: Vec<RiskHit>,
    /// Length of the recording (s).
    pub audio_secs: f64,
    /// Seconds of it that the VAD passed to whisper.
    pub speech_secs: f64,
    /// Wall time of the whole pipeline.
    pub elapsed: Duration,
}

impl CallTranscript {
    /// Real-time factor: processing time / audio time.
    pub fn rtf(&self) -> f64 {
        self.elapsed.as_secs_f64() / self.audio_secs.max(1e-9)
    }
}

/// Silence put between joined speech stretches so whisper sees them as separate phrases.
const JOIN_GAP: usize = WHISPER_RATE as usize / 2;

/// The model plus the quality rules: what a worker holds.
pub struct Transcriber {
    engine: Engine,
    rules: QualityRules,
}

impl Transcriber {
    /// A transcriber on a loaded model.
    pub fn new(engine: Engine, rules: QualityRules) -> Transcriber {
        Transcriber { engine, rules }
    }

    /// The loaded model.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Transcribes a recording whose right channel is all lawyer. `language`: `zh`, `en`, or
    /// `None` to detect it.
    pub fn transcribe_file(
        &self,
        path: &Path,
        language: Option<&str>,
    ) -> Result<CallTranscript, TranscribeError> {
        self.transcribe_call(path, language, &HotlineSide::AllLawyer)
    }

    /// Transcribes a hotline call's recording. `language`: the IVR's choice (`zh`, `en`), or
    /// `None` to detect it; `side`: when the right channel is a lawyer.
    pub fn transcribe_call(
        &self,
        path: &Path,
        language: Option<&str>,
        side: &HotlineSide,
    ) -> Result<CallTranscript, TranscribeError> {
        let started = Instant::now();
        let audio = audio::read_wav_16k(path)?;
        let speakers = [Speaker::Caller, Speaker::Lawyer];
        let mut utterances = Vec::new();
        let mut detected = None;
        let mut speech = 0usize;
        for (samples, speaker) in audio.channels.iter().zip(speakers) {
            let mut regions = vad::speech_regions(samples);
            if speaker == Speaker::Lawyer {
                regions = side.lawyer_regions(regions, samples.len());
            }
            let (joined, map) = join_regions(samples, &regions);
            speech += regions.iter().map(|r| r.end - r.start).sum::<usize>();
            if joined.is_empty() {
                continue;
            }
            let rec = self.engine.recognise(&joined, language)?;
            if detected.is_none() && speaker == Speaker::Caller {
                detected = rec.language.clone();
            }
            let chinese = rec.language.as_deref() == Some("zh");
            for s in rec.segments {
                let text = if chinese {
                    hans::to_simplified(&s.text)
                } else {
                    s.text
                };
                let start_ms = map.to_recording_ms(s.start_ms, Edge::Start);
                // a segment wholly inside a gap would otherwise end before it starts
                let end_ms = map.to_recording_ms(s.end_ms, Edge::End).max(start_ms);
                utterances.push(Utterance {
                    start_ms,
                    end_ms,
                    speaker,
                    redacted_text: self.rules.redact(&text),
                    text,
                });
            }
        }
        utterances.sort_by_key(|u| (u.start_ms, u.speaker == Speaker::Lawyer));
        let risks = utterances
            .iter()
            .flat_map(|u| {
                self.rules
                    .risk_keywords_in(&u.text)
                    .into_iter()
                    .map(|keyword| RiskHit {
                        keyword,
                        speaker: u.speaker,
                        offset_ms: u.start_ms,
                        excerpt: u.redacted_text.clone(),
                    })
            })
            .collect();
        Ok(CallTranscript {
            utterances,
            language: detected.or_else(|| language.map(str::to_owned)),
            risks,
            audio_secs: audio.duration_secs,
            speech_secs: speech as f64 / WHISPER_RATE as f64,
            elapsed: started.elapsed(),
        })
    }
}

impl Transcriber {
    /// The baseline the pipeline is measured against: the recording mixed to one 16 kHz
    /// channel and given to whisper whole (no channel split, no VAD), as a plain whisper-rs
    /// program would. Every segment is labelled [`Speaker::Caller`]; no quality checks.
    pub fn transcribe_raw(
        &self,
        path: &Path,
        language: Option<&str>,
    ) -> Result<CallTranscript, TranscribeError> {
        let started = Instant::now();
        let audio = audio::read_wav_16k(path)?;
        let len = audio.channels.iter().map(Vec::len).max().unwrap_or(0);
        let n = audio.channels.len().max(1) as f32;
        let mono: Vec<f32> = (0..len)
            .map(|i| {
                audio
                    .channels
                    .iter()
                    .map(|c| c.get(i).copied().unwrap_or(0.0))
                    .sum::<f32>()
                    / n
            })
            .collect();
        let rec = self.engine.recognise(&mono, language)?;
        Ok(CallTranscript {
            utterances: rec
                .segments
                .into_iter()
                .map(|s| Utterance {
                    start_ms: s.start_ms,
                    end_ms: s.end_ms,
                    speaker: Speaker::Caller,
                    redacted_text: s.text.clone(),
                    text: s.text,
                })
                .collect(),
            language: rec.language,
            risks: Vec::new(),
            audio_secs: audio.duration_secs,
            speech_secs: audio.duration_secs,
            elapsed: started.elapsed(),
        })
    }
}

/// Where each joined stretch came from: `(start in the joined buffer, start in the channel,
/// length)`, in samples.
struct TimeMap(Vec<(usize, usize, usize)>);

/// Which end of a segment a time is. Whisper often starts a segment in the silence joined in
/// between two stretches, before the words: such a start belongs to the next stretch, while an
/// end there belongs to the stretch before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edge {
    Start,
    End,
}

impl TimeMap {
    /// A time in the joined buffer (ms) as a time in the recording (ms). Inside a join gap a
    /// start moves forward to the next stretch, an end back to the end of the previous one.
    fn to_recording_ms(&self, ms: i64, edge: Edge) -> i64 {
        let rate = WHISPER_RATE as usize;
        let to_ms = |sample: usize| (sample * 1000 / rate) as i64;
        let at = (ms.max(0) as usize).saturating_mul(rate) / 1000;
        let Some(i) = self.0.iter().rposition(|&(joined, _, _)| joined <= at) else {
            return self.0.first().map_or(ms, |&(_, orig, _)| to_ms(orig));
        };
        let (joined, orig, len) = self.0[i];
        let past = at - joined;
        if past > len
            && edge == Edge::Start
            && let Some(&(_, next, _)) = self.0.get(i + 1)
        {
            return to_ms(next);
        }
        to_ms(orig + past.min(len))
    }
}

fn join_regions(samples: &[f32], regions: &[Region]) -> (Vec<f32>, TimeMap) {
    let mut joined = Vec::new();
    let mut map = Vec::new();
    for r in regions {
        if !joined.is_empty() {
            joined.extend(std::iter::repeat_n(0.0, JOIN_GAP));
        }
        map.push((joined.len(), r.start, r.end - r.start));
        joined.extend_from_slice(&samples[r.start..r.end]);
    }
    (joined, TimeMap(map))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hotline_side_is_transcribed_only_while_a_lawyer_is_connected() {
        let r = |start: usize, end: usize| Region { start, end };
        // speech at 0-3 s (IVR welcome), 10-12 s (the lawyer), 19-21 s (survey prompt)
        let heard = vec![r(0, 48_000), r(160_000, 192_000), r(304_000, 336_000)];
        let len = 400_000;
        assert_eq!(
            HotlineSide::AllLawyer.lawyer_regions(heard.clone(), len),
            heard
        );
        let side = HotlineSide::LawyerDuring(vec![(9_000, 20_000)]);
        assert_eq!(
            side.lawyer_regions(heard.clone(), len),
            vec![r(160_000, 192_000), r(304_000, 320_000)]
        );
        assert!(
            HotlineSide::LawyerDuring(vec![])
                .lawyer_regions(heard.clone(), len)
                .is_empty()
        );
        // a span still open at the end of the recording
        let open = HotlineSide::LawyerDuring(vec![(11_000, i64::MAX)]);
        assert_eq!(
            open.lawyer_regions(heard, len),
            vec![r(176_000, 192_000), r(304_000, 336_000)]
        );
    }

    #[test]
    fn joined_times_map_back_to_the_recording() {
        let samples = vec![0.0; 16_000 * 10];
        let regions = [
            Region {
                start: 16_000,
                end: 32_000,
            }, // 1-2 s
            Region {
                start: 80_000,
                end: 96_000,
            }, // 5-6 s
        ];
        let (joined, map) = join_regions(&samples, &regions);
        assert_eq!(joined.len(), 16_000 + JOIN_GAP + 16_000);
        for edge in [Edge::Start, Edge::End] {
            assert_eq!(map.to_recording_ms(0, edge), 1_000);
            assert_eq!(map.to_recording_ms(500, edge), 1_500);
            assert_eq!(map.to_recording_ms(1_000, edge), 2_000);
            assert_eq!(map.to_recording_ms(1_500, edge), 5_000);
            assert_eq!(map.to_recording_ms(2_000, edge), 5_500);
        }
        // in the gap: a start belongs to the speech after it, an end to the speech before
        assert_eq!(map.to_recording_ms(1_200, Edge::Start), 5_000);
        assert_eq!(map.to_recording_ms(1_200, Edge::End), 2_000);
        // past the last stretch there is no next one: both clamp to its end
        assert_eq!(map.to_recording_ms(9_000, Edge::Start), 6_000);
        assert_eq!(map.to_recording_ms(9_000, Edge::End), 6_000);
    }
}
