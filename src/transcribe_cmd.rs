//! `hotline transcribe FILE...`: batch/offline transcription of recordings (stereo call
//! recordings or any WAV) with the same pipeline the server runs, a progress bar, and the
//! real-time factor of every file.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use hotline_transcribe::{Engine, QualityRules, Transcriber};
use indicatif::{ProgressBar, ProgressStyle};

/// Flags of `hotline transcribe`.
#[derive(Debug, Args)]
pub struct TranscribeArgs {
    /// WAV files (a stereo call recording: left = caller, right = lawyer).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// ggml model file.
    #[arg(
        long,
        default_value = "data/models/ggml-base.bin",
        env = "HOTLINE_MODEL"
    )]
    pub model: PathBuf,
    /// Language: zh, en, ... or auto.
    #[arg(long, default_value = "auto")]
    pub language: String,
    /// whisper threads.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Risk keyword and redaction rules [default: the shipped dialplans/quality.toml].
    #[arg(long)]
    pub quality: Option<PathBuf>,
    /// Print the redacted text (as the lawyer role sees it).
    #[arg(long)]
    pub redacted: bool,
    /// Baseline for benchmarks: plain whisper on the whole file mixed to mono (no channel
    /// split, no voice-activity detection, no quality checks).
    #[arg(long)]
    pub raw: bool,
}

fn clock(ms: i64) -> String {
    format!("{:02}:{:02}.{}", ms / 60_000, ms / 1000 % 60, ms / 100 % 10)
}

pub fn run(args: TranscribeArgs) -> anyhow::Result<()> {
    let rules = match &args.quality {
        Some(p) => QualityRules::load(p)?,
        None => QualityRules::default(),
    };
    let load = Instant::now();
    let engine = Engine::load(&args.model, args.threads)
        .with_context(|| format!("loading {}", args.model.display()))?;
    eprintln!(
        "model {} loaded in {:.1} s",
        args.model.display(),
        load.elapsed().as_secs_f64()
    );
    let t = Transcriber::new(engine, rules);
    let language = (args.language != "auto").then_some(args.language.as_str());
    let bar = ProgressBar::new(args.files.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} files, {elapsed} [{msg}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut failed = 0;
    let (mut audio, mut spent) = (0.0, 0.0);
    for file in &args.files {
        bar.set_message(file.display().to_string());
        let result = if args.raw {
            t.transcribe_raw(file, language)
        } else {
            t.transcribe_file(file, language)
        };
        match result {
            Ok(tr) => {
                audio += tr.audio_secs;
                spent += tr.elapsed.as_secs_f64();
                bar.suspend(|| {
                    println!(
                        "== {} ({})",
                        file.display(),
                        tr.language.as_deref().unwrap_or("?")
                    );
                    for u in &tr.utterances {
                        let text = if args.redacted {
                            &u.redacted_text
                        } else {
                            &u.text
                        };
                        println!(
                            "[{}-{}] {}: {}",
                            clock(u.start_ms),
                            clock(u.end_ms),
                            u.speaker.as_str(),
                            text
                        );
                    }
                    for r in &tr.risks {
                        println!(
                            "!! risk keyword {:?} ({}, {})",
                            r.keyword,
                            r.speaker.as_str(),
                            clock(r.offset_ms)
                        );
                    }
                    println!(
                        "-- {:.1} s audio ({:.1} s speech) in {:.2} s: RTF {:.3}",
                        tr.audio_secs,
                        tr.speech_secs,
                        tr.elapsed.as_secs_f64(),
                        tr.rtf()
                    );
                });
            }
            Err(e) => {
                failed += 1;
                bar.suspend(|| eprintln!("{}: {e}", file.display()));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if audio > 0.0 {
        eprintln!(
            "total: {audio:.1} s audio in {spent:.2} s: RTF {:.3}",
            spent / audio
        );
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} files failed", args.files.len());
    }
    Ok(())
}
