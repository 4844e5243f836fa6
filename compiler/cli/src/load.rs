//! Reading `.pol` files, finding a scheme's framework, and running the front end on them.
//! The only place (with `main.rs`) that touches the file system for the compiler.

use pol_core::check::{self, Checked, Module};
use pol_core::compliance;
use pol_core::diagnostic::{self, Diagnostic};
use pol_core::span::SourceFile;
use pol_core::syntax::{self, ast};
use std::path::{Path, PathBuf};

/// A loaded, checked file: its sources (framework first for a scheme), module and the
/// diagnostics of each source.
pub struct Loaded {
    pub sources: Vec<SourceFile>,
    pub module: Module,
    /// Diagnostics per source index.
    pub diagnostics: Vec<Vec<Diagnostic>>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| !d.is_empty())
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        for (src, diags) in self.sources.iter().zip(&self.diagnostics) {
            out.push_str(&diagnostic::render(src, diags));
        }
        out
    }

    pub fn is_scheme(&self) -> bool {
        compliance::is_scheme(&self.module)
    }
}

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

fn parse(src: &SourceFile) -> Result<ast::File, Vec<Diagnostic>> {
    syntax::parse_file(&src.text)
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
pub fn load(path: &Path, framework: Option<&Path>, budget: &compliance::prove::Budget) -> Result<Loaded, UsageError> {
    let src = read_source(path)?;
    let file = match parse(&src) {
        Ok(f) => f,
        Err(d) => return Ok(Loaded { sources: vec![src], module: Module::default(), diagnostics: vec![d] }),
    };
    let Some(ast::Header { kind: ast::HeaderKind::Scheme { implements, version }, span, .. }) = &file.header else {
        let Checked { module, diagnostics } = check::check_file(&src.name, &file);
        return Ok(Loaded { sources: vec![src], module, diagnostics: vec![diagnostics] });
    };
    // Find the framework the scheme implements.
    let candidates = match framework {
        Some(f) => vec![f.to_path_buf()],
        None => framework_candidates(path),
    };
    let mut found = None;
    let mut versions = Vec::new();
    for c in candidates {
        if std::fs::canonicalize(&c).ok() == std::fs::canonicalize(path).ok() {
            continue;
        }
        let Ok(fsrc) = read_source(&c) else { continue };
        let Ok(fast) = parse(&fsrc) else { continue };
        if let Some(ast::Header { kind: ast::HeaderKind::Framework { version: v }, name, .. }) = &fast.header {
            if name.name == implements.name {
                if version.as_ref().is_none_or(|want| want == v) {
                    found = Some((fsrc, fast));
                    break;
                }
                versions.push(v.clone());
            }
        }
    }
    let Some((fsrc, fast)) = found else {
        let mut d = Diagnostic::new(
            &pol_core::codes::FRAMEWORK_NOT_FOUND,
            format!("framework `{}`{} not found", implements.name, version.as_ref().map(|v| format!(" version {v}")).unwrap_or_default()),
            implements.span,
            "named here",
        )
        .with_help("put the framework next to the scheme or under policies/, or pass --framework FILE");
        if !versions.is_empty() {
            d = d.with_note(format!("versions found: {}", versions.join(", ")));
        }
        return Ok(Loaded { sources: vec![src], module: Module::default(), diagnostics: vec![vec![d]] });
    };
    let fw = check::check_file(&fsrc.name, &fast);
    let fw_diags = fw.diagnostics.clone();
    let Checked { module, mut diagnostics } = check::check_scheme(&fw.module, &src.name, &file);
    let sources = vec![fsrc, src];
    if fw_diags.is_empty() && diagnostics.is_empty() {
        let mut c = compliance::check_scheme_compliance(&module, &sources, budget);
        // Header-level findings point at the header.
        for d in &mut c {
            if d.primary.span.is_empty() {
                d.primary.span = *span;
            }
        }
        diagnostics.extend(c);
        diagnostic::sort(&mut diagnostics);
    }
    Ok(Loaded { sources, module, diagnostics: vec![fw_diags, diagnostics] })
}
