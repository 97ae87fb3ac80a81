//! The process-wide prompt cache: each file decoded once, reloaded when it changes on disk.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use super::{Prompt, PromptError, PromptErrorKind};

/// Loads each prompt file once and hands out shared copies, so reloading a dialplan that names
/// the same hundred prompts costs a `stat` per prompt, not a decode and resample.
///
/// Entries are keyed by canonical path. A file whose modification time or size changed since
/// it was loaded is loaded again on the next [`get`](PromptCache::get), so a replaced recording
/// is picked up without an explicit [`invalidate`](PromptCache::invalidate).
#[derive(Debug, Default)]
pub struct PromptCache {
    entries: Mutex<HashMap<PathBuf, (Prompt, FileStamp)>>,
}

/// Modification time and size when loaded; `None` if the file could not be stat'ed.
type FileStamp = Option<(Option<SystemTime>, u64)>;

fn stamp_of(path: &Path) -> FileStamp {
    fs::metadata(path)
        .ok()
        .map(|m| (m.modified().ok(), m.len()))
}

impl PromptCache {
    /// An empty cache; one per process is enough.
    pub fn new() -> PromptCache {
        PromptCache::default()
    }

    /// Returns the prompt for `path`, loading it on first use (or after it changed on disk).
    /// Every caller gets the same shared buffer. Errors are not cached: a fixed file loads on
    /// the next call.
    pub fn get(&self, path: impl AsRef<Path>) -> Result<Prompt, PromptError> {
        let path = path.as_ref();
        let key = fs::canonicalize(path).map_err(|e| PromptError {
            path: path.to_path_buf(),
            kind: PromptErrorKind::Open(e),
        })?;
        let stamp = stamp_of(&key);
        if let Some((prompt, loaded)) = self.lock().get(&key)
            && *loaded == stamp
        {
            return Ok(prompt.clone());
        }
        // Decode outside the lock so one slow file does not stall every other lookup.
        let prompt = Prompt::load(&key)?;
        let mut entries = self.lock();
        if let Some((winner, loaded)) = entries.get(&key)
            && *loaded == stamp
        {
            return Ok(winner.clone()); // another thread loaded it meanwhile: share its copy
        }
        entries.insert(key, (prompt.clone(), stamp));
        Ok(prompt)
    }

    /// Forgets `path` so the next `get` reads it again; returns whether it was cached.
    /// Works for deleted files too (matched by their absolute path).
    pub fn invalidate(&self, path: impl AsRef<Path>) -> bool {
        let path = path.as_ref();
        let mut entries = self.lock();
        let mut removed = false;
        if let Ok(key) = fs::canonicalize(path) {
            removed |= entries.remove(&key).is_some();
        }
        if let Ok(key) = std::path::absolute(path) {
            removed |= entries.remove(&key).is_some();
        }
        removed
    }

    /// Forgets every prompt, e.g. when the prompt directory was replaced wholesale.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<PathBuf, (Prompt, FileStamp)>> {
        // The map stays consistent even if a holder panicked, so poisoning is ignored.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}
