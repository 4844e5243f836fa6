//! Files that appear under their final name only when complete: written to a temporary name in
//! the same directory, synced, then renamed; removed again if anything fails on the way.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::RuntimeError;

/// A file being written under a temporary name; dropping it without [`AtomicFile::commit`]
/// removes the temporary file.
pub(crate) struct AtomicFile {
    final_path: PathBuf,
    temp_path: PathBuf,
    file: Option<File>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl AtomicFile {
    /// Creates `.<name>.<pid>.<n>.tmp` next to `final_path`.
    pub fn create(final_path: &Path) -> Result<Self, RuntimeError> {
        let dir = match final_path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = final_path.file_name().ok_or_else(|| {
            RuntimeError::invalid(format!("`{}` is not a file name", final_path.display()))
        })?;
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp_name = format!(".{}.{}.{n}.tmp", name.to_string_lossy(), std::process::id());
        let temp_path = dir.join(temp_name);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp_path)
            .map_err(|e| RuntimeError::io(&temp_path, "create", e))?;
        Ok(AtomicFile { final_path: final_path.to_path_buf(), temp_path, file: Some(file) })
    }

    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// The open temporary file, to be written through a buffer.
    pub fn file(&self) -> Result<File, RuntimeError> {
        match &self.file {
            Some(f) => f.try_clone().map_err(|e| RuntimeError::io(&self.temp_path, "open", e)),
            None => Err(RuntimeError::invalid("internal error: atomic file already committed")),
        }
    }

    /// Syncs the data to disk and moves it under its final name.
    pub fn commit(mut self) -> Result<(), RuntimeError> {
        if let Some(file) = self.file.take() {
            file.sync_all().map_err(|e| RuntimeError::io(&self.temp_path, "sync", e))?;
        }
        std::fs::rename(&self.temp_path, &self.final_path)
            .map_err(|e| RuntimeError::io(&self.final_path, "rename into", e))?;
        // The rename is durable only once the directory itself is synced; best effort, since
        // not every platform can open a directory.
        if let Some(dir) = self.final_path.parent().filter(|p| !p.as_os_str().is_empty())
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        self.temp_path = PathBuf::new();
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.temp_path.as_os_str().is_empty() {
            self.file.take();
            let _ = std::fs::remove_file(&self.temp_path);
        }
    }
}

/// Writes `bytes` atomically to `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RuntimeError> {
    let atomic = AtomicFile::create(path)?;
    let mut file = atomic.file()?;
    file.write_all(bytes).map_err(|e| RuntimeError::io(path, "write", e))?;
    drop(file);
    atomic.commit()
}
