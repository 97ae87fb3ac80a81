//! Diagnostics that point at `file:line`, and the source-file wrapper that produces them from
//! the byte spans the `toml` crate reports.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// One problem found in a dialplan directory. Operators edit the files by hand, so every
/// problem names the file and line to fix; `Display` is the familiar `file:line: message`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// The file, as `dir.join(name)` of the directory given to [`crate::check`].
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong, in one line.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

/// A dialplan file's path and text, kept together so byte offsets can become line numbers.
#[derive(Clone, Debug)]
pub(crate) struct Source {
    pub path: PathBuf,
    pub text: String,
}

impl Source {
    /// Reads `dir/name`; a missing or unreadable file is itself a diagnostic (at line 1).
    pub fn read(dir: &Path, name: &str) -> Result<Source, Diagnostic> {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Source { path, text }),
            Err(e) => Err(Diagnostic {
                file: path,
                line: 1,
                message: format!("cannot read file: {e}"),
            }),
        }
    }

    /// A source held in memory (unit tests).
    #[cfg(test)]
    pub fn inline(path: &str, text: &str) -> Source {
        Source {
            path: PathBuf::from(path),
            text: text.to_owned(),
        }
    }

    /// 1-based line of a byte offset (offsets past the end count as the last line).
    pub fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        1 + self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
    }

    /// A diagnostic at the start of `span`.
    pub fn at(&self, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: self.path.clone(),
            line: self.line_of(span.start),
            message: message.into(),
        }
    }

    /// Deserializes the whole file; a syntax error, unknown field or wrong type becomes one
    /// diagnostic at the line the `toml` crate points at.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, Diagnostic> {
        toml::from_str(&self.text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            self.at(offset..offset, e.message().trim().to_owned())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_file_line_message() {
        let d = Diagnostic {
            file: PathBuf::from("dialplans/12348.toml"),
            line: 7,
            message: "boom".into(),
        };
        assert_eq!(d.to_string(), "dialplans/12348.toml:7: boom");
    }

    #[test]
    fn offsets_become_lines() {
        let s = Source::inline("f.toml", "a = 1\nb = 2\n\nc = 3");
        assert_eq!(s.line_of(0), 1);
        assert_eq!(s.line_of(5), 1);
        assert_eq!(s.line_of(6), 2);
        assert_eq!(s.line_of(13), 4);
        assert_eq!(s.line_of(999), 4);
    }

    #[test]
    fn toml_errors_carry_their_line() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct T {
            a: i64,
        }
        let s = Source::inline("f.toml", "a = 1\n\nb = 2\n");
        let d = s.parse::<T>().unwrap_err();
        assert_eq!(d.to_string(), "f.toml:3: unknown field `b`, expected `a`");
        let s = Source::inline("f.toml", "a = 1\na = 2\n");
        assert_eq!(s.parse::<T>().unwrap_err().line, 2);
    }

    #[test]
    fn unreadable_file_is_a_diagnostic() {
        let d = Source::read(Path::new("/nonexistent-dir"), "x.toml").unwrap_err();
        assert_eq!(d.line, 1);
        assert!(
            d.to_string()
                .starts_with("/nonexistent-dir/x.toml:1: cannot read file")
        );
    }
}
