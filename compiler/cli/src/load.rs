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

/// Candidate framework files: next to the scheme, then everything under `policies/` found by
/// walking up from the scheme's directory.
fn framework_candidates(scheme: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let dir = scheme.parent().map(Path::to_path_buf).unwrap_or_default();
    collect_pol(&dir, false, &mut out);
    let mut up: Option<&Path> = Some(dir.as_path());
    while let Some(d) = up {
        let p = if d.as_os_str().is_empty() { PathBuf::from("policies") } else { d.join("policies") };
        if p.is_dir() {
            collect_pol(&p, true, &mut out);
            break;
        }
        if d.file_name().is_some_and(|n| n == "policies") {
            collect_pol(d, true, &mut out);
            break;
        }
        up = d.parent();
    }
    out
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

/// Loads and checks a file; a scheme is checked with its framework and for compliance.
pub fn load(path: &Path, framework: Option<&Path>, budget: &Budget) -> Result<Loaded, UsageError> {
    let src = read_source(path)?;
    let FileKind::Scheme { implements, version, implements_span, .. } = driver::file_kind(&src.text) else {
        return Ok(driver::check_file(src));
    };
    let candidates = match framework {
        Some(f) => vec![f.to_path_buf()],
        None => framework_candidates(path),
    };
    let mut versions = Vec::new();
    for c in candidates {
        if std::fs::canonicalize(&c).ok() == std::fs::canonicalize(path).ok() {
            continue;
        }
        let Ok(fsrc) = read_source(&c) else { continue };
        if let FileKind::Framework { name, version: v } = driver::file_kind(&fsrc.text)
            && name == implements
        {
            if version.as_ref().is_none_or(|want| *want == v) {
                return Ok(driver::check_scheme(fsrc, src, budget));
            }
            versions.push(v);
        }
    }
    Ok(driver::framework_not_found(src, &implements, version.as_deref(), &versions, implements_span))
}
