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
    /// Creates `.<name>.<pid>.<n>.tmp` next to `final_path`, creating its missing parent
    /// folders first (as cargo does for `--target-dir`).
    pub fn create(final_path: &Path) -> Result<Self, RuntimeError> {
        let dir = match final_path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = final_path.file_name().ok_or_else(|| RuntimeError::invalid(format!("`{}` is not a file name", final_path.display())))?;
        std::fs::create_dir_all(&dir).map_err(|e| RuntimeError::io(&dir, "create the folder", e))?;
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp_name = format!("{}{}.{n}.tmp", temp_prefix(&name.to_string_lossy()), std::process::id());
        let temp_path = dir.join(temp_name);
        let file =
            OpenOptions::new().write(true).create_new(true).open(&temp_path).map_err(|e| RuntimeError::io(&temp_path, "create", e))?;
        Ok(AtomicFile { final_path: final_path.to_path_buf(), temp_path, file: Some(file) })
    }

    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// Where the file is while it is written.
    pub fn temp_path(&self) -> &Path {
        &self.temp_path
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
        std::fs::rename(&self.temp_path, &self.final_path).map_err(|e| RuntimeError::io(&self.final_path, "rename into", e))?;
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

/// The start of every temporary name of `name`: `.<name>.`, then the writing process's id.
fn temp_prefix(name: &str) -> String {
    format!(".{name}.")
}

/// Removes the temporary files of `final_path` that a process which no longer exists left
/// behind (killed by SIGKILL or a power cut, so its own clean-up never ran); returns them.
///
/// A temporary name carries its writer's process id; a file is stale when `/proc/<pid>` is
/// gone. Without `/proc` nothing is removed, since liveness cannot be told.
pub(crate) fn remove_stale_temporaries(final_path: &Path) -> Vec<PathBuf> {
    let Some(name) = final_path.file_name().map(|n| n.to_string_lossy().into_owned()) else { return Vec::new() };
    let dir = match final_path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !Path::new("/proc/self").exists() {
        return Vec::new();
    }
    let prefix = temp_prefix(&name);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name.strip_prefix(&prefix).and_then(|r| r.strip_suffix(".tmp")) else { continue };
        let Some(pid) = rest.split('.').next().and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        if std::fs::remove_file(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed.sort();
    removed
}

/// Writes `bytes` atomically to `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), RuntimeError> {
    let atomic = AtomicFile::create(path)?;
    let mut file = atomic.file()?;
    file.write_all(bytes).map_err(|e| RuntimeError::io(path, "write", e))?;
    drop(file);
    atomic.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_makes_missing_parent_folders_and_commit_names_the_file() {
        let root = tempfile::tempdir().expect("temp dir");
        let path = root.path().join("new").join("deeper").join("out.csv");
        write_atomically(&path, b"a,b\n").expect("writes under folders that did not exist");
        assert_eq!(std::fs::read(&path).expect("read back"), b"a,b\n");
        let leftovers: Vec<_> =
            std::fs::read_dir(path.parent().expect("parent")).expect("list").map(|e| e.expect("entry").file_name()).collect();
        assert_eq!(leftovers, [std::ffi::OsString::from("out.csv")], "no temporary file remains");
    }

    #[test]
    fn stale_temporaries_of_dead_processes_are_removed_and_live_ones_kept() {
        let root = tempfile::tempdir().expect("temp dir");
        let out = root.path().join("out.parquet");
        // No process has id 4294967295 (above Linux's pid_max); this process is alive.
        let dead = root.path().join(".out.parquet.4294967295.0.tmp");
        let live = root.path().join(format!(".out.parquet.{}.99.tmp", std::process::id()));
        let other = root.path().join(".other.parquet.4294967295.0.tmp");
        for p in [&dead, &live, &other] {
            std::fs::write(p, b"x").expect("write");
        }
        assert_eq!(remove_stale_temporaries(&out), std::slice::from_ref(&dead));
        assert!(!dead.exists() && live.exists() && other.exists());
    }

    #[test]
    fn a_parent_that_cannot_be_created_is_an_error_naming_the_folder() {
        let root = tempfile::tempdir().expect("temp dir");
        let file = root.path().join("plain");
        std::fs::write(&file, b"x").expect("a file where a folder is wanted");
        let err = match AtomicFile::create(&file.join("sub").join("out.csv")) {
            Ok(_) => panic!("a file cannot hold a folder"),
            Err(e) => e.to_string(),
        };
        let folder = file.join("sub");
        assert!(err.contains(&format!("cannot create the folder `{}`", folder.display())), "{err}");
    }
}
