//! The front end as one pure function: source texts in, the checked module and the sorted
//! diagnostics of each source out. Parse → check (the framework first for a scheme) → check
//! the scheme against it → compliance → sort. The CLI and every test harness call this, so a
//! file gets the same verdict wherever it is checked; callers only find and read the files.
//!
//! Every entry point runs on the compiler's own stack ([`crate::on_compiler_stack`]), so no
//! input can overflow the caller's.

use crate::check::{self, Checked, Module};
use crate::compliance::{self, prove::Budget};
use crate::diagnostic::{self, Diagnostic};
use crate::span::{SourceFile, Span};
use crate::syntax::{self, ast};

/// A checked file: its sources (the framework first for a scheme), the module, and the
/// diagnostics of each source, sorted.
#[derive(Debug, Default)]
pub struct Frontend {
    pub sources: Vec<SourceFile>,
    pub module: Module,
    /// Diagnostics per source, in the order of `sources`.
    pub diagnostics: Vec<Vec<Diagnostic>>,
}

impl Frontend {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| !d.is_empty())
    }

    /// Every diagnostic rendered, source by source.
    pub fn render(&self) -> String {
        self.sources.iter().zip(&self.diagnostics).map(|(src, diags)| diagnostic::render(src, diags)).collect()
    }

    pub fn is_scheme(&self) -> bool {
        compliance::is_scheme(&self.module)
    }

    /// Every diagnostic as a program reads it (`--format json`), source by source.
    pub fn json_diagnostics(&self) -> Vec<diagnostic::JsonDiagnostic> {
        self.sources.iter().zip(&self.diagnostics).flat_map(|(s, ds)| ds.iter().map(move |d| diagnostic::to_json(s, d))).collect()
    }

    /// The diagnostics of the file that was asked about (the scheme for a scheme).
    pub fn main_diagnostics(&self) -> &[Diagnostic] {
        self.diagnostics.last().map(Vec::as_slice).unwrap_or(&[])
    }
}

/// What a file's header says it is, read without checking the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// Rules without a header, or a header that does not parse.
    Plain,
    Framework {
        name: String,
        version: String,
    },
    /// `span` is the header's, `implements_span` the framework name's.
    Scheme {
        implements: String,
        version: Option<String>,
        span: Span,
        implements_span: Span,
    },
}

/// Reads a file's header. A file that does not parse is `Plain`: checking it reports why.
pub fn file_kind(text: &str) -> FileKind {
    crate::on_compiler_stack(|| match syntax::parse_file(text) {
        Ok(f) => kind_of(&f),
        Err(_) => FileKind::Plain,
    })
}

fn kind_of(f: &ast::File) -> FileKind {
    match &f.header {
        Some(ast::Header { kind: ast::HeaderKind::Scheme { implements, version }, span, .. }) => FileKind::Scheme {
            implements: implements.name.clone(),
            version: version.clone(),
            span: *span,
            implements_span: implements.span,
        },
        Some(ast::Header { kind: ast::HeaderKind::Framework { version }, name, .. }) => {
            FileKind::Framework { name: name.name.clone(), version: version.clone() }
        }
        None => FileKind::Plain,
    }
}

/// Checks a file that is not a scheme (a framework or plain rules).
pub fn check_file(src: SourceFile) -> Frontend {
    crate::on_compiler_stack(move || match syntax::parse_file(&src.text) {
        Err(d) => Frontend { sources: vec![src], module: Module::default(), diagnostics: vec![d] },
        Ok(ast) => {
            let Checked { module, diagnostics } = check::check_file(&src.name, &ast);
            Frontend { sources: vec![src], module, diagnostics: vec![diagnostics] }
        }
    })
}

/// Checks a scheme against the framework it implements, and for compliance when both check.
pub fn check_scheme(framework: SourceFile, scheme: SourceFile, budget: &Budget) -> Frontend {
    check_scheme_with(framework, scheme, Some(budget))
}

/// Checks a scheme against its framework without the compliance proofs (for tools that show a
/// scheme's structure, and for tests of the checker alone).
pub fn check_scheme_structure(framework: SourceFile, scheme: SourceFile) -> Frontend {
    check_scheme_with(framework, scheme, None)
}

fn check_scheme_with(framework: SourceFile, scheme: SourceFile, budget: Option<&Budget>) -> Frontend {
    crate::on_compiler_stack(move || {
        let fast = match syntax::parse_file(&framework.text) {
            Ok(f) => f,
            Err(d) => return Frontend { diagnostics: vec![d, Vec::new()], sources: vec![framework, scheme], module: Module::default() },
        };
        let fw = check::check_file(&framework.name, &fast);
        let sast = match syntax::parse_file(&scheme.text) {
            Ok(f) => f,
            Err(d) => {
                return Frontend { diagnostics: vec![fw.diagnostics, d], sources: vec![framework, scheme], module: Module::default() };
            }
        };
        let header = match kind_of(&sast) {
            FileKind::Scheme { span, .. } => span,
            _ => Span::new(0, 0),
        };
        let Checked { module, mut diagnostics } = check::check_scheme(&fw.module, &scheme.name, &sast);
        let sources = vec![framework, scheme];
        if let (Some(budget), true, true) = (budget, fw.diagnostics.is_empty(), diagnostics.is_empty()) {
            let mut c = compliance::check_scheme_compliance(&module, &sources, budget);
            // Findings about the scheme as a whole point at its header.
            for d in &mut c {
                if d.primary.span.is_empty() {
                    d.primary.span = header;
                }
            }
            diagnostics.extend(c);
        }
        diagnostic::sort(&mut diagnostics);
        Frontend { sources, module, diagnostics: vec![fw.diagnostics, diagnostics] }
    })
}

/// A scheme whose framework could not be found: the diagnostic, at the scheme's header.
pub fn framework_not_found(scheme: SourceFile, implements: &str, version: Option<&str>, versions_found: &[String], span: Span) -> Frontend {
    let mut d = Diagnostic::new(
        &crate::codes::FRAMEWORK_NOT_FOUND,
        format!("framework `{implements}`{} not found", version.map(|v| format!(" version {v}")).unwrap_or_default()),
        span,
        "named here",
    )
    .with_help("put the framework next to the scheme or under policies/, or pass --framework FILE");
    if !versions_found.is_empty() {
        d = d.with_note(format!("versions found: {}", versions_found.join(", ")));
    }
    Frontend { sources: vec![scheme], module: Module::default(), diagnostics: vec![vec![d]] }
}
