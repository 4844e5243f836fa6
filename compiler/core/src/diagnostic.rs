//! Diagnostics as data: a stable code, a terse message, labelled spans, help and notes.
//! Rendering to text (through miette) happens in one place, [`render`].

use crate::codes::Code;
use crate::span::{SourceFile, Span};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use serde::Serialize;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub code: &'static str,
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn new(code: &Code, message: impl Into<String>, span: Span, label: impl Into<String>) -> Self {
        Diagnostic {
            code: code.code,
            message: message.into(),
            primary: Label { span, message: label.into() },
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label { span, message: message.into() });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// A case the compiler believed impossible (code `E9001`): reported instead of computing
    /// with a guessed value.
    pub fn internal(stage: &str, what: impl fmt::Display, span: Span) -> Self {
        Diagnostic::new(&crate::codes::INTERNAL, format!("internal error in {stage}: {what}"), span, "while compiling this")
            .with_note("this is a bug in pol, please report it")
    }
}

/// Sorts diagnostics by position (then code) and drops exact duplicates.
pub fn sort(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| (a.primary.span.start, a.primary.span.end, a.code).cmp(&(b.primary.span.start, b.primary.span.end, b.code)));
    diags.dedup();
}

struct Report<'a> {
    diag: &'a Diagnostic,
    source: NamedSource<String>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diag.code))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let mut parts: Vec<String> = self.diag.notes.iter().map(|n| format!("note: {n}")).collect();
        if let Some(h) = &self.diag.help {
            parts.push(format!("help: {h}"));
        }
        if parts.is_empty() {
            None
        } else {
            // miette prefixes the first line with "help: "; keep our own prefixes instead.
            Some(Box::new(parts.join("\n")))
        }
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary =
            std::iter::once(LabeledSpan::new_primary_with_span(Some(self.diag.primary.message.clone()), self.diag.primary.span.range()));
        let secondary = self.diag.secondary.iter().map(|l| LabeledSpan::new_with_span(Some(l.message.clone()), l.span.range()));
        Some(Box::new(primary.chain(secondary)))
    }
}

/// Renders diagnostics as plain text (no colour, fixed width), the way `pol check` prints them.
pub fn render(file: &SourceFile, diags: &[Diagnostic]) -> String {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(100).with_links(false);
    let mut out = String::new();
    for d in diags {
        let report = Report { diag: d, source: NamedSource::new(&file.name, file.text.clone()) };
        let mut s = String::new();
        if handler.render_report(&mut s, &report).is_err() {
            s = format!("{}: {}\n", d.code, d.message);
        }
        // miette writes "help: " before our own "note:"/"help:" lines; drop the doubled prefix.
        out.push_str(&s.replace("help: note:", "note:").replace("help: help:", "help:"));
    }
    out
}

/// A diagnostic as a program reads it (`--format json`).
#[derive(Clone, Debug, Serialize)]
pub struct JsonDiagnostic {
    pub code: &'static str,
    pub message: String,
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub label: String,
    pub help: Option<String>,
    pub notes: Vec<String>,
    /// For compliance findings: the national requirement (framework file, line, citation).
    pub framework: Option<String>,
}

pub fn to_json(file: &SourceFile, d: &Diagnostic) -> JsonDiagnostic {
    let (line, column) = file.line_col(d.primary.span.start);
    JsonDiagnostic {
        code: d.code,
        message: d.message.clone(),
        file: file.name.clone(),
        line,
        column,
        label: d.primary.message.clone(),
        help: d.help.clone(),
        notes: d.notes.clone(),
        framework: d.notes.iter().find(|n| n.starts_with("required by") || n.starts_with("defined nationally")).cloned(),
    }
}
