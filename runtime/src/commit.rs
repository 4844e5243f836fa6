//! A run's files as one commit: the output, the ledger and the summary are written under
//! temporary names and renamed, then a manifest naming each file with its size, SHA-256 and
//! row count is written last. The manifest is the commit record: before the renames the
//! earlier run's manifest is removed, so at every instant either a manifest describes exactly
//! the files beside it, or there is none and `pol verify` says the set is not committed (a kill
//! between two renames cannot pass off a new output beside an old ledger).
//!
//! A run that fails after it has started leaves no output under the output's name: the earlier
//! run's files are moved to `<stem>.previous.<ext>` (replacing older such files), and the summary
//! and the manifest say so.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::atomic::{AtomicFile, write_atomically};
use crate::background::Written;
use crate::error::RuntimeError;
use crate::schema::FileFormat;
use crate::write::FinishedFile;

/// The manifest's format tag; a reader refuses other tags.
pub const MANIFEST_FORMAT: &str = "pol-run-manifest/1";

/// One file of a committed run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// `output`, `ledger` or `summary`.
    pub role: String,
    /// The path, relative to the manifest's folder when the file is inside it.
    pub path: String,
    pub bytes: u64,
    /// Lower-case hex.
    pub sha256: String,
    /// Data rows (output rows, ledger entries); absent for the summary.
    pub rows: Option<u64>,
    /// A PostgreSQL output: the table, in the database `path` names (the URL without its
    /// password); `bytes` and `sha256` are then those of the COPY text sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
}

/// A run's output, complete and not yet committed: a file under its temporary name, or a
/// PostgreSQL table in its open transaction.
pub(crate) enum FinishedOutput {
    File(FinishedFile),
    Table(crate::postgres::FinishedTable),
}

impl FinishedOutput {
    pub fn rows(&self) -> u64 {
        match self {
            FinishedOutput::File(f) => f.rows,
            FinishedOutput::Table(t) => t.rows,
        }
    }
}

/// The commit record of a run, written last, as `<output stem>.manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub program: String,
    /// `ok` when the output was written; `failed` when the run failed after it started (the
    /// ledger and summary say why; there is no output).
    pub outcome: String,
    pub rows_in: u64,
    pub files: Vec<ManifestFile>,
}

/// Lower-case hex of a digest.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `<stem>.previous.<ext>` beside `path`.
pub(crate) fn previous_path(path: &Path) -> PathBuf {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    match path.extension() {
        Some(ext) => path.with_file_name(format!("{stem}.previous.{}", ext.to_string_lossy())),
        None => path.with_file_name(format!("{stem}.previous")),
    }
}

/// The final paths of a run's files.
#[derive(Clone, Debug)]
pub(crate) struct RunFiles {
    pub output: PathBuf,
    pub ledger: PathBuf,
    pub summary: PathBuf,
    pub manifest: PathBuf,
}

impl RunFiles {
    fn all(&self) -> [&PathBuf; 4] {
        [&self.output, &self.ledger, &self.summary, &self.manifest]
    }

    /// Removes what killed earlier runs left under temporary names; returns the files removed.
    pub fn remove_stale(&self) -> Vec<PathBuf> {
        self.all().into_iter().flat_map(|p| crate::atomic::remove_stale_temporaries(p)).collect()
    }

    /// Removes the earlier run's manifest, so that its set stops claiming to be committed.
    fn withdraw_manifest(&self) -> Result<(), RuntimeError> {
        match std::fs::remove_file(&self.manifest) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(RuntimeError::io(&self.manifest, "remove", e)),
        }
    }

    /// Moves the earlier run's files out of the way of a failed run (the manifest is removed,
    /// since it describes names that no longer hold those files); returns `(from, to)` pairs.
    ///
    /// Only a set with an output is moved, as a whole, with its manifest rewritten to name the
    /// moved files (so `pol verify <stem>.previous.<ext>` checks it), replacing an older moved
    /// set entirely; a failed run's set (no output) is simply replaced by the next run's, so the
    /// moved set stays the last one that wrote an output.
    pub fn retire_previous(&self) -> Result<Vec<(PathBuf, PathBuf)>, RuntimeError> {
        if !std::fs::symlink_metadata(&self.output).is_ok_and(|m| m.is_file()) {
            self.withdraw_manifest()?;
            return Ok(Vec::new());
        }
        let manifest = std::fs::read(&self.manifest).ok().and_then(|t| serde_json::from_slice::<Manifest>(&t).ok());
        self.withdraw_manifest()?;
        // `pol verify <stem>.previous.<ext>` finds it: `<stem>.previous.manifest.json`.
        let previous_manifest = manifest_path_for(&previous_path(&self.output));
        for old in [previous_path(&self.output), previous_path(&self.ledger), previous_path(&self.summary), previous_manifest.clone()] {
            match std::fs::remove_file(&old) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(RuntimeError::io(&old, "remove", e)),
            }
        }
        let mut moved = Vec::new();
        for path in [&self.output, &self.ledger, &self.summary] {
            if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
                let to = previous_path(path);
                std::fs::rename(path, &to).map_err(|e| RuntimeError::io(path, "move aside", e))?;
                moved.push((path.clone(), to));
            }
        }
        // The moved set's manifest, naming the files where they now are.
        if let Some(mut manifest) = manifest {
            for file in &mut manifest.files {
                if let Some((_, to)) = moved.iter().find(|(from, _)| self.relative(from) == file.path) {
                    file.path = self.relative(to);
                }
            }
            let json =
                serde_json::to_vec_pretty(&manifest).map_err(|e| RuntimeError::invalid(format!("cannot serialize the manifest: {e}")))?;
            write_atomically(&previous_manifest, &json)?;
            moved.push((self.manifest.clone(), previous_manifest));
        }
        Ok(moved)
    }

    /// Commits a run: the manifest first removed, then each file renamed, then the manifest
    /// written. `output` is `None` for a failed run.
    pub fn commit(
        &self,
        program: &str,
        rows_in: u64,
        output: Option<FinishedOutput>,
        ledger: FinishedFile,
        summary: &[u8],
    ) -> Result<Manifest, RuntimeError> {
        self.withdraw_manifest()?;
        let mut files = Vec::new();
        let entry = |role: &str, path: &Path, written: &Written, rows: Option<u64>| ManifestFile {
            role: role.to_string(),
            path: self.relative(path),
            bytes: written.bytes,
            sha256: hex(&written.sha256),
            rows,
            table: None,
        };
        files.push(entry("ledger", &self.ledger, &ledger.written, Some(ledger.rows)));
        ledger.atomic.commit()?;
        let summary_written = Written { bytes: summary.len() as u64, sha256: Sha256::digest(summary).into() };
        write_atomically(&self.summary, summary)?;
        files.push(entry("summary", &self.summary, &summary_written, None));
        let outcome = match output {
            Some(FinishedOutput::File(out)) => {
                files.insert(0, entry("output", &self.output, &out.written, Some(out.rows)));
                out.atomic.commit()?;
                "ok"
            }
            Some(FinishedOutput::Table(out)) => {
                let url = crate::postgres::redact(&self.output.to_string_lossy());
                let record = ManifestFile {
                    role: "output".into(),
                    path: url,
                    bytes: out.written.bytes,
                    sha256: hex(&out.written.sha256),
                    rows: Some(out.rows),
                    table: Some(out.table.clone()),
                };
                files.insert(0, record);
                out.commit()?;
                "ok"
            }
            None => "failed",
        };
        let manifest = Manifest { format: MANIFEST_FORMAT.into(), program: program.into(), outcome: outcome.into(), rows_in, files };
        let json =
            serde_json::to_vec_pretty(&manifest).map_err(|e| RuntimeError::invalid(format!("cannot serialize the manifest: {e}")))?;
        write_atomically(&self.manifest, &json)?;
        Ok(manifest)
    }

    fn relative(&self, path: &Path) -> String {
        let dir = self.manifest.parent().unwrap_or(Path::new(""));
        match path.strip_prefix(dir) {
            Ok(rel) if !dir.as_os_str().is_empty() => rel.display().to_string(),
            _ => path.display().to_string(),
        }
    }
}

/// The outcome of [`verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    pub manifest: Manifest,
    /// One line per problem found; empty when every file matches.
    pub problems: Vec<String>,
}

impl Verification {
    /// Every file matches and the run wrote its output.
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && self.manifest.outcome == "ok"
    }
}

/// The manifest of a run given its output path or the manifest itself.
pub fn manifest_path_for(path: &Path) -> PathBuf {
    if path.to_string_lossy().ends_with(".manifest.json") {
        return path.to_path_buf();
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!("{stem}.manifest.json"))
}

/// Checks every file a manifest names: present, of the recorded size, hash and row count.
pub fn verify(path: &Path) -> Result<Verification, RuntimeError> {
    let manifest_path = manifest_path_for(path);
    let text = match std::fs::read(&manifest_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !manifest_path.exists() && !path.exists() => {
            return Err(RuntimeError::invalid(format!("no file `{}` and no manifest `{}`", path.display(), manifest_path.display())));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(RuntimeError::invalid(format!(
                "no manifest `{}`: the run that wrote these files did not finish committing them (or was never run)",
                manifest_path.display()
            )));
        }
        Err(e) => return Err(RuntimeError::io(&manifest_path, "read", e)),
    };
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| RuntimeError::invalid(format!("`{}` is not a run manifest: {e}", manifest_path.display())))?;
    if manifest.format != MANIFEST_FORMAT {
        return Err(RuntimeError::invalid(format!(
            "`{}` has format `{}`; this pol reads `{MANIFEST_FORMAT}`",
            manifest_path.display(),
            manifest.format
        )));
    }
    let dir = manifest_path.parent().unwrap_or(Path::new(""));
    let mut problems = Vec::new();
    for file in &manifest.files {
        if let Some(table) = &file.table {
            problems.extend(crate::postgres::verify_table(&file.path, table, file.rows));
            continue;
        }
        let full = if Path::new(&file.path).is_absolute() { PathBuf::from(&file.path) } else { dir.join(&file.path) };
        match hash_file(&full) {
            Err(e) => problems.push(format!("{} `{}`: {e}", file.role, full.display())),
            Ok((bytes, sha)) => {
                if bytes != file.bytes {
                    problems.push(format!("{} `{}`: {bytes} bytes, the manifest says {}", file.role, full.display(), file.bytes));
                } else if hex(&sha) != file.sha256 {
                    problems.push(format!(
                        "{} `{}`: SHA-256 {} differs from the manifest's {}",
                        file.role,
                        full.display(),
                        hex(&sha),
                        file.sha256
                    ));
                } else if let Some(rows) = file.rows {
                    match count_rows(&full) {
                        Ok(found) if found == rows => {}
                        Ok(found) => problems.push(format!("{} `{}`: {found} rows, the manifest says {rows}", file.role, full.display())),
                        Err(e) => problems.push(format!("{} `{}`: {e}", file.role, full.display())),
                    }
                }
            }
        }
    }
    Ok(Verification { manifest, problems })
}

pub(crate) fn hash_file(path: &Path) -> Result<(u64, [u8; 32]), RuntimeError> {
    let mut file = std::fs::File::open(path).map_err(|e| RuntimeError::io(path, "open", e))?;
    let mut hash = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(|e| RuntimeError::io(path, "read", e))?;
        if n == 0 {
            return Ok((bytes, hash.finalize().into()));
        }
        hash.update(&buffer[..n]);
        bytes += n as u64;
    }
}

/// Data rows of a Parquet file (from its footer) or a CSV file with a header (records, quoted
/// line breaks included).
fn count_rows(path: &Path) -> Result<u64, RuntimeError> {
    match FileFormat::from_path(path, "file")? {
        FileFormat::Parquet => {
            let file = std::fs::File::open(path).map_err(|e| RuntimeError::io(path, "open", e))?;
            let reader = parquet::file::serialized_reader::SerializedFileReader::new(file).map_err(|e| RuntimeError::parquet(path, e))?;
            use parquet::file::reader::FileReader;
            Ok(u64::try_from(reader.metadata().file_metadata().num_rows()).unwrap_or(0))
        }
        FileFormat::Excel => crate::excel::count_rows(path),
        FileFormat::Csv => {
            // Streamed a megabyte at a time: a ledger or output may be far larger than memory.
            let mut file = std::fs::File::open(path).map_err(|e| RuntimeError::io(path, "open", e))?;
            let mut buffer = vec![0u8; 1 << 20];
            let (mut records, mut quoted, mut in_record) = (0u64, false, false);
            loop {
                let n = file.read(&mut buffer).map_err(|e| RuntimeError::io(path, "read", e))?;
                if n == 0 {
                    break;
                }
                for &b in &buffer[..n] {
                    match b {
                        b'"' => {
                            quoted = !quoted;
                            in_record = true;
                        }
                        b'\n' if !quoted => {
                            records += u64::from(in_record);
                            in_record = false;
                        }
                        _ => in_record = true,
                    }
                }
            }
            records += u64::from(in_record);
            Ok(records.saturating_sub(1))
        }
    }
}

/// Creates the temporary file of every final path up front, so that an unwritable folder is
/// found before any work.
pub(crate) fn probe_writable(path: &Path) -> Result<(), RuntimeError> {
    if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(RuntimeError::invalid(format!("`{}` is a folder; give a file name", path.display())));
    }
    drop(AtomicFile::create(path)?);
    Ok(())
}
