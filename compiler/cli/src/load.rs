//! Reading `.pol` files and finding a scheme's framework; the front end itself is
//! [`pol_core::driver`]. The only place (with `main.rs`) that touches the file system for the
//! compiler.

use pol_core::compliance::prove::Budget;
pub use pol_core::driver::Frontend as Loaded;
use pol_core::driver::{self, FileKind};
use pol_core::span::SourceFile;
use std::path::{Path, PathBuf};

/// An IO or usage failure (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

pub fn read_source(path: &Path) -> Result<SourceFile, UsageError> {
    let text = std::fs::read_to_string(path).map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    Ok(SourceFile::new(display_path(path), text))
}

/// A path as shown in messages: relative to the current directory when possible.
pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let shown = cwd.as_ref().and_then(|c| path.strip_prefix(c).ok()).unwrap_or(path);
    shown.display().to_string()
}

/// The one place frameworks come from when no `--framework` is given: the national folder,
/// `policies/national/`, of the nearest ancestor of the scheme's directory that has one (the
/// working directory's when none has). A copy of a framework beside the scheme is never used:
/// the national text cannot be shadowed by a file placed next to a scheme.
pub fn national_folder(scheme: &Path) -> Option<PathBuf> {
    let dir = std::fs::canonicalize(scheme).ok().and_then(|p| p.parent().map(Path::to_path_buf));
    let cwd = std::env::current_dir().ok();
    for start in dir.iter().chain(cwd.iter()) {
        for d in start.ancestors() {
            if d.file_name().is_some_and(|n| n == "policies") && d.join("national").is_dir() {
                return Some(d.join("national"));
            }
            if d.join("policies").join("national").is_dir() {
                return Some(d.join("policies").join("national"));
            }
        }
    }
    None
}

fn collect_pol(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }) else { return };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() && recursive {
            collect_pol(&p, true, out);
        } else if p.extension().is_some_and(|e| e == "pol") && !out.contains(&p) {
            out.push(p);
        }
    }
}

/// The SHA-256 of a framework's text, in hex: what a verdict was measured against.
pub fn content_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Loads and checks a file; a scheme is checked with its framework and for compliance.
pub fn load(path: &Path, framework: Option<&Path>, budget: &Budget) -> Result<Loaded, UsageError> {
    let src = read_source(path)?;
    let found = find_framework(path, &src, framework)?;
    Ok(check_found(src, found, budget))
}

/// A file's framework, as [`find_framework`] found it.
#[derive(Clone, Debug)]
pub enum Found {
    /// The file is not a scheme.
    NotAScheme,
    /// The framework the scheme implements.
    Framework(SourceFile),
    /// No framework of the scheme's name and version (`versions`: the other versions seen).
    Missing { implements: String, version: Option<String>, versions: Vec<String>, span: pol_core::span::Span },
}

/// Checks a file with the framework found for it (see [`load`]).
pub fn check_found(src: SourceFile, found: Found, budget: &Budget) -> Loaded {
    match found {
        Found::NotAScheme => driver::check_file(src),
        Found::Framework(fw) => driver::check_scheme(fw, src, budget),
        Found::Missing { implements, version, versions, span } => {
            driver::framework_not_found(src, &implements, version.as_deref(), &versions, span)
        }
    }
}

/// The framework the file `path` (whose source is `src`) implements: `framework` when given,
/// else the one of its name and version in the national folder ([`national_folder`]).
pub fn find_framework(path: &Path, src: &SourceFile, framework: Option<&Path>) -> Result<Found, UsageError> {
    let FileKind::Scheme { implements, version, implements_span, .. } = driver::file_kind(&src.text) else {
        return Ok(Found::NotAScheme);
    };
    let candidates = match framework {
        Some(f) => vec![f.to_path_buf()],
        None => {
            let mut out = Vec::new();
            if let Some(dir) = national_folder(path) {
                collect_pol(&dir, true, &mut out);
            }
            out
        }
    };
    let mut versions = Vec::new();
    let mut found: Vec<SourceFile> = Vec::new();
    for c in candidates {
        if std::fs::canonicalize(&c).ok() == std::fs::canonicalize(path).ok() {
            continue;
        }
        let fsrc = read_source(&c)?;
        if let FileKind::Framework { name, version: v } = driver::file_kind(&fsrc.text)
            && name == implements
        {
            if version.as_ref().is_none_or(|want| *want == v) {
                found.push(fsrc);
            } else {
                versions.push(v);
            }
        }
    }
    match found.len() {
        0 => Ok(Found::Missing { implements, version, versions, span: implements_span }),
        1 => Ok(Found::Framework(found.remove(0))),
        _ => {
            let names: Vec<String> = found.iter().map(|f| f.name.clone()).collect();
            Err(UsageError(format!(
                "{} frameworks are named `{implements}`{}: {}; keep one, or choose with --framework",
                found.len(),
                version.as_ref().map(|v| format!(" version {v}")).unwrap_or_default(),
                names.join(", ")
            )))
        }
    }
}
